import { describe, expect, it } from 'vitest';
import { SessionKnn, SessionPrior, sessionTable } from '../../shared/model/sessionPrior.ts';
import { Random } from '../../shared/util/random.ts';
import { loadTf } from '../../training/tf.ts';
import {
  DEFAULT_TRACKLIST_MODEL,
  makeBatch,
  TfTracklistModel,
  type SoftmaxForm,
} from '../../training/tracklist/model.ts';
import { buildWindows } from '../../training/tracklist/windows.ts';

/**
 * The session term in training rows: evidence from the set's whole prefix before each target,
 * never from the row's own set.
 */
describe('tracklist model: session-kNN term on training rows', () => {
  const n = 30;
  // Four sets replaying the same run of songs (as the radio series do), one unrelated set.
  const run = Array.from({ length: 20 }, (_, i) => i);
  const sets = [
    run,
    run.map((s, i) => (i === 5 ? 25 : s)),
    run,
    run,
    [20, 21, 22, 23, 24, 25, 26, 27, 28, 29],
  ];
  const offsets = new Int32Array(sets.length + 1);
  sets.forEach((s, t) => (offsets[t + 1] = offsets[t] + s.length));
  const sequences = {
    songs: Int32Array.from(sets.flat()),
    offsets,
    days: new Int32Array(sets.length),
    djs: new Int32Array(0),
    djOffsets: new Int32Array(sets.length + 1),
    split: new Uint8Array(sets.length),
    ids: sets.map((_, t) => `t${t}`),
    djNames: sets.map(() => []),
  };
  const tracklists = [0, 1, 2, 3, 4];
  const popularity = new Float32Array(n).fill(1 / n);

  async function losses(form: SoftmaxForm, sessionOf: Int32Array, windowIds: number[], ignoreStart = false) {
    const { tf } = await loadTf(() => {});
    const rng = new Random(5);
    const normal = (length: number) => Float32Array.from({ length }, () => rng.normal());
    const knn = new SessionKnn(sessionTable(sequences, n, tracklists), n);
    const windows = buildWindows(sequences, n, { tracklists, replacementFor: () => 0 });
    const model = new TfTracklistModel(
      tf,
      {
        songs: n,
        features: normal(n * 4),
        featureWidth: 4,
        tree: {
          songCluster: Int32Array.from({ length: n }, (_, s) => s % 6),
          parents: [
            Int32Array.from({ length: 6 }, (_, c) => c % 3),
            Int32Array.from({ length: 3 }, (_, c) => c % 2),
          ],
          sizes: [6, 3, 2],
          kept: [6, 3, 2].map((k) => Int32Array.from({ length: k }, (_, c) => c)),
        },
        clusterFeatures: [6, 3, 2].map((k) => ({ values: normal(k * 3), width: 3 })),
        songEmbedding: null,
        songBias: new Float32Array(n),
        djWidth: 2,
        tasteSongs: normal(n * 2),
        tasteWidth: 2,
        prior: null,
        session: { prior: new SessionPrior(knn, popularity, 0.01), sequences, sessionOf },
      },
      { ...DEFAULT_TRACKLIST_MODEL, form, hidden: 6, inputEmbedding: 3, headWidth: 5 },
    );
    const vectors = {
      dj: { values: new Float32Array(sets.length * 2), width: 2 },
      taste: { values: new Float32Array(sets.length * 2), width: 2 },
    };
    const batch = makeBatch(
      ignoreStart ? { ...windows, start: new Int32Array(windows.count) } : windows,
      windowIds,
      vectors,
      true,
    );
    const { nll } = tf.tidy(() => {
      const r = model.levelLosses(batch, false, rng);
      return { nll: r.nll.song.arraySync() as number[] };
    });
    model.dispose();
    return { nll, windows };
  }

  for (const form of ['factorised', 'full'] as const)
    it(`${form}: the own set never votes; later windows read the set before them`, async () => {
      const own = Int32Array.from(tracklists);
      const none = new Int32Array(sets.length).fill(-1);
      // Set 1's windows: its song 25 at position 5 only it holds; after [0..4] the others vote 5.
      const { windows } = await losses(form, own, [0]);
      const ids = Array.from({ length: windows.count }, (_, w) => w).filter(
        (w) => windows.tracklist[w] === 1,
      );
      expect(ids.length).toBeGreaterThan(1);
      const left = (await losses(form, own, ids)).nll;
      const selfVoting = (await losses(form, none, ids)).nll;
      // Rows are time-major (t·B + b): window 0's target at t = 5 is song 25.
      const B = ids.length;
      expect(selfVoting[5 * B]).toBeLessThan(left[5 * B] - 0.5);
      // A later window starts past the set's beginning: its first row already has evidence (the
      // set before it), so it does better than if it read only its own window.
      expect(windows.start[ids[1]]).toBeGreaterThan(0);
      const windowOnly = (await losses(form, own, ids, true)).nll;
      expect(left[1]).toBeLessThan(windowOnly[1] - 0.1);
      expect(left[0]).toBeCloseTo(windowOnly[0], 5); // the first window starts the set either way
    });
});
