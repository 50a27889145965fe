/**
 * Compressed sparse row matrices over typed arrays: the one sparse representation shared by
 * preparation, training (sparse × dense products) and serving.
 */
export interface Csr {
  rows: number;
  cols: number;
  indptr: Int32Array; // length rows + 1
  indices: Int32Array; // column of each non-zero, ascending within a row
  values: Float32Array;
}

export function nnz(m: Csr): number {
  return m.indptr[m.rows];
}

export function emptyCsr(rows: number, cols: number): Csr {
  return { rows, cols, indptr: new Int32Array(rows + 1), indices: new Int32Array(0), values: new Float32Array(0) };
}

/** Growable coordinate-list accumulator; duplicates are summed when converted to CSR. */
export class CooBuilder {
  private r: Int32Array;
  private c: Int32Array;
  private v: Float64Array;
  length = 0;

  readonly rows: number;
  readonly cols: number;

  constructor(rows: number, cols: number, capacity = 1024) {
    this.rows = rows;
    this.cols = cols;
    this.r = new Int32Array(capacity);
    this.c = new Int32Array(capacity);
    this.v = new Float64Array(capacity);
  }

  add(row: number, col: number, value: number): void {
    if (this.length === this.r.length) {
      const size = Math.max(16, this.r.length * 2);
      this.r = grow(this.r, size);
      this.c = grow(this.c, size);
      const v = new Float64Array(size);
      v.set(this.v);
      this.v = v;
    }
    this.r[this.length] = row;
    this.c[this.length] = col;
    this.v[this.length] = value;
    this.length++;
  }

  /** Counting sort by row, then per-row sort by column with duplicates summed; zeros dropped. */
  toCsr(): Csr {
    const { rows, cols, length } = this;
    const counts = new Int32Array(rows + 1);
    for (let k = 0; k < length; k++) counts[this.r[k] + 1]++;
    for (let i = 0; i < rows; i++) counts[i + 1] += counts[i];
    const cursor = counts.slice(0, rows);
    const sc = new Int32Array(length);
    const sv = new Float64Array(length);
    for (let k = 0; k < length; k++) {
      const p = cursor[this.r[k]]++;
      sc[p] = this.c[k];
      sv[p] = this.v[k];
    }
    const dense = new Float64Array(cols);
    const seen = new Uint8Array(cols);
    const indptr = new Int32Array(rows + 1);
    const outIdx = new Int32Array(length);
    const outVal = new Float32Array(length);
    let out = 0;
    let touched = new Int32Array(64);
    for (let i = 0; i < rows; i++) {
      let nt = 0;
      for (let p = counts[i]; p < counts[i + 1]; p++) {
        const j = sc[p];
        if (!seen[j]) {
          seen[j] = 1;
          if (nt === touched.length) touched = grow(touched, nt * 2);
          touched[nt++] = j;
        }
        dense[j] += sv[p];
      }
      const row = touched.subarray(0, nt).sort();
      for (let t = 0; t < nt; t++) {
        const j = row[t];
        if (dense[j] !== 0) {
          outIdx[out] = j;
          outVal[out] = dense[j];
          out++;
        }
        dense[j] = 0;
        seen[j] = 0;
      }
      indptr[i + 1] = out;
    }
    return { rows, cols, indptr, indices: outIdx.slice(0, out), values: outVal.slice(0, out) };
  }
}

function grow(a: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

export function transpose(m: Csr): Csr {
  const n = nnz(m);
  const indptr = new Int32Array(m.cols + 1);
  for (let k = 0; k < n; k++) indptr[m.indices[k] + 1]++;
  for (let j = 0; j < m.cols; j++) indptr[j + 1] += indptr[j];
  const cursor = indptr.slice(0, m.cols);
  const indices = new Int32Array(n);
  const values = new Float32Array(n);
  for (let i = 0; i < m.rows; i++) {
    for (let p = m.indptr[i]; p < m.indptr[i + 1]; p++) {
      const q = cursor[m.indices[p]]++;
      indices[q] = i;
      values[q] = m.values[p];
    }
  }
  return { rows: m.cols, cols: m.rows, indptr, indices, values };
}

export function rowSums(m: Csr): Float64Array {
  const out = new Float64Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    let s = 0;
    for (let p = m.indptr[i]; p < m.indptr[i + 1]; p++) s += m.values[p];
    out[i] = s;
  }
  return out;
}

export function colSums(m: Csr): Float64Array {
  const out = new Float64Array(m.cols);
  const n = nnz(m);
  for (let p = 0; p < n; p++) out[m.indices[p]] += m.values[p];
  return out;
}

/** Same sparsity pattern with values mapped by f(value, row, col). */
export function mapValues(m: Csr, f: (value: number, row: number, col: number) => number): Csr {
  const values = new Float32Array(m.values.length);
  for (let i = 0; i < m.rows; i++)
    for (let p = m.indptr[i]; p < m.indptr[i + 1]; p++) values[p] = f(m.values[p], i, m.indices[p]);
  return { ...m, values };
}

