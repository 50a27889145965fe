import type { Csr } from '../../shared/graph/csr.ts';
import { GAP, type Sequences } from '../../shared/graph/prepare.ts';
import { sequentialRules } from './sr.ts';
import { excludePlayedAndNormalize, type NextSongPredictor } from './predictor.ts';

/**
 * Counts of adjacent (a, b) pairs of vocabulary songs, a ≠ b; a gap or OOV track between them
 * breaks the pair. These are exactly the sequential rules of window 1.
 */
export function transitionCounts(sequences: Sequences, songs: number, tracklists: ArrayLike<number>): Csr {
  return sequentialRules(sequences, songs, tracklists, 1);
}

/**
 * First-order Markov chain on the last track, interpolated absolute discounting (Ney et al.):
 *   P(b | a) = max(c(a,b) − D, 0) / c(a) + D · N₁₊(a) / c(a) · pop(b),
 * with c(a) the transitions seen from a and N₁₊(a) its distinct successors. Discounting every
 * seen pair by D frees exactly the mass given to popularity, so the result sums to 1 for any
 * 0 < D ≤ 1. When the previous track is a gap, out of vocabulary, absent, or has no seen
 * successor, the prediction is popularity alone.
 */
export class MarkovPredictor implements NextSongPredictor {
  readonly name = 'markov';
  readonly transitions: Csr;
  readonly popularity: Float64Array;
  readonly discount: number;
  private readonly rowTotal: Float64Array;

  constructor(transitions: Csr, popularity: Float64Array, discount: number) {
    if (!(discount > 0 && discount <= 1))
      throw new Error(`markov: discount must be in (0, 1], got ${discount}`);
    this.transitions = transitions;
    this.popularity = popularity;
    this.discount = discount;
    this.rowTotal = new Float64Array(transitions.rows);
    for (let a = 0; a < transitions.rows; a++)
      for (let p = transitions.indptr[a]; p < transitions.indptr[a + 1]; p++)
        this.rowTotal[a] += transitions.values[p];
  }

  predict(prefix: Int32Array, _djs: Int32Array, out: Float64Array): void {
    const prev = prefix.length > 0 ? prefix[prefix.length - 1] : GAP;
    const total = prev >= 0 ? this.rowTotal[prev] : 0;
    if (total === 0) {
      out.set(this.popularity);
    } else {
      const { indptr, indices, values } = this.transitions;
      const d = this.discount;
      const backoff = (d * (indptr[prev + 1] - indptr[prev])) / total;
      const pop = this.popularity;
      for (let j = 0; j < out.length; j++) out[j] = backoff * pop[j];
      for (let p = indptr[prev]; p < indptr[prev + 1]; p++)
        out[indices[p]] += Math.max(values[p] - d, 0) / total;
    }
    excludePlayedAndNormalize(prefix, out);
  }
}
