import { describe, expect, it } from 'vitest';
import { loadTf } from '../../training/tf.ts';
import { groupedCrossEntropy } from '../../training/tracklist/groupedSoftmax.ts';
import { membership } from '../../training/tracklist/hierarchy.ts';
import { Random } from '../../shared/util/random.ts';

describe('grouped softmax cross-entropy', () => {
  it('matches a masked dense softmax in value and gradient', async () => {
    const { tf } = await loadTf(() => {});
    const rng = new Random(5);
    const rows = 6;
    const items = 9;
    const width = 4;
    const itemGroup = Int32Array.from([0, 0, 1, 1, 1, 2, 2, 2, 2]);
    const groups = { members: membership(itemGroup, 3) };
    const groupOf = Int32Array.from([0, 1, 2, 2, 1, 0]);
    const targets = Int32Array.from([1, 4, 5, 8, 2, 0]);
    const u = tf.tensor2d(Float32Array.from({ length: rows * width }, () => rng.normal()), [rows, width]);
    const table = tf.tensor2d(Float32Array.from({ length: items * width }, () => rng.normal()), [items, width]);
    const bias = tf.tensor1d(Float32Array.from({ length: items }, () => rng.normal()));
    // Reference: dense logits with −∞ outside the row's group.
    const mask = new Float32Array(rows * items).fill(-1e9);
    const onehot = new Float32Array(rows * items);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < items; j++) if (itemGroup[j] === groupOf[r]) mask[r * items + j] = 0;
      onehot[r * items + targets[r]] = 1;
    }
    const weights = tf.tensor1d([1, 2, 0.5, 1, 3, 1]);
    // An extra β · f term (the n-gram prior's form): dense for the reference, grouped for ours.
    const dense = Float32Array.from({ length: rows * items }, () => rng.normal());
    const grouped: number[] = [];
    for (let r = 0; r < rows; r++)
      for (let p = groups.members.indptr[groupOf[r]]; p < groups.members.indptr[groupOf[r] + 1]; p++)
        grouped.push(dense[r * items + groups.members.indices[p]]);
    const beta = tf.tensor1d([0.7]);
    const reference = (a: typeof u, b: typeof table, c: typeof bias, e: typeof beta) => {
      const logits = tf.add(
        tf.add(tf.add(tf.matMul(a, b, false, true), c), tf.tensor2d(mask, [rows, items])),
        tf.mul(tf.tensor2d(dense, [rows, items]), e),
      );
      const nll = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), tf.tensor2d(onehot, [rows, items])), 1));
      return tf.sum(tf.mul(nll, weights));
    };
    const ours = (a: typeof u, b: typeof table, c: typeof bias, e: typeof beta) =>
      tf.sum(
        tf.mul(
          groupedCrossEntropy(tf, a, b, c, groups, groupOf, targets, { weight: e, values: Float32Array.from(grouped) }),
          weights,
        ),
      );
    type Args = [typeof u, typeof table, typeof bias, typeof beta];
    const [ra, rb, rc, re] = tf.grads((...x) => reference(...(x as Args)))([u, table, bias, beta]);
    const [oa, ob, oc, oe] = tf.grads((...x) => ours(...(x as Args)))([u, table, bias, beta]);
    expect(ours(u, table, bias, beta).dataSync()[0]).toBeCloseTo(reference(u, table, bias, beta).dataSync()[0], 4);
    for (const [x, y] of [
      [oa, ra],
      [ob, rb],
      [oc, rc],
      [oe, re],
    ])
      Array.from(x.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(y.dataSync()[i], 4));
  });

  it('refuses a target outside its group', async () => {
    const { tf } = await loadTf(() => {});
    const groups = { members: membership(Int32Array.from([0, 1]), 2) };
    const u = tf.ones([1, 2]) as ReturnType<typeof tf.tensor2d>;
    const table = tf.ones([2, 2]) as ReturnType<typeof tf.tensor2d>;
    expect(() => groupedCrossEntropy(tf, u, table, null, groups, Int32Array.of(0), Int32Array.of(1))).toThrow(/not in group/);
  });
});
