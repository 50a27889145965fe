import { parentPort } from 'node:worker_threads';
import { spmmRows } from '../shared/graph/csr.ts';

/** Worker side of the parallel sparse × dense product: computes a row range, then signals. */
export interface SpmmTask {
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
  x: Float32Array;
  out: Float32Array;
  width: number;
  rowStart: number;
  rowEnd: number;
  done: Int32Array;
}

parentPort!.on('message', (task: SpmmTask) => {
  spmmRows(task.indptr, task.indices, task.values, task.x, task.width, task.out, task.rowStart, task.rowEnd);
  Atomics.store(task.done, 0, 1);
  Atomics.notify(task.done, 0);
});
