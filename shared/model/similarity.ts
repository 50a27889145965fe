/**
 * Cosine similarity search over row-major embedding matrices in plain TypeScript: the one
 * implementation behind similar songs/artists/DJs and embedding recommendations, used by both
 * evaluation and serving.
 */
import { TopK } from '../util/topK.ts';
import type { RowMatrix } from './rowMatrix.ts';

export interface Scored {
  index: number;
  score: number;
}

/** Rows scaled to unit length (zero rows stay zero). */
export function normalizeRowsL2(x: Float32Array, width: number, out: Float32Array = new Float32Array(x.length)): Float32Array {
  for (let r = 0; r < x.length / width; r++) {
    const o = r * width;
    let s = 0;
    for (let c = 0; c < width; c++) s += x[o + c] * x[o + c];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let c = 0; c < width; c++) out[o + c] = x[o + c] * inv;
  }
  return out;
}

/** out[r] = rows[r] · query for every row. */
export function dotAll<T extends Float32Array | Float64Array>(rows: Float32Array, width: number, query: ArrayLike<number>, out: T): T {
  const n = rows.length / width;
  let r = 0;
  // Four rows per pass share each query load (about twice as fast); each row sums in column
  // order as the one-row loop below, so results are identical.
  for (; r + 3 < n; r += 4) {
    const o = r * width;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let c = 0; c < width; c++) {
      const q = query[c];
      s0 += rows[o + c] * q;
      s1 += rows[o + width + c] * q;
      s2 += rows[o + 2 * width + c] * q;
      s3 += rows[o + 3 * width + c] * q;
    }
    out[r] = s0;
    out[r + 1] = s1;
    out[r + 2] = s2;
    out[r + 3] = s3;
  }
  for (; r < n; r++) {
    const o = r * width;
    let s = 0;
    for (let c = 0; c < width; c++) s += rows[o + c] * query[c];
    out[r] = s;
  }
  return out;
}

/** The k best indices by score, best first, skipping excluded ones (ties to the lower index). */
export function topK(scores: ArrayLike<number>, k: number, exclude?: (index: number) => boolean): Scored[] {
  const heap = new TopK(k);
  for (let i = 0; i < scores.length; i++) if (!exclude?.(i)) heap.push(i, scores[i]);
  return Array.from(heap.sorted(), (index) => ({ index, score: scores[index] }));
}

/**
 * Items most similar to item `index` of the same matrix of unit rows, scored 1 + cos in [0, 2] as
 * SPEC §3 scores similarities; the item itself is excluded.
 */
export function similarTo(unitRows: RowMatrix, index: number, k: number): Scored[] {
  const w = unitRows.width;
  const scores = unitRows.dot(unitRows.data.subarray(index * w, (index + 1) * w));
  return topK(scores, k, (i) => i === index).map((s) => ({ index: s.index, score: 1 + s.score }));
}
