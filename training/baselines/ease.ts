import { type Csr, transpose } from '../../shared/graph/csr.ts';
import type { Recommender } from './recommender.ts';

/**
 * EASE (Steck 2019): a song × song weight matrix B with a zero diagonal fitted in closed form,
 * B = I − P · diagMat(1 / diag(P)), P = (XᵀX + λI)⁻¹, X the binary click matrix; score = x_dj · B.
 * The songs × songs inverse is O(songs³) (4,397 songs: minutes in plain TS), so P is taken in
 * its dual (Woodbury) form P = (I − Xᵀ K⁻¹ X) / λ with K = XXᵀ + λI over DJs, which every corpus
 * here has far fewer of than songs: one DJs × DJs inverse, exact, every song included, B never
 * materialised. score_j = x_j − (x P)_j / P_jj. λ is tuned on the inner split.
 */
export interface EaseOptions {
  lambda: number;
}

export const DEFAULT_EASE_OPTIONS: EaseOptions = { lambda: 500 };

export const EASE_LAMBDAS = [1, 5, 20, 100, 500, 2000, 10000];

export interface EaseRecommender extends Recommender {
  /** diag(P) per song. */
  readonly diagonal: Float64Array;
  /** Seconds to fit (the DJs × DJs inverse and diag P). */
  readonly seconds: number;
}

/** In-place inverse of a symmetric positive definite n × n row-major matrix (Gauss–Jordan; SPD needs no pivoting). */
export function invertSpd(a: Float64Array, n: number): void {
  const row = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const ko = k * n;
    const pivot = a[ko + k];
    if (!(pivot > 0)) throw new Error(`invertSpd: matrix is not positive definite (pivot ${pivot} at ${k})`);
    a[ko + k] = 1;
    for (let j = 0; j < n; j++) a[ko + j] /= pivot;
    row.set(a.subarray(ko, ko + n));
    for (let i = 0; i < n; i++) {
      if (i === k) continue;
      const io = i * n;
      const f = a[io + k];
      if (f === 0) continue;
      a[io + k] = 0;
      for (let j = 0; j < n; j++) a[io + j] -= f * row[j];
    }
  }
}

export function fitEase(click: Csr, options: Partial<EaseOptions> = {}): EaseRecommender {
  const { lambda } = { ...DEFAULT_EASE_OPTIONS, ...options };
  if (!(lambda > 0)) throw new Error(`ease: lambda must be > 0, got ${lambda}`);
  const started = performance.now();
  const m = click.rows;
  const n = click.cols;
  const bySong = transpose(click);
  // Shared-song counts XXᵀ (binary), kept for scoring; K = XXᵀ + λI inverted.
  const shared = new Float64Array(m * m);
  for (let j = 0; j < n; j++)
    for (let p = bySong.indptr[j]; p < bySong.indptr[j + 1]; p++)
      for (let q = bySong.indptr[j]; q < bySong.indptr[j + 1]; q++) shared[bySong.indices[p] * m + bySong.indices[q]]++;
  const kInv = shared.slice();
  for (let d = 0; d < m; d++) kInv[d * m + d] += lambda;
  invertSpd(kInv, m);
  // P_jj = (1 − x_jᵀ K⁻¹ x_j) / λ over song j's column.
  const diagonal = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = bySong.indptr[j]; p < bySong.indptr[j + 1]; p++)
      for (let q = bySong.indptr[j]; q < bySong.indptr[j + 1]; q++) s += kInv[bySong.indices[p] * m + bySong.indices[q]];
    diagonal[j] = (1 - s) / lambda;
  }
  const z = new Float64Array(m);
  return {
    name: 'ease',
    diagonal,
    seconds: (performance.now() - started) / 1000,
    scoreDj(dj: number, out: Float32Array): void {
      // z = (x Xᵀ) K⁻¹, x Xᵀ being row dj of the shared counts.
      const so = dj * m;
      z.fill(0);
      for (let v = 0; v < m; v++) {
        const y = shared[so + v];
        if (y === 0) continue;
        const vo = v * m;
        for (let w = 0; w < m; w++) z[w] += y * kInv[vo + w];
      }
      out.fill(0);
      for (let p = click.indptr[dj]; p < click.indptr[dj + 1]; p++) out[click.indices[p]] = 1;
      // (x P)_j = (x_j − Σ_{v ∈ col j} z_v) / λ; score_j = x_j − (x P)_j / P_jj.
      for (let j = 0; j < n; j++) {
        let w = 0;
        for (let p = bySong.indptr[j]; p < bySong.indptr[j + 1]; p++) w += z[bySong.indices[p]];
        const x = out[j];
        out[j] = x - (x - w) / lambda / diagonal[j];
      }
    },
  };
}
