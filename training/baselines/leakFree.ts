import type { Tracklist } from '../../shared/corpus/types.ts';
import { parseTrack } from '../../shared/corpus/trackString.ts';
import { CooBuilder, type Csr, gcnNormalize } from '../../shared/graph/csr.ts';
import { prepare, type Prepared } from '../../shared/graph/prepare.ts';
import type { SongGraphs } from './songGraph.ts';

/** A play that identifies no song: what a removed held-out play becomes, so positions stay. */
const GAP_TRACK = 'ID - ID';

/**
 * The corpus with every held-out (DJ, song) play — `heldOut` is DJs × songs over the prepared
 * vocabulary — replaced by a gap in that DJ's sets. Spellings merged into a song count as it.
 */
export function withoutHeldOutPlays(
  corpus: Tracklist[],
  vocab: Prepared['vocab'],
  heldOut: Csr,
): { corpus: Tracklist[]; gapped: number } {
  const held = new Set<string>();
  for (let d = 0; d < heldOut.rows; d++)
    for (let q = heldOut.indptr[d]; q < heldOut.indptr[d + 1]; q++) {
      const s = heldOut.indices[q];
      for (const key of [vocab.songKeys[s], ...(vocab.songAliases?.[s] ?? []).map((a) => a.key)]) held.add(`${vocab.djs[d]}\u0000${key}`);
    }
  let gapped = 0;
  const out = corpus.map((t) => {
    const djs = t.djs.map((d) => d.trim());
    const tracks = t.tracks.map((raw) => {
      const parsed = parseTrack(raw);
      if (parsed.kind !== 'song' || !djs.some((dj) => held.has(`${dj}\u0000${parsed.key}`))) return raw;
      gapped++;
      return GAP_TRACK;
    });
    return { ...t, tracks };
  });
  return { corpus: out, gapped };
}

/**
 * The song–song graphs rebuilt by `prepare` (same options) from the corpus without the held-out
 * plays, mapped onto the prepared vocabulary by song key; a song the rebuilt vocabulary drops
 * has no edges. Issue 18: the prepared song graph is built from every training tracklist, held-
 * out plays included, so it links each held-out song to the DJ's other songs of the same sets.
 */
export async function leakFreeSongGraphs(
  corpus: Tracklist[],
  p: Pick<Prepared, 'vocab' | 'options'>,
  heldOut: Csr,
): Promise<SongGraphs & { gapped: number; songsKept: number }> {
  const { corpus: clean, gapped } = withoutHeldOutPlays(corpus, p.vocab, heldOut);
  const rebuilt = await prepare(clean, { ...p.options, progress: false });
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
  return { songSong, songSongNorm: gcnNormalize(songSong), gapped, songsKept: map.filter((a) => a >= 0).length };
}
