import type { Csr } from '../../shared/graph/csr.ts';

/**
 * Clustering quality of hard partitions (SPEC §6) on weighted undirected graphs stored as
 * symmetric CSR (each edge in both directions; a self-loop is stored once and counts once in
 * its node's degree). 2m is the sum of all stored values, i.e. the sum of degrees.
 */

/** Labels relabelled to 0..K−1 in order of first appearance (labels may be any integers). */
export function compactLabels(labels: ArrayLike<number>): { ids: Int32Array; count: number } {
  const map = new Map<number, number>();
  const ids = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    let id = map.get(labels[i]);
    if (id === undefined) {
      id = map.size;
      map.set(labels[i], id);
    }
    ids[i] = id;
  }
  return { ids, count: map.size };
}

/** Number of distinct labels, i.e. non-empty clusters. */
export function activeClusters(labels: ArrayLike<number>): number {
  return compactLabels(labels).count;
}

interface ClusterMass {
  /** Weight inside each cluster, both directions counted (Σ_{i,j∈c} A_ij). */
  internal: Float64Array;
  /** Volume: Σ_{i∈c} d_i. */
  volume: Float64Array;
  total: number;
}

function clusterMass(graph: Csr, labels: ArrayLike<number>): ClusterMass {
  if (graph.rows !== graph.cols || labels.length !== graph.rows)
    throw new Error(`clustering metrics: ${graph.rows}×${graph.cols} graph with ${labels.length} labels`);
  const { ids, count } = compactLabels(labels);
  const internal = new Float64Array(count);
  const volume = new Float64Array(count);
  let total = 0;
  for (let i = 0; i < graph.rows; i++) {
    const c = ids[i];
    for (let p = graph.indptr[i]; p < graph.indptr[i + 1]; p++) {
      const w = graph.values[p];
      volume[c] += w;
      total += w;
      if (ids[graph.indices[p]] === c) internal[c] += w;
    }
  }
  return { internal, volume, total };
}

/** Newman modularity Q = Σ_c [in_c / 2m − (vol_c / 2m)²]. */
export function modularity(graph: Csr, labels: ArrayLike<number>): number {
  const { internal, volume, total } = clusterMass(graph, labels);
  if (total === 0) return 0;
  let q = 0;
  for (let c = 0; c < internal.length; c++) q += internal[c] / total - (volume[c] / total) ** 2;
  return q;
}

/**
 * Conductance as the DMoN paper reports it (its metrics.conductance): the share of all edge
 * weight that crosses clusters, Σ_c cut(c) / 2m. Lower is better.
 */
export function conductance(graph: Csr, labels: ArrayLike<number>): number {
  const { internal, total } = clusterMass(graph, labels);
  if (total === 0) return 0;
  let inside = 0;
  for (let c = 0; c < internal.length; c++) inside += internal[c];
  return (total - inside) / total;
}

/**
 * Textbook conductance averaged over clusters: mean_c cut(c) / min(vol_c, 2m − vol_c), over
 * clusters with positive volume (a cluster holding all the volume counts as 0).
 */
export function meanConductance(graph: Csr, labels: ArrayLike<number>): number {
  const { internal, volume, total } = clusterMass(graph, labels);
  let sum = 0;
  let counted = 0;
  for (let c = 0; c < internal.length; c++) {
    if (volume[c] <= 0) continue;
    const denominator = Math.min(volume[c], total - volume[c]);
    sum += denominator > 0 ? (volume[c] - internal[c]) / denominator : 0;
    counted++;
  }
  return counted > 0 ? sum / counted : 0;
}

/**
 * Normalised mutual information with arithmetic-mean normalisation, MI / ((H(a) + H(b)) / 2),
 * matching scikit-learn's default (two single-cluster labelings score 1).
 */
export function nmi(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`nmi: ${a.length} vs ${b.length} labels`);
  const n = a.length;
  const ca = compactLabels(a);
  const cb = compactLabels(b);
  if ((ca.count === 1 && cb.count === 1) || n === 0) return 1;
  const countA = new Float64Array(ca.count);
  const countB = new Float64Array(cb.count);
  const joint = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    countA[ca.ids[i]]++;
    countB[cb.ids[i]]++;
    const key = ca.ids[i] * cb.count + cb.ids[i];
    joint.set(key, (joint.get(key) ?? 0) + 1);
  }
  let mi = 0;
  for (const [key, nij] of joint) {
    const i = Math.floor(key / cb.count);
    const j = key - i * cb.count;
    mi += (nij / n) * Math.log((nij * n) / (countA[i] * countB[j]));
  }
  const entropy = (counts: Float64Array) =>
    counts.reduce((h, c) => (c > 0 ? h - (c / n) * Math.log(c / n) : h), 0);
  const normaliser = (entropy(countA) + entropy(countB)) / 2;
  if (mi <= 0 || normaliser <= 0) return 0;
  return Math.min(1, mi / normaliser);
}
