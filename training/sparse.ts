import type { GradSaveFunc, Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs';
import { CooBuilder, type Csr, transpose } from '../shared/graph/csr.ts';
import type { Tf } from './tf.ts';
import { parallelSpmm } from './parallelSpmm.ts';

/**
 * Sparse × dense products for tfjs with a custom gradient (d/dX of A·X is Aᵀ·dY). The WASM
 * backend has no sparse kernels and no gather gradient, so gathers, neighbour means and graph
 * convolutions are all expressed as constant CSR matrices times dense tensors, computed here.
 */
export interface SparseOperand {
  a: Csr;
  /** Cached transpose for the backward pass (computed on first use). */
  at?: Csr;
}

/** a · x for a row-major dense x (plain TypeScript; large products use both cores). */
export function spmmValues(a: Csr, x: Float32Array, width: number): Float32Array {
  return parallelSpmm(a, x, width);
}

/**
 * Values of a tensor read once per buffer: a step gathers from the same embedding tables many
 * times, and each read copies the whole table out of WASM memory. Keyed by the tensor's data
 * id, which changes when a variable is assigned, so no stale values are served.
 */
const valueCache = new WeakMap<object, Float32Array>();

function valuesOf(t: Tensor): Float32Array {
  const key = t.dataId as object;
  let v = valueCache.get(key);
  if (!v) {
    v = t.dataSync() as Float32Array;
    valueCache.set(key, v);
  }
  return v;
}

export function spmm(tf: Tf, op: SparseOperand, x: Tensor2D): Tensor2D {
  const width = x.shape[1];
  if (x.shape[0] !== op.a.cols) throw new Error(`spmm: ${op.a.rows}×${op.a.cols} by ${x.shape[0]}×${width}`);
  const f = tf.customGrad((input) => {
    const xi = input as Tensor2D;
    const value = tf.tensor2d(spmmValues(op.a, valuesOf(xi), width), [op.a.rows, width]);
    return {
      value,
      gradFunc: (dy) => {
        op.at ??= transpose(op.a);
        return tf.tensor2d(spmmValues(op.at, (dy as Tensor2D).dataSync() as Float32Array, width), [op.a.cols, width]);
      },
    };
  });
  return f(x) as Tensor2D;
}

/** Selection matrix: row k picks row ids[k] of an n-row operand (ids < 0 give a zero row). */
export function selectRows(ids: ArrayLike<number>, n: number): SparseOperand {
  const coo = new CooBuilder(ids.length, n, ids.length);
  for (let k = 0; k < ids.length; k++) if (ids[k] >= 0) coo.add(k, ids[k], 1);
  return { a: coo.toCsr() };
}

/**
 * Mean matrix: row r averages the operand rows listed in groups[r] (negative ids are padding
 * and do not count, so an all-padding group gives a zero row).
 */
export function meanRows(groups: ArrayLike<number>, groupSize: number, n: number): SparseOperand {
  const rows = groups.length / groupSize;
  const coo = new CooBuilder(rows, n, groups.length);
  for (let r = 0; r < rows; r++) {
    let count = 0;
    for (let k = 0; k < groupSize; k++) if (groups[r * groupSize + k] >= 0) count++;
    for (let k = 0; k < groupSize; k++) {
      const id = groups[r * groupSize + k];
      if (id >= 0) coo.add(r, id, 1 / count);
    }
  }
  return { a: coo.toCsr() };
}

/**
 * Sampled dense–dense products out[p] = a[rows[p]] · b[cols[p]] with a custom gradient, for the
 * factorisation loss on non-zeros: one pass in TypeScript instead of two gathered copies.
 */
export function sddmm(tf: Tf, a: Tensor2D, b: Tensor2D, rows: Int32Array, cols: Int32Array): Tensor1D {
  const width = a.shape[1];
  const f = tf.customGrad((...args: (Tensor | GradSaveFunc)[]) => {
    const [ta, tb] = args as [Tensor2D, Tensor2D];
    const av = ta.dataSync() as Float32Array;
    const bv = tb.dataSync() as Float32Array;
    const out = new Float32Array(rows.length);
    for (let p = 0; p < rows.length; p++) {
      const ao = rows[p] * width;
      const bo = cols[p] * width;
      let s = 0;
      for (let c = 0; c < width; c++) s += av[ao + c] * bv[bo + c];
      out[p] = s;
    }
    return {
      value: tf.tensor1d(out),
      gradFunc: (dy) => {
        const g = (dy as Tensor1D).dataSync() as Float32Array;
        const da = new Float32Array(av.length);
        const db = new Float32Array(bv.length);
        for (let p = 0; p < rows.length; p++) {
          const gp = g[p];
          if (gp === 0) continue;
          const ao = rows[p] * width;
          const bo = cols[p] * width;
          for (let c = 0; c < width; c++) {
            da[ao + c] += gp * bv[bo + c];
            db[bo + c] += gp * av[ao + c];
          }
        }
        return [tf.tensor2d(da, ta.shape), tf.tensor2d(db, tb.shape)];
      },
    };
  });
  return f(a, b) as Tensor1D;
}
