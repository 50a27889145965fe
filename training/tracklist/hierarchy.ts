import type { Csr } from '../../shared/graph/csr.ts';
import { groupsOf } from '../../shared/model/engine/groups.ts';

/**
 * The hard cluster tree the factorised softmax runs on: each song sits in one level-1 cluster,
 * each level-l cluster in one level-(l+1) cluster (argmax of DMoN's level-to-level assignment).
 * Empty clusters are dropped and the rest renumbered, so every cluster has at least one song
 * and every softmax over a cluster's children is over a non-empty set. Levels are finest first.
 */
export interface ClusterTree {
  /** Song → level-1 cluster (compact ids). */
  songCluster: Int32Array;
  /** parents[l][c]: level-(l+2) parent of compact level-(l+1) cluster c (one array per level but the top). */
  parents: Int32Array[];
  /** Cluster count per level after compaction. */
  sizes: number[];
  /** kept[l][c]: the original DMoN cluster index of compact cluster c at level l (to pick feature rows). */
  kept: Int32Array[];
}

/**
 * songArgmax: song → level-0 DMoN cluster; levelArgmax[l]: level-l cluster → level-(l+1) cluster
 * (from C_{l+1} rows); k: DMoN cluster counts per level.
 */
export function buildTree(songArgmax: Int32Array, levelArgmax: Int32Array[], k: number[]): ClusterTree {
  const levels = k.length;
  const kept: Int32Array[] = [];
  const compact: Int32Array[] = [];
  // Level l is active where some active cluster (or song) below points.
  let below = songArgmax;
  let belowCount = songArgmax.length;
  let belowActive: (i: number) => boolean = () => true;
  for (let l = 0; l < levels; l++) {
    const used = new Uint8Array(k[l]);
    for (let i = 0; i < belowCount; i++) if (belowActive(i)) used[below[i]] = 1;
    const map = new Int32Array(k[l]).fill(-1);
    const ids: number[] = [];
    for (let c = 0; c < k[l]; c++) if (used[c]) {
      map[c] = ids.length;
      ids.push(c);
    }
    kept.push(Int32Array.from(ids));
    compact.push(map);
    if (l < levels - 1) {
      below = levelArgmax[l];
      belowCount = k[l];
      const active = used;
      belowActive = (i) => active[i] === 1;
    }
  }
  const songCluster = Int32Array.from(songArgmax, (c) => compact[0][c]);
  const parents: Int32Array[] = [];
  for (let l = 0; l < levels - 1; l++)
    parents.push(Int32Array.from(kept[l], (c) => compact[l + 1][levelArgmax[l][c]]));
  return { songCluster, parents, sizes: kept.map((ids) => ids.length), kept };
}

/** Song → cluster at every level (finest first) through the tree. */
export function songLabels(tree: ClusterTree): Int32Array[] {
  const out = [tree.songCluster];
  for (const parent of tree.parents) out.push(Int32Array.from(out[out.length - 1], (c) => parent[c]));
  return out;
}

/** groups × items membership pattern from item → group labels (serving's grouping, as a CSR of ones). */
export function membership(labels: Int32Array, groups: number): Csr {
  const { start, items } = groupsOf(labels, groups);
  return { rows: groups, cols: labels.length, indptr: start, indices: items, values: new Float32Array(labels.length).fill(1) };
}