/** Rows scaled to sum to 1 (empty rows stay empty). */
export function normalizeRows(m: Csr): Csr {
  const sums = rowSums(m);
  return mapValues(m, (v, i) => (sums[i] > 0 ? v / sums[i] : 0));
}

/** Columns scaled to sum to 1. */
export function normalizeCols(m: Csr): Csr {
  const sums = colSums(m);
  return mapValues(m, (v, _i, j) => (sums[j] > 0 ? v / sums[j] : 0));
}

/** Keeps entries for which keep(row, position) is true, preserving order. */
export function filterEntries(m: Csr, keep: (row: number, p: number) => boolean): Csr {
  const indptr = new Int32Array(m.rows + 1);
  const indices = new Int32Array(nnz(m));
  const values = new Float32Array(nnz(m));
  let out = 0;
  for (let i = 0; i < m.rows; i++) {
    for (let p = m.indptr[i]; p < m.indptr[i + 1]; p++) {
      if (!keep(i, p)) continue;
      indices[out] = m.indices[p];
      values[out] = m.values[p];
      out++;
    }
    indptr[i + 1] = out;
  }
  return { rows: m.rows, cols: m.cols, indptr, indices: indices.slice(0, out), values: values.slice(0, out) };
}

/**
 * Marks, per row, the strongest entries whose cumulative value first reaches `share` of the row's
 * mass (the entry that crosses the line is kept). Returns a mask over the non-zeros.
 */
export function topMassMask(m: Csr, share: number): Uint8Array {
  const mask = new Uint8Array(nnz(m));
  let order = new Int32Array(64);
  for (let i = 0; i < m.rows; i++) {
    const start = m.indptr[i];
    const len = m.indptr[i + 1] - start;
    if (len === 0) continue;
    if (order.length < len) order = new Int32Array(len * 2);
    let total = 0;
    for (let k = 0; k < len; k++) {
      order[k] = start + k;
      total += m.values[start + k];
    }
    const row = order.subarray(0, len).sort((a, b) => m.values[b] - m.values[a] || a - b);
    let acc = 0;
    for (let k = 0; k < len; k++) {
      mask[row[k]] = 1;
      acc += m.values[row[k]];
      if (acc >= share * total) break;
    }
  }
  return mask;
}

export function sparsifyRowsByMass(m: Csr, share: number): Csr {
  const mask = topMassMask(m, share);
  return filterEntries(m, (_i, p) => mask[p] === 1);
}

/** Keeps the k largest entries of each row. */
export function topKPerRow(m: Csr, k: number): Csr {
  const mask = new Uint8Array(nnz(m));
  for (let i = 0; i < m.rows; i++) {
    const start = m.indptr[i];
    const len = m.indptr[i + 1] - start;
    if (len <= k) {
      mask.fill(1, start, start + len);
      continue;
    }
    const order = Array.from({ length: len }, (_, t) => start + t).sort(
      (a, b) => m.values[b] - m.values[a] || a - b,
    );
    for (let t = 0; t < k; t++) mask[order[t]] = 1;
  }
  return filterEntries(m, (_i, p) => mask[p] === 1);
}

/** Sparse × sparse product (Gustavson, dense accumulator per row). */
export function multiply(a: Csr, b: Csr): Csr {
  if (a.cols !== b.rows) throw new Error(`multiply: ${a.rows}×${a.cols} by ${b.rows}×${b.cols}`);
  const acc = new Float64Array(b.cols);
  const marker = new Int32Array(b.cols).fill(-1);
  const indptr = new Int32Array(a.rows + 1);
  let indices = new Int32Array(Math.max(16, nnz(a) + nnz(b)));
  let values = new Float32Array(indices.length);
  let touched = new Int32Array(64);
  let out = 0;
  for (let i = 0; i < a.rows; i++) {
    let nt = 0;
    for (let p = a.indptr[i]; p < a.indptr[i + 1]; p++) {
      const k = a.indices[p];
      const av = a.values[p];
      for (let q = b.indptr[k]; q < b.indptr[k + 1]; q++) {
        const j = b.indices[q];
        if (marker[j] !== i) {
          marker[j] = i;
          acc[j] = 0;
          if (nt === touched.length) touched = grow(touched, nt * 2);
          touched[nt++] = j;
        }
        acc[j] += av * b.values[q];
      }
    }
    const row = touched.subarray(0, nt).sort();
    if (out + nt > indices.length) {
      const size = Math.max(indices.length * 2, out + nt);
      indices = grow(indices, size);
      const v = new Float32Array(size);
      v.set(values);
      values = v;
    }
    for (let t = 0; t < nt; t++) {
      const j = row[t];
      if (acc[j] === 0) continue;
      indices[out] = j;
      values[out] = acc[j];
      out++;
    }
    indptr[i + 1] = out;
  }
  return { rows: a.rows, cols: b.cols, indptr, indices: indices.slice(0, out), values: values.slice(0, out) };
}

