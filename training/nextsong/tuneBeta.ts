import type { EvidenceScorer } from './mixture.ts';
import type { NextSongData } from './predictor.ts';

/** β candidates 2^-12 … 2^16: evidence scales differ by orders of magnitude across scorers. */
const BETAS = Array.from({ length: 29 }, (_, k) => 2 ** (k - 12));

/**
 * Best β for a MixedPredictor in closed form per position: with played songs removed,
 * P(target) = (s_t + β·pop_t) / (S + β·Π), S and Π the free evidence and popularity mass, so
 * the scores are computed once and every β is evaluated from four numbers per position.
 */
export function tuneBeta(
  data: NextSongData,
  scorer: EvidenceScorer,
  pop: Float64Array,
  pairs: Int32Array,
): { beta: number; nllBits: number } {
  const { sequences } = data;
  const positions = pairs.length / 2;
  const st = new Float64Array(positions);
  const total = new Float64Array(positions);
  const pt = new Float64Array(positions);
  const free = new Float64Array(positions);
  const buf = new Float64Array(data.vocab.songs.length);
  for (let q = 0; q < positions; q++) {
    const t = pairs[2 * q];
    const start = sequences.offsets[t];
    const prefix = sequences.songs.subarray(start, start + pairs[2 * q + 1]);
    const target = sequences.songs[start + pairs[2 * q + 1]];
    scorer.score(prefix, sequences.djs.subarray(sequences.djOffsets[t], sequences.djOffsets[t + 1]), buf, sequences.days[t]);
    let s = 0;
    for (let j = 0; j < buf.length; j++) s += buf[j];
    let f = 1;
    for (const played of new Set(prefix)) {
      if (played < 0) continue;
      s -= buf[played];
      f -= pop[played];
    }
    st[q] = buf[target];
    total[q] = Math.max(s, 0);
    pt[q] = pop[target];
    free[q] = f;
  }
  let best = { beta: BETAS[0], nllBits: Infinity };
  for (const beta of BETAS) {
    let bits = 0;
    for (let q = 0; q < positions; q++)
      bits -= Math.log2((st[q] + beta * pt[q]) / (total[q] + beta * free[q]));
    bits /= positions;
    if (bits < best.nllBits) best = { beta, nllBits: bits };
  }
  return best;
}
