import { describe, expect, it } from 'vitest';
import { principalHeaders } from '../../functions/identity.ts';
import { parseImport } from '../../shared/formats/playlistImport.ts';
import { ARTIST_IDS, call, DJ_IDS, fakeServices, SONG_IDS, SONGS } from './fakes.ts';

/* Routes for matching imported lines, exporting, saving as generated, renaming, and artist/DJ songs. */

type Err = { error: { message: string; field?: string } };
const alice = principalHeaders('alice-oid', 'Alice');
const bob = principalHeaders('bob-oid', 'Bob');

const generated = [0, 2, 4].map((i) => ({
  id: SONG_IDS[i],
  name: SONGS[i],
  artists: [],
  userScore: 0.5,
  songScore: 0.25,
  logProb: { l3: -1, l2: -0.5, l1: -0.25, song: -2 },
}));

describe('POST /songs/match', () => {
  it('matches lines by identity, suggests close names, keeps order and blanks', async () => {
    const s = fakeServices();
    const r = await call(s, 'matchSongs', { body: { queries: ['beta - two', 'Alpha - Nope', '  '] } });
    expect(r.status).toBe(200);
    const items = (r.body as { items: { query: string; song: { id: string } | null; suggestions: { id: string }[] }[] }).items;
    expect(items.map((i) => i.query)).toEqual(['beta - two', 'Alpha - Nope', '  ']);
    expect(items[0].song?.id).toBe(SONG_IDS[1]);
    expect(items[0].suggestions).toEqual([]);
    expect(items[1].song).toBeNull();
    expect(items[2].song).toBeNull();
    expect((await call(s, 'matchSongs', { body: { queries: [] } })).status).toBe(400);
    const tooMany = await call(s, 'matchSongs', { body: { queries: Array(1001).fill('a - b') } });
    expect((tooMany.body as Err).error.field).toBe('queries');
  });
});

describe('POST /tracklists/export', () => {
  it('exports an unsaved tracklist with names looked up again, as a named attachment', async () => {
    const s = fakeServices();
    const r = await call(s, 'exportTracklist', {
      query: { format: 'csv' },
      body: { name: 'Sunset set', tracklist: generated.map((g) => ({ ...g, name: 'forged name' })) },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename="sunset-set\.csv"/);
    const rows = r.text!.trim().split('\r\n');
    expect(rows).toHaveLength(4);
    expect(rows[1]).toContain('Alpha');
    expect(r.text).not.toContain('forged');
    const back = parseImport(r.text!, { fileName: 'x.csv' });
    expect(back.entries.map((e) => e.text)).toEqual([SONGS[0], SONGS[2], SONGS[4]]);
  });

  it('names a bad format, an unknown song and an empty list', async () => {
    const s = fakeServices();
    const format = await call(s, 'exportTracklist', { query: { format: 'mp3' }, body: { tracklist: generated } });
    expect((format.body as Err).error.field).toBe('format');
    const unknown = await call(s, 'exportTracklist', {
      query: { format: 'txt' },
      body: { tracklist: [generated[0], { id: 's000000000000' }] },
    });
    expect(unknown.status).toBe(400);
    expect((unknown.body as Err).error.field).toBe('tracklist[1].id');
    const empty = await call(s, 'exportTracklist', { query: { format: 'txt' }, body: { tracklist: [] } });
    expect((empty.body as Err).error.field).toBe('tracklist');
  });
});

describe('saved tracklists: as generated, renamed, exported', () => {
  it('saves the given list without generating, renames it and exports it for its owner only', async () => {
    const s = fakeServices();
    const saved = await call(s, 'createMyTracklist', {
      headers: alice,
      body: { seedSong: SONG_IDS[0], length: 2, name: 'Warm-up', tracklist: generated },
    });
    expect(saved.status).toBe(201);
    expect(s.model.model!.calls.filter((c) => c.method === 'generate')).toHaveLength(0);
    const doc = saved.body as { id: string; name: string; tracklist: { id: string; userScore: number }[] };
    expect(doc.name).toBe('Warm-up');
    expect(doc.tracklist.map((t) => t.id)).toEqual(generated.map((g) => g.id));
    expect(doc.tracklist[0].userScore).toBe(0.5);

    const renamed = await call(s, 'renameMyTracklist', { headers: alice, params: { id: doc.id }, body: { name: 'Peak' } });
    expect((renamed.body as { name: string }).name).toBe('Peak');
    expect((await call(s, 'renameMyTracklist', { headers: bob, params: { id: doc.id }, body: { name: 'x' } })).status).toBe(404);
    expect(((await call(s, 'renameMyTracklist', { headers: alice, params: { id: doc.id }, body: {} })).body as Err).error.field).toBe('name');
    const list = await call(s, 'listMyTracklists', { headers: alice });
    expect((list.body as { items: { name: string; seedSong: string }[] }).items[0]).toMatchObject({ name: 'Peak', seedSong: SONG_IDS[0] });

    const m3u = await call(s, 'exportMyTracklist', { headers: alice, params: { id: doc.id }, query: { format: 'm3u8' } });
    expect(m3u.status).toBe(200);
    expect(m3u.text!.split('\n').filter((l) => l.startsWith('#EXTINF'))).toHaveLength(3);
    expect(m3u.text).toContain('#PLAYLIST:Peak');
    expect(m3u.headers.get('cache-control')).toBe('private, no-store');
    expect((await call(s, 'exportMyTracklist', { headers: bob, params: { id: doc.id }, query: { format: 'm3u8' } })).status).toBe(404);
    expect((await call(s, 'exportMyTracklist', { params: { id: doc.id }, query: { format: 'm3u8' } })).status).toBe(401);
  });
});

describe('generation with a fixed prefix and exclusions (re-roll)', () => {
  it('maps prefix and exclude ids to indices and names an unknown one', async () => {
    const s = fakeServices();
    const ok = await call(s, 'generateTracklist', {
      body: { seedSong: SONG_IDS[0], length: 3, prefix: [SONG_IDS[1]], exclude: [SONG_IDS[3], SONG_IDS[4]] },
    });
    expect(ok.status).toBe(200);
    expect(s.model.model!.calls.at(-1)!.args[0]).toMatchObject({ prefix: [1], exclude: [3, 4] });
    const bad = await call(s, 'generateTracklist', { body: { seedSong: SONG_IDS[0], exclude: [SONG_IDS[1], 'nope'] } });
    expect(bad.status).toBe(400);
    expect((bad.body as Err).error.field).toBe('exclude[1]');
  });
});

describe('artist and DJ pages', () => {
  it('details carry song counts; their songs are ranked lists', async () => {
    const s = fakeServices();
    expect((await call(s, 'getArtist', { params: { id: ARTIST_IDS[2] } })).body).toMatchObject({ songs: 1 });
    const songs = await call(s, 'artistSongs', { params: { id: ARTIST_IDS[2] }, query: { k: '5' } });
    expect((songs.body as { items: { id: string }[] }).items.map((i) => i.id)).toEqual([SONG_IDS[2]]);
    expect((await call(s, 'getDj', { params: { id: DJ_IDS[0] } })).body).toMatchObject({ songs: SONGS.length });
    const dj = await call(s, 'djSongs', { params: { id: DJ_IDS[0] }, query: { k: '2' } });
    expect((dj.body as { items: unknown[] }).items).toHaveLength(2);
    expect((await call(s, 'djSongs', { params: { id: 'd000000000000' } })).status).toBe(404);
  });
});
