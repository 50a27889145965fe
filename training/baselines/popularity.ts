import type { Csr } from '../../shared/graph/csr.ts';
import type { Recommender } from './recommender.ts';

/**
 * Global popularity fitted on the training click matrix. Default `by: 'djs'`: songs ranked by
 * how many DJs clicked them, ties broken by summed click values (ln play counts). Counting DJs
 * keeps one DJ's heavy rotation from outranking a song many DJs share, which is what a held-out
 * DJ is most likely to have played; `by: 'clicks'` ranks by the summed values instead.
 */
export interface PopularityOptions {
  by: 'djs' | 'clicks';
}

export const DEFAULT_POPULARITY_OPTIONS: PopularityOptions = { by: 'djs' };

export interface PopularityRecommender extends Recommender {
  /** The same score for every DJ. */
  readonly scores: Float32Array;
}

export function fitPopularity(click: Csr, options: Partial<PopularityOptions> = {}): PopularityRecommender {
  const { by } = { ...DEFAULT_POPULARITY_OPTIONS, ...options };
  const djs = new Float64Array(click.cols);
  const sums = new Float64Array(click.cols);
  const n = click.indptr[click.rows];
  for (let p = 0; p < n; p++) {
    djs[click.indices[p]]++;
    sums[click.indices[p]] += click.values[p];
  }
  let maxSum = 0;
  for (let j = 0; j < click.cols; j++) maxSum = Math.max(maxSum, sums[j]);
  // DJ count plus the summed values scaled into [0, 0.5), which only breaks ties of the count.
  const scores = new Float32Array(click.cols);
  for (let j = 0; j < click.cols; j++)
    scores[j] = by === 'djs' ? djs[j] + (maxSum > 0 ? (0.5 * sums[j]) / maxSum : 0) : sums[j];
  return {
    name: 'popularity',
    scores,
    scoreDj(_dj: number, out: Float32Array): void {
      out.set(scores);
    },
  };
}
