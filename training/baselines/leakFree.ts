import type { Tracklist } from '../../shared/corpus/types.ts';
import { CooBuilder, gcnNormalize } from '../../shared/graph/csr.ts';
import { prepare, type Prepared } from '../../shared/graph/prepare.ts';
import type { SongGraphs } from './songGraph.ts';

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
  const slot = new Map<string, number>();
  p.vocab.songKeys.forEach((k, i) => slot.set(k, i));
  for (const [i, aliases] of Object.entries(p.vocab.songAliases ?? {})) for (const a of aliases) slot.set(a.key, Number(i));
  const n = p.vocab.songKeys.length;
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
