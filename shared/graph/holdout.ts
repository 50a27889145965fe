import { CooBuilder, type Csr } from './csr.ts';
import type { Random } from '../util/random.ts';

/** One tracklist as `prepare` reads it: raw song ids (after the spelling merge), GAP for gaps. */
export interface RawSet {
  id: string;
  days: number;
  djs: number[];
  songs: number[];
}

const GAP_ID = -1;

/**
 * Training clicks over raw songs: how many training sets of each DJ played each song (repeats
 * within one set count once), DJs × raw songs. `repeats` is the number of repeats skipped.
 */
export function rawClickCounts(sets: RawSet[], split: Uint8Array, nDjs: number, nSongs: number): { counts: Csr; repeats: number } {
  const coo = new CooBuilder(nDjs, nSongs, 1 << 16);
  let repeats = 0;
  for (let s = 0; s < sets.length; s++) {
    if (split[s]) continue;
    const seen = new Set<number>();
    for (const id of sets[s].songs) {
      if (id < 0) continue;
      if (seen.has(id)) {
        repeats++;
        continue;
      }
      seen.add(id);
      for (const dj of sets[s].djs) coo.add(dj, id, 1);
    }
  }
  return { counts: coo.toCsr(), repeats };
}

/**
 * The recommendation hold-out, drawn before the song filter so that the filter (and every table
 * after it) can be computed without the held-out plays: for each DJ with more than `minSongs`
 * songs played in more than one training set (a necessary condition of the DJ filter, which
 * `prepare` applies later on the kept songs), `share` of those songs. Returns a mask over the
 * positions of `counts`. Depends only on which (DJ, song) counts exceed 1, so one more play of a
 * held-out pair changes nothing; songs are shuffled from the order of their `keys`, not of raw
 * ids, so the draw does not depend on the order spellings first appear in.
 */
export function drawHoldout(counts: Csr, keys: string[], minSongs: number, share: number, rng: Random): Uint8Array {
  const held = new Uint8Array(counts.indices.length);
  for (let d = 0; d < counts.rows; d++) {
    const positions: number[] = [];
    for (let p = counts.indptr[d]; p < counts.indptr[d + 1]; p++) if (counts.values[p] > 1) positions.push(p);
    if (positions.length <= minSongs) continue;
    positions.sort((a, b) => (keys[counts.indices[a]] < keys[counts.indices[b]] ? -1 : 1));
    rng.shuffle(positions);
    const nTest = Math.round(positions.length * share);
    for (let k = 0; k < nTest; k++) held[positions[k]] = 1;
  }
  return held;
}

/**
 * The training sets with every held-out (DJ, song) play turned into a gap, so positions stay
 * (the song's neighbours keep their distances to each other). A play in a set of several DJs is
 * removed when any of them holds the song out. Held-out tracklists (split 1) are left alone.
 */
export function gapHeldOutPlays(
  sets: RawSet[],
  split: Uint8Array,
  counts: Csr,
  held: Uint8Array,
): { sets: RawSet[]; gapped: number } {
  const isHeld = (dj: number, song: number) => {
    let lo = counts.indptr[dj];
    let hi = counts.indptr[dj + 1] - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = counts.indices[mid];
      if (c === song) return held[mid] === 1;
      if (c < song) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  };
  let gapped = 0;
  const out = sets.map((set, s) => {
    if (split[s]) return set;
    let changed = false;
    const songs = set.songs.map((id) => {
      if (id < 0 || !set.djs.some((dj) => isHeld(dj, id))) return id;
      changed = true;
      gapped++;
      return GAP_ID;
    });
    return changed ? { ...set, songs } : set;
  });
  return { sets: out, gapped };
}
