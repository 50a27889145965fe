import { describe, expect, it } from 'vitest';
import { CooBuilder, type Csr } from '../../shared/graph/csr.ts';
import type { Recommender } from '../../training/baselines/recommender.ts';
import { fitItemKnn } from '../../training/baselines/itemKnn.ts';
import {
  evaluateRecommendation,
  fitBaselines,
  formatRecommendationTable,
} from '../../training/eval/recommendation.ts';
import { plantedCommunities } from './planted.ts';

function csr(rows: number, cols: number, entries: [number, number][]): Csr {
  const coo = new CooBuilder(rows, cols);
  for (const [i, j] of entries) coo.add(i, j, 1);
  return coo.toCsr();
}

const fixed = (name: string, scores: number[]): Recommender => ({
  name,
  scoreDj: (_dj, out) => out.set(scores),
});

describe('evaluateRecommendation on a hand-computed example', () => {
  // Songs scored 5, 4, 3, 2, 1 for every DJ.
  // DJ 0: train {0, 1}, test {2}; DJ 1: train {3}, test {4}; DJ 2: train {4}, no test.
  const data = {
    click: csr(3, 5, [
      [0, 0],
      [0, 1],
      [1, 3],
      [2, 4],
    ]),
    clickTest: csr(3, 5, [
      [0, 2],
      [1, 4],
    ]),
    heldOutPairs: Int32Array.from([0, 2, 1, 4]),
  };
  const result = evaluateRecommendation(
    data,
    { model: fixed('model', [5, 4, 3, 2, 1]), baselines: [fixed('popularity', [1, 2, 3, 4, 5])] },
    { k: 2, originalKs: [1, 3, 4], trainPrecisionK: 2 },
  );

  it('excludes training songs and averages over DJs with test entries', () => {
    // DJ 0 ranks [2, 3] (0 and 1 excluded): hit at rank 0. DJ 1 ranks [0, 1]: miss.
    expect(result.model).toEqual({ 'recall@2': 0.5, 'ndcg@2': 0.5, 'precision@2': 0.25 });
  });

  it('runs the original protocol: rank of each held-out pair, training precision over DJs', () => {
    // Pair (0, 2) has rank 0; pair (1, 4) has rank 3 among {0, 1, 2, 4}.
    // Unfiltered top 2 is [0, 1]: all training for DJ 0, none for DJs 1 and 2.
    expect(result.original).toEqual({
      'recall@1': 0.5,
      'recall@3': 0.5,
      'recall@4': 1,
      'trainPrecision@2': 1 / 3,
    });
  });

  it('evaluates baselines the same way', () => {
    // Reversed scores: DJ 0 ranks [4, 3, 2] → miss at k = 2; DJ 1 ranks [4, 2, 1, 0] → hit at rank 0.
    expect(result.baselines.popularity).toEqual({ 'recall@2': 0.5, 'ndcg@2': 0.5, 'precision@2': 0.25 });
    expect(result.originalBaselines?.popularity['recall@1']).toBe(0.5);
    expect(result.split).toEqual({ djs: 2, testEntries: 2, heldOutPairs: 2 });
  });
});

describe('evaluateRecommendation result shape', () => {
  const data = plantedCommunities();
  const baselines = fitBaselines(data.click, { bprmf: { factors: 8, epochs: 30, log: () => {} } });

  it('has exactly the agreed JSON shape', () => {
    const model = { ...fitItemKnn(data.click), name: 'tl-mgccf' };
    const result = evaluateRecommendation(data, { model, baselines });
    const json = JSON.parse(JSON.stringify(result));
    expect(json).toEqual(result); // nothing lost in JSON (no NaN, no undefined)
    expect(Object.keys(json).sort()).toEqual(['baselines', 'model', 'original', 'originalBaselines', 'split']);
    expect(Object.keys(json.model).sort()).toEqual(['ndcg@20', 'precision@20', 'recall@20']);
    expect(Object.keys(json.baselines)).toEqual(['popularity', 'itemknn', 'bprmf']);
    for (const m of Object.values(json.baselines))
      expect(Object.keys(m as object).sort()).toEqual(['ndcg@20', 'precision@20', 'recall@20']);
    expect(Object.keys(json.original)).toEqual([
      'recall@10',
      'recall@25',
      'recall@50',
      'recall@100',
      'recall@300',
      'recall@500',
      'trainPrecision@10',
    ]);
    expect(Object.keys(json.originalBaselines)).toEqual(['popularity', 'itemknn', 'bprmf']);
    expect(json.split).toEqual({ djs: 20, testEntries: 80, heldOutPairs: 30 });
    for (const v of [...Object.values(json.model), ...Object.values(json.original)] as number[]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
  });

  it('gives null model and original without a model, and can skip the baselines’ original protocol', () => {
    const result = evaluateRecommendation(data, { baselines }, { originalBaselines: false });
    expect(result.model).toBeNull();
    expect(result.original).toBeNull();
    expect(result).not.toHaveProperty('originalBaselines');
  });

  it('community-aware baselines beat popularity on planted communities', () => {
    const result = evaluateRecommendation(data, { baselines });
    const pop = result.baselines.popularity['ndcg@20'];
    expect(result.baselines.itemknn['ndcg@20']).toBeGreaterThan(pop);
    expect(result.baselines.bprmf['ndcg@20']).toBeGreaterThan(pop);
    // 4 test songs of 24 candidates, all from the right community in the top 20.
    expect(result.baselines.itemknn['recall@20']).toBe(1);
  });

  it('formats an aligned table with one row per recommender', () => {
    const model = { ...fitItemKnn(data.click), name: 'tl-mgccf' };
    const table = formatRecommendationTable(evaluateRecommendation(data, { model, baselines }));
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/recall@20\s+ndcg@20\s+precision@20\s+recall@10/);
    expect(lines.slice(1, 5).map((l) => l.split(/\s+/)[0])).toEqual(['model', 'popularity', 'itemknn', 'bprmf']);
    const widths = new Set(lines.slice(0, 5).map((l) => l.length));
    expect(widths.size).toBe(1);
    expect(lines[5]).toContain('20 DJs');
  });

  it('rejects mismatched shapes and duplicate names', () => {
    expect(() =>
      evaluateRecommendation({ ...data, clickTest: csr(2, 2, []) }, { baselines }),
    ).toThrow(/click/);
    expect(() => evaluateRecommendation(data, { baselines: [baselines[0], baselines[0]] })).toThrow(/two baselines/);
  });
});
