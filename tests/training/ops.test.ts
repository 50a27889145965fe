import { describe, expect, it } from 'vitest';
import type { Tensor2D } from '@tensorflow/tfjs';
import { loadTf } from '../../training/tf.ts';
import { matMul, matMulT } from '../../training/ops.ts';

describe('matMul with explicit-transpose gradients', () => {
  it('matches tf.matMul in value and gradient', async () => {
    const { tf } = await loadTf(() => {});
    const a = tf.randomNormal([5, 3], 0, 1, 'float32', 1) as Tensor2D;
    const b = tf.randomNormal([3, 4], 0, 1, 'float32', 2) as Tensor2D;
    const w = tf.randomNormal([5, 4], 0, 1, 'float32', 3);
    const ours = tf.grads((x, y) => tf.sum(tf.mul(tf.tanh(matMul(tf, x as Tensor2D, y as Tensor2D)), w)))([a, b]);
    const ref = tf.grads((x, y) => tf.sum(tf.mul(tf.tanh(tf.matMul(x as Tensor2D, y as Tensor2D)), w)))([a, b]);
    for (let k = 0; k < 2; k++) {
      const o = ours[k].dataSync();
      const r = ref[k].dataSync();
      expect(o.length).toBe(k === 0 ? 5 * 3 : 3 * 4);
      for (let t = 0; t < r.length; t++) expect(o[t]).toBeCloseTo(r[t], 5);
    }
    const bt = tf.transpose(b) as Tensor2D;
    const v1 = matMulT(tf, a, bt).dataSync();
    const v2 = tf.matMul(a, b).dataSync();
    expect(v1.length).toBe(5 * 4);
    for (let t = 0; t < v2.length; t++) expect(v1[t]).toBeCloseTo(v2[t], 5);
  });
});

describe('sumSquaredRelu', () => {
  it('matches sum(relu(x)^2) in value and gradient', async () => {
    const { tf } = await loadTf(() => {});
    const { sumSquaredRelu } = await import('../../training/ops.ts');
    const x = tf.tensor2d([-1, 2, 0.5, -3, 4, 0], [2, 3]);
    expect(sumSquaredRelu(tf, x).dataSync()[0]).toBeCloseTo(4 + 0.25 + 16, 5);
    const g = tf.grad((t) => tf.mul(3, sumSquaredRelu(tf, t as Tensor2D)))(x).dataSync();
    expect(Array.from(g)).toEqual([0, 12, 3, 0, 24, 0]);
  });
});