/** m + mᵀ for a square matrix (e.g. an upper-triangular co-occurrence count made symmetric). */
export function plusTranspose(m: Csr): Csr {
  const coo = new CooBuilder(m.rows, m.cols, 2 * nnz(m));
  for (let i = 0; i < m.rows; i++)
    for (let p = m.indptr[i]; p < m.indptr[i + 1]; p++) {
      coo.add(i, m.indices[p], m.values[p]);
      coo.add(m.indices[p], i, m.values[p]);
    }
  return coo.toCsr();
}

/** Entry-wise maximum of m and its transpose (square matrices): makes a kNN graph undirected. */
export function symmetrizeMax(m: Csr): Csr {
  const t = transpose(m);
  const indptr = new Int32Array(m.rows + 1);
  const indices = new Int32Array(nnz(m) + nnz(t));
  const values = new Float32Array(indices.length);
  let out = 0;
  for (let i = 0; i < m.rows; i++) {
    let p = m.indptr[i];
    let q = t.indptr[i];
    const pe = m.indptr[i + 1];
    const qe = t.indptr[i + 1];
    while (p < pe || q < qe) {
      const a = p < pe ? m.indices[p] : Infinity;
      const b = q < qe ? t.indices[q] : Infinity;
      if (a === b) {
        indices[out] = a;
        values[out++] = Math.max(m.values[p++], t.values[q++]);
      } else if (a < b) {
        indices[out] = a;
        values[out++] = m.values[p++];
      } else {
        indices[out] = b;
        values[out++] = t.values[q++];
      }
    }
    indptr[i + 1] = out;
  }
  return { rows: m.rows, cols: m.cols, indptr, indices: indices.slice(0, out), values: values.slice(0, out) };
}

/** GCN normalisation D^-1/2 (A + I) D^-1/2 of a square matrix (SPEC §2.7). */
export function gcnNormalize(a: Csr): Csr {
  if (a.rows !== a.cols) throw new Error('gcnNormalize needs a square matrix');
  const coo = new CooBuilder(a.rows, a.cols);
  for (let i = 0; i < a.rows; i++) {
    coo.add(i, i, 1);
    for (let p = a.indptr[i]; p < a.indptr[i + 1]; p++) coo.add(i, a.indices[p], a.values[p]);
  }
  const withSelf = coo.toCsr();
  const deg = rowSums(withSelf);
  const inv = deg.map((d) => (d > 0 ? 1 / Math.sqrt(d) : 0));
  return mapValues(withSelf, (v, i, j) => v * inv[i] * inv[j]);
}

/** Rows and columns kept by index lists (new index = position in the list). */
export function subMatrix(m: Csr, rowIds: ArrayLike<number>, colIds: ArrayLike<number>): Csr {
  const colMap = new Int32Array(m.cols).fill(-1);
  for (let t = 0; t < colIds.length; t++) colMap[colIds[t]] = t;
  const coo = new CooBuilder(rowIds.length, colIds.length);
  for (let r = 0; r < rowIds.length; r++) {
    const i = rowIds[r];
    for (let p = m.indptr[i]; p < m.indptr[i + 1]; p++) {
      const j = colMap[m.indices[p]];
      if (j >= 0) coo.add(r, j, m.values[p]);
    }
  }
  return coo.toCsr();
}

/** out[i] += Σ_p values[p] · x[indices[p]] for rows [rowStart, rowEnd) (row-major, `width` columns). */
export function spmmRows(
  indptr: Int32Array,
  indices: Int32Array,
  values: Float32Array,
  x: Float32Array,
  width: number,
  out: Float32Array,
  rowStart: number,
  rowEnd: number,
): void {
  for (let i = rowStart; i < rowEnd; i++) {
    const o = i * width;
    for (let p = indptr[i]; p < indptr[i + 1]; p++) {
      const v = values[p];
      const xo = indices[p] * width;
      for (let c = 0; c < width; c++) out[o + c] += v * x[xo + c];
    }
  }
}

/** Dense row-major (rows × width) product out = m · x. */
export function multiplyDense(m: Csr, x: Float32Array, width: number): Float32Array {
  const out = new Float32Array(m.rows * width);
  spmmRows(m.indptr, m.indices, m.values, x, width, out, 0, m.rows);
  return out;
}

/** Value at (i, j), or 0; binary search within the row. */
export function get(m: Csr, i: number, j: number): number {
  let lo = m.indptr[i];
  let hi = m.indptr[i + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = m.indices[mid];
    if (c === j) return m.values[mid];
    if (c < j) lo = mid + 1;
    else hi = mid - 1;
  }
  return 0;
}
