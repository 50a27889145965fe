import { describe, expect, it } from 'vitest';
import type { Prepared } from '../../shared/graph/prepare.ts';
import { clusterPopularityGenerator, evaluateGeneration, generationTasks, type SetGenerator } from '../../training/eval/generation.ts';
import { SetStatistics } from '../../training/eval/setStatistics.ts';
import { auc, twoSampleAuc } from '../../training/eval/twoSample.ts';
import { Random } from '../../shared/util/random.ts';
import { makeData, type TestSet } from '../nextsong/data.ts';

/** A prepared-like dataset: the fields the generation statistics read. */
function prepared(names: string[], sets: TestSet[], plays?: number[]): Prepared {
  const data = makeData(names.length, sets);
  return {
    sequences: data.sequences,
    vocab: { songs: names, songKeys: names.map((n) => n.toLowerCase()) },
    songPlays: Float32Array.from(plays ?? names.map(() => 1)),
  } as unknown as Prepared;
}

const NAMES = ['A - One', 'A - Two', 'B - Three', 'C - Four', 'D - Five', 'E - Six', 'F - Seven', 'G - Eight'];

describe('set statistics', () => {
  const p = prepared(
    NAMES,
    [
      { songs: [0, 1, 2, 3] },
      { songs: [4, -1, 5] },
      { songs: [6, 7, 0, 5], split: 1 },
    ],
    [10, 1, 1, 1, 1, 1, 1, 1],
  );
  const tree = [Int32Array.from([0, 0, 0, 1, 1, 1, 2, 2]), Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1]), new Int32Array(8)];
  const stats = new SetStatistics({ prepared: p, tree, planted: null, index: null });

  it('counts training adjacency (ordered), nearness within 3 (any order) and never-together pairs', () => {
    // 0→1 adjacent; 1→3 two apart; 3→0 three apart, reversed; 0→4 never together.
    const f = stats.of([0, 1, 3, 4], null);
    expect(f.adjacent).toBeCloseTo(1 / 3);
    expect(f.near3).toBeCloseTo(2 / 3);
    expect(f.novel).toBeCloseTo(1 / 3);
    // A gap between 4 and 5 breaks adjacency; the held-out set is never training evidence.
    expect(stats.of([4, 5], null)).toMatchObject({ adjacent: 0, near3: 1, novel: 0 });
    expect(stats.of([6, 7], null)).toMatchObject({ adjacent: 0, novel: 1 });
    expect(stats.of([3, 0], null)).toMatchObject({ adjacent: 0, near3: 1 });
  });

  it('measures same-cluster transitions, artist repetition and popularity', () => {
    const f = stats.of([0, 1, 2, 3, 4], null);
    expect(f.sameL1).toBeCloseTo(3 / 4);
    expect(f.sameL2).toBeCloseTo(3 / 4);
    expect(f.sameL3).toBe(1);
    expect(f.sameScene).toBeNull();
    expect(f.artistRepeat).toBeCloseTo(1 / 4); // "A - Two" after "A - One"
    expect(f.distinctArtists).toBe(4);
    expect(f.top1pct).toBeCloseTo(1 / 5); // song 0 is the most played
    expect(f.meanLogPlays).toBeCloseTo((Math.log1p(10) + 4 * Math.log1p(1)) / 5);
  });
});

describe('two-sample AUC', () => {
  it('is the Mann-Whitney statistic, ties counted half', () => {
    expect(auc([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0])).toBe(1);
    expect(auc([0.1, 0.2, 0.9, 0.8], [1, 1, 0, 0])).toBe(0);
    expect(auc([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0])).toBe(0.5);
    expect(auc([0.9, 0.2, 0.5, 0.1], [1, 1, 0, 0])).toBe(0.75);
  });

  it('tells apart two different samples and not two draws of one distribution', () => {
    const rng = new Random(3);
    const sample = (shift: number) => Array.from({ length: 80 }, () => [rng.normal() + shift, rng.normal(), rng.normal()]);
    expect(twoSampleAuc(sample(2), sample(0))).toBeGreaterThan(0.9);
    const same = twoSampleAuc(sample(0), sample(0));
    expect(same).toBeGreaterThan(0.35);
    expect(same).toBeLessThan(0.65);
  });
});

describe('generation evaluation', () => {
  const sets: TestSet[] = [];
  const rng = new Random(5);
  for (let t = 0; t < 60; t++) sets.push({ songs: rng.shuffle([0, 1, 2, 3, 4, 5, 6, 7]).slice(0, 6), split: t % 3 === 0 ? 1 : 0, djs: [0] });
  const p = prepared(NAMES, sets);

  it('builds tasks from held-out sets (seed = first song, same length) and checks what generators return', () => {
    const tasks = generationTasks(p, 10, 1);
    expect(tasks.length).toBe(10);
    for (const t of tasks) {
      expect(p.sequences.split[t.tracklist]).toBe(1);
      expect(t.seed).toBe(t.real[0]);
      expect(t.length).toBe(t.real.length - 1);
    }
    const copy: SetGenerator = { name: 'copy', generate: (task) => task.real.slice() };
    const report = evaluateGeneration({ prepared: p, tree: null, planted: null, index: null, oracle: null, raw: null }, tasks, { model: copy, baselines: [] });
    // Copying the real sets gives the real statistics exactly.
    expect(report.model!.statistics).toEqual(report.real.statistics);
    const bad: SetGenerator = { name: 'bad', generate: (task) => [task.seed, task.seed] };
    expect(() => evaluateGeneration({ prepared: p, tree: null, planted: null, index: null, oracle: null, raw: null }, tasks, { model: bad, baselines: [] })).toThrow(/bad returned/);
  });

  it('fills a cluster-popularity set from the seed cluster outwards', () => {
    const tree = [Int32Array.from([0, 0, 1, 1, 2, 2, 3, 3]), Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1]), new Int32Array(8)];
    const g = clusterPopularityGenerator(tree, [8, 7, 6, 5, 4, 3, 2, 1]);
    const task = generationTasks(p, 1, 2)[0];
    const set = g.generate({ ...task, seed: 2, length: 4 });
    expect(set).toEqual([2, 3, 0, 1, 4]);
  });
});
