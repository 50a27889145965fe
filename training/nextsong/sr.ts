import type { Csr } from '../../shared/graph/csr.ts';
import { GAP, type Sequences } from '../../shared/graph/prepare.ts';
import type { EvidenceScorer } from './mixture.ts';

/**
 * Sequential rules (Ludewig & Jannach 2018): for each vocabulary song a at position i of a
 * training set and each later song b at i + d, d ≤ steps, the rule a → b gains 1/d. Gaps and
 * OOV tracks occupy positions (they separate songs) but make no rules, as in data preparation;
 * a → a (a repeat) makes none either. Built row by row from each song's occurrences, so memory
 * is the rules themselves, not one entry per pair seen.
 */
export function sequentialRules(
  sequences: Sequences,
  songs: number,
  tracklists: ArrayLike<number>,
  steps: number,
): Csr {
  if (!(steps >= 1) || !Number.isInteger(steps))
    throw new Error(`sr: steps must be an integer ≥ 1, got ${steps}`);
  // Occurrences of each song (global position, end of its tracklist), grouped by song.
  const occOffsets = new Int32Array(songs + 1);
  for (let k = 0; k < tracklists.length; k++) {
    const t = tracklists[k];
    for (let i = sequences.offsets[t]; i < sequences.offsets[t + 1]; i++)
      if (sequences.songs[i] >= 0) occOffsets[sequences.songs[i] + 1]++;
  }
  for (let s = 0; s < songs; s++) occOffsets[s + 1] += occOffsets[s];
  const occPos = new Int32Array(occOffsets[songs]);
  const occEnd = new Int32Array(occOffsets[songs]);
  const cursor = occOffsets.slice(0, songs);
  for (let k = 0; k < tracklists.length; k++) {
    const t = tracklists[k];
    const end = sequences.offsets[t + 1];
    for (let i = sequences.offsets[t]; i < end; i++) {
      const s = sequences.songs[i];
      if (s < 0) continue;
      occPos[cursor[s]] = i;
      occEnd[cursor[s]++] = end;
    }
  }
  const indptr = new Int32Array(songs + 1);
  const indices: number[] = [];
  const values: number[] = [];
  const acc = new Float64Array(songs);
  const touched: number[] = [];
  for (let a = 0; a < songs; a++) {
    for (let o = occOffsets[a]; o < occOffsets[a + 1]; o++) {
      const i = occPos[o];
      const last = Math.min(occEnd[o] - 1, i + steps);
      for (let j = i + 1; j <= last; j++) {
        const b = sequences.songs[j];
        if (b < 0 || b === a) continue;
        if (acc[b] === 0) touched.push(b);
        acc[b] += 1 / (j - i);
      }
    }
    touched.sort((x, y) => x - y);
    for (const b of touched) {
      indices.push(b);
      values.push(acc[b]);
      acc[b] = 0;
    }
    touched.length = 0;
    indptr[a + 1] = indices.length;
  }
  return {
    rows: songs,
    cols: songs,
    indptr,
    indices: Int32Array.from(indices),
    values: Float32Array.from(values),
  };
}

/**
 * Scores songs by the rules of the last identified track of the prefix. Gaps are looked across
 * (the rules already span up to `steps` positions), but an OOV last song, or a last vocabulary
 * song more than `steps` positions back, gives no evidence (popularity then decides).
 */
export class SequentialRulesScorer implements EvidenceScorer {
  readonly rules: Csr;
  readonly steps: number;

  constructor(rules: Csr, steps: number) {
    this.rules = rules;
    this.steps = steps;
  }

  score(prefix: Int32Array, _djs: Int32Array, scores: Float64Array): void {
    scores.fill(0);
    let i = prefix.length - 1;
    while (i >= 0 && prefix[i] === GAP) i--;
    if (i < 0 || prefix[i] < 0 || prefix.length - i > this.steps) return;
    const a = prefix[i];
    const { indptr, indices, values } = this.rules;
    for (let p = indptr[a]; p < indptr[a + 1]; p++) scores[indices[p]] = values[p];
  }
}
