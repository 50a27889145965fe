import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  keyParts,
  fuzzySame,
  canonicalKey,
  canonicalArtistKey,
  sameRecord,
} from '../../shared/corpus/merge.ts';
import { parseTrack } from '../../shared/corpus/trackString.ts';
import { synthesize } from '../../shared/corpus/synth.ts';
import type { Tracklist } from '../../shared/corpus/types.ts';
import { prepare } from '../../shared/graph/prepare.ts';
import { loadPrepared, writePrepared } from '../../shared/graph/preparedStore.ts';
import { CatalogueSearch } from '../../shared/model/search.ts';
import { teamFolder } from '../../training/teamFolder.ts';
import { tempDir } from '../tempDirs.ts';

const noSplit = { testTracklistShare: 0, clickHoldoutShare: 0, minSongMass: 0, minClickSongs: 0 };

function keyOf(s: string): string {
  const p = parseTrack(s);
  if (p.kind !== 'song') throw new Error(s);
  return p.key;
}

/** Sets playing "Ken Doh - Nagasaki" (3 sets) and "Ken Doh - Nakasaki" (1 set), never both in one. */
function kenDohCorpus(): Tracklist[] {
  const t = (id: string, tracks: string[]): Tracklist => ({ id, date: null, djs: ['Pete Tong'], tracks });
  return [
    t('a', ['Daft Punk - Da Funk', 'Ken Doh - Nagasaki', "Size 9 - I'm Ready"]),
    t('b', ['Nalin & Kane - Beachball', 'Ken Doh - Nagasaki (Original Mix)', 'Camisra - Let Me Show You']),
    t('c', ['Ken Doh - NAGASAKI', 'Josh Wink - Higher State of Consciousness']),
    t('d', ['Nalin and Kane - Beachball', 'Ken Doh - Nakasaki', 'Ken Doh - Nagasaki (Sharam Jey Remix)']),
  ];
}

describe('prepare: one record, one song', () => {
  it('merges spellings into the most played one, keeps the others as aliases, remixes apart', async () => {
    const p = await prepare(kenDohCorpus(), noSplit);
    const { songs, songKeys, songAliases, artists, artistAliases } = p.vocab;
    const ken = songs.filter((s) => /^Ken Doh/.test(s));
    expect(ken.sort()).toEqual(['Ken Doh - Nagasaki', 'Ken Doh - Nagasaki (Sharam Jey Remix)']);
    const i = songs.indexOf('Ken Doh - Nagasaki');
    expect(songKeys[i]).toBe(keyOf('Ken Doh - Nagasaki'));
    expect(songAliases?.[i]).toEqual([{ name: 'Ken Doh - Nakasaki', key: keyOf('Ken Doh - Nakasaki') }]);
    expect(p.songPlays[i]).toBe(4);
    expect(p.skipped.mergedSongs).toBe(2);
    // "Nalin & Kane" (two artists) and "Nalin and Kane" (one name) are one song.
    expect(songs.filter((s) => /Beachball/.test(s))).toHaveLength(1);
    // Set d holds the merged song where Nakasaki was.
    const seq = Array.from(p.sequences.songs.subarray(p.sequences.offsets[3], p.sequences.offsets[4]));
    expect(seq[1]).toBe(i);
    // Unmerged songs keep their own identity key (so their public id).
    for (let s = 0; s < songs.length; s++) if (!songAliases?.[s]) expect(songKeys[s]).toBe(keyOf(songs[s]));
    expect(artists.filter((a) => a.toLowerCase() === 'ken doh')).toHaveLength(1);
    expect(artistAliases).toEqual({});
  });

  it('stores aliases in the prepared artifact; search finds a song by any spelling', async () => {
    const p = await prepare(kenDohCorpus(), noSplit);
    const dir = tempDir('merge-prepared-');
    writePrepared(join(dir, 'p'), p);
    const back = loadPrepared(join(dir, 'p'));
    expect(back.vocab.songAliases).toEqual(p.vocab.songAliases);
    const search = new CatalogueSearch(back.vocab, { songs: back.songPlays, artists: [], djs: [] });
    const i = back.vocab.songs.indexOf('Ken Doh - Nagasaki');
    expect(search.songs('ken doh nakasaki', 3)[0]?.index).toBe(i);
    expect(search.songs('Ken Doh - Nakasaki', 3)[0]?.score).toBeGreaterThanOrEqual(3);
  });
});

