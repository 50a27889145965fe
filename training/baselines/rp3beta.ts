import { type Csr, transpose } from '../../shared/graph/csr.ts';
import { itemProductTopK, scoreBySimilarity } from './itemProduct.ts';
import type { Recommender } from './recommender.ts';

/**
 * RP3beta (Paudel et al. 2016; the form of Dacrema et al. 2019): a three-step random walk
 * DJ → song → DJ → song on the binary click graph. W[i, j] = Σ_d P(d | i)^α · P(j | d)^α / deg(j)^β,
 * P row-normalised; β > 0 penalises popular songs. Each song keeps its `neighbours` best j.
 * score[j] = Σ over the DJ's clicked songs i of W[i, j]. α and β are tuned on the inner split.
 */
export interface Rp3betaOptions {
  alpha: number;
  beta: number;
  neighbours: number;
}

export const DEFAULT_RP3BETA_OPTIONS: Rp3betaOptions = { alpha: 1, beta: 0.5, neighbours: 200 };

export const RP3BETA_GRID: Rp3betaOptions[] = [0.5, 1].flatMap((alpha) =>
  [0, 0.3, 0.5, 0.7].map((beta) => ({ alpha, beta, neighbours: 200 })),
);

/** Rows divided by their entry count, then raised to α (binary clicks). */
function walk(m: Csr, alpha: number): Csr {
  const values = new Float32Array(m.values.length);
  for (let r = 0; r < m.rows; r++) {
    const n = m.indptr[r + 1] - m.indptr[r];
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) values[p] = Math.pow(1 / n, alpha);
  }
  return { ...m, values };
}

export function fitRp3beta(click: Csr, options: Partial<Rp3betaOptions> = {}): Recommender & { similarity: Csr } {
  const { alpha, beta, neighbours } = { ...DEFAULT_RP3BETA_OPTIONS, ...options };
  const byItem = transpose(click);
  const penalty = new Float64Array(click.cols);
  for (let j = 0; j < click.cols; j++) penalty[j] = Math.pow(Math.max(1, byItem.indptr[j + 1] - byItem.indptr[j]), -beta);
  const similarity = itemProductTopK(walk(byItem, alpha), walk(click, alpha), neighbours, (_i, j, dot) => dot * penalty[j]);
  return {
    name: 'rp3beta',
    similarity,
    scoreDj: (dj, out) => scoreBySimilarity(click, similarity, dj, out, true),
  };
}
