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

interface SharedCsr {
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

const sharedCopies = new WeakMap<Csr, SharedCsr>();
let workers: Worker[] | null = null;

function toShared<T extends Int32Array | Float32Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const Ctor = a.constructor as new (buffer: SharedArrayBuffer) => T;
  const copy = new Ctor(new SharedArrayBuffer(a.byteLength));
  copy.set(a as never);
  return copy;
}

function shared(m: Csr): SharedCsr {
  let s = sharedCopies.get(m);
  if (!s) {
    s = { indptr: toShared(m.indptr), indices: toShared(m.indices), values: toShared(m.values) };
    sharedCopies.set(m, s);
  }
  return s;
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
  const s = shared(a);
  const sx = toShared(x);
  const out = new Float32Array(new SharedArrayBuffer(a.rows * width * 4));
  const bounds = splitRows(a.indptr, a.rows, helpers.length + 1);
  const flags = helpers.map(() => new Int32Array(new SharedArrayBuffer(4)));
  helpers.forEach((w, k) => {
    const task: SpmmTask = { ...s, x: sx, out, width, rowStart: bounds[k + 1], rowEnd: bounds[k + 2], done: flags[k] };
    w.postMessage(task);
  });
  spmmRows(s.indptr, s.indices, s.values, sx, width, out, bounds[0], bounds[1]);
  for (const flag of flags) while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0, 1000);
  return out;
}
