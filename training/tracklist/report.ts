import { parseTrack } from '../../shared/corpus/trackString.ts';
import type { Csr } from '../../shared/graph/csr.ts';
import { songId } from '../../shared/model/ids.ts';
import type { TracklistModel } from '../../shared/model/tracklistInference.ts';
import { activeClusters, conductance, modularity, nmi } from '../dmon/metrics.ts';

/** One level of the `clustering` section of `tlgen eval`, finest first. */
export interface ClusteringLevel {
  clusters: number;
  modularity: number;
  conductance: number;
  nmi: number | null;
}

/**
 * The planted song clusters per level (finest first: scene, subgenre, genre; as many levels as
 * the truth gives), aligned with the vocabulary through the parsed song key or the song id; -1
 * where unknown.
 */
export function plantedLevels(truth: { songCluster: Record<string, readonly number[]> }, songKeys: readonly string[]): Int32Array[] {
  const index = new Map(songKeys.map((key, i) => [key, i]));
  const byId = new Map(songKeys.map((key, i) => [songId(key), i]));
  let depth = 0;
  for (const path of Object.values(truth.songCluster)) depth = Math.max(depth, path.length);
  const levels = Array.from({ length: depth }, () => new Int32Array(songKeys.length).fill(-1));
  for (const [text, path] of Object.entries(truth.songCluster)) {
    const parsed = parseTrack(text);
    const s = byId.get(text) ?? (parsed.kind === 'song' ? index.get(parsed.key) : undefined);
    if (s === undefined) continue;
    path.forEach((label, l) => (levels[l][s] = label));
  }
  return levels;
}

/** Song → cluster per level through the model's hard tree, finest first. */
export function treeLabels(model: TracklistModel): Int32Array[] {
  const l1 = model.parent.song;
  const l2 = Int32Array.from(l1, (c) => model.parent.l1[c]);
  const l3 = Int32Array.from(l2, (c) => model.parent.l2[c]);
  return [l1, l2, l3];
}

/** Quality of the tree's partitions on the song graph, NMI against planted labels when given. */
export function clusteringSection(songGraph: Csr, model: TracklistModel, planted: Int32Array[] | null): { levels: ClusteringLevel[] } {
  return {
    levels: treeLabels(model).map((labels, l) => {
      let score: number | null = null;
      const truth = planted?.[l];
      if (truth) {
        // Songs without a planted label (not in the truth file) are left out; none left, no NMI.
        const keep = Array.from(truth.keys()).filter((s) => truth[s] >= 0);
        if (keep.length > 0) score = nmi(keep.map((s) => truth[s]), keep.map((s) => labels[s]));
      }
      return {
        clusters: activeClusters(labels),
        modularity: modularity(songGraph, labels),
        conductance: conductance(songGraph, labels),
        nmi: score,
      };
    }),
  };
}
