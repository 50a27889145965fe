/**
 * How much of the held-out sets a model can score at all (issue 18, "coverage"): the song filter
 * keeps only songs with enough co-occurrence mass, and a play of a song outside the vocabulary is
 * skipped by every next-song metric. On real corpora most songs are played once, so this share
 * says how much of a real set the metrics describe.
 */
import type { Tracklist } from '../../shared/corpus/types.ts';
import { parseTrack } from '../../shared/corpus/trackString.ts';
import type { Vocabulary } from '../../shared/graph/prepare.ts';

export interface Coverage {
  /** Plays of identified songs in the held-out sets, and how many are of vocabulary songs. */
  plays: number;
  playsInVocabulary: number;
  /** Distinct identified songs played in the held-out sets, and how many the vocabulary holds. */
  songs: number;
  songsInVocabulary: number;
}

export function heldOutCoverage(tracklists: Iterable<Tracklist>, vocab: Pick<Vocabulary, 'songKeys' | 'songAliases'>): Coverage {
  const known = new Set(vocab.songKeys);
  for (const aliases of Object.values(vocab.songAliases ?? {})) for (const a of aliases) known.add(a.key);
  const played = new Map<string, boolean>();
  let plays = 0;
  let playsInVocabulary = 0;
  for (const t of tracklists)
    for (const raw of t.tracks) {
      const parsed = parseTrack(raw);
      if (parsed.kind !== 'song') continue;
      const inVocabulary = known.has(parsed.key);
      plays++;
      if (inVocabulary) playsInVocabulary++;
      played.set(parsed.key, inVocabulary);
    }
  let songsInVocabulary = 0;
  for (const inVocabulary of played.values()) if (inVocabulary) songsInVocabulary++;
  return { plays, playsInVocabulary, songs: played.size, songsInVocabulary };
}

const share = (part: number, whole: number) => `${whole > 0 ? ((100 * part) / whole).toFixed(1) : '—'} %`;

export function formatCoverage(c: Coverage): string {
  return (
    `coverage: ${c.playsInVocabulary} of ${c.plays} identified held-out plays (${share(c.playsInVocabulary, c.plays)}) and ` +
    `${c.songsInVocabulary} of ${c.songs} distinct played songs (${share(c.songsInVocabulary, c.songs)}) are in the vocabulary the models score`
  );
}
