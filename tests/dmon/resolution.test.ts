import { describe, expect, it } from 'vitest';
import { activeClusters, modularity, nmi } from '../../training/dmon/metrics.ts';
import { louvain, naturalHierarchy } from '../../training/dmon/resolution.ts';
import { plantedHierarchy } from './planted.ts';

// 3 top groups × 4 middle groups of 20 nodes: 12 finest groups.
const planted = plantedHierarchy([3, 4], 20, [0.002, 0.02, 0.5], 7);

describe('louvain', () => {
  it('finds the finest planted groups at resolution 1 and beats the planted modularity', () => {
    const { labels, count } = louvain(planted.graph, 1);
    expect(count).toBe(activeClusters(labels));
    expect(nmi(planted.labels[0], labels)).toBeGreaterThan(0.95);
    expect(modularity(planted.graph, labels)).toBeGreaterThanOrEqual(modularity(planted.graph, planted.labels[0]) - 1e-9);
  });

  it('merges more at low resolution and splits more at high resolution', () => {
    const coarse = louvain(planted.graph, 0.05).count;
    const fine = louvain(planted.graph, 20).count;
    expect(coarse).toBeLessThan(12);
    expect(fine).toBeGreaterThan(12);
  });
});

describe('naturalHierarchy', () => {
  // 3 genres × 3 subgenres × 4 scenes of 15 songs.
  const three = plantedHierarchy([3, 3, 4], 15, [0.001, 0.008, 0.05, 0.6], 11);

  it('finds the planted levels, nested, from the resolution sweep alone', () => {
    const natural = naturalHierarchy(three.graph, [60, 20, 5]);
    expect(natural).not.toBeNull();
    const levels = natural!.levels;
    // The finest may keep a stray song or two apart from its scene.
    expect(levels[0].clusters).toBeGreaterThanOrEqual(36);
    expect(levels[0].clusters).toBeLessThanOrEqual(38);
    expect(levels.slice(1).map((l) => l.clusters)).toEqual([9, 3]);
    levels.forEach((level, l) => expect(nmi(three.labels[l], level.labels)).toBeGreaterThan(0.95));
    for (let l = 1; l < levels.length; l++) {
      const parent = new Map<number, number>();
      levels[l - 1].labels.forEach((c, s) => {
        expect(parent.get(c) ?? levels[l].labels[s]).toBe(levels[l].labels[s]);
        parent.set(c, levels[l].labels[s]);
      });
    }
    expect(levels[0].resolution).toBeGreaterThan(levels[1].resolution);
    expect(levels[1].resolution).toBeGreaterThan(levels[2].resolution);
  });

  it('keeps every level within its cap', () => {
    const natural = naturalHierarchy(three.graph, [20, 6, 2]);
    expect(natural).not.toBeNull();
    natural!.levels.forEach((level, l) => expect(level.clusters).toBeLessThanOrEqual([20, 6, 2][l]));
  });
});
