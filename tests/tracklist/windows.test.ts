import { describe, expect, it } from 'vitest';
import { GAP, OUT_OF_VOCABULARY, type Sequences } from '../../shared/graph/prepare.ts';
import { buildWindows, splitTracklists, STRIDE, WINDOW } from '../../training/tracklist/windows.ts';
import { buildTree, membership, songLabels } from '../../training/tracklist/hierarchy.ts';

function sequences(sets: number[][]): Sequences {
  const songs = sets.flat();
  const offsets = [0];
  for (const s of sets) offsets.push(offsets[offsets.length - 1] + s.length);
  return {
    songs: Int32Array.from(songs),
    offsets: Int32Array.from(offsets),
    djs: new Int32Array(0),
    djOffsets: new Int32Array(sets.length + 1),
    split: new Uint8Array(sets.length),
    days: new Int32Array(sets.length),
    ids: sets.map((_, i) => `t${i}`),
    djNames: sets.map(() => []),
  } as unknown as Sequences;
}

describe('tracklist windows', () => {
  const N = 100;
  it('windows of 15 with stride 7, start token first, unknowns replaced at weight 0.1', () => {
    const set = Array.from({ length: 25 }, (_, i) => i);
    set[3] = GAP;
    set[10] = OUT_OF_VOCABULARY;
    const w = buildWindows(sequences([set]), N, { tracklists: [0], replacementFor: () => 99 });
    // Starts 0, 7, 14: the window at 14 reaches the end (11 songs, > 7 known), so no window at 21.
    expect(w.count).toBe(3);
    expect(STRIDE).toBe(7);
    // Where each window's first target sits in its set (the session term reads the set before it).
    expect(Array.from(w.start)).toEqual([0, 7, 14]);
    const row = (k: number, a: Int32Array | Float32Array) => Array.from(a.subarray(k * WINDOW, (k + 1) * WINDOW));
    expect(row(0, w.inputs).slice(0, 5)).toEqual([N, 0, 1, 2, 99]);
    expect(row(0, w.targets).slice(0, 5)).toEqual([0, 1, 2, 99, 4]);
    expect(row(0, w.weights).slice(2, 5).map((x) => +x.toFixed(2))).toEqual([1, 0.1, 1]);
    expect(row(1, w.inputs)[0]).toBe(N);
    expect(row(1, w.targets)[0]).toBe(7);
    expect(row(1, w.targets)[3]).toBe(99);
    // The last window is 11 long: its tail targets carry no weight.
    expect(row(2, w.targets).slice(10)).toEqual([24, -1, -1, -1, -1]);
    expect(row(2, w.weights).slice(11)).toEqual([0, 0, 0, 0]);
  });

  it('drops sets with fewer than 5 identified songs and windows with too few known songs', () => {
    const sparse = [1, GAP, 2, GAP, 3, GAP, 4, GAP, GAP];
    const mostlyUnknown = [1, 2, 3, 4, 5, 6, GAP, GAP, GAP, GAP, GAP, GAP, GAP, GAP, GAP];
    const w = buildWindows(sequences([sparse, mostlyUnknown]), N, { tracklists: [0, 1], replacementFor: () => 0 });
    // Set 0 has 4 identified songs; set 1's window has 6 known songs and 5 known pairs (> 4): kept.
    expect(Array.from(w.tracklist)).toEqual([1]);
    const fewPairs = [1, GAP, 2, GAP, 3, GAP, 4, GAP, 5, GAP, 6, GAP, 7, GAP, GAP];
    expect(buildWindows(sequences([fewPairs]), N, { tracklists: [0], replacementFor: () => 0 }).count).toBe(0);
  });

  it('splits by tracklist, reproducibly', () => {
    const ids = Int32Array.from({ length: 1000 }, (_, i) => i);
    const a = splitTracklists(ids, 0.1, 3);
    const b = splitTracklists(ids, 0.1, 3);
    expect(Array.from(a.validation)).toEqual(Array.from(b.validation));
    expect(a.train.length + a.validation.length).toBe(1000);
    expect(a.validation.length).toBeGreaterThan(60);
    expect(a.validation.length).toBeLessThan(140);
    expect(new Set([...a.train, ...a.validation]).size).toBe(1000);
  });
});

describe('cluster tree', () => {
  it('drops empty clusters and renumbers every level', () => {
    // 6 songs in level-0 clusters {0, 2, 3} of 4; level 1 (3 clusters) uses {1, 2}; level 2 has 2.
    const songs = Int32Array.from([0, 0, 2, 3, 3, 3]);
    const level0to1 = Int32Array.from([2, 0, 1, 2]); // cluster 1 is empty, so level-1 cluster 0 is too
    const level1to2 = Int32Array.from([0, 1, 1]);
    const tree = buildTree(songs, [level0to1, level1to2], [4, 3, 2]);
    expect(tree.sizes).toEqual([3, 2, 1]);
    expect(Array.from(tree.songCluster)).toEqual([0, 0, 1, 2, 2, 2]);
    expect(Array.from(tree.parents[0])).toEqual([1, 0, 1]);
    expect(Array.from(tree.parents[1])).toEqual([0, 0]);
    expect(Array.from(tree.kept[0])).toEqual([0, 2, 3]);
    const labels = songLabels(tree);
    expect(Array.from(labels[1])).toEqual([1, 1, 0, 1, 1, 1]);
    const m = membership(tree.songCluster, 3);
    expect(Array.from(m.indices.subarray(m.indptr[2], m.indptr[3]))).toEqual([3, 4, 5]);
  });
});
