import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  canonicalKey,
  KeyIndex,
  mergeArtists,
  mergeSongs,
  oneEditApart,
  sameRecord,
} from '../../shared/corpus/merge.ts';
import { normalizeName, parseTrack } from '../../shared/corpus/trackString.ts';

function key(s: string): string {
  const p = parseTrack(s);
  if (p.kind !== 'song') throw new Error(`not a song: ${s}`);
  return p.key;
}

const same = (a: string, b: string): boolean => sameRecord(key(a), key(b));

describe('sameRecord: one record, several spellings', () => {
  it('joins the spellings real corpora use', () => {
    expect(same('Ken Doh - Nagasaki', 'Ken Doh - Nakasaki')).toBe(true);
    expect(same('Nalin & Kane - Beachball', 'Nalin and Kane - Beachball (Original Mix)')).toBe(true);
    expect(same('Mr. Fingers - Can You Feel It', 'Mr Fingers - Can You Feel It!')).toBe(true);
    expect(same('Slom - Taurus (2017)', 'slom - Taurus')).toBe(true);
    expect(same('Girl Unit - IRL', 'Girl Unit - I.R.L')).toBe(true);
    expect(same('J Dilla - Track 08', 'J Dilla - Track 8')).toBe(true);
    expect(same('James Blake - Not Long Now (Klaus Mix)', 'James Blake - Not Long Now (Klaus Remix)')).toBe(
      true,
    );
    expect(same("Ginuwine - What's So Different?", 'Ginuwine - Whats So Different')).toBe(true);
  });

  it('keeps different records apart', () => {
    // Two remixes, or a remix and the original, are two songs even one letter apart.
    expect(same('A - Title (X Remix)', 'A - Title (Y Remix)')).toBe(false);
    expect(
      same('Flume ft. Kai - Never Be Like You', 'Flume ft. Kai - Never Be Like You (Martin Solveig Remix)'),
    ).toBe(false);
    expect(same('Kendrick Lamar - The Heart Part 4', 'Kendrick Lamar - The Heart Part 5')).toBe(false);
    expect(same('Pryda - Escape 2017 Intro ID', 'Pryda - Escape 2018 Intro ID')).toBe(false);
    // Short titles: one letter is often another word.
    expect(same('Sango - Papers', 'Sango - Paper')).toBe(false);
    expect(same('Eric Prydz - Opus', 'Eric Prydz - Nopus')).toBe(false);
    // A word's first letter makes another word (synthetic medium corpus: two planted songs).
    expect(same('Rorvazism - The Light', 'Rorvazism - The Night')).toBe(false);
    expect(same('Chak Shomplurzy - Set Me Down', 'Chak Shomplurzy - Let Me Down')).toBe(false);
    expect(same('Common - The Iight', 'Common - The Light')).toBe(true);
    // Another artist.
    expect(same('Ken Doh - Nagasaki', 'Ken Dog - Nagasaki')).toBe(false);
    expect(same('Kanye West - Late', 'Kanye West - Late (Instrumental)')).toBe(false);
  });

  it('oneEditApart: one substitution, insertion, deletion or swap, never on a digit', () => {
    expect(oneEditApart('nagasaki', 'nakasaki')).toBe(true);
    expect(oneEditApart('cyprus', 'cyrpus')).toBe(true);
    expect(oneEditApart('fannypack', 'fannypacks')).toBe(true);
    expect(oneEditApart('fannypack', 'fannypack')).toBe(false);
    expect(oneEditApart('nagasaki', 'nakasako')).toBe(false);
    expect(oneEditApart('track 19', 'track 18')).toBe(false);
  });
});

