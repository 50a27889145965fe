/**
 * Cosine similarity search over row-major embedding matrices in plain TypeScript: the one
 * implementation behind similar songs/artists/DJs and embedding recommendations, used by both
 * evaluation and serving.
 */
export interface Scored {
  index: number;
  score: number;
}

/** Rows scaled to unit length (zero rows stay zero). */
export function normalizeRowsL2(x: Float32Array, width: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / width; r++) {
    const o = r * width;
    let s = 0;
    for (let c = 0; c < width; c++) s += x[o + c] * x[o + c];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let c = 0; c < width; c++) out[o + c] = x[o + c] * inv;
  }
  return out;
}

/** out[r] = unitRows[r] · query for every row (query need not be unit length). */
export function dotAll(unitRows: Float32Array, width: number, query: ArrayLike<number>, out: Float32Array): Float32Array {
  const n = unitRows.length / width;
  for (let r = 0; r < n; r++) {
    const o = r * width;
    let s = 0;
    for (let c = 0; c < width; c++) s += unitRows[o + c] * query[c];
    out[r] = s;
  }
  return out;
}

/**
 * The k best indices by score, best first, skipping excluded ones; ties go to the lower index
 * so results are deterministic. A bounded min-heap keeps it O(n log k).
 */
export function topK(scores: ArrayLike<number>, k: number, exclude?: (index: number) => boolean): Scored[] {
  const heapIdx: number[] = [];
  const worse = (a: number, b: number) => scores[a] < scores[b] || (scores[a] === scores[b] && a > b);
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heapIdx.length && worse(heapIdx[l], heapIdx[m])) m = l;
      if (r < heapIdx.length && worse(heapIdx[r], heapIdx[m])) m = r;
      if (m === i) return;
      [heapIdx[i], heapIdx[m]] = [heapIdx[m], heapIdx[i]];
      i = m;
    }
  };
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i]) || exclude?.(i)) continue;
    if (heapIdx.length < k) {
      heapIdx.push(i);
      for (let c = heapIdx.length - 1; c > 0; ) {
        const p = (c - 1) >> 1;
        if (!worse(heapIdx[c], heapIdx[p])) break;
        [heapIdx[c], heapIdx[p]] = [heapIdx[p], heapIdx[c]];
        c = p;
      }
    } else if (worse(heapIdx[0], i)) {
      heapIdx[0] = i;
      siftDown(0);
    }
  }
  return heapIdx
    .sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0))
    .map((index) => ({ index, score: scores[index] }));
}

/**
 * Items most similar to item `index` of the same matrix, scored 1 + cos in [0, 2] as SPEC §3
 * scores similarities; the item itself is excluded.
 */
export function similarTo(unitRows: Float32Array, width: number, index: number, k: number): Scored[] {
  const scores = dotAll(unitRows, width, unitRows.subarray(index * width, (index + 1) * width), new Float32Array(unitRows.length / width));
  return topK(scores, k, (i) => i === index).map((s) => ({ index: s.index, score: 1 + s.score }));
}
