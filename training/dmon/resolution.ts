import { rowSums, type Csr } from '../../shared/graph/csr.ts';
import { compactLabels, nmi } from './metrics.ts';

/**
 * The scales at which the song graph has structure: Louvain partitions over a sweep of the
 * modularity resolution γ (expected edges scaled by γ).
 *
 * Modularity at γ = 1 has a preferred cluster count of its own (on the synthetic corpora, the
 * planted subgenres), so a DMoN level asked for another count fights its own objective: the
 * collapse term pulls towards k, modularity towards its optimum. Each DMoN level is instead given
 * the count and the γ of one natural scale. Modularity of Ĉ_l on the song graph equals that of C_l
 * on the pooled graph at the same γ, so every level is found on the song graph.
 */

/** A weighted symmetric graph in CSR form with float64 weights (Louvain's working copy). */
interface WorkGraph {
  n: number;
  indptr: Int32Array;
  indices: Int32Array;
  weights: Float64Array;
  /** Weighted degree of each node, self-loops included. */
  degrees: Float64Array;
}

function workGraph(graph: Csr): WorkGraph {
  return { n: graph.rows, indptr: graph.indptr, indices: graph.indices, weights: Float64Array.from(graph.values), degrees: rowSums(graph) };
}

/** Local-moving sweeps over all nodes before Louvain aggregates anyway. */
const MAX_SWEEPS = 20;

/**
 * Louvain's local moving phase: each node joins the neighbouring community with the largest
 * modularity gain until a sweep moves fewer than one node in a thousand. Returns compact labels.
 */
function localMoving(g: WorkGraph, twoM: number, resolution: number): { ids: Int32Array; count: number } {
  const community = Int32Array.from({ length: g.n }, (_, i) => i);
  const total = Float64Array.from(g.degrees);
  const weightTo = new Float64Array(g.n);
  const touched = new Int32Array(g.n);
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let moves = 0;
    for (let i = 0; i < g.n; i++) {
      const own = community[i];
      const degree = g.degrees[i];
      let touchedCount = 0;
      for (let p = g.indptr[i]; p < g.indptr[i + 1]; p++) {
        const j = g.indices[p];
        if (j === i) continue;
        const c = community[j];
        if (weightTo[c] === 0) touched[touchedCount++] = c;
        weightTo[c] += g.weights[p];
      }
      total[own] -= degree;
      const scale = (resolution * degree) / twoM;
      let best = own;
      let bestGain = weightTo[own] - scale * total[own];
      for (let t = 0; t < touchedCount; t++) {
        const c = touched[t];
        const gain = weightTo[c] - scale * total[c];
        if (gain > bestGain + 1e-12) {
          bestGain = gain;
          best = c;
        }
        weightTo[c] = 0;
      }
      weightTo[own] = 0;
      total[best] += degree;
      if (best !== own) {
        community[i] = best;
        moves++;
      }
    }
    if (moves * 1000 < g.n) break;
  }
  return compactLabels(community);
}

/** The graph of communities: weights summed, internal weight as self-loops, degrees kept. */
function aggregate(g: WorkGraph, labels: Int32Array, count: number): WorkGraph {
  const rows: Map<number, number>[] = Array.from({ length: count }, () => new Map());
  const degrees = new Float64Array(count);
  for (let i = 0; i < g.n; i++) {
    const row = rows[labels[i]];
    degrees[labels[i]] += g.degrees[i];
    for (let p = g.indptr[i]; p < g.indptr[i + 1]; p++) {
      const c = labels[g.indices[p]];
      row.set(c, (row.get(c) ?? 0) + g.weights[p]);
    }
  }
  const indptr = new Int32Array(count + 1);
  rows.forEach((row, c) => (indptr[c + 1] = indptr[c] + row.size));
  const indices = new Int32Array(indptr[count]);
  const weights = new Float64Array(indptr[count]);
  rows.forEach((row, c) => {
    let p = indptr[c];
    for (const [j, w] of row) {
      indices[p] = j;
      weights[p++] = w;
    }
  });
  return { n: count, indptr, indices, weights, degrees };
}

/** Louvain communities of a symmetric weighted graph at resolution γ (Blondel et al. 2008). */
export function louvain(graph: Csr, resolution: number): { labels: Int32Array; count: number } {
  let g = workGraph(graph);
  let twoM = 0;
  for (const d of g.degrees) twoM += d;
  let labels = Int32Array.from({ length: graph.rows }, (_, i) => i);
  let count = graph.rows;
  if (twoM <= 0) return { labels, count };
  for (;;) {
    const moved = localMoving(g, twoM, resolution);
    if (moved.count === g.n) break;
    labels = Int32Array.from(labels, (c) => moved.ids[c]);
    count = moved.count;
    g = aggregate(g, moved.ids, moved.count);
  }
  return { labels, count };
}

/** One level of a natural hierarchy: a Louvain partition of the songs and its resolution. */
export interface NaturalLevel {
  resolution: number;
  clusters: number;
  /** Song → cluster (0..clusters−1), nested in the level above. */
  labels: Int32Array;
  /** parentOf[c]: the cluster of this level holding cluster c of the level below (null at the finest level). */
  parentOf: Int32Array | null;
}

export interface NaturalHierarchy {
  /** Finest first. */
  levels: NaturalLevel[];
  seconds: number;
}

