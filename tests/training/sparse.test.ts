import { describe, expect, it } from 'vitest';
import { loadTf } from '../../training/tf.ts';
import { meanRows, selectRows, spmm } from '../../training/sparse.ts';
import { CooBuilder } from '../../shared/graph/csr.ts';

describe('sparse × dense with custom gradient', () => {
  it('matches the dense product and its gradient', async () => {
    const { tf } = await loadTf(() => {});
    const coo = new CooBuilder(3, 4);
    coo.add(0, 1, 2);
    coo.add(0, 3, -1);
    coo.add(2, 0, 0.5);
    coo.add(2, 2, 3);
    const a = coo.toCsr();
    const dense = tf.tensor2d([
      [0, 2, 0, -1],
      [0, 0, 0, 0],
      [0.5, 0, 3, 0],
    ]);
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]);
    const w = tf.tensor2d([1, -2, 0.5, 3, 2, 1], [3, 2]);
    const loss = (y: typeof x) => tf.sum(tf.mul(tf.tanh(y), w));
    const sparseGrad = tf.grad((xi) => loss(spmm(tf, { a }, xi as typeof x)))(x);
    const denseGrad = tf.grad((xi) => loss(tf.matMul(dense, xi as typeof x)))(x);
    expect(Array.from(spmm(tf, { a }, x).dataSync())).toEqual(Array.from(tf.matMul(dense, x).dataSync()));
    const s = sparseGrad.dataSync();
    const d = denseGrad.dataSync();
    for (let k = 0; k < d.length; k++) expect(s[k]).toBeCloseTo(d[k], 5);
  });

  it('builds selection and mean matrices that ignore padding', async () => {
    const { tf } = await loadTf(() => {});
    const x = tf.tensor2d([1, 10, 2, 20, 3, 30], [3, 2]);
    expect(Array.from(spmm(tf, selectRows([2, -1, 0], 3), x).dataSync())).toEqual([3, 30, 0, 0, 1, 10]);
    expect(Array.from(spmm(tf, meanRows([0, 2, -1, -1, -1, -1], 3, 3), x).dataSync())).toEqual([2, 20, 0, 0]);
  });
});

describe('sddmm', () => {
  it('matches gathered row products in value and gradient', async () => {
    const { tf } = await loadTf(() => {});
    const { sddmm } = await import('../../training/sparse.ts');
    const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
    const b = tf.tensor2d([0.5, -1, 2, 1], [2, 2]);
    const rows = Int32Array.from([0, 2, 2, 1]);
    const cols = Int32Array.from([1, 0, 1, 1]);
    const w = tf.tensor1d([1, -1, 2, 0.5]);
    const ref = (x: typeof a, y: typeof b) =>
      tf.sum(tf.mul(tf.tanh(tf.sum(tf.mul(tf.gather(x, Array.from(rows)), tf.gather(y, Array.from(cols))), 1)), w));
    const ours = (x: typeof a, y: typeof b) => tf.sum(tf.mul(tf.tanh(sddmm(tf, x, y, rows, cols)), w));
    expect(Array.from(sddmm(tf, a, b, rows, cols).dataSync())).toEqual([4, -3.5, 16, 10]);
    await tf.setBackend('cpu'); // the reference needs gather's gradient, which only the CPU backend has
    const g1 = tf.grads((x, y) => ours(x as typeof a, y as typeof b))([a, b]);
    const g2 = tf.grads((x, y) => ref(x as typeof a, y as typeof b))([a, b]);
    for (let k = 0; k < 2; k++) {
      const o = g1[k].dataSync();
      const r = g2[k].dataSync();
      for (let t = 0; t < r.length; t++) expect(o[t]).toBeCloseTo(r[t], 5);
    }
    await tf.setBackend('wasm');
  });
});
