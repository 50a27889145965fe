import { describe, expect, it } from 'vitest';
import { CooBuilder } from '../../shared/graph/csr.ts';
import { optionPopularity, TransitionPrior } from '../../shared/model/transitionPrior.ts';

describe('n-gram transition prior', () => {
  // 5 songs; transitions 0→1 ×3, 0→2 ×1, 3→4 ×1.
  const coo = new CooBuilder(5, 5, 3);
  coo.add(0, 1, 3);
  coo.add(0, 2, 1);
  coo.add(3, 4, 1);
  const popularity = Float32Array.from([0.3, 0.2, 0.2, 0.2, 0.1]);
  const prior = new TransitionPrior(coo.toCsr(), popularity, 0.8);
  const all = [0, 1, 2, 3, 4];
  const probs = (prev: number, exclude = -1, labels: Int32Array | null = null, pop: ArrayLike<number> = popularity, options = all) => {
    const out = new Float64Array(options.length);
    prior.logProbs(prev, options, labels, pop, out, 0, exclude);
    return Array.from(out, Math.exp);
  };

  it('is absolute discounting interpolated with popularity, summing to 1', () => {
    const p = probs(0);
    // backoff = 0.8 · 2 / 4 = 0.4; P(1) = (3 − 0.8) / 4 + 0.4 · 0.2.
    expect(p[1]).toBeCloseTo(2.2 / 4 + 0.08, 6);
    expect(p[4]).toBeCloseTo(0.4 * 0.1, 6);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(probs(-1)).toEqual(Array.from(popularity, (x) => expect.closeTo(x, 6)));
    expect(probs(1)).toEqual(Array.from(popularity, (x) => expect.closeTo(x, 6)));
  });

  it('leaves a training pair out, falling back to popularity when nothing is left', () => {
    const p = probs(0, 2);
    // Without 0→2: counts 0→1 ×3, total 3, one successor: backoff 0.8 / 3.
    expect(p[1]).toBeCloseTo(2.2 / 3 + (0.8 / 3) * 0.2, 6);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(probs(3, 4)).toEqual(Array.from(popularity, (x) => expect.closeTo(x, 6)));
  });

  it('sums songs into clusters', () => {
    const labels = Int32Array.from([0, 1, 1, 0, 2]);
    const pop = optionPopularity(popularity, labels, 3);
    const clusters = probs(0, -1, labels, pop, [0, 1, 2]);
    const songs = probs(0);
    expect(clusters[1]).toBeCloseTo(songs[1] + songs[2], 6);
    expect(clusters[0]).toBeCloseTo(songs[0] + songs[3], 6);
    expect(clusters.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });
});