/** Partitions this close (NMI) to the next resolution's count as stable. */
const STABLE_NMI = 0.95;
/** Resolution grid step of the sweep. */
const SWEEP_RATIO = 1.25;

/**
 * The cluster counts at which the graph itself has structure, by a resolution sweep (the idea of
 * multi-resolution modularity and Markov stability): Louvain partitions at γ = 0.001 · 1.25^i.
 * The finest level is the finest partition that survives a 25 % rise of γ (NMI ≥ 0.95 with the
 * next one): past it, higher resolutions split noise. Each coarser level is the widest plateau
 * (most consecutive γ with one cluster count) with at most half the clusters of the level below.
 * No count exceeds its cap. Labels are made nested: a cluster joins the coarser cluster holding
 * most of its songs. Returns null when the graph shows no such scales (then the caller keeps
 * the scaled counts).
 */
export function naturalHierarchy(
  graph: Csr,
  caps: readonly number[],
  options: { log?: (line: string) => void } = {},
): NaturalHierarchy | null {
  const started = performance.now();
  const runs: { resolution: number; labels: Int32Array; clusters: number }[] = [];
  for (let resolution = 1e-3; resolution < 1e4; resolution *= SWEEP_RATIO) {
    const { labels, count } = louvain(graph, resolution);
    runs.push({ resolution, labels, clusters: count });
    if (count > 2 * caps[0]) break;
  }
  const sweep = runs.map((r, i) => ({
    resolution: r.resolution,
    clusters: r.clusters,
    stability: i + 1 < runs.length ? nmi(r.labels, runs[i + 1].labels) : 0,
  }));
  let finest = -1;
  sweep.forEach((s, i) => {
    if (s.clusters >= 4 && s.clusters <= caps[0] && s.stability >= STABLE_NMI && (finest < 0 || s.clusters > sweep[finest].clusters)) finest = i;
  });
  if (finest < 0) return null;
  const coarse = coarsePlateaus(plateausOf(sweep), sweep[finest].clusters, caps.slice(1));
  if (!coarse) return null;
  const levels: NaturalLevel[] = [{ resolution: runs[finest].resolution, clusters: runs[finest].clusters, labels: runs[finest].labels, parentOf: null }];
  for (const plateau of coarse) {
    const run = runs[plateau.middle];
    levels.push({ resolution: run.resolution, ...nestedLabels(levels[levels.length - 1], run.labels) });
  }
  const seconds = (performance.now() - started) / 1000;
  options.log?.(
    `clustering: natural scales ${levels.map((l) => `${l.clusters} (γ ${l.resolution.toPrecision(3)})`).join(' → ')} from ${runs.length} Louvain runs in ${seconds.toFixed(1)}s`,
  );
  return { levels, seconds };
}

interface Plateau {
  /** Sweep index of the run's middle. */
  middle: number;
  clusters: number;
  /** Consecutive resolutions with this count. */
  width: number;
}

function plateausOf(sweep: readonly { clusters: number }[]): Plateau[] {
  const out: Plateau[] = [];
  for (let start = 0; start < sweep.length; ) {
    let end = start;
    while (end + 1 < sweep.length && sweep[end + 1].clusters === sweep[start].clusters) end++;
    if (sweep[start].clusters >= 2) out.push({ middle: Math.floor((start + end) / 2), clusters: sweep[start].clusters, width: end - start + 1 });
    start = end + 1;
  }
  return out;
}

/**
 * One plateau per coarse level, each with at most half the clusters of the level below and
 * within its cap, of greatest total width (ties: more clusters); null when none fits.
 */
function coarsePlateaus(plateaus: readonly Plateau[], below: number, caps: readonly number[]): Plateau[] | null {
  if (caps.length === 0) return [];
  let best: { width: number; chosen: Plateau[] } | null = null;
  for (const p of plateaus) {
    if (p.clusters > Math.min(caps[0], Math.floor(below / 2))) continue;
    const rest = coarsePlateaus(plateaus, p.clusters, caps.slice(1));
    if (!rest) continue;
    const width = rest.reduce((sum, q) => sum + q.width, p.width);
    if (!best || width > best.width || (width === best.width && p.clusters > best.chosen[0].clusters)) best = { width, chosen: [p, ...rest] };
  }
  return best?.chosen ?? null;
}

/**
 * Coarse labels for the songs such that each finer cluster lies in one coarse cluster (its
 * songs' majority), compact in order of first appearance, with each finer cluster's parent.
 */
function nestedLabels(finer: NaturalLevel, coarse: Int32Array): Pick<NaturalLevel, 'labels' | 'clusters' | 'parentOf'> {
  const votes = new Map<number, Map<number, number>>();
  finer.labels.forEach((c, s) => {
    const row = votes.get(c) ?? new Map<number, number>();
    row.set(coarse[s], (row.get(coarse[s]) ?? 0) + 1);
    votes.set(c, row);
  });
  const parent = new Int32Array(finer.clusters);
  for (const [c, row] of votes) {
    let best = -1;
    let most = -1;
    for (const [p, count] of row) if (count > most || (count === most && p < best)) [best, most] = [p, count];
    parent[c] = best;
  }
  const { ids, count } = compactLabels(Int32Array.from(finer.labels, (c) => parent[c]));
  const parentOf = new Int32Array(finer.clusters);
  finer.labels.forEach((c, s) => (parentOf[c] = ids[s]));
  return { labels: ids, clusters: count, parentOf };
}
