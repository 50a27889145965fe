import type { Tracklist } from '../../shared/corpus/types.ts';
import type { Sequences } from '../../shared/graph/prepare.ts';

/**
 * What every next-song model exposes to evaluation (SPEC §6): the baselines here, the oracle on
 * synthetic corpora and the neural tracklist model alike. Models return probabilities, not
 * scores, because evaluation reports negative log-likelihood.
 */
export interface NextSongContext {
  /** Index of the tracklist in `sequences` (= its line in the corpus file). */
  tracklist: number;
  /** Days since 1970-01-01 of the set, or -1 when unknown. */
  day: number;
  /**
   * The corpus tracklist when the caller supplied the corpus, else null. Its tracks align one to
   * one with the prepared sequence, so `raw.tracks.slice(0, prefix.length)` is the raw prefix.
   */
  raw: Tracklist | null;
}

export interface NextSongPredictor {
  /** Key in evaluation results: "popularity", "markov", "sr", "vsknn", "oracle", a model name. */
  readonly name: string;
  /** True when predict() needs `context.raw`: evaluation then refuses to run without the corpus. */
  readonly needsRaw?: boolean;
  /**
   * Fills out (length = vocabulary size) with P(next song | prefix, DJs): non-negative, summing
   * to 1, zero on songs already in the prefix, and (baselines) positive on every other song so
   * NLL stays finite. `prefix` holds vocabulary ids with GAP (-1) and OUT_OF_VOCABULARY (-2)
   * kept, so adjacency breaks are visible; `djs` are the set's kept-DJ indices.
   */
  predict(prefix: Int32Array, djs: Int32Array, out: Float64Array, context?: NextSongContext): void;
  /** Extra figures reported beside the metrics (e.g. the oracle's out-of-vocabulary mass). */
  diagnostics?(): Record<string, number>;
}

/** The part of a prepared dataset next-song fitting and evaluation read. */
export interface NextSongData {
  sequences: Sequences;
  vocab: { songs: readonly string[] };
}

/**
 * Zeroes songs already played in the prefix and rescales to sum 1. DJs almost never repeat a
 * song within a set (and generation forbids repeats), so every predictor puts its mass on
 * unplayed songs; evaluation skips the rare repeated targets instead of scoring them.
 */
export function excludePlayedAndNormalize(prefix: Int32Array, out: Float64Array): void {
  for (let i = 0; i < prefix.length; i++) if (prefix[i] >= 0) out[prefix[i]] = 0;
  let sum = 0;
  for (let j = 0; j < out.length; j++) sum += out[j];
  if (!(sum > 0)) throw new Error('next-song predictor: no probability mass left on unplayed songs');
  const inv = 1 / sum;
  for (let j = 0; j < out.length; j++) out[j] *= inv;
}

/** Training (split 0) tracklist indices. */
export function trainingTracklists(sequences: Sequences): Int32Array {
  const out: number[] = [];
  for (let t = 0; t < sequences.split.length; t++) if (sequences.split[t] === 0) out.push(t);
  return Int32Array.from(out);
}
