import type { TracklistModel } from '../tracklistInference.ts';

/**
 * The scores generation weighs the model's options by (SPEC §5.2 steps 1–3): songs' seed and
 * taste scores min-max scaled, combined per option as (w·user³ + song³)/(1 + w), and a cluster's
 * score the mean of the top 15 scores of its songs available at the start.
 */

const CLUSTER_TOP = 15;

/** Min-max scales scores into [0, 1] (all 1 when they are all equal). */
export function minMaxScale(
  x: ArrayLike<number>,
  out: Float32Array = new Float32Array(x.length),
): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
  }
  const span = hi - lo;
  if (!(span > 0)) return out.fill(1, 0, x.length);
  for (let i = 0; i < x.length; i++) out[i] = (x[i] - lo) / span;
  return out;
}

/** An option's weighted score from its user and song scores: (w·user³ + song³)/(1 + w). */
export function weightedScore(user: number, song: number, w: number): number {
  return (w * user * user * user + song * song * song) / (1 + w);
}

/** How cluster scores are computed: every level from one pass (large level-1 clusters) or per cluster on demand. */
export type ClusterScoreStrategy = 'eager' | 'lazy';

/** Level-1 clusters at least this large on average make one eager pass cheaper than per-cluster scans. */
const EAGER_MIN_CLUSTER = 150;

/**
 * Cluster scores for song-score vectors (the seed similarity, the taste): the mean of the top k
 * scores of the available songs of a cluster, kept for the request. A request needs every
 * level-3 cluster but only a few dozen level-2 and level-1 ones. With large level-1 clusters
 * (a trained model's DMoN leaves a few dozen) one pass over the songs fills every level-1 top
 * list and the levels above merge their children's lists; with many small ones (where most
 * songs would enter a list) one pass fills level 3 and the others scan their songs on demand.
 */
export class ClusterScores {
  private readonly model: TracklistModel;
  private readonly vectors: readonly ArrayLike<number>[];
  private readonly available: Uint8Array;
  private readonly k: number;
  private readonly strategy: ClusterScoreStrategy;
  /** Per vector, per level: the score, NaN until computed. */
  private readonly memo: Record<'l3' | 'l2' | 'l1', Float64Array>[];
  private readonly top: Float64Array;

  /** `available` is read lazily: pass a snapshot that does not change during the request. */
  constructor(
    model: TracklistModel,
    vectors: readonly ArrayLike<number>[],
    available: Uint8Array,
    k = CLUSTER_TOP,
    strategy: ClusterScoreStrategy = model.songs / model.sizes.l1 >= EAGER_MIN_CLUSTER ? 'eager' : 'lazy',
  ) {
    this.model = model;
    this.vectors = vectors;
    this.available = available;
    this.k = k;
    this.strategy = strategy;
    const { l3, l2, l1 } = model.sizes;
    this.memo = vectors.map(() => ({
      l3: new Float64Array(l3).fill(NaN),
      l2: new Float64Array(l2).fill(NaN),
      l1: new Float64Array(l1).fill(NaN),
    }));
    this.top = new Float64Array(k);
  }

  /** The score of a cluster for vector `which` (its index in the constructor's list). */
  get(level: 'l3' | 'l2' | 'l1', cluster: number, which = 0): number {
    const memo = this.memo[which][level];
    if (memo[cluster] === memo[cluster]) return memo[cluster];
    if (this.strategy === 'eager') {
      this.fillAll();
      return memo[cluster];
    }
    if (level === 'l3') {
      this.fillLevel3();
      return memo[cluster];
    }
    const { start, items } = this.model.songsIn[level];
    const { available, top, k } = this;
    const scores = this.vectors[which];
    let size = 0;
    for (let p = start[cluster]; p < start[cluster + 1]; p++) {
      const s = items[p];
      // Once full, most songs fail the first comparison.
      if (available[s] === 0 || (size === k && scores[s] <= top[k - 1])) continue;
      size = insertDescending(top, 0, size, k, scores[s]);
    }
    return (memo[cluster] = meanOf(top, 0, size));
  }

