import type { Sequences } from '../../shared/graph/prepare.ts';
import type { NextSongData } from '../../training/nextsong/predictor.ts';

export interface TestSet {
  songs: number[];
  split?: 0 | 1;
  day?: number;
  djs?: number[];
}

/** A hand-built dataset: only the fields next-song fitting and evaluation read. */
export function makeData(songs: number, sets: TestSet[]): NextSongData {
  const offsets = new Int32Array(sets.length + 1);
  const djOffsets = new Int32Array(sets.length + 1);
  sets.forEach((s, t) => {
    offsets[t + 1] = offsets[t] + s.songs.length;
    djOffsets[t + 1] = djOffsets[t] + (s.djs ?? []).length;
  });
  const sequences: Sequences = {
    songs: Int32Array.from(sets.flatMap((s) => s.songs)),
    offsets,
    djs: Int32Array.from(sets.flatMap((s) => s.djs ?? [])),
    djOffsets,
    split: Uint8Array.from(sets, (s) => s.split ?? 0),
    days: Int32Array.from(sets, (s) => s.day ?? -1),
    ids: sets.map((_, t) => `set${t}`),
    djNames: sets.map(() => []),
  };
  return { sequences, vocab: { songs: Array.from({ length: songs }, (_, j) => `song ${j}`) } };
}

/** 1-based rank of song `target` under the evaluation's ordering (ties: lower index first). */
export function rankOf(out: Float64Array, target: number): number {
  let rank = 1;
  for (let j = 0; j < out.length; j++)
    if (out[j] > out[target] || (out[j] === out[target] && j < target)) rank++;
  return rank;
}
