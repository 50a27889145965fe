import type { Tracklist } from '../../shared/corpus/types.ts';
import { CooBuilder, type Csr, gcnNormalize } from '../../shared/graph/csr.ts';
import { hiddenPair, prepare, prepareSync, type Prepared } from '../../shared/graph/prepare.ts';
import type { SongGraphs } from './songGraph.ts';

/** A play that identifies no song (what an out-of-vocabulary or gap position is written back as). */
const GAP_TRACK = 'ID - ID';

/**
 * The original (leaky) protocol's song graphs beside a leak-free prepared folder: `prepare` again
 * with the same options, so the same hold-out, but `heldOutPlays: 'kept'` (the held-out plays
 * stay in the sets the graph is built from), mapped onto the prepared vocabulary by song key.
 * The gap logic itself lives in one place, shared/graph/holdout.ts.
 */
export async function originalProtocolSongGraphs(
  corpus: Tracklist[],
  p: Pick<Prepared, 'vocab' | 'options'>,
): Promise<SongGraphs & { songsKept: number }> {
  const rebuilt = await prepare(corpus, { ...p.options, heldOutPlays: 'kept', progress: false });
  return onVocabulary(rebuilt, p.vocab);
}

/** A rebuilt song graph on the prepared vocabulary by song key; a song the rebuild lacks has no edges. */
function onVocabulary(rebuilt: Prepared, vocab: Prepared['vocab']): SongGraphs & { songsKept: number } {
  const slot = new Map<string, number>();
  vocab.songKeys.forEach((k, i) => slot.set(k, i));
  for (const [i, aliases] of Object.entries(vocab.songAliases ?? {})) for (const a of aliases) slot.set(a.key, Number(i));
  const n = vocab.songKeys.length;
  const map = rebuilt.vocab.songKeys.map((k) => slot.get(k) ?? -1);
  const coo = new CooBuilder(n, n);
  const g = rebuilt.songSong;
  for (let i = 0; i < g.rows; i++) {
    if (map[i] < 0) continue;
    for (let q = g.indptr[i]; q < g.indptr[i + 1]; q++) if (map[g.indices[q]] >= 0) coo.add(map[i], map[g.indices[q]], g.values[q]);
  }
  const songSong = coo.toCsr();
  return { songSong, songSongNorm: gcnNormalize(songSong), songsKept: map.filter((a) => a >= 0).length };
}

/**
 * A leak-free prepared folder's song graphs rebuilt with the plays of more (DJ, song) pairs
 * gapped — `pairs` is DJs × songs over the prepared vocabulary, e.g. a baseline's inner
 * validation entries — so a baseline tuned on an inner split does not see its validation plays.
 * Rebuilt by `prepareSync` from the prepared training sequences (which hold every play: the test
 * hold-out is gapped here too) with the song filter off, since the vocabulary is given.
 */
export function songGraphsWithout(
  p: Pick<Prepared, 'vocab' | 'options' | 'sequences' | 'clickTest'>,
  pairs: Csr,
): SongGraphs & { songsKept: number } {
  const hidden = new Set<string>();
  for (const m of [p.clickTest, pairs])
    for (let d = 0; d < m.rows; d++)
      for (let q = m.indptr[d]; q < m.indptr[d + 1]; q++) hidden.add(hiddenPair(p.vocab.djs[d], p.vocab.songKeys[m.indices[q]]));
  const s = p.sequences;
  const training: Tracklist[] = [];
  for (let t = 0; t < s.ids.length; t++) {
    if (s.split[t]) continue;
    const tracks = Array.from(s.songs.subarray(s.offsets[t], s.offsets[t + 1]), (i) => (i >= 0 ? p.vocab.songs[i] : GAP_TRACK));
    training.push({ id: s.ids[t], date: null, djs: s.djNames[t], tracks });
  }
  const rebuilt = prepareSync(training, { ...p.options, testTracklistShare: 0, clickHoldoutShare: 0, minSongMass: 0, progress: false }, hidden);
  return onVocabulary(rebuilt, p.vocab);
}
