import type { Sequences } from '../../shared/graph/prepare.ts';
import { LEVELS, type Level, type TracklistModel } from '../../shared/model/tracklistInference.ts';
import { Progress } from '../../shared/util/progress.ts';
import { collectPositions } from '../nextsong/evaluate.ts';
import type { TracklistPredictor } from '../nextsong/tracklistPredictor.ts';

/**
 * Calibration of how each level combines its terms (network logit, n-gram prior, session kNN),
 * fitted on held-out sets after training (stacking). Gradient descent fits the prior and session
 * weights on the training sets, where the network has seen the very sequences it is scored on and
 * so earns too much trust against the non-parametric terms; on held-out sets the right balance is
 * measurable. Per level the logit of option i is a·neural_i + b·prior_i + c·session_i; the NLL of
 * the true option is convex in (a, b, c), so Newton's method finds the optimum in a few steps.
 * The tree stays exact: each level is still a softmax within its teacher's children.
 */

/** One level's held-out softmax problems: the terms of every option of each position's set. */
export interface SoftmaxProblems {
  /** Terms per option (K): network, then prior and session when the model has them. */
  terms: number;
  /** Position q's options are [offsets[q], offsets[q + 1]); their terms at values[K · option …]. */
  offsets: Int32Array;
  values: Float64Array;
  /** Index of the true option within each position's set. */
  targets: Int32Array;
}

export interface SoftmaxFit {
  weights: number[];
  /** Mean NLL in nats at the starting and the fitted weights. */
  nllBefore: number;
  nllAfter: number;
  iterations: number;
}

/** Mean NLL, gradient and Hessian of the problems at weights w. */
function objective(p: SoftmaxProblems, w: readonly number[], withDerivatives: boolean): { nll: number; grad: Float64Array; hess: Float64Array } {
  const K = p.terms;
  const grad = new Float64Array(K);
  const hess = new Float64Array(K * K);
  const mean = new Float64Array(K);
  const second = new Float64Array(K * K);
  const positions = p.targets.length;
  let logits = new Float64Array(0);
  let nll = 0;
  for (let q = 0; q < positions; q++) {
    const begin = p.offsets[q];
    const end = p.offsets[q + 1];
    if (logits.length < end - begin) logits = new Float64Array(end - begin);
    let max = -Infinity;
    for (let i = begin; i < end; i++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += w[k] * p.values[i * K + k];
      logits[i - begin] = s;
      if (s > max) max = s;
    }
    let sum = 0;
    mean.fill(0);
    second.fill(0);
    for (let i = begin; i < end; i++) {
      const e = Math.exp(logits[i - begin] - max);
      sum += e;
      if (!withDerivatives) continue;
      for (let k = 0; k < K; k++) {
        const x = p.values[i * K + k];
        mean[k] += e * x;
        for (let l = 0; l <= k; l++) second[k * K + l] += e * x * p.values[i * K + l];
      }
    }
    const t = begin + p.targets[q];
    nll += max + Math.log(sum) - logits[p.targets[q]];
    if (!withDerivatives) continue;
    for (let k = 0; k < K; k++) {
      const ek = mean[k] / sum;
      grad[k] += ek - p.values[t * K + k];
      for (let l = 0; l <= k; l++) hess[k * K + l] += second[k * K + l] / sum - ek * (mean[l] / sum);
    }
  }
  const n = Math.max(positions, 1);
  for (let k = 0; k < K; k++) {
    grad[k] /= n;
    for (let l = 0; l <= k; l++) hess[l * K + k] = hess[k * K + l] /= n;
  }
  return { nll: nll / n, grad, hess };
}

/** Solves the small symmetric system H x = g (Gaussian elimination with partial pivoting). */
function solve(hess: Float64Array, grad: Float64Array, K: number): Float64Array {
  const a = Array.from({ length: K }, (_, r) => [...Array.from(hess.subarray(r * K, (r + 1) * K)), grad[r]]);
  for (let c = 0; c < K; c++) {
    let pivot = c;
    for (let r = c + 1; r < K; r++) if (Math.abs(a[r][c]) > Math.abs(a[pivot][c])) pivot = r;
    [a[c], a[pivot]] = [a[pivot], a[c]];
    for (let r = c + 1; r < K; r++) {
      const f = a[r][c] / a[c][c];
      for (let j = c; j <= K; j++) a[r][j] -= f * a[c][j];
    }
  }
  const x = new Float64Array(K);
  for (let r = K - 1; r >= 0; r--) {
    let s = a[r][K];
    for (let j = r + 1; j < K; j++) s -= a[r][j] * x[j];
    x[r] = s / a[r][r];
  }
  return x;
}

/** Newton's method with backtracking from `start`: the weights minimising the mean NLL. */
export function fitSoftmaxWeights(p: SoftmaxProblems, start: readonly number[], maxIterations = 30): SoftmaxFit {
  const K = p.terms;
  if (start.length !== K) throw new Error(`calibration: ${start.length} starting weights for ${K} terms`);
  let w = Array.from(start);
  let current = objective(p, w, true);
  const nllBefore = current.nll;
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    // A tiny ridge keeps the step defined when a term is constant over every set.
    for (let k = 0; k < K; k++) current.hess[k * K + k] += 1e-9;
    const step = solve(current.hess, current.grad, K);
    if (!step.every(Number.isFinite)) break;
    let t = 1;
    let next: number[] | null = null;
    for (let halvings = 0; halvings < 30; halvings++, t /= 2) {
      const trial = w.map((v, k) => v - t * step[k]);
      if (objective(p, trial, false).nll < current.nll) {
        next = trial;
        break;
      }
    }
    if (!next) break;
    const previous = current.nll;
    w = next;
    current = objective(p, w, true);
    if (previous - current.nll < 1e-9) {
      iterations++;
      break;
    }
  }
  return { weights: w, nllBefore, nllAfter: current.nll, iterations };
}