  /**
   * Top-k lists per cluster of one level for every vector, from one pass over the songs in index
   * order (clusterOf: the song's cluster at that level).
   */
  private topLists(clusterOf: Int32Array, clusters: number): { top: Float64Array; size: Int32Array }[] {
    const { available, k } = this;
    return this.vectors.map((scores) => {
      const top = new Float64Array(clusters * k);
      const size = new Int32Array(clusters);
      // The smallest kept score per full cluster, so most songs fail one comparison.
      const floor = new Float64Array(clusters).fill(-Infinity);
      for (let s = 0; s < available.length; s++) {
        const x = scores[s];
        const c = clusterOf[s];
        if (x <= floor[c] || available[s] === 0) continue;
        size[c] = insertDescending(top, c * k, size[c], k, x);
        if (size[c] === k) floor[c] = top[c * k + k - 1];
      }
      return { top, size };
    });
  }

  /** Every level-3 cluster at once (a request needs them all). */
  private fillLevel3(): void {
    const clusters = this.model.sizes.l3;
    this.topLists(this.model.l3OfSong, clusters).forEach(({ top, size }, v) => {
      const memo = this.memo[v].l3;
      for (let c = 0; c < clusters; c++) memo[c] = meanOf(top, c * this.k, size[c]);
    });
  }

  /** Every cluster of every level: level-1 lists from one pass, each level above merging its children's. */
  private fillAll(): void {
    const { model, k } = this;
    this.topLists(model.parent.song, model.sizes.l1).forEach((lists, v) => {
      let below = lists;
      for (const [level, parentOf] of [['l1', null], ['l2', model.parent.l1], ['l3', model.parent.l2]] as const) {
        const clusters = model.sizes[level];
        if (parentOf) {
          const merged = { top: new Float64Array(clusters * k), size: new Int32Array(clusters) };
          for (let c = 0; c < parentOf.length; c++) {
            const p = parentOf[c];
            for (let i = 0; i < below.size[c]; i++) {
              const x = below.top[c * k + i];
              // Children's lists are descending: the rest cannot enter a full list either.
              if (merged.size[p] === k && x <= merged.top[p * k + k - 1]) break;
              merged.size[p] = insertDescending(merged.top, p * k, merged.size[p], k, x);
            }
          }
          below = merged;
        }
        const memo = this.memo[v][level];
        for (let c = 0; c < clusters; c++) memo[c] = meanOf(below.top, c * k, below.size[c]);
      }
    });
  }
}

/**
 * Inserts v into the descending list top[o, o + size) capped at k entries (the smallest falls
 * off when full); returns the new size.
 */
function insertDescending(top: Float64Array, o: number, size: number, k: number, v: number): number {
  let j = size < k ? size++ : k - 1;
  while (j > 0 && top[o + j - 1] < v) {
    top[o + j] = top[o + j - 1];
    j--;
  }
  top[o + j] = v;
  return size;
}

function meanOf(values: Float64Array, o: number, size: number): number {
  let sum = 0;
  for (let i = 0; i < size; i++) sum += values[o + i];
  return size > 0 ? sum / size : 0;
}

/** Every cluster's score at each level (ClusterScores evaluated everywhere). */
export function clusterScores(
  model: TracklistModel,
  scores: ArrayLike<number>,
  available: Uint8Array,
  k = CLUSTER_TOP,
  strategy?: ClusterScoreStrategy,
): Record<'l3' | 'l2' | 'l1', Float64Array> {
  const c = new ClusterScores(model, [scores], available, k, strategy);
  const all = (level: 'l3' | 'l2' | 'l1') =>
    Float64Array.from({ length: model.sizes[level] }, (_, i) => c.get(level, i));
  return { l3: all('l3'), l2: all('l2'), l1: all('l1') };
}