describe('prepare: misspelt plays in a synthetic corpus', () => {
  it('a misspelt play counts for its record, and the vocabulary holds one spelling of it', async () => {
    const { tracklists } = synthesize('tiny', 3);
    const clean = await prepare(tracklists, { seed: 1 });
    expect(clean.skipped.mergedSongs).toBe(0);
    // Misspell every 5th play of 20 of the most played songs: a letter doubled in the title.
    const typo = (s: string): string =>
      s.replace(/ - (\S*?[a-z])([a-z])/, (_, a: string, b: string) => ` - ${a}${b}${b}`);
    // Only typos the merger's rule covers (titles of 6+ characters).
    const top = new Set(
      clean.vocab.songs.filter((s) => typo(s) !== s && sameRecord(keyOf(s), keyOf(typo(s)))).slice(0, 20),
    );
    expect(top.size).toBe(20);
    let seen = 0;
    const noisy = tracklists.map((t) => ({
      ...t,
      tracks: t.tracks.map((raw) => {
        const name = typeof raw === 'string' ? parseTrack(raw).display : null;
        return name !== null && top.has(name) && seen++ % 5 === 0 ? typo(name) : raw;
      }),
    }));
    const p = await prepare(noisy, { seed: 1 });
    expect(p.skipped.mergedSongs).toBeGreaterThan(10);
    expect(p.vocab.songKeys).toEqual(clean.vocab.songKeys);
    expect(Array.from(p.songPlays)).toEqual(Array.from(clean.songPlays));
    for (const s of top) expect(p.vocab.songs).not.toContain(typo(s));
  });
});

describe('prepare on the real sets (shared/realsets)', () => {
  const file = join(teamFolder(), 'realsets/tracklists.jsonl');

  it('the vocabulary holds no two spellings of one record, so no generated set can', async () => {
    expect(existsSync(file), `missing ${file}`).toBe(true);
    const sets = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Tracklist);
    const p = await prepare(sets, { testTracklistShare: 0 });
    const { songKeys, artistKeys } = p.vocab;
    console.log(
      `real sets: ${songKeys.length} songs, ${p.skipped.mergedSongs} spellings merged into others, ` +
        `${p.skipped.mergedArtists} artist spellings merged`,
    );
    expect(p.skipped.mergedSongs).toBeGreaterThan(300);
    expect(new Set(songKeys.map(canonicalKey)).size).toBe(songKeys.length);
    expect(new Set(artistKeys.map(canonicalArtistKey)).size).toBe(artistKeys.length);
    // One-edit pairs left in the vocabulary are only those some DJ played in one set.
    const played = new Map<number, Set<number>>();
    const { songs: seq, offsets } = p.sequences;
    for (let t = 0; t + 1 < offsets.length; t++)
      for (let q = offsets[t]; q < offsets[t + 1]; q++)
        if (seq[q] >= 0) (played.get(seq[q]) ?? played.set(seq[q], new Set()).get(seq[q])!).add(t);
    const parts = songKeys.map(keyParts);
    const byArtist = new Map<string, number[]>();
    parts.forEach((k, s) => (byArtist.get(k.artist) ?? byArtist.set(k.artist, []).get(k.artist)!).push(s));
    for (const ids of byArtist.values())
      for (let x = 0; x < ids.length; x++)
        for (let y = x + 1; y < ids.length; y++)
          if (fuzzySame(parts[ids[x]], parts[ids[y]])) {
            const a = played.get(ids[x]) ?? new Set();
            expect(
              [...(played.get(ids[y]) ?? [])].some((t) => a.has(t)),
              `${songKeys[ids[x]]} / ${songKeys[ids[y]]}`,
            ).toBe(true);
          }
  });
});
