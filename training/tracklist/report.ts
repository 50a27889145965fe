import type { SynthTruth } from '../../shared/corpus/oracle.ts';
import { parseTrack } from '../../shared/corpus/trackString.ts';
import type { Csr } from '../../shared/graph/csr.ts';
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
 * The planted song clusters of a synthetic corpus per level (finest first: scene, subgenre,
 * genre), aligned with the vocabulary through the parsed song key; -1 where unknown.
 */
export function plantedLevels(truth: SynthTruth, songKeys: readonly string[]): Int32Array[] {
  const index = new Map(songKeys.map((key, i) => [key, i]));
  const levels = [0, 1, 2].map(() => new Int32Array(songKeys.length).fill(-1));
  for (const [text, path] of Object.entries(truth.songCluster)) {
    const parsed = parseTrack(text);
    const s = parsed.kind === 'song' ? index.get(parsed.key) : undefined;
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
      if (planted) {
        // Songs without a planted label (never in a synthetic vocabulary) are left out.
        const keep = Array.from(planted[l].keys()).filter((s) => planted[l][s] >= 0);
        score = nmi(keep.map((s) => planted[l][s]), keep.map((s) => labels[s]));
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
