import { describe, expect, it } from 'vitest';
import { fitSoftmaxWeights, type SoftmaxProblems } from '../../training/tracklist/calibrate.ts';
import { Random } from '../../shared/util/random.ts';

/** Softmax problems whose targets are drawn from logits w·x with known weights. */
function planted(weights: number[], positions: number, seed: number): SoftmaxProblems {
  const rng = new Random(seed);
  const K = weights.length;
  const offsets = [0];
  const values: number[] = [];
  const targets: number[] = [];
  for (let q = 0; q < positions; q++) {
    const options = 3 + rng.int(20);
    const logits: number[] = [];
    for (let i = 0; i < options; i++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const x = 2 * rng.next() - 1 + (k === 0 ? 0.5 * Math.sin(i) : 0);
        values.push(x);
        s += weights[k] * x;
      }
      logits.push(s);
    }
    const max = Math.max(...logits);
    const e = logits.map((s) => Math.exp(s - max));
    const sum = e.reduce((a, b) => a + b, 0);
    let r = rng.next() * sum;
    let pick = options - 1;
    for (let i = 0; i < options; i++) if ((r -= e[i]) < 0) {
      pick = i;
      break;
    }
    targets.push(pick);
    offsets.push(offsets[q] + options);
  }
  return { terms: K, offsets: Int32Array.from(offsets), values: Float64Array.from(values), targets: Int32Array.from(targets) };
}

describe('term-weight calibration (Newton on the held-out softmax NLL)', () => {
  it('recovers planted weights and lowers the NLL from a wrong start', () => {
    const truth = [1.6, -0.7, 2.4];
    const problems = planted(truth, 6000, 3);
    const fit = fitSoftmaxWeights(problems, [1, 0.5, 0.5]);
    // 6,000 draws: each weight within a few standard errors (≈ 0.04).
    fit.weights.forEach((w, k) => expect(Math.abs(w - truth[k])).toBeLessThan(0.15));
    expect(fit.nllAfter).toBeLessThan(fit.nllBefore - 0.05);
    expect(fit.iterations).toBeLessThan(30);
  });

  it('does not move from the optimum', () => {
    const problems = planted([1, 0.3], 3000, 5);
    const first = fitSoftmaxWeights(problems, [1, 1]);
    const again = fitSoftmaxWeights(problems, first.weights);
    again.weights.forEach((w, k) => expect(w).toBeCloseTo(first.weights[k], 6));
    expect(again.nllAfter).toBeCloseTo(first.nllAfter, 10);
  });

  it('refuses a start of the wrong length', () => {
    expect(() => fitSoftmaxWeights(planted([1], 10, 1), [1, 2])).toThrow(/2 starting weights for 1 terms/);
  });
});
