import { beforeAll, describe, expect, it } from 'vitest';
import { oracleNext } from '../../shared/corpus/oracle.ts';
import { synthesize } from '../../shared/corpus/synth.ts';
import { parseTrack } from '../../shared/corpus/trackString.ts';
import { prepare, type Prepared } from '../../shared/graph/prepare.ts';
import { fitNextSongBaselines } from '../../training/nextsong/baselines.ts';
import { evaluateNextSong, type NextSongResult } from '../../training/nextsong/evaluate.ts';
import { OraclePredictor } from '../../training/nextsong/oracle.ts';

const { tracklists, truth } = synthesize('tiny', 3);
let prepared: Prepared;
let oracle: OraclePredictor;
let result: NextSongResult;

beforeAll(async () => {
  prepared = await prepare(tracklists);
  oracle = new OraclePredictor(truth, prepared.vocab.songKeys);
  const { predictors } = fitNextSongBaselines(prepared, { tunePositions: 500 });
  result = evaluateNextSong(prepared, { baselines: predictors, oracle }, { raw: (t) => tracklists[t] });
});

describe('oracle predictor on a synthetic corpus', () => {
  it('is the generator distribution restricted to the vocabulary, renormalised, played songs zeroed', () => {
    const t = prepared.sequences.split.indexOf(1);
    const raw = tracklists[t];
    const start = prepared.sequences.offsets[t];
    const k = 6;
    const prefix = prepared.sequences.songs.subarray(start, start + k);
    const out = new Float64Array(prepared.vocab.songs.length);
    oracle.predict(prefix, new Int32Array(0), out, { tracklist: t, day: -1, raw });
    const { probs } = oracleNext(
      truth,
      { djs: raw.djs, date: raw.date, prefix: raw.tracks.slice(0, k) },
      { immediate: true },
    );
    const key = new Map(prepared.vocab.songKeys.map((s, i) => [s, i]));
    const expected = new Float64Array(out.length);
    truth.songs.forEach((s, i) => {
      const parsed = parseTrack(s);
      const v = parsed.kind === 'song' ? key.get(parsed.key) : undefined;
      if (v !== undefined) expected[v] += probs[i];
    });
    for (const s of prefix) if (s >= 0) expected[s] = 0;
    const z = expected.reduce((a, b) => a + b, 0);
    for (let j = 0; j < out.length; j++) expect(out[j]).toBeCloseTo(expected[j] / z, 12);
    for (const s of prefix) if (s >= 0) expect(out[s]).toBe(0);
  });

  it('beats every baseline on NLL and reports its dropped out-of-vocabulary mass', () => {
    expect(result.positions).toBeGreaterThan(100);
    const o = result.oracle!;
    for (const b of Object.values(result.baselines)) expect(o.nllBits).toBeLessThan(b.nllBits);
    expect(o.outOfVocabularyMass).toBeGreaterThan(0);
    expect(o.outOfVocabularyMass).toBeLessThan(0.5);
    expect(result.baselines.vsknn.nllBits).toBeLessThan(result.baselines.popularity.nllBits);
  });

  it('refuses to run without the raw tracklists', () => {
    expect(() => evaluateNextSong(prepared, { baselines: [], oracle })).toThrow(/needs the corpus/);
  });
});
