import type { GradSaveFunc, Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs';
import type { Csr } from '../../shared/graph/csr.ts';
import type { Tf } from '../tf.ts';

/**
 * Cross-entropy of a softmax restricted to a group of candidates per row: row r scores the
 * candidates of group groupOf[r] by u_r · table_j + bias_j and pays −log p(target_r). This is
 * the factorised softmax's workhorse (children of the teacher cluster, songs of a level-1
 * cluster): only Σ_r |group| dot products, computed in TypeScript with an exact gradient, instead
 * of a dense rows × items matrix.
 */
export interface Groups {
  /** groups × items pattern: the candidates of each group (values unused). */
  members: Csr;
}

/**
 * An extra logit term β · f(r, j) with a learned scalar β (shape [1]) and constant features laid
 * out like the candidates: row r's group members in order, rows one after another.
 */
export interface ExtraLogits {
  weight: Tensor1D;
  values: Float32Array;
}

export function groupedCrossEntropy(
  tf: Tf,
  u: Tensor2D,
  table: Tensor2D,
  bias: Tensor1D | null,
  groups: Groups,
  groupOf: Int32Array,
  targets: Int32Array,
  extraTerms: ExtraLogits | readonly ExtraLogits[] | null = null,
): Tensor1D {
  const extras: readonly ExtraLogits[] = extraTerms === null ? [] : Array.isArray(extraTerms) ? extraTerms : [extraTerms as ExtraLogits];
  const width = u.shape[1];
  const rows = u.shape[0];
  const { indptr, indices } = groups.members;
  const extraOffsets = new Int32Array(rows + 1);
  for (let r = 0; r < rows; r++) extraOffsets[r + 1] = extraOffsets[r] + indptr[groupOf[r] + 1] - indptr[groupOf[r]];
  for (const extra of extras)
    if (extra.values.length !== extraOffsets[rows])
      throw new Error(`grouped softmax: ${extra.values.length} extra logits for ${extraOffsets[rows]} candidates`);
  const extraValues = extras.map((x) => x.values);
  const run = (uv: Float32Array, tv: Float32Array, bv: Float32Array | null, betas: number[]) => {
    const nll = new Float32Array(rows);
    // Probabilities per (row, candidate), kept for the backward pass.
    const probOffsets = new Int32Array(rows + 1);
    for (let r = 0; r < rows; r++) {
      const g = groupOf[r];
      probOffsets[r + 1] = probOffsets[r] + (targets[r] >= 0 ? indptr[g + 1] - indptr[g] : 0);
    }
    const probs = new Float32Array(probOffsets[rows]);
    for (let r = 0; r < rows; r++) {
      if (targets[r] < 0) continue;
      const g = groupOf[r];
      const base = probOffsets[r];
      const uo = r * width;
      let max = -Infinity;
      let targetLogit = NaN;
      for (let p = indptr[g], q = base, e = extraOffsets[r]; p < indptr[g + 1]; p++, q++, e++) {
        const j = indices[p];
        const to = j * width;
        let z = bv ? bv[j] : 0;
        for (let x = 0; x < extraValues.length; x++) z += betas[x] * extraValues[x][e];
        for (let c = 0; c < width; c++) z += uv[uo + c] * tv[to + c];
        probs[q] = z;
        if (z > max) max = z;
        if (j === targets[r]) targetLogit = z;
      }
      if (Number.isNaN(targetLogit)) throw new Error(`grouped softmax: target ${targets[r]} is not in group ${g}`);
      let sum = 0;
      for (let q = base; q < probOffsets[r + 1]; q++) sum += Math.exp(probs[q] - max);
      const lse = max + Math.log(sum);
      for (let q = base; q < probOffsets[r + 1]; q++) probs[q] = Math.exp(probs[q] - lse);
      nll[r] = lse - targetLogit;
    }
    return { nll, probs, probOffsets };
  };
  const f = tf.customGrad((...args: (Tensor | GradSaveFunc)[]) => {
    // customGrad appends its save function to the arguments.
    const [ut, tt] = args as [Tensor2D, Tensor2D];
    const bt = bias ? (args[2] as Tensor1D) : undefined;
    const first = bias ? 3 : 2;
    const uv = ut.dataSync() as Float32Array;
    const tv = tt.dataSync() as Float32Array;
    const bv = bt ? (bt.dataSync() as Float32Array) : null;
    const betas = extras.map((_, x) => (args[first + x] as Tensor1D).dataSync()[0]);
    const { nll, probs, probOffsets } = run(uv, tv, bv, betas);
    return {
      value: tf.tensor1d(nll),
      gradFunc: (dy) => {
        const g = (dy as Tensor1D).dataSync() as Float32Array;
        const du = new Float32Array(uv.length);
        const dt = new Float32Array(tv.length);
        const db = bv ? new Float32Array(bv.length) : null;
        const dBeta = new Float64Array(extras.length);
        for (let r = 0; r < rows; r++) {
          if (targets[r] < 0 || g[r] === 0) continue;
          const group = groupOf[r];
          const uo = r * width;
          for (let p = indptr[group], q = probOffsets[r], e = extraOffsets[r]; p < indptr[group + 1]; p++, q++, e++) {
            const j = indices[p];
            // d nll / d z_j = p_j − [j = target]
            const coef = g[r] * (probs[q] - (j === targets[r] ? 1 : 0));
            if (coef === 0) continue;
            for (let x = 0; x < extraValues.length; x++) dBeta[x] += coef * extraValues[x][e];
            const to = j * width;
            for (let c = 0; c < width; c++) {
              du[uo + c] += coef * tv[to + c];
              dt[to + c] += coef * uv[uo + c];
            }
            if (db) db[j] += coef;
          }
        }
        const grads = [tf.tensor2d(du, ut.shape), tf.tensor2d(dt, tt.shape)];
        if (db) grads.push(tf.tensor1d(db) as unknown as Tensor2D);
        for (let x = 0; x < extras.length; x++) grads.push(tf.tensor1d([dBeta[x]]) as unknown as Tensor2D);
        return grads;
      },
    };
  });
  const inputs: Tensor[] = [u, table];
  if (bias) inputs.push(bias);
  for (const extra of extras) inputs.push(extra.weight);
  return f(...inputs) as Tensor1D;
}

/** One group holding every item (the full softmax as a special case). */
export function singleGroup(items: number): Groups {
  const indices = Int32Array.from({ length: items }, (_, j) => j);
  return {
    members: {
      rows: 1,
      cols: items,
      indptr: Int32Array.from([0, items]),
      indices,
      values: new Float32Array(items).fill(1),
    },
  };
}
