import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Tracklist } from '../../shared/corpus/types.ts';
import { parseTrack } from '../../shared/corpus/trackString.ts';
import { CatalogueSearch, MAX_QUERY_LENGTH, NameIndex } from '../../shared/model/search.ts';
import { Random } from '../../shared/util/random.ts';
import { teamFolder } from '../../training/teamFolder.ts';

const REALSETS = join(teamFolder(), 'realsets/tracklists.jsonl');

function names(index: NameIndex, query: string, limit = 10): string[] {
  return index.search(query, limit).map((h) => h.name);
}

describe('NameIndex', () => {
  it('ranks exact > whole-name prefix > word prefix > substring, whatever the popularity', () => {
    const list = ['Glove Box', 'Summer Love', 'Lovely Day', 'Love Story', 'Love', 'Nothing Here'];
    // Lower tiers are more popular, so only the tiers can produce this order.
    const index = new NameIndex(list, [50, 40, 30, 20, 1, 100]);
    expect(names(index, 'love')).toEqual(['Love', 'Lovely Day', 'Love Story', 'Summer Love', 'Glove Box']);
    expect(index.search('love', 10).map((h) => Math.floor(h.score))).toEqual([3, 2, 2, 1, 0]);
  });

  it('matches across punctuation: "Artist - Title" equals its words', () => {
    const index = new NameIndex(
      ['Eric Prydz - Opus (Four Tet Remix)', 'Eric Prydz - Opus', 'Opus III - Opus'],
      [9, 1, 5],
    );
    expect(names(index, 'eric prydz opus')).toEqual([
      'Eric Prydz - Opus',
      'Eric Prydz - Opus (Four Tet Remix)',
    ]);
    expect(names(index, 'eric prydz - op')[0]).toBe('Eric Prydz - Opus (Four Tet Remix)');
    expect(names(index, 'ERIC PRYDZ – OPUS')[0]).toBe('Eric Prydz - Opus');
  });

  it('is case- and accent-insensitive', () => {
    const index = new NameIndex(
      ['Beyoncé', 'Röyksopp', 'Sigur Rós', 'Motörhead', 'Ólafur Arnalds'],
      [1, 1, 1, 1, 1],
    );
    expect(names(index, 'beyonce')).toEqual(['Beyoncé']);
    expect(names(index, 'ROYKSOPP')).toEqual(['Röyksopp']);
    expect(names(index, 'Röyksopp')).toEqual(['Röyksopp']);
    expect(names(index, 'sigur ros')).toEqual(['Sigur Rós']);
    expect(names(index, 'olafur')).toEqual(['Ólafur Arnalds']);
    expect(names(index, 'TORHEAD')).toEqual(['Motörhead']);
  });

  it('requires every query word, in any order, as a word prefix or a substring', () => {
    const list = [
      'Eric Prydz - Opus (Four Tet Remix)',
      'Four Tet - Baby',
      'Eric Prydz - Pjanoo',
      'Kanye West - Bound 2 (Sigma Bootleg)',
    ];
    const index = new NameIndex(list, [1, 1, 1, 1]);
    expect(names(index, 'eric prydz opus')).toEqual(['Eric Prydz - Opus (Four Tet Remix)']);
    expect(names(index, 'tet prydz')).toEqual(['Eric Prydz - Opus (Four Tet Remix)']);
    expect(names(index, 'prydz')).toEqual(['Eric Prydz - Pjanoo', 'Eric Prydz - Opus (Four Tet Remix)']);
    // "rydz" and "ootleg" only as substrings.
    expect(names(index, 'rydz anoo')).toEqual(['Eric Prydz - Pjanoo']);
    expect(names(index, 'kanye ootleg')).toEqual(['Kanye West - Bound 2 (Sigma Bootleg)']);
    expect(names(index, 'eric prydz baby')).toEqual([]);
  });

  it('joins words across apostrophes and dots, and splits on & / , ( )', () => {
    const list = ["Don't Stop", 'Remarc - R.I.P.', 'AC/DC', 'Simon & Garfunkel', 'Tyler, The Creator'];
    const index = new NameIndex(list, [1, 1, 1, 1, 1]);
    expect(names(index, 'dont')).toEqual(["Don't Stop"]);
    expect(names(index, "don't stop")).toEqual(["Don't Stop"]);
    expect(names(index, 'rip')).toEqual(['Remarc - R.I.P.']);
    expect(names(index, 'remarc r i p')).toEqual(['Remarc - R.I.P.']);
    expect(names(index, 'dc')).toEqual(['AC/DC']);
    expect(names(index, 'garfunkel simon')).toEqual(['Simon & Garfunkel']);
    expect(names(index, 'creator')).toEqual(['Tyler, The Creator']);
  });

  it('breaks ties by popularity, then shorter name, then index', () => {
    const list = ['Opus Two', 'Opus', 'Opus', 'Opus Three', 'Opus 1', 'Opus X'];
    const index = new NameIndex(list, [5, 1, 1, 5, 5, 9]);
    const hits = index.search('opus', 10);
    // Exact "Opus" (index 1 before the duplicate 2) first; prefix tier: 9, then 5s by length, then index.
    expect(hits.map((h) => h.index)).toEqual([1, 2, 5, 4, 0, 3]);
    for (let i = 1; i < hits.length; i++) expect(hits[i].score).toBeLessThanOrEqual(hits[i - 1].score);
  });

  it('honours the limit and treats missing or odd popularity as 0', () => {
    const list = Array.from({ length: 50 }, (_, i) => `Track ${i}`);
    const index = new NameIndex(list, [NaN, Infinity, -3]);
    expect(index.search('track', 7)).toHaveLength(7);
    expect(index.search('track', 2.9)).toHaveLength(2);
    expect(index.search('track', 1000)).toHaveLength(50);
    expect(index.search('track', 0)).toEqual([]);
    expect(index.search('track', -1)).toEqual([]);
    expect(index.search('track', NaN)).toEqual([]);
    // All popularities count as 0, so shorter names and then indices decide.
    expect(names(index, 'track', 3)).toEqual(['Track 0', 'Track 1', 'Track 2']);
  });

  it('returns [] for empty queries and never throws on odd input', () => {
    const list = [
      'Björk - Army Of Me',
      '🔥 Fire 🔥',
      'What? (.*)',
      'A+B',
      '[Unreleased]',
      'C:\\path',
      'はっぴいえんど',
    ];
    const index = new NameIndex(list, [1, 1, 1, 1, 1, 1, 1]);
    for (const q of ['', '   ', '\t\n', '\u200b']) expect(index.search(q, 5)).toEqual([]);
    const odd = [
      '(.*',
      '.*',
      '[',
      ']',
      '\\',
      '?',
      '*',
      '+',
      '^$',
      '|',
      '\u0000',
      '\ud800',
      '\udfff x',
      '🎵',
      '🔥',
      "'",
      '...',
      'x'.repeat(MAX_QUERY_LENGTH * 10),
      '🔥'.repeat(500),
    ];
    for (const q of odd) expect(() => index.search(q, 5), JSON.stringify(q.slice(0, 20))).not.toThrow();
    expect(names(index, '🔥')).toEqual(['🔥 Fire 🔥']);
    expect(names(index, '(.*')).toEqual(['What? (.*)']);
    expect(names(index, '+')).toEqual(['A+B']);
    expect(names(index, 'えんど')).toEqual(['はっぴいえんど']);
    expect(names(index, 'bjork army')).toEqual(['Björk - Army Of Me']);
    expect(index.search(undefined as unknown as string, 5)).toEqual([]);
    expect(new NameIndex([], []).search('a', 5)).toEqual([]);
  });

  it('agrees with a brute-force reference, including frequent substrings', () => {
    // Few syllables, so short queries hit hundreds of names (the rank-order walk) and long ones few.
    const rng = new Random(11);
    const syl = ['la', 'lo', 'ma', 'mi', 'ra', 'ro', 'ta', 'to', 'na', 'ne', 'ka', 'su'];
    const word = (): string =>
      Array.from(
        { length: 1 + Math.floor(rng.next() * 3) },
        () => syl[Math.floor(rng.next() * syl.length)],
      ).join('');
    const list = Array.from({ length: 3000 }, () => {
      const artist = Array.from({ length: 1 + Math.floor(rng.next() * 2) }, word).join(' ');
      const title = Array.from({ length: 1 + Math.floor(rng.next() * 3) }, word).join(' ');
      return rng.next() < 0.2 ? `${artist} - ${title} (${word()} Remix)` : `${artist} - ${title}`;
    });
    const pop = Array.from(list, () => Math.floor(rng.next() * 5));
    const index = new NameIndex(list, pop);

    const reference = (query: string, limit: number): number[] => {
      const fq = query.toLowerCase().trim();
      const tokens = fq.split(/[^a-z0-9]+/).filter((t) => t !== '');
      const qj = tokens.join(' ');
      const scored: { i: number; tier: number }[] = [];
      list.forEach((name, i) => {
        const f = name.toLowerCase();
        const ws = f.split(/[^a-z0-9]+/).filter((w) => w !== '');
        const j = ws.join(' ');
        let tier: number;
        if (f === fq || j === qj) tier = 0;
        else if (f.startsWith(fq) || j.startsWith(qj)) tier = 1;
        else if (tokens.every((t) => ws.some((w) => w.startsWith(t)))) tier = 2;
        else if (tokens.every((t) => ws.some((w) => w.includes(t)))) tier = 3;
        else return;
        scored.push({ i, tier });
      });
      scored.sort(
        (a, b) => a.tier - b.tier || pop[b.i] - pop[a.i] || list[a.i].length - list[b.i].length || a.i - b.i,
      );
      return scored.slice(0, limit).map((s) => s.i);
    };

    const queries = [
      'la',
      'a',
      'o',
      'ma',
      'ala',
      'aro',
      'la la',
      'a o',
      'lamira',
      'ka su',
      'ne remix',
      'tosu',
      'amima',
    ];
    for (let q = 0; q < 40; q++)
      queries.push(
        list[Math.floor(rng.next() * list.length)].slice(
          Math.floor(rng.next() * 4),
          3 + Math.floor(rng.next() * 12),
        ),
      );
    let checked = 0;
    for (const q of queries) {
      if (q.trim() === '') continue;
      for (const limit of [1, 10, 600]) {
        expect(
          index.search(q, limit).map((h) => h.index),
          `${q} / ${limit}`,
        ).toEqual(reference(q, limit));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });
});

describe('CatalogueSearch', () => {
  it('searches songs, artists and DJs separately', () => {
    const search = new CatalogueSearch(
      {
        songs: ['Eric Prydz - Opus', 'Pryda - Rotonda'],
        artists: ['Eric Prydz', 'Pryda'],
        djs: ['Eric Prydz', 'Annie Mac'],
      },
      { songs: Float32Array.from([3, 2]), artists: [1, 5], djs: [1, 1] },
    );
    expect(search.songs('opus', 5).map((h) => h.name)).toEqual(['Eric Prydz - Opus']);
    expect(search.artists('pryd', 5).map((h) => h.name)).toEqual(['Pryda', 'Eric Prydz']);
    expect(search.djs('annie', 5)).toEqual([{ index: 1, name: 'Annie Mac', score: 2 + 0.5 }]);
    expect(search.djs('rotonda', 5)).toEqual([]);
  });
});

describe('real vocabulary (shared/realsets)', () => {
  it('finds real songs by the words people type', () => {
    expect(existsSync(REALSETS), `missing ${REALSETS}`).toBe(true);
    const plays = new Map<string, number>();
    for (const line of readFileSync(REALSETS, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      for (const raw of (JSON.parse(line) as Tracklist).tracks) {
        const p = parseTrack(raw);
        if (p.kind === 'song') plays.set(p.display, (plays.get(p.display) ?? 0) + 1);
      }
    }
    expect(plays.size).toBeGreaterThan(25_000);
    const index = new NameIndex([...plays.keys()], Float32Array.from(plays.values()));
    const first = (q: string): string | undefined => index.search(q, 5)[0]?.name;
    expect(first('eric prydz opus')).toBe('Eric Prydz - Opus');
    expect(first('opus')).toBe('Eric Prydz - Opus');
    expect(first('four tet opus')).toBe('Eric Prydz - Opus (Four Tet Remix)');
    expect(first('kanye west bound')).toBe('Kanye West - Bound 2 (Sigma Bootleg)');
    expect(first('deadmau5 strobe')).toBe('deadmau5 - Strobe');
    expect(first('skee lo i wish')).toBe('Skee-Lo - I Wish');
    expect(first('Lauryn Hill Doo Wop')).toBe('Lauryn Hill - Doo Wop (That Thing)');
    expect(first('beyonce gonna be')).toBe(
      "Beyonce - What's It Gonna Be (Sam Gellaitry Extended Club Remix)",
    );
    expect(first('BEYONCE DIVA')).toBe('Beyoncé - Diva');
    expect(first('pryda rotonda')).toBe('Pryda - Rotonda');
    expect(index.search('qqqzzzxxx', 5)).toEqual([]);
  });
});
