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
