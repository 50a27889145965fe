import type { Csr } from '../../shared/graph/csr.ts';
import { Progress } from '../../shared/util/progress.ts';
import { TopK } from '../eval/metrics.ts';

/**
 * Song × song product L·R (L: songs × DJs, R: DJs × songs) cut to each row's `neighbours` best
 * entries by `weight(i, j, dot)`, the diagonal skipped. Computed one row at a time with a dense
 * accumulator, so the full product (dense for popular songs) is never materialised. Shared by
 * item-kNN (cosine) and RP3beta (random-walk transition with a popularity penalty).
 */
export function itemProductTopK(
  left: Csr,
  right: Csr,
  neighbours: number,
  weight: (i: number, j: number, dot: number) => number,
  progressLabel: string | null = null,
): Csr {
  const songs = left.rows;
  const acc = new Float64Array(right.cols);
  const touched = new Int32Array(right.cols);
  const marked = new Uint8Array(right.cols);
  const heap = new TopK(neighbours);
  const indptr = new Int32Array(songs + 1);
  const indices = new Int32Array(songs * neighbours);
  const values = new Float32Array(songs * neighbours);
  const bar = progressLabel ? new Progress(progressLabel, songs) : null;
  let out = 0;
  for (let i = 0; i < songs; i++) {
    let nt = 0;
    for (let p = left.indptr[i]; p < left.indptr[i + 1]; p++) {
      const d = left.indices[p];
      const xi = left.values[p];
      for (let q = right.indptr[d]; q < right.indptr[d + 1]; q++) {
        const j = right.indices[q];
        if (!marked[j]) {
          marked[j] = 1;
          touched[nt++] = j;
        }
        acc[j] += xi * right.values[q];
      }
    }
    heap.reset();
    for (let t = 0; t < nt; t++) {
      const j = touched[t];
      if (j !== i) heap.push(j, weight(i, j, acc[j]));
    }
    // Neighbours stored by ascending song index, as CSR rows are everywhere else.
    const kept = heap.sorted().sort();
    for (let t = 0; t < kept.length; t++) {
      const j = kept[t];
      indices[out] = j;
      values[out] = weight(i, j, acc[j]);
      out++;
    }
    for (let t = 0; t < nt; t++) {
      acc[touched[t]] = 0;
      marked[touched[t]] = 0;
    }
    indptr[i + 1] = out;
    bar?.tick();
  }
  bar?.finish(`${out} neighbour entries`);
  return { rows: songs, cols: right.cols, indptr, indices: indices.slice(0, out), values: values.slice(0, out) };
}

/** score[j] = Σ over the DJ's clicked songs i of x_di · S[i, j] (x_di = 1 when `binary`). */
export function scoreBySimilarity(click: Csr, similarity: Csr, dj: number, out: Float32Array, binary = false): void {
  out.fill(0);
  for (let p = click.indptr[dj]; p < click.indptr[dj + 1]; p++) {
    const i = click.indices[p];
    const x = binary ? 1 : click.values[p];
    for (let q = similarity.indptr[i]; q < similarity.indptr[i + 1]; q++) out[similarity.indices[q]] += x * similarity.values[q];
  }
}