describe('mergeSongs', () => {
  const keys = [
    'Ken Doh - Nakasaki',
    'Ken Doh - Nagasaki',
    'Ken Doh - Nagasaki (Original Mix)',
    'Ken Doh - Nagasaki (X Remix)',
  ].map(key);

  it('the most played spelling represents its group; other remixes stay apart', () => {
    const rep = mergeSongs({ keys, plays: [3, 5, 1, 4] });
    // keys[1] and keys[2] share an identity key already (Original Mix is the same record).
    expect(keys[2]).toBe(keys[1]);
    expect([...rep]).toEqual([1, 1, 1, 3]);
  });

  it('never joins two spellings played in one set (a DJ playing both means two records)', () => {
    const rep = mergeSongs({ keys: keys.slice(0, 2), plays: [3, 5], sets: [[0, -1, 1]] });
    expect([...rep]).toEqual([0, 1]);
  });

  it('is deterministic under ties and input order', () => {
    const a = mergeSongs({ keys: [keys[0], keys[1]], plays: [2, 2] });
    const b = mergeSongs({ keys: [keys[1], keys[0]], plays: [2, 2] });
    // The lower key wins a tie: "nagasaki" < "nakasaki".
    expect([...a]).toEqual([1, 1]);
    expect([...b]).toEqual([0, 0]);
  });

  it('mergeArtists joins punctuation and "&"/"and" spellings, most played first', () => {
    const rep = mergeArtists(
      ['mr. fingers', 'mr fingers', 'nalin & kane', 'nalin and kane', 'ken doh'],
      [1, 4, 2, 1, 3],
    );
    expect([...rep]).toEqual([1, 1, 2, 2, 4]);
  });

  it('KeyIndex finds an entry by its key, an alias key or a canonical form, exact keys first', () => {
    const ix = new KeyIndex(
      [key('Ken Doh - Nagasaki'), key('Other - Song')],
      { 0: [{ name: 'Ken Doh - Nakasaki', key: key('Ken Doh - Nakasaki') }] },
      canonicalKey,
    );
    expect(ix.get(key('Ken Doh - Nagasaki'))).toBe(0);
    expect(ix.get(key('Ken Doh - Nakasaki'))).toBe(0);
    expect(ix.get(key('Ken Doh - Nakasaki (1996)'))).toBe(0);
    expect(ix.get(key('other - song!'))).toBe(1);
    expect(ix.get(key('Ken Doh - Nagasaki (X Remix)'))).toBeUndefined();
    expect(normalizeName('Ken Doh')).toBe('ken doh');
  });
});

interface Pair {
  sample: 'merged' | 'near';
  /** Near misses: "version" (same title, other version groups) or title edits apart. */
  kind?: string;
  a: string;
  b: string;
  plays: [number, number];
  together: boolean;
  same: boolean;
}

describe('merging on the real sets: hand-checked pairs (tests/corpus/mergePairs.json)', () => {
  const fixture = JSON.parse(readFileSync(join(import.meta.dirname, 'mergePairs.json'), 'utf8')) as {
    population: { merged: number; nearTitle: number; nearVersion: number };
    pairs: Pair[];
  };

  it('precision and recall of the current merger against the verdicts', () => {
    const pop = fixture.population;
    const nearVersion = fixture.pairs.filter((p) => p.kind === 'version').length;
    const nearTitle = fixture.pairs.filter((p) => p.sample === 'near').length - nearVersion;
    // Each sampled pair stands for this many pairs of its kind in the whole corpus.
    const weight = (p: Pair): number =>
      p.sample === 'merged'
        ? pop.merged / 100
        : p.kind === 'version'
          ? pop.nearVersion / nearVersion
          : pop.nearTitle / nearTitle;
    const counts = { tp: 0, fp: 0, fn: 0 };
    const weighted = { tp: 0, fp: 0, fn: 0 };
    for (const p of fixture.pairs) {
      const rep = mergeSongs({
        keys: [key(p.a), key(p.b)],
        plays: p.plays,
        sets: p.together ? [[0, 1]] : [],
      });
      const merged = rep[0] === rep[1];
      const cell = merged && p.same ? 'tp' : merged ? 'fp' : p.same ? 'fn' : null;
      if (cell === null) continue;
      counts[cell]++;
      weighted[cell] += weight(p);
    }
    const precision = counts.tp / (counts.tp + counts.fp);
    const recall = counts.tp / (counts.tp + counts.fn);
    const wRecall = weighted.tp / (weighted.tp + weighted.fn);
    console.log(
      `merge pairs: ${fixture.pairs.length} checked, tp ${counts.tp}, fp ${counts.fp}, fn ${counts.fn}, ` +
        `precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)} (population-weighted ${wRecall.toFixed(3)})`,
    );
    expect(fixture.pairs.filter((p) => p.sample === 'merged')).toHaveLength(100);
    expect(fixture.pairs.filter((p) => p.sample === 'near')).toHaveLength(100);
    // Conservative: a wrong merge costs more than a missed one.
    expect(precision).toBeGreaterThanOrEqual(0.97);
    expect(recall).toBeGreaterThanOrEqual(0.9);
    expect(wRecall).toBeGreaterThanOrEqual(0.6);
  });
});
