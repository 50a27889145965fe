import type { Csr } from '../graph/csr.ts';

/**
 * The tracklist model's direct n-gram connection (as in Mikolov's RNNME): each level's logit for
 * an option adds β_l · log P(option | previous song) from a first-order Markov chain with
 * interpolated absolute discounting over the training transitions,
 *   P(b | a) = max(c(a,b) − D, 0) / c(a) + D · N₁₊(a) / c(a) · pop(b),
 * and for a cluster the sum over its songs. Exact transitions that recur (radio shows, a DJ's
 * signature blends) are what a small LSTM cannot memorise and what Markov and session-kNN
 * baselines exploit; with this term the network learns how far to trust them. Training rows
 * leave their own transition out of the counts (so the weight is learned on unseen pairs);
 * validation, evaluation and serving use the full counts. Shared by training and serving.
 */
export class TransitionPrior {
  readonly counts: Csr;
  readonly popularity: Float32Array;
  readonly discount: number;
  private readonly rowTotal: Float64Array;
  private readonly mass: OptionMass;

  constructor(counts: Csr, popularity: Float32Array, discount: number) {
    this.counts = counts;
    this.popularity = popularity;
    this.discount = discount;
    this.rowTotal = new Float64Array(counts.rows);
    for (let a = 0; a < counts.rows; a++)
      for (let p = counts.indptr[a]; p < counts.indptr[a + 1]; p++) this.rowTotal[a] += counts.values[p];
    this.mass = new OptionMass(counts.cols);
  }

  /**
   * log P(option | prev) for each candidate option, written to out[offset…]. labels maps a song to
   * its option (null: options are songs); optionPopularity is pop summed per option. prev < 0
   * (start token, unknown track) gives popularity alone. exclude: the song whose transition from
   * prev is left out (a training target), or −1. logPopularity (log of optionPopularity, if
   * given) spares a Math.log for every option without a transition from prev.
   */
  logProbs(
    prev: number,
    candidates: ArrayLike<number>,
    labels: Int32Array | null,
    optionPopularity: ArrayLike<number>,
    out: Float32Array | Float64Array,
    offset: number,
    exclude = -1,
    logPopularity: ArrayLike<number> | null = null,
  ): void {
    const { indptr, indices, values } = this.counts;
    let total = prev >= 0 ? this.rowTotal[prev] : 0;
    let distinct = prev >= 0 ? indptr[prev + 1] - indptr[prev] : 0;
    if (prev >= 0 && exclude >= 0)
      for (let p = indptr[prev]; p < indptr[prev + 1]; p++)
        if (indices[p] === exclude) {
          total -= 1;
          if (values[p] <= 1) distinct -= 1;
        }
    if (total <= 0) {
      for (let i = 0; i < candidates.length; i++)
        out[offset + i] = logPopularity ? logPopularity[candidates[i]] : Math.log(optionPopularity[candidates[i]]);
      return;
    }
    const d = this.discount;
    const backoff = (d * distinct) / total;
    this.mass.ensure(optionPopularity.length);
    for (let p = indptr[prev]; p < indptr[prev + 1]; p++) {
      const b = indices[p];
      const c = values[p] - (b === exclude ? 1 : 0);
      if (c <= 0) continue;
      this.mass.add(labels ? labels[b] : b, Math.max(c - d, 0) / total);
    }
    const mass = this.mass.values;
    const logBackoff = Math.log(backoff);
    for (let i = 0; i < candidates.length; i++) {
      const o = candidates[i];
      out[offset + i] =
        logPopularity && mass[o] === 0 ? logBackoff + logPopularity[o] : Math.log(mass[o] + backoff * optionPopularity[o]);
    }
    this.mass.clear();
  }

  /**
   * The song-level distribution after prev in sparse form. Every song has log P(song | prev) =
   * log backoff + log pop(song) + r(song), where r is 0 except for the songs with a transition
   * from prev: calls visit(song, r) for those and returns log backoff (0 when prev has no
   * transitions: popularity alone).
   */
  sparseLogProbs(prev: number, visit: (song: number, logRatio: number) => void): number {
    const total = prev >= 0 ? this.rowTotal[prev] : 0;
    if (total <= 0) return 0;
    const { indptr, indices, values } = this.counts;
    const d = this.discount;
    const backoff = (d * (indptr[prev + 1] - indptr[prev])) / total;
    for (let p = indptr[prev]; p < indptr[prev + 1]; p++) {
      const b = indices[p];
      visit(b, Math.log1p(Math.max(values[p] - d, 0) / total / (backoff * this.popularity[b])));
    }
    return Math.log(backoff);
  }
}

/** Popularity summed per option (cluster) from song popularity and song → option labels. */
export function optionPopularity(popularity: Float32Array, labels: Int32Array, options: number): Float64Array {
  const out = new Float64Array(options);
  for (let s = 0; s < labels.length; s++) out[labels[s]] += popularity[s];
  return out;
}

/** Song popularity summed per option at every level of the cluster tree (songs as given). */
export function popularityByLevel(
  popularity: Float32Array,
  songCluster: { l3: Int32Array; l2: Int32Array; l1: Int32Array },
  sizes: { l3: number; l2: number; l1: number },
): { l3: Float64Array; l2: Float64Array; l1: Float64Array; song: Float32Array } {
  return {
    l3: optionPopularity(popularity, songCluster.l3, sizes.l3),
    l2: optionPopularity(popularity, songCluster.l2, sizes.l2),
    l1: optionPopularity(popularity, songCluster.l1, sizes.l1),
    song: popularity,
  };
}

/**
 * Sums per option over a dense scratch, for a few options at a time: add, read `values`, then
 * clear resets only the options touched (both direct connections aggregate song mass so).
 */
export class OptionMass {
  values: Float64Array;
  private readonly touched: number[] = [];

  constructor(options: number) {
    this.values = new Float64Array(options);
  }

  /** Grows the scratch to at least `options` entries (only while empty). */
  ensure(options: number): void {
    if (this.values.length < options) this.values = new Float64Array(options);
  }

  add(option: number, value: number): void {
    if (this.values[option] === 0) this.touched.push(option);
    this.values[option] += value;
  }

  clear(): void {
    for (const o of this.touched) this.values[o] = 0;
    this.touched.length = 0;
  }
}