/** The fitted weights per level and what they changed on the held-out positions. */
export interface CombinationCalibration {
  positions: number;
  /** Per level, per term of TracklistModel.setLogitTerms: the fitted weight (1 = as trained). */
  weights: Record<Level, Record<string, number>>;
  /** Held-out NLL of the true song in bits (the sum over levels), before and after. */
  bitsBefore: number;
  bitsAfter: number;
}

/** Memory bound on the collected options per level (values are one double per term). */
const MAX_VALUES = 12_000_000;

/**
 * Collects every level's softmax problems on held-out tracklists (positions as the next-song
 * evaluation takes them, states as the model's predictor builds them, teachers on the true
 * path) and fits each level's term weights, starting from the model's own. The network weight
 * is a scale on the exported logits (it scales the output tables); the prior and session weights
 * replace the learned ones.
 */
export function calibrateCombination(
  model: TracklistModel,
  predictor: TracklistPredictor,
  sequences: Sequences,
  tracklists: ArrayLike<number>,
  options: { maxPositions: number; seed: number; log?: (line: string) => void },
): CombinationCalibration | null {
  let largestSet = 1;
  for (const level of LEVELS) {
    const set = level === 'l3' || model.form === 'full' ? model.sizes[level] : largestGroup(model, level);
    largestSet = Math.max(largestSet, set);
  }
  const limit = Math.max(1, Math.min(options.maxPositions, Math.floor(MAX_VALUES / 3 / largestSet)));
  const { pairs } = collectPositions(sequences, model.songs, tracklists, limit, options.seed);
  const positions = pairs.length / 2;
  if (positions === 0) return null;
  const collected = Object.fromEntries(
    LEVELS.map((l) => [l, { names: [] as string[], offsets: [0], values: new Float64Array(1 << 16), used: 0, targets: [] as number[] }]),
  ) as Record<Level, { names: string[]; offsets: number[]; values: Float64Array; used: number; targets: number[] }>;
  const progress = new Progress('calibration positions', positions, 5000, options.log);
  for (let q = 0; q < positions; q++) {
    progress.tick();
    const t = pairs[2 * q];
    const begin = sequences.offsets[t];
    const prefix = sequences.songs.subarray(begin, begin + pairs[2 * q + 1]);
    const target = sequences.songs[begin + pairs[2 * q + 1]];
    const state = predictor.stateFor(prefix, sequences.djs.subarray(sequences.djOffsets[t], sequences.djOffsets[t + 1]));
    const path = model.path(target);
    const teachers: Record<Level, number> = { l3: -1, l2: path.l3, l1: path.l2, song: path.l1 };
    const truth: Record<Level, number> = { l3: path.l3, l2: path.l2, l1: path.l1, song: target };
    for (const level of LEVELS) {
      const { set, terms } = model.setLogitTerms(level, state, teachers[level]);
      const c = collected[level];
      if (q === 0) c.names = Object.keys(terms);
      const columns = c.names.map((name) => terms[name]);
      const at = set ? set.indexOf(truth[level]) : truth[level];
      if (at < 0) throw new Error(`calibration: option ${truth[level]} is not in its ${level} set`);
      const count = columns[0].length;
      if (c.used + count * columns.length > c.values.length) {
        const grown = new Float64Array(Math.max(2 * c.values.length, c.used + count * columns.length));
        grown.set(c.values.subarray(0, c.used));
        c.values = grown;
      }
      for (let i = 0; i < count; i++) for (const column of columns) c.values[c.used++] = column[i];
      c.offsets.push(c.offsets[c.offsets.length - 1] + count);
      c.targets.push(at);
    }
  }
  progress.finish();
  const weights = {} as CombinationCalibration['weights'];
  let before = 0;
  let after = 0;
  for (const level of LEVELS) {
    const c = collected[level];
    const problems: SoftmaxProblems = {
      terms: c.names.length,
      offsets: Int32Array.from(c.offsets),
      values: c.values.subarray(0, c.used),
      targets: Int32Array.from(c.targets),
    };
    const trained = model.termWeights(level);
    const start = c.names.map((name) => (name === 'prior' ? trained.prior! : name === 'session' ? trained.session! : 1));
    const fit = fitSoftmaxWeights(problems, start);
    before += fit.nllBefore;
    after += fit.nllAfter;
    weights[level] = Object.fromEntries(c.names.map((name, k) => [name, fit.weights[k]]));
  }
  return { positions, weights, bitsBefore: before / Math.LN2, bitsAfter: after / Math.LN2 };
}

/** The largest set of a factorised level (the teacher's children). */
function largestGroup(model: TracklistModel, level: Exclude<Level, 'l3'>): number {
  const teachers = model.sizes[level === 'l2' ? 'l3' : level === 'l1' ? 'l2' : 'l1'];
  let largest = 0;
  for (let c = 0; c < teachers; c++) largest = Math.max(largest, model.normalisationSet(level, c)?.length ?? model.sizes[level]);
  return largest;
}
