import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type Csr, spmmRows } from '../shared/graph/csr.ts';
import type { SpmmTask } from './spmmWorker.ts';

/**
 * Sparse × dense products split by rows between the main thread and worker threads over shared
 * memory. The main thread blocks on Atomics.wait, so callers stay synchronous (tfjs custom
 * gradients must return tensors synchronously). Small products run inline: the hand-off costs
 * more than it saves below a few million multiply-adds.
 */
const PARALLEL_MIN_WORK = 2_000_000;

/**
 * Shared scratch buffers, reused by every product and grown (never shrunk) when one needs more.
 * Fresh shared buffers per call leaked: each task posted to a worker leaves handles to its
 * buffers in the worker's heap, which allocates too little to ever be collected, so the copies
 * of every product's operands and output stayed resident. The worker now only ever sees these.
 */
const scratch: {
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
  x: Float32Array;
  out: Float32Array;
  done: Int32Array;
} = {
  indptr: new Int32Array(0),
  indices: new Int32Array(0),
  values: new Float32Array(0),
  x: new Float32Array(0),
  out: new Float32Array(0),
  done: new Int32Array(0),
};
/** The matrix whose entries the scratch holds (CSRs are never modified in place): repeated products skip the copy. */
let scratchMatrix: Csr | null = null;
let workers: Worker[] | null = null;

/** A shared view of `length` elements of scratch[key], reallocated when too short. */
function scratchView<K extends keyof typeof scratch>(key: K, length: number): (typeof scratch)[K] {
  let buffer = scratch[key];
  if (buffer.length < length) {
    const Ctor = buffer.constructor as new (b: SharedArrayBuffer) => (typeof scratch)[K];
    buffer = new Ctor(new SharedArrayBuffer(length * buffer.BYTES_PER_ELEMENT));
    scratch[key] = buffer;
  }
  return buffer.subarray(0, length) as (typeof scratch)[K];
}

/** Copies a into the shared scratch buffer `key`. */
function toScratch<K extends 'indptr' | 'indices' | 'values' | 'x'>(key: K, a: (typeof scratch)[K]): (typeof scratch)[K] {
  const view = scratchView(key, a.length);
  view.set(a as never);
  return view;
}

function pool(): Worker[] {
  if (!workers) {
    // TLGEN_THREADS caps the threads used (1 = main thread only), for benchmarks and busy hosts.
    const threads = Number(process.env.TLGEN_THREADS) || availableParallelism();
    const count = Math.max(0, Math.min(3, threads - 1));
    workers = Array.from({ length: count }, () => {
      const w = new Worker(new URL('./spmmWorker.ts', import.meta.url));
      w.unref(); // idle workers must not keep a finished process alive
      return w;
    });
  }
  return workers;
}

/** Row boundaries that split the non-zeros into `parts` nearly equal shares. */
function splitRows(indptr: Int32Array, rows: number, parts: number): number[] {
  const total = indptr[rows];
  const bounds = [0];
  let row = 0;
  for (let k = 1; k < parts; k++) {
    const target = (total * k) / parts;
    while (row < rows && indptr[row] < target) row++;
    bounds.push(row);
  }
  bounds.push(rows);
  return bounds;
}

/** a · x for a row-major dense x with `width` columns. */
export function parallelSpmm(a: Csr, x: Float32Array, width: number): Float32Array {
  const work = a.indptr[a.rows] * width;
  const helpers = work >= PARALLEL_MIN_WORK ? pool() : [];
  if (helpers.length === 0) {
    const out = new Float32Array(a.rows * width);
    spmmRows(a.indptr, a.indices, a.values, x, width, out, 0, a.rows);
    return out;
  }
  const nnz = a.indptr[a.rows];
  let indptr: Int32Array, indices: Int32Array, values: Float32Array;
  if (scratchMatrix === a) {
    indptr = scratchView('indptr', a.rows + 1);
    indices = scratchView('indices', nnz);
    values = scratchView('values', nnz);
  } else {
    indptr = toScratch('indptr', a.indptr.subarray(0, a.rows + 1));
    indices = toScratch('indices', a.indices.subarray(0, nnz));
    values = toScratch('values', a.values.subarray(0, nnz));
    scratchMatrix = a;
  }
  const sx = toScratch('x', x);
  const out = scratchView('out', a.rows * width);
  out.fill(0); // spmmRows accumulates
  const bounds = splitRows(a.indptr, a.rows, helpers.length + 1);
  const done = scratchView('done', helpers.length);
  done.fill(0);
  helpers.forEach((w, k) => {
    const task: SpmmTask = {
      indptr,
      indices,
      values,
      x: sx,
      out,
      width,
      rowStart: bounds[k + 1],
      rowEnd: bounds[k + 2],
      done: done.subarray(k, k + 1),
    };
    w.postMessage(task);
  });
  spmmRows(indptr, indices, values, sx, width, out, bounds[0], bounds[1]);
  for (let k = 0; k < helpers.length; k++) while (Atomics.load(done, k) === 0) Atomics.wait(done, k, 0, 1000);
  // The caller owns its result; the scratch is overwritten by the next product.
  return out.slice();
}
