import { CooBuilder, type Csr } from '../../shared/graph/csr.ts';
import { Random } from '../../shared/util/random.ts';
import { evaluateRecommendation } from '../eval/recommendation.ts';
import type { Recommender } from './recommender.ts';

/**
 * Inner validation split for tuning baselines: `share` of each DJ's TRAINING clicks moved to a
 * validation matrix. Only the training click matrix goes in, so the test hold-out (clickTest,
 * heldOutPairs) cannot influence a tuned setting.
 */
export interface InnerSplit {
  train: Csr;
  validation: Csr;
}

/** `seed` or a generator the caller goes on drawing from. */
export function innerSplit(click: Csr, share = 0.2, seed: number | Random = 1): InnerSplit {
  const rng = typeof seed === 'number' ? new Random(seed) : seed;
  const train = new CooBuilder(click.rows, click.cols);
  const validation = new CooBuilder(click.rows, click.cols);
  for (let d = 0; d < click.rows; d++) {
    const order: number[] = [];
    for (let q = click.indptr[d]; q < click.indptr[d + 1]; q++) order.push(q);
    rng.shuffle(order);
    const n = Math.round(order.length * share);
    order.forEach((q, k) => (k < n ? validation : train).add(d, click.indices[q], click.values[q]));
  }
  return { train: train.toCsr(), validation: validation.toCsr() };
}

export interface Tuned<P> {
  recommender: Recommender;
  params: P;
  /** Validation NDCG@20 of each grid point, in grid order. */
  grid: { params: P; ndcg: number }[];
  seconds: number;
}

/**
 * Grid search by NDCG@20 on the inner split, then a refit of the winner on the full training
 * clicks. `fit` gets the click matrix to fit on; first grid point wins ties.
 */
export function tuneOnInnerSplit<P>(click: Csr, grid: P[], fit: (click: Csr, params: P) => Recommender, split = innerSplit(click)): Tuned<P> {
  const started = performance.now();
  const data = { click: split.train, clickTest: split.validation, heldOutPairs: new Int32Array(0) };
  const scored = grid.map((params) => {
    const r = fit(split.train, params);
    const result = evaluateRecommendation(data, { model: r, baselines: [] }, { k: 20, originalBaselines: false });
    return { params, ndcg: result.model?.['ndcg@20'] ?? 0 };
  });
  let best = scored[0];
  for (const s of scored) if (s.ndcg > best.ndcg) best = s;
  const recommender = fit(click, best.params);
  return { recommender, params: best.params, grid: scored, seconds: (performance.now() - started) / 1000 };
}
