/**
 * What every DJ → song recommender exposes to evaluation and serving: the baselines here and
 * the TL-MGCCF model alike. Scores only need to order songs; their scale is free.
 */
export interface Recommender {
  /** Key in evaluation results, e.g. "popularity", "itemknn", "bprmf". */
  readonly name: string;
  /**
   * Fills out[song] (length = number of songs) with a score per song, higher = better, for
   * the DJ with row `dj` in the training click matrix. Must not filter the DJ's training
   * songs: evaluation decides what to exclude. Reusing `out` avoids an allocation per DJ.
   */
  scoreDj(dj: number, out: Float32Array): void;
}
