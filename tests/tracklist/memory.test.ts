import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { CooBuilder, spmmRows, type Csr } from '../../shared/graph/csr.ts';
import { TransitionPrior } from '../../shared/model/transitionPrior.ts';
import { Random } from '../../shared/util/random.ts';
import { parallelSpmm } from '../../training/parallelSpmm.ts';
import { loadTf } from '../../training/tf.ts';
import { DEFAULT_TRACKLIST_MODEL, makeBatch, TfTracklistModel, type SoftmaxForm } from '../../training/tracklist/model.ts';
import { trainStep } from '../../training/tracklist/train.ts';
import { WINDOW } from '../../training/tracklist/windows.ts';

/**
 * Memory lifetimes of the tracklist stage (issue 4): a training step must not leave tensors
 * behind, and the clustering's large sparse products must not keep their shared buffers alive.
 */
describe('tracklist training memory', () => {
  for (const form of ['factorised', 'full'] as const satisfies SoftmaxForm[]) {
    it(`${form}: no tensors accumulate from step to step`, async () => {
      const { tf } = await loadTf(() => {});
      const rng = new Random(3);
      const n = 40;
      const normal = (length: number) => Float32Array.from({ length }, () => rng.normal());
      const fw = 6;
      // Tree: song s in level-1 cluster s mod 8, level-1 c under level-2 c mod 4, level-2 c under c mod 2.
      const tree = {
        songCluster: Int32Array.from({ length: n }, (_, s) => s % 8),
        parents: [Int32Array.from({ length: 8 }, (_, c) => c % 4), Int32Array.from({ length: 4 }, (_, c) => c % 2)],
        sizes: [8, 4, 2],
        kept: [8, 4, 2].map((k) => Int32Array.from({ length: k }, (_, c) => c)),
      };
      // Synthetic sets: each window walks the songs from a random start; some end early.
      const count = 24;
      const windows = {
        inputs: new Int32Array(count * WINDOW),
        targets: new Int32Array(count * WINDOW),
        weights: new Float32Array(count * WINDOW),
        tracklist: Int32Array.from({ length: count }, (_, w) => w % 6),
      };
      const transitions = new CooBuilder(n, n);
      for (let w = 0; w < count; w++) {
        const length = 5 + rng.int(WINDOW - 5);
        let song = rng.int(n);
        for (let t = 0; t < WINDOW; t++) {
          const next = (song + 1 + rng.int(3)) % n;
          windows.inputs[w * WINDOW + t] = t === 0 ? n : song; // n: the start token
          windows.targets[w * WINDOW + t] = t < length ? next : -1;
          windows.weights[w * WINDOW + t] = t < length ? 1 : 0;
          if (t > 0 && t < length) transitions.add(song, next, 1);
          song = next;
        }
      }
      const sets = { dj: { values: normal(6 * 3), width: 3 }, taste: { values: normal(6 * 4), width: 4 } };
      const model = new TfTracklistModel(
        tf,
        {
          songs: n,
          features: normal(n * fw),
          featureWidth: fw,
          tree,
          clusterFeatures: [8, 4, 2].map((k) => ({ values: normal(k * 5), width: 5 })),
          songEmbedding: null,
          songBias: new Float32Array(n),
          djWidth: 3,
          tasteSongs: normal(n * 4),
          tasteWidth: 4,
          prior: new TransitionPrior(transitions.toCsr(), new Float32Array(n).fill(1 / n), 0.8),
        },
        { ...DEFAULT_TRACKLIST_MODEL, form, hidden: 12, inputEmbedding: 4, headWidth: 8 },
      );
      const optimizer = tf.train.adam(0.01);
      const tensorsAfter: number[] = [];
      const bytesAfter: number[] = [];
      for (let step = 1; step <= 10; step++) {
        const ids = rng.shuffle(Array.from({ length: count }, (_, i) => i)).slice(0, 8);
        const loss = trainStep(tf, model, optimizer, makeBatch(windows, ids, sets, true), rng, 10);
        expect(Number.isFinite(loss)).toBe(true);
        tensorsAfter.push(tf.memory().numTensors);
        bytesAfter.push(tf.memory().numBytes);
      }
      // Step 1 creates Adam's slots; from then on every step must free what it made.
      expect(tensorsAfter[9]).toBe(tensorsAfter[2]);
      expect(bytesAfter[9]).toBe(bytesAfter[2]);
      optimizer.dispose();
      model.dispose();
    });
  }

  it('large sparse products do not keep their shared buffers alive', async () => {
    // Products above the hand-off threshold go to the worker(s); force one even on a 1-core host.
    process.env.TLGEN_THREADS ??= '2';
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const rng = new Random(9);
    const rows = 4000;
    const width = 200;
    const perRow = 10; // 8 M multiply-adds: above the parallel threshold
    const coo = new CooBuilder(rows, rows, rows * perRow);
    for (let r = 0; r < rows; r++) for (let k = 0; k < perRow; k++) coo.add(r, rng.int(rows), rng.normal());
    const a: Csr = coo.toCsr();
    const x = Float32Array.from({ length: rows * width }, () => rng.normal());
    const expected = new Float32Array(rows * width);
    spmmRows(a.indptr, a.indices, a.values, x, width, expected, 0, rows);
    const productBytes = rows * width * 4;
    parallelSpmm(a, x, width); // warm-up: workers and scratch buffers
    gc();
    const before = process.memoryUsage().arrayBuffers;
    const calls = 40;
    let worst = 0;
    for (let i = 0; i < calls; i++) {
      const y = parallelSpmm(a, x, width);
      for (let j = i; j < y.length; j += 97) worst = Math.max(worst, Math.abs(y[j] - expected[j]));
    }
    expect(worst).toBeLessThan(1e-4);
    // Freed backing stores are released by a concurrent sweeper: collect, let it run, collect.
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
    gc();
    const grown = process.memoryUsage().arrayBuffers - before;
    // Leaking the per-call copies of x and the output keeps 2 × 40 products (256 MB); what
    // remains now is at most a few unswept results.
    expect(grown).toBeLessThan(16 * productBytes);
  });
});
