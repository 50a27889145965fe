/**
 * A two-sample test by classification: can a small model tell generated sets from real ones by
 * their statistics? L2-regularised logistic regression on standardised features, k-fold
 * cross-validated; the AUC of its held-out scores is reported (0.5 = indistinguishable, 1 =
 * always told apart).
 */
import { Random } from '../../shared/util/random.ts';

export interface TwoSampleOptions {
  folds?: number;
  l2?: number;
  iterations?: number;
  seed?: number;
}

/** AUC of scores for positives against negatives (ties count half): the Mann-Whitney statistic. */
export function auc(scores: readonly number[], labels: readonly number[]): number {
  const order = scores.map((s, i) => ({ s, y: labels[i] })).sort((a, b) => a.s - b.s);
  let rankSum = 0;
  let positives = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j].s === order[i].s) j++;
    const rank = (i + j + 1) / 2; // 1-based mean rank of the tie group
    for (let k = i; k < j; k++) if (order[k].y === 1) {
      rankSum += rank;
      positives++;
    }
    i = j;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return 0.5;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Fits logistic regression by full-batch gradient descent; returns weights with the bias last. */
function fit(x: number[][], y: number[], l2: number, iterations: number): Float64Array {
  const d = x[0].length;
  const w = new Float64Array(d + 1);
  const lr = 0.5;
  for (let it = 0; it < iterations; it++) {
    const g = new Float64Array(d + 1);
    for (let i = 0; i < x.length; i++) {
      let z = w[d];
      for (let j = 0; j < d; j++) z += w[j] * x[i][j];
      const err = 1 / (1 + Math.exp(-z)) - y[i];
      for (let j = 0; j < d; j++) g[j] += err * x[i][j];
      g[d] += err;
    }
    for (let j = 0; j <= d; j++) w[j] -= lr * (g[j] / x.length + (j < d ? l2 * w[j] : 0));
  }
  return w;
}

/**
 * Cross-validated AUC of telling `a` (label 1) from `b` (label 0). Rows are feature vectors;
 * a missing (non-finite) value becomes its column's mean, constant columns are dropped.
 */
export function twoSampleAuc(a: readonly number[][], b: readonly number[][], options: TwoSampleOptions = {}): number {
  const folds = options.folds ?? 5;
  const rows = [...a, ...b];
  const labels = [...a.map(() => 1), ...b.map(() => 0)];
  if (a.length < folds || b.length < folds) return Number.NaN;
  const d = rows[0].length;
  const mean = new Float64Array(d);
  const count = new Float64Array(d);
  for (const r of rows)
    r.forEach((v, j) => {
      if (Number.isFinite(v)) {
        mean[j] += v;
        count[j]++;
      }
    });
  for (let j = 0; j < d; j++) mean[j] = count[j] > 0 ? mean[j] / count[j] : 0;
  const filled = rows.map((r) => r.map((v, j) => (Number.isFinite(v) ? v : mean[j])));
  const sd = new Float64Array(d);
  for (const r of filled) r.forEach((v, j) => (sd[j] += (v - mean[j]) ** 2));
  const keep = Array.from({ length: d }, (_, j) => j).filter((j) => sd[j] > 1e-12);
  if (keep.length === 0) return 0.5;
  const x = filled.map((r) => keep.map((j) => (r[j] - mean[j]) / Math.sqrt(sd[j] / rows.length)));
  // Stratified folds: each label's rows dealt round-robin after a seeded shuffle.
  const rng = new Random(options.seed ?? 1);
  const fold = new Int32Array(rows.length);
  for (const label of [0, 1]) {
    const idx = rng.shuffle(labels.map((y, i) => (y === label ? i : -1)).filter((i) => i >= 0));
    idx.forEach((i, k) => (fold[i] = k % folds));
  }
  const scores = new Array<number>(rows.length).fill(0);
  for (let f = 0; f < folds; f++) {
    const train = x.map((_, i) => i).filter((i) => fold[i] !== f);
    const w = fit(train.map((i) => x[i]), train.map((i) => labels[i]), options.l2 ?? 0.01, options.iterations ?? 300);
    for (let i = 0; i < rows.length; i++) {
      if (fold[i] !== f) continue;
      let z = w[keep.length];
      for (let j = 0; j < keep.length; j++) z += w[j] * x[i][j];
      scores[i] = z;
    }
  }
  return auc(scores, labels);
}
