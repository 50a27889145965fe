import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { synthesize, truthPath, writeSynth } from '../../shared/corpus/synth.ts';
import { dayNumber, loadTruth, modelOf } from '../../shared/corpus/oracle.ts';
import { validateTracklist } from '../../shared/corpus/jsonl.ts';
import { normalizeName, parseTrack } from '../../shared/corpus/trackString.ts';
import { tempDir } from '../tempDirs.ts';

const tiny = synthesize('tiny', 11);
const small = synthesize('small', 3);

/** Song ids of a set's tracks, −1 for gaps. */
function ids(result: typeof tiny, tracks: unknown[]): number[] {
  const model = modelOf(result.truth);
  return tracks.map((t) => model.song(t as string) ?? -1);
}

describe('synthesize', () => {
  it('is deterministic in (profile, seed) and changes with the seed', () => {
    const again = synthesize('tiny', 11);
    expect(JSON.stringify(again.tracklists)).toBe(JSON.stringify(tiny.tracklists));
    expect(JSON.stringify(again.truth)).toBe(JSON.stringify(tiny.truth));
    const other = synthesize('tiny', 12);
    expect(JSON.stringify(other.tracklists)).not.toBe(JSON.stringify(tiny.tracklists));
    expect(other.truth.songs).not.toEqual(tiny.truth.songs);
  });

  it('tiny is a few hundred sets', () => {
    const r = synthesize('tiny', 5);
    expect(r.tracklists.length).toBeGreaterThan(150);
    expect(r.tracklists.length).toBeLessThan(800);
  });

  it('respects release dates, never repeats a song in a set, and keeps set lengths in 10–30', () => {
    for (const r of [tiny, small]) {
      expect(r.tracklists.length).toBeGreaterThan(0);
      for (const t of r.tracklists) {
        expect(t.tracks.length).toBeGreaterThanOrEqual(10);
        expect(t.tracks.length).toBeLessThanOrEqual(30);
        const day = dayNumber(t.date!);
        const songs = ids(r, t.tracks).filter((i) => i >= 0);
        expect(new Set(songs).size).toBe(songs.length);
        for (const s of songs) expect(r.truth.songRelease[s]).toBeLessThanOrEqual(day);
      }
    }
  });

  it('dates span several years and some songs were released inside that span', () => {
    const days = small.tracklists.map((t) => dayNumber(t.date!));
    expect((Math.max(...days) - Math.min(...days)) / 365).toBeGreaterThan(4);
    const first = Math.min(...days);
    expect(small.truth.songRelease.filter((d) => d > first).length).toBeGreaterThan(
      small.truth.songs.length / 3,
    );
  });

  it('contains every kind of record and gap, b2b sets and non-ASCII names', () => {
    const tracks = small.tracklists.flatMap((t) => t.tracks as string[]);
    const count = (re: RegExp): number => tracks.filter((t) => re.test(t)).length;
    expect(count(/ \(Acappella\)$/)).toBeGreaterThan(10);
    expect(count(/ vs\. .* - .* vs\. .* Mashup\)$/)).toBeGreaterThan(10);
    expect(count(/ Remix\)$/)).toBeGreaterThan(100);
    expect(count(/ Edit\)$/)).toBeGreaterThan(10);
    expect(count(/ VIP\)$/)).toBeGreaterThan(5);
    expect(count(/ Bootleg\)$/)).toBeGreaterThan(5);
    expect(count(/ \(Extended Mix\)$/)).toBeGreaterThan(10);
    expect(count(/ ft\. /)).toBeGreaterThan(100);
    expect(count(/^[^-]+ & [^-]+ - /)).toBeGreaterThan(100);
    expect(count(/^ID - ID$/)).toBeGreaterThan(100);
    expect(count(/^(?!ID - ).+ - ID$/)).toBeGreaterThan(100);
    expect(small.tracklists.filter((t) => t.djs.length === 2).length).toBeGreaterThan(20);
    expect(small.truth.artists.filter((a) => /[^\x20-\x7e]/.test(a)).length).toBeGreaterThan(20);
  });

  it('has long-tailed popularity: the top 10 % of played songs take over 40 % of plays', () => {
    const plays = new Map<number, number>();
    for (const t of small.tracklists)
      for (const s of ids(small, t.tracks)) if (s >= 0) plays.set(s, (plays.get(s) ?? 0) + 1);
    const counts = [...plays.values()].sort((a, b) => b - a);
    const total = counts.reduce((a, b) => a + b, 0);
    const top = counts.slice(0, Math.ceil(counts.length / 10)).reduce((a, b) => a + b, 0);
    expect(top / total).toBeGreaterThan(0.4);
    // A tail too: many songs are played once or never.
    expect(counts.filter((c) => c === 1).length).toBeGreaterThan(counts.length / 10);
  });

  it('plants the hierarchy: sets move within scenes and subgenres, artists mostly in one scene', () => {
    const { truth } = small;
    let pairs = 0;
    let sameScene = 0;
    let sameSub = 0;
    for (const t of small.tracklists) {
      const s = ids(small, t.tracks);
      for (let i = 1; i < s.length; i++) {
        if (s[i] < 0 || s[i - 1] < 0) continue;
        pairs++;
        const [a, b] = [truth.songCluster[truth.songs[s[i - 1]]], truth.songCluster[truth.songs[s[i]]]];
        if (a[0] === b[0]) sameScene++;
        if (a[1] === b[1]) sameSub++;
      }
    }
    expect(sameScene / pairs).toBeGreaterThan(0.6);
    expect(sameSub / pairs).toBeGreaterThan(0.85);
    // An artist's main-credit songs sit mostly in their home scene's subgenre.
    let home = 0;
    let all = 0;
    truth.songCredits.forEach((credits, song) => {
      const a = credits[0];
      all++;
      if (truth.scenes[truth.artistScene[a]][1] === truth.scenes[truth.songScene[song]][1]) home++;
    });
    expect(home / all).toBeGreaterThan(0.6);
    // DJs' tastes concentrate on a few scenes.
    for (const d of truth.djs) expect(d.taste.length).toBeLessThanOrEqual(6);
  });

  it('has producer DJs who play their own records', () => {
    const { truth } = small;
    const model = modelOf(truth);
    const producers = truth.djs.filter((d) => d.artist >= 0);
    expect(producers.length).toBeGreaterThan(truth.djs.length / 4);
    for (const d of producers) expect(truth.artists[d.artist]).toBe(d.name);
    let own = 0;
    for (const t of small.tracklists) {
      const djs = t.djs.map((n) => model.dj(n));
      for (const s of ids(small, t.tracks)) if (s >= 0 && djs.some((d) => model.djOwn[d].has(s))) own++;
    }
    expect(own).toBeGreaterThan(50);
  });

  it('truth covers every song with [scene, subgenre, genre] consistent with the taxonomy', () => {
    for (const r of [tiny, small]) {
      const { truth } = r;
      const bad: string[] = [];
      let songs = 0;
      for (const t of r.tracklists)
        for (const track of t.tracks as string[]) {
          if (track === 'ID - ID' || track.endsWith(' - ID')) continue;
          songs++;
          const c = truth.songCluster[track];
          const ok =
            c !== undefined &&
            c.length === 3 &&
            c.every((x) => Number.isInteger(x)) &&
            truth.scenes[c[0]][1] === c[1] &&
            truth.subgenres[c[1]][1] === c[2];
          if (!ok) bad.push(track);
        }
      expect(bad).toEqual([]);
      expect(songs).toBeGreaterThan(1000);
      expect(Object.keys(truth.songCluster)).toEqual(truth.songs);
    }
  });

  it('writes strings the track parser reads as intended', () => {
    const { truth } = small;
    const keys = new Set<string>();
    for (let i = 0; i < truth.songs.length; i++) {
      const text = truth.songs[i];
      const p = parseTrack(text);
      expect(p.kind, text).toBe('song');
      if (p.kind !== 'song') continue;
      expect(keys.has(p.key), `key collision: ${text}`).toBe(false);
      keys.add(p.key);
      const want = truth.songCredits[i].map((a) => normalizeName(truth.artists[a])).sort();
      expect(p.artists.map((a) => a.key).sort(), text).toEqual(want);
      expect(p.acappella, text).toBe(text.endsWith(' (Acappella)'));
      const credit = / \((.+) (?:Remix|Edit|VIP|Bootleg|Mashup)\)$/.exec(text);
      if (credit)
        expect(p.artists.find((a) => a.key === normalizeName(credit[1]))?.role, text).toBe('remixer');
      if (text.includes(' vs. '))
        expect(
          p.artists.some((a) => a.role === 'mashup'),
          text,
        ).toBe(true);
      const feat = / ft\. ([^-]+) - /.exec(text);
      if (feat) expect(p.artists.find((a) => a.key === normalizeName(feat[1]))?.role, text).toBe('featured');
    }
    for (const t of small.tracklists)
      for (const track of t.tracks as string[])
        if (track.endsWith(' - ID')) expect(parseTrack(track).kind, track).toBe('gap');
    // Every song was checked, each under a key of its own.
    expect(keys.size).toBe(truth.songs.length);
  });
});

describe('writeSynth', () => {
  const dir = tempDir('synth-test-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes valid JSONL and a truth sidecar that round-trips', async () => {
    const out = join(dir, 'corpus.jsonl');
    const stats = await writeSynth('tiny', 11, out);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines.length).toBe(tiny.tracklists.length);
    expect(stats.tracklists).toBe(lines.length);
    for (const line of lines) expect(typeof validateTracklist(JSON.parse(line))).toBe('object');
    expect(lines.map((l) => JSON.parse(l))).toEqual(tiny.tracklists);
    expect(truthPath(out)).toBe(join(dir, 'corpus.truth.json'));
    const truth = loadTruth(truthPath(out));
    expect(truth).toEqual(tiny.truth);
    const plays = tiny.tracklists.flatMap((t) => ids(tiny, t.tracks)).filter((s) => s >= 0);
    expect(stats.plays).toBe(plays.length);
    expect(stats.songs).toBe(new Set(plays).size);
    expect(stats.djs).toBe(new Set(tiny.tracklists.flatMap((t) => t.djs)).size);
    expect(stats.artists).toBeGreaterThan(0);
  });
});
