import { describe, expect, it } from 'vitest';
import { CooBuilder, get } from '../../shared/graph/csr.ts';
import { bprEpochs, fitBprMf } from '../../training/baselines/bprMf.ts';
import { fitItemKnn, itemSimilarity } from '../../training/baselines/itemKnn.ts';
import { fitPopularity } from '../../training/baselines/popularity.ts';
import type { Recommender } from '../../training/baselines/recommender.ts';
import { communityOf, plantedCommunities } from './planted.ts';

const quiet = { log: () => {} };

/** For every DJ: min score of its held-out own-community songs minus max score of the other community's songs. */
function separation(r: Recommender): number[] {
  const { click, clickTest } = plantedCommunities();
  const scores = new Float32Array(click.cols);
  const margins: number[] = [];
  for (let d = 0; d < click.rows; d++) {
    r.scoreDj(d, scores);
    const own = d < 10 ? 0 : 1;
    let minOwn = Infinity;
    for (let p = clickTest.indptr[d]; p < clickTest.indptr[d + 1]; p++)
      minOwn = Math.min(minOwn, scores[clickTest.indices[p]]);
    let maxOther = -Infinity;
    for (let j = 0; j < click.cols; j++) if (communityOf(j) !== own) maxOther = Math.max(maxOther, scores[j]);
    margins.push(minOwn - maxOther);
  }
  // Callers check every margin: there must be some.
  expect(margins.length).toBeGreaterThan(0);
  return margins;
}

describe('popularity', () => {
  it('ranks by number of DJs, ties broken by summed clicks', () => {
    const coo = new CooBuilder(4, 5);
    // song 2: 3 DJs; song 0: 2 DJs (sum 2); song 4: 2 DJs (sum 5); song 1: 1 DJ with a big value.
    coo.add(0, 2, 1);
    coo.add(1, 2, 1);
    coo.add(2, 2, 1);
    coo.add(0, 0, 1);
    coo.add(1, 0, 1);
    coo.add(2, 4, 2);
    coo.add(3, 4, 3);
    coo.add(3, 1, 9);
    const pop = fitPopularity(coo.toCsr());
    const out = new Float32Array(5);
    pop.scoreDj(1, out);
    const order = Array.from(out.keys()).sort((a, b) => out[b] - out[a]);
    expect(order).toEqual([2, 4, 0, 1, 3]);
    const byClicks = fitPopularity(coo.toCsr(), { by: 'clicks' });
    byClicks.scoreDj(0, out);
    expect(Array.from(out.keys()).sort((a, b) => out[b] - out[a])).toEqual([1, 4, 2, 0, 3]);
  });

  it('gives every DJ the same scores', () => {
    const pop = fitPopularity(plantedCommunities().click);
    const a = new Float32Array(40);
    const b = new Float32Array(40);
    pop.scoreDj(0, a);
    pop.scoreDj(15, b);
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

describe('item-kNN', () => {
  it('computes cosine similarity of click columns and keeps the top k', () => {
    const coo = new CooBuilder(3, 3);
    coo.add(0, 0, 1);
    coo.add(0, 1, 1);
    coo.add(1, 0, 2);
    coo.add(1, 2, 1);
    coo.add(2, 1, 3);
    const sim = itemSimilarity(coo.toCsr(), { neighbours: 2, shrink: 0 });
    // columns: x0 = (1, 2, 0), x1 = (1, 0, 3), x2 = (0, 1, 0)
    expect(get(sim, 0, 1)).toBeCloseTo(1 / (Math.sqrt(5) * Math.sqrt(10)), 6);
    expect(get(sim, 0, 2)).toBeCloseTo(2 / Math.sqrt(5), 6);
    expect(get(sim, 1, 2)).toBe(0); // no shared DJ → not a neighbour
    expect(get(sim, 0, 0)).toBe(0); // no self-similarity
    const shrunk = itemSimilarity(coo.toCsr(), { neighbours: 2, shrink: 3 });
    expect(get(shrunk, 0, 2)).toBeCloseTo(2 / (Math.sqrt(5) + 3), 6);
    const top1 = itemSimilarity(coo.toCsr(), { neighbours: 1, shrink: 0 });
    expect(Array.from(top1.indices.subarray(top1.indptr[0], top1.indptr[1]))).toEqual([2]);
  });

  it('scores = Σ value × similarity over the DJ’s songs', () => {
    const { click } = plantedCommunities();
    const knn = fitItemKnn(click, { neighbours: 5 });
    const out = new Float32Array(40);
    knn.scoreDj(3, out);
    const want = new Float64Array(40);
    for (let p = click.indptr[3]; p < click.indptr[4]; p++)
      for (let q = knn.similarity.indptr[click.indices[p]]; q < knn.similarity.indptr[click.indices[p] + 1]; q++)
        want[knn.similarity.indices[q]] += click.values[p] * knn.similarity.values[q];
    out.forEach((v, j) => expect(v).toBeCloseTo(want[j], 5));
    expect(knn.similarity.indptr[1]).toBeLessThanOrEqual(5);
  });

  it('ranks a DJ’s own community’s held-out songs above the other community', () => {
    for (const m of separation(fitItemKnn(plantedCommunities().click))) expect(m).toBeGreaterThan(0);
  });
});

describe('BPR-MF', () => {
  it('ranks a DJ’s own community’s held-out songs above the other community', () => {
    const bpr = fitBprMf(plantedCommunities().click, { factors: 8, epochs: 200, ...quiet });
    for (const m of separation(bpr)) expect(m).toBeGreaterThan(0);
    // The loss goes down.
    expect(bpr.losses[bpr.losses.length - 1]).toBeLessThan(bpr.losses[0] * 0.5);
  });

  it('separates the communities with its default options too', () => {
    for (const m of separation(fitBprMf(plantedCommunities().click, quiet))) expect(m).toBeGreaterThan(0);
  });

  it('is reproducible with the same seed and differs with another', () => {
    const { click } = plantedCommunities();
    const a = fitBprMf(click, { factors: 4, epochs: 5, seed: 3, ...quiet });
    const b = fitBprMf(click, { factors: 4, epochs: 5, seed: 3, ...quiet });
    const c = fitBprMf(click, { factors: 4, epochs: 5, seed: 4, ...quiet });
    expect(Array.from(a.songFactors)).toEqual(Array.from(b.songFactors));
    expect(Array.from(a.djFactors)).toEqual(Array.from(b.djFactors));
    expect(a.losses).toEqual(b.losses);
    expect(Array.from(a.songFactors)).not.toEqual(Array.from(c.songFactors));
  });

  it('scales epochs with nnz within bounds and logs the loss', () => {
    expect(bprEpochs(1_000_000, { targetSamples: 20_000_000 })).toBe(20);
    expect(bprEpochs(10, { targetSamples: 20_000_000, maxEpochs: 400 })).toBe(400);
    expect(bprEpochs(10, { epochs: 7 })).toBe(7);
    const lines: string[] = [];
    fitBprMf(plantedCommunities().click, { factors: 4, epochs: 4, logEvery: 2, log: (l) => lines.push(l) });
    expect(lines).toHaveLength(3); // epochs 1, 2, 4
    expect(lines[0]).toMatch(/^bprmf: epoch 1\/4 loss \d\.\d{4}/);
  });
});
