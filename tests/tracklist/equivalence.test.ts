import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { synthesize } from '../../shared/corpus/synth.ts';
import { prepare } from '../../shared/graph/prepare.ts';
import { readArtifact } from '../../shared/model/artifact.ts';
import { EMBEDDINGS_KIND } from '../../shared/model/embeddings.ts';
import {
  TRACKLIST_KIND,
  TracklistModel,
  tracklistStepProbabilities,
  type Level,
  type LstmState,
  type TracklistMeta,
} from '../../shared/model/tracklistInference.ts';
import { DEFAULT_MGCCF_CONFIG } from '../../training/mgccf/config.ts';
import { trainMgccf } from '../../training/mgccf/train.ts';
import type { TfTracklistModel } from '../../training/tracklist/model.ts';
import { tracklistConfigFor, trainTracklist, type SetMeans } from '../../training/tracklist/train.ts';

const quiet = () => {};

/** Teacher-forced per-level probabilities from a given state (the session prefix set by the caller). */
function levels(model: TracklistModel, state: LstmState, t: { l3: number; l2: number; l1: number }) {
  return {
    l3: model.levelProbabilities('l3', state),
    l2: model.levelProbabilities('l2', state, t.l3),
    l1: model.levelProbabilities('l1', state, t.l2),
    song: model.levelProbabilities('song', state, t.l1),
  };
}

/**
 * The plain-TypeScript inference that serving runs must reproduce the tfjs forward pass of a
 * trained tracklist model: per-level probabilities within 1e-4 on real prefixes and DJs.
 */
describe('tracklist model: plain-TypeScript inference = tfjs forward', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tracklist-eq-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const { tracklists } = synthesize('tiny', 3);
  const prepared = await prepare(tracklists, { seed: 1 });
  const embeddingsDir = join(root, 'embeddings');
  await trainMgccf(prepared, { ...DEFAULT_MGCCF_CONFIG, dim: 16, batch: 64, steps: 20, averagingPasses: 2 }, {
    out: embeddingsDir,
    checkpointDir: join(root, 'ck'),
    log: quiet,
  });
  const embeddings = readArtifact(embeddingsDir, { kind: EMBEDDINGS_KIND });

  for (const form of ['factorised', 'full'] as const) {
    it(`${form} softmax`, { timeout: 120_000 }, async () => {
      const config = tracklistConfigFor('fast', 1, form);
      config.clustering.epochs = 30;
      config.maxSteps = 25;
      const out = join(root, `tracklist-${form}`);
      // Real prefixes: the first held-out sets' known songs; their DJs' vectors.
      const s = prepared.sequences;
      // Odd cases: the session term reads the set's whole prefix (gaps kept), the LSTM its last songs.
      const cases: { prefix: number[]; session: number[]; tracklist: number }[] = [];
      for (let t = 0; t < s.split.length && cases.length < 6; t++) {
        const all = Array.from(s.songs.subarray(s.offsets[t], s.offsets[t + 1]));
        const known = all.filter((x) => x >= 0);
        if (known.length < 8) continue;
        const prefix = known.slice(0, 1 + (cases.length * 2) % 9);
        const session = cases.length % 2 === 1 ? all.slice(0, all.indexOf(prefix[prefix.length - 1]) + 1) : prefix;
        cases.push({ prefix: cases.length % 2 === 1 ? prefix.slice(-2) : prefix, session, tracklist: t });
      }
      expect(cases.length).toBeGreaterThan(3);
      const expected: {
        dj: Float32Array;
        taste: Float32Array;
        teachers: { l3: number; l2: number; l1: number };
        p: Record<Level, Float64Array>;
      }[] = [];
      await trainTracklist(prepared, embeddings, config, {
        out,
        log: quiet,
        inspect: (model: TfTracklistModel, sets: SetMeans) => {
          for (const c of cases) {
            const row = (v: SetMeans['dj']) => v.values.slice(c.tracklist * v.width, (c.tracklist + 1) * v.width);
            const dj = row(sets.dj);
            const taste = row(sets.taste);
            // Teachers: the path of the song that actually came next.
            const next = c.prefix[c.prefix.length - 1];
            const [l3, l2, l1] = model.songPath.map((labels) => labels[next]);
            const teachers = { l3, l2, l1 };
            expected.push({ dj, taste, teachers, p: model.stepProbabilities(c.prefix, dj, taste, teachers, c.session) });
          }
        },
      });
      const inference = new TracklistModel(readArtifact<TracklistMeta>(out, { kind: TRACKLIST_KIND }));
      expect(inference.form).toBe(form);
      expect(inference.hasSessionTerm).toBe(true);
      let compared = 0;
      // How far the TS outputs move when the session term reads an empty prefix: the term must matter.
      let withoutSession = 0;
      cases.forEach((c, i) => {
        const { dj, taste, teachers, p } = expected[i];
        const ours =
          c.session === c.prefix
            ? tracklistStepProbabilities(inference, c.prefix, teachers, { dj, taste })
            : levels(inference, { ...inference.run(c.prefix, { dj, taste }), session: c.session }, teachers);
        const blind = levels(inference, { ...inference.run(c.prefix, { dj, taste }), session: [] }, teachers);
        for (const level of ['l3', 'l2', 'l1', 'song'] as const) {
          expect(ours[level].length).toBe(p[level].length);
          let maxDiff = 0;
          for (let j = 0; j < p[level].length; j++) {
            maxDiff = Math.max(maxDiff, Math.abs(ours[level][j] - p[level][j]));
            withoutSession = Math.max(withoutSession, Math.abs(blind[level][j] - p[level][j]));
          }
          expect(maxDiff, `${form} case ${i} level ${level}`).toBeLessThan(1e-4);
          compared += p[level].length;
        }
      });
      expect(compared).toBeGreaterThan(100);
      expect(withoutSession).toBeGreaterThan(1e-3);
    });
  }
});
