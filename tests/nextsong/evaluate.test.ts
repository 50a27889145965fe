import { describe, expect, it } from 'vitest';
import { GAP, OUT_OF_VOCABULARY as OOV } from '../../shared/graph/prepare.ts';
import { evaluateNextSong, formatNextSongTable } from '../../training/nextsong/evaluate.ts';
import type { NextSongPredictor } from '../../training/nextsong/predictor.ts';
import { makeData } from './data.ts';

const N = 200;

/** P(j) ∝ N − j whatever the prefix: song j ranks j + 1. */
const linear: NextSongPredictor = {
  name: 'linear',
  predict(_prefix, _djs, out) {
    const z = (N * (N + 1)) / 2;
    for (let j = 0; j < N; j++) out[j] = (N - j) / z;
  },
};
/** Uniform: every song ties, so the rank is the index + 1 (ties go to the lower index). */
const uniform: NextSongPredictor = {
  name: 'uniform',
  predict(_prefix, _djs, out) {
    out.fill(1 / N);
  },
};

// Held out: targets 0 (rank 1), 15 (after a gap, rank 16), 150 (rank 151); a gap, an OOV
// track and a repeat of 15 are skipped; position 0 is never a target.
const data = makeData(N, [
  { songs: [1, 2, 3, 4], split: 0 },
  { songs: [7, 0, GAP, 15, OOV, 150, 15], split: 1 },
  { songs: [9], split: 1 },
]);

describe('evaluateNextSong', () => {
  it('computes HR@10, HR@100, MRR and NLL as by hand, counting skipped positions', () => {
    const r = evaluateNextSong(data, { baselines: [linear, uniform] });
    const z = (N * (N + 1)) / 2;
    const expected = {
      'hr@10': 1 / 3,
      'hr@100': 2 / 3,
      mrr: (1 + 1 / 16 + 1 / 151) / 3,
      nllBits: -(Math.log2(N / z) + Math.log2((N - 15) / z) + Math.log2((N - 150) / z)) / 3,
    };
    for (const [key, v] of Object.entries(expected)) expect(r.baselines.linear[key]).toBeCloseTo(v, 12);
    expect(r.baselines.uniform['hr@10']).toBeCloseTo(1 / 3, 12);
    expect(r.baselines.uniform['hr@100']).toBeCloseTo(2 / 3, 12);
    expect(r.baselines.uniform.mrr).toBeCloseTo(expected.mrr, 12);
    expect(r.baselines.uniform.nllBits).toBeCloseTo(Math.log2(N), 12);
    expect(r.positions).toBe(3);
    expect(r.skipped).toEqual({ gap: 1, outOfVocabulary: 1, repeat: 1, subsampled: 0 });
    expect(r.model).toBeNull();
    expect(r.oracle).toBeNull();
    const table = formatNextSongTable(r);
    expect(table).toMatch(/linear\s+0\.3333\s+0\.6667/);
    expect(table).toContain('3 positions; skipped: 1 gap, 1 out of vocabulary, 1 repeat, 0 subsampled');
  });

  it('passes the prefix with gaps and OOV kept, and the set DJs', () => {
    const seen: number[][] = [];
    const spy: NextSongPredictor = {
      name: 'spy',
      predict(prefix, _djs, out) {
        seen.push(Array.from(prefix));
        uniform.predict(prefix, _djs, out);
      },
    };
    evaluateNextSong(data, { baselines: [], model: spy });
    expect(seen).toEqual([[7], [7, 0, GAP], [7, 0, GAP, 15, OOV]]);
  });

  it('subsamples positions reproducibly', () => {
    const a = evaluateNextSong(data, { baselines: [linear] }, { maxPositions: 2, seed: 3 });
    const b = evaluateNextSong(data, { baselines: [linear] }, { maxPositions: 2, seed: 3 });
    expect(a.positions).toBe(2);
    expect(a.skipped.subsampled).toBe(1);
    expect(a).toEqual(b);
  });

  it('rejects predictions that are not distributions or miss the target', () => {
    const half: NextSongPredictor = { name: 'half', predict: (_p, _d, out) => void out.fill(0.5 / N) };
    expect(() => evaluateNextSong(data, { baselines: [half] })).toThrow(/sum to 0\.5/);
    const zero: NextSongPredictor = {
      name: 'zero',
      predict(_p, _d, out) {
        out.fill(0);
        out[N - 1] = 1;
      },
    };
    expect(() => evaluateNextSong(data, { baselines: [zero] })).toThrow(
      /probability 0 for the observed next song/,
    );
    const raw: NextSongPredictor = { ...uniform, name: 'raw', needsRaw: true };
    expect(() => evaluateNextSong(data, { baselines: [], oracle: raw })).toThrow(/needs the corpus/);
  });
});
