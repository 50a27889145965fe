import type { Sequences } from '../../shared/graph/prepare.ts';
import { excludePlayedAndNormalize, type NextSongPredictor } from './predictor.ts';

/** Plays per vocabulary song over the given tracklists (repeats within a set count). */
export function songCounts(sequences: Sequences, songs: number, tracklists: ArrayLike<number>): Float64Array {
  const counts = new Float64Array(songs);
  for (let k = 0; k < tracklists.length; k++) {
    const t = tracklists[k];
    for (let i = sequences.offsets[t]; i < sequences.offsets[t + 1]; i++) {
      const s = sequences.songs[i];
      if (s >= 0) counts[s]++;
    }
  }
  return counts;
}

/** Additive smoothing (c + α) / (N + nα): every song keeps some mass, so NLL is finite. */
export function smoothedPopularity(counts: Float64Array, alpha: number): Float64Array {
  if (!(alpha > 0)) throw new Error(`popularity: alpha must be > 0, got ${alpha}`);
  let total = 0;
  for (let j = 0; j < counts.length; j++) total += counts[j];
  const z = total + alpha * counts.length;
  const out = new Float64Array(counts.length);
  for (let j = 0; j < counts.length; j++) out[j] = (counts[j] + alpha) / z;
  return out;
}

/** P(next) = smoothed play frequency, ignoring the prefix except for played songs. */
export class PopularityPredictor implements NextSongPredictor {
  readonly name = 'popularity';
  readonly probs: Float64Array;

  constructor(probs: Float64Array) {
    this.probs = probs;
  }

  predict(prefix: Int32Array, _djs: Int32Array, out: Float64Array): void {
    out.set(this.probs);
    excludePlayedAndNormalize(prefix, out);
  }
}
