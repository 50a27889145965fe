import { describe, expect, it } from 'vitest';
import { CorsPolicy } from '../../functions/cors.ts';
import { MAX_BODY_BYTES } from '../../functions/http.ts';
import { principalHeaders } from '../../functions/identity.ts';
import { routes } from '../../functions/routes.ts';
import { InputError } from '../../shared/util/errors.ts';
import { ConflictError } from '../../shared/store/userStore.ts';
import { call, DJ_IDS, FakeModel, fakeServices, SONG_IDS, SONGS, ARTIST_IDS } from './fakes.ts';

type Err = { error: { message: string; field?: string; [k: string]: unknown } };
type Items = { items: { id: string; name: string; score: number; artists?: unknown[] }[] };

const alice = principalHeaders('alice-oid', 'Alice');
const bob = principalHeaders('bob-oid', 'Bob');

describe('route table', () => {
  it('holds every endpoint of the API once, with unique function names', () => {
    const seen = routes.flatMap((r) => r.methods.map((m) => `${m} ${r.route}`));
    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(routes.map((r) => r.name)).size).toBe(routes.length);
    for (const name of routes.map((r) => r.name)) expect(name).toMatch(/^[A-Za-z][A-Za-z0-9_-]*$/);
    for (const endpoint of [
      'GET health',
      'GET songs',
      'GET songs/{id}',
      'GET songs/{id}/similar',
      'GET djs',
      'GET djs/{id}/recommendations',
      'GET djs/{id}/similar',
      'GET artists',
      'GET artists/{id}/similar',
      'POST tracklists',
      'GET me',
      'PUT me/preferences',
      'PATCH me/preferences',
      'DELETE me',
      'GET me/recommendations',
      'POST me/tracklists',
      'GET me/tracklists',
      'GET me/tracklists/{id}',
      'DELETE me/tracklists/{id}',
      'GET openapi.json',
      'GET session',
      'POST songs/match',
      'POST tracklists/export',
      'PATCH me/tracklists/{id}',
      'GET me/tracklists/{id}/export',
      'GET artists/{id}/songs',
      'GET djs/{id}/songs',
    ])
      expect(seen).toContain(endpoint);
    for (const r of routes)
      expect(r.auth, r.name).toBe(
        r.route === 'me' || r.route.startsWith('me/') ? 'user' : r.route === 'session' ? 'optional' : 'public',
      );
  });
});

describe('session', () => {
  it('says who is signed in without ever answering 401, and only from trusted headers', async () => {
    const s = fakeServices();
    expect((await call(s, 'getSession')).body).toEqual({ user: null });
    const me = await call(s, 'getSession', { headers: alice });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ user: { id: 'alice-oid', name: 'Alice', identityProvider: 'aad' } });
    expect(me.headers.get('cache-control')).toBe('private, no-store');
    expect((await call(s, 'getSession', { headers: alice, trusted: false })).body).toEqual({ user: null });
  });
});

describe('catalogue handlers', () => {
  it('health reports the served version', async () => {
    const s = fakeServices();
    const r = await call(s, 'health');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'ok', model: { version: 'v-test' } });
    expect(s.model.gets).toBeGreaterThan(0); // health starts loading
  });

  it('health without a model says why with a 503 (not ready), and model endpoints answer 503', async () => {
    const s = fakeServices(null);
    const health = await call(s, 'health');
    // A readiness probe: no model, no traffic. The body is the same Health document.
    expect(health.status).toBe(503);
    expect(health.headers.get('retry-after')).toBeTruthy();
    expect(health.body).toMatchObject({
      status: 'degraded',
      model: null,
      error: expect.stringContaining('published'),
    });
    const r = await call(s, 'searchSongs', { query: { q: 'alpha' } });
    expect(r.status).toBe(503);
    expect((r.body as Err).error.message).toMatch(/no model available/);
    expect(r.headers.get('retry-after')).toBeTruthy();
  });

  it('searches songs with ids, names and artists; q and limit are checked', async () => {
    const s = fakeServices();
    const r = await call(s, 'searchSongs', { query: { q: 'gamma', limit: '5' } });
    expect(r.status).toBe(200);
    const items = (r.body as Items).items;
    expect(items[0]).toMatchObject({
      id: SONG_IDS[2],
      name: SONGS[2],
      artists: [{ id: ARTIST_IDS[2], name: 'Gamma' }],
    });
    expect(s.model.model!.calls.at(-1)).toEqual({ method: 'search', args: ['songs', 'gamma', 5] });

    for (const [query, field] of [
      [{}, 'q'],
      [{ q: '   ' }, 'q'],
      [{ q: 'a', limit: '0' }, 'limit'],
      [{ q: 'a', limit: '101' }, 'limit'],
      [{ q: 'a', limit: 'ten' }, 'limit'],
      [{ q: 'x'.repeat(201) }, 'q'],
    ] as const) {
      const bad = await call(s, 'searchSongs', { query });
      expect(bad.status, JSON.stringify(query)).toBe(400);
      expect((bad.body as Err).error.field).toBe(field);
    }
  });

  it('finds a song by id; an unknown id is a 404, with suggestions when it looks like a name', async () => {
    const s = fakeServices();
    const ok = await call(s, 'getSong', { params: { id: SONG_IDS[1] } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ id: SONG_IDS[1], name: SONGS[1], plays: 9, acappella: false });
    const missing = await call(s, 'getSong', { params: { id: 's000000000000' } });
    expect(missing.status).toBe(404);
    expect((missing.body as Err).error).toMatchObject({ field: 'id' });
    expect((missing.body as Err).error.suggestions).toBeUndefined();
    const byName = await call(s, 'getSong', { params: { id: 'Beta' } });
    expect(byName.status).toBe(404);
    expect((byName.body as Err).error.suggestions).toEqual([{ id: SONG_IDS[1], name: SONGS[1] }]);
  });

  it('similar songs, artists and DJs, and DJ recommendations map ids to indices; k is bounded', async () => {
    const s = fakeServices();
    const m = s.model.model!;
    const songs = await call(s, 'similarSongs', { params: { id: SONG_IDS[3] }, query: { k: '2' } });
    expect(songs.status).toBe(200);
    expect(m.calls.at(-1)).toEqual({ method: 'similarSongs', args: [3, 2] });
    expect((songs.body as Items).items.map((x) => x.id)).toEqual([SONG_IDS[0], SONG_IDS[1]]);
    expect((songs.body as Items).items[0].artists).toBeDefined();

    const artists = await call(s, 'similarArtists', { params: { id: ARTIST_IDS[0] } });
    expect(m.calls.at(-1)).toEqual({ method: 'similarArtists', args: [0, 10] });
    expect((artists.body as Items).items[0]).toEqual({ id: ARTIST_IDS[1], name: 'Beta', score: 0.9 });

    const djs = await call(s, 'similarDjs', { params: { id: DJ_IDS[1] }, query: { k: '1' } });
    expect((djs.body as Items).items).toEqual([{ id: DJ_IDS[0], name: 'DJ Red', score: 1 }]);

    const recs = await call(s, 'djRecommendations', { params: { id: DJ_IDS[0] }, query: { k: '500' } });
    expect(recs.status).toBe(200);
    expect(m.calls.at(-1)).toEqual({ method: 'recommendForDj', args: [0, 500] });

    for (const k of ['0', '501', '1.5', '-3']) {
      const bad = await call(s, 'djRecommendations', { params: { id: DJ_IDS[0] }, query: { k } });
      expect(bad.status, k).toBe(400);
      expect((bad.body as Err).error.field).toBe('k');
    }
    expect((await call(s, 'similarDjs', { params: { id: SONG_IDS[0] } })).status).toBe(404); // a song id is no DJ id
  });
});

describe('POST /tracklists', () => {
  const good = { seedSong: SONG_IDS[2], length: 4, rngSeed: 7 };

  it('generates from the seed with ids mapped both ways', async () => {
    const s = fakeServices();
    const r = await call(s, 'generateTracklist', {
      body: {
        ...good,
        dj: DJ_IDS[1],
        userWeighting: 2,
        temperature: [1, 1, 1],
        thresholds: [0.1, 0.05, 0.05, 0.005],
      },
    });
    expect(r.status).toBe(200);
    const body = r.body as {
      tracklist: { id: string; name: string; userScore: number; songScore: number; logProb: unknown }[];
      model: { version: string };
    };
    expect(body.model).toEqual({ version: 'v-test' });
    expect(body.tracklist).toHaveLength(5); // the seed, then `length` songs
    expect(body.tracklist[0]).toMatchObject({
      id: SONG_IDS[2],
      name: SONGS[2],
      userScore: 0.5,
      songScore: 0.25,
    });
    expect(body.tracklist[0].logProb).toEqual({ l3: -1, l2: -1, l1: -1, song: -2 });
    expect(s.model.model!.calls.at(-1)!.args[0]).toEqual({
      seedSong: 2,
      dj: 1,
      likes: undefined,
      length: 4,
      rngSeed: 7,
      userWeighting: 2,
      temperature: [1, 1, 1],
      thresholds: [0.1, 0.05, 0.05, 0.005],
    });
  });

  it('maps likes by id and names the first unknown or repeated one', async () => {
    const s = fakeServices();
    const likes = [
      { song: SONG_IDS[0], score: 1 },
      { song: SONG_IDS[4], score: 0.25 },
    ];
    const ok = await call(s, 'generateTracklist', { body: { ...good, likes } });
    expect(ok.status).toBe(200);
    expect((s.model.model!.calls.at(-1)!.args[0] as { likes: unknown }).likes).toEqual([
      { song: 0, score: 1 },
      { song: 4, score: 0.25 },
    ]);
    const unknown = await call(s, 'generateTracklist', {
      body: {
        ...good,
        likes: [...likes, { song: SONG_IDS[1], score: 1 }, { song: 's999999999999', score: 0.5 }],
      },
    });
    expect(unknown.status).toBe(400);
    expect((unknown.body as Err).error.field).toBe('likes[3].song');
    const twice = await call(s, 'generateTracklist', {
      body: { ...good, likes: [...likes, { song: SONG_IDS[0], score: 0.1 }] },
    });
    expect(twice.status).toBe(400);
    expect((twice.body as Err).error.field).toBe('likes[2].song');
  });

  it('answers 400 naming the field for every kind of bad body', async () => {
    const s = fakeServices();
    const cases: [unknown, string][] = [
      [{ length: 3 }, 'seedSong'],
      [{ ...good, seedSong: 12 }, 'seedSong'],
      [{ ...good, length: 0 }, 'length'],
      [{ ...good, length: 101 }, 'length'],
      [{ ...good, length: 2.5 }, 'length'],
      [{ ...good, userWeighting: -1 }, 'userWeighting'],
      [{ ...good, temperature: 'hot' }, 'temperature'],
      [{ ...good, thresholds: [0.1, 2] }, 'thresholds[1]'],
      [{ ...good, rngSeed: -1 }, 'rngSeed'],
      [{ ...good, likes: [{ song: SONG_IDS[0], score: 1.5 }] }, 'likes[0].score'],
      [{ ...good, likes: [{ song: SONG_IDS[0] }] }, 'likes[0].score'],
      [{ ...good, likes: Array.from({ length: 1001 }, () => ({ song: SONG_IDS[0], score: 1 })) }, 'likes'],
      [{ ...good, seedsong: SONG_IDS[0] }, 'seedsong'],
      [[good], 'body'],
    ];
    for (const [body, field] of cases) {
      const r = await call(s, 'generateTracklist', { body });
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect((r.body as Err).error.field, JSON.stringify(body).slice(0, 80)).toBe(field);
      expect((r.body as Err).error.message).toContain(field);
    }
    expect(s.model.model!.calls.filter((c) => c.method === 'generate')).toHaveLength(0);
  });

  it('invalid JSON and a missing body are 400, an oversized body 413', async () => {
    const s = fakeServices();
    const broken = await call(s, 'generateTracklist', { raw: '{"seedSong": ' });
    expect(broken.status).toBe(400);
    expect((broken.body as Err).error).toMatchObject({
      field: 'body',
      message: expect.stringMatching(/invalid JSON/),
    });
    const empty = await call(s, 'generateTracklist', {});
    expect(empty.status).toBe(400);
    expect((empty.body as Err).error.field).toBe('body');
    const big = await call(s, 'generateTracklist', {
      raw: JSON.stringify({ ...good, pad: 'x'.repeat(MAX_BODY_BYTES) }),
    });
    expect(big.status).toBe(413);
  });

  it('refuses a body that is not application/json with 415, whatever it holds', async () => {
    const s = fakeServices();
    const text = JSON.stringify(good);
    for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const r = await call(s, 'generateTracklist', { raw: text, headers: { 'content-type': type } });
      expect(r.status, type).toBe(415);
      expect((r.body as Err).error).toMatchObject({ field: 'content-type', message: expect.stringContaining('application/json') });
    }
    // No content type at all (fetch with a Blob body) is refused too.
    const untyped = await call(s, 'generateTracklist', { raw: text, headers: { 'content-type': '' } });
    expect(untyped.status).toBe(415);
    expect(s.model.model!.calls.filter((c) => c.method === 'generate')).toHaveLength(0);
    for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/merge-patch+json'])
      expect((await call(s, 'generateTracklist', { raw: text, headers: { 'content-type': type } })).status, type).toBe(200);
  });

  it('an unknown seed or DJ is a 404 naming the field; an InputError from the engine is a 400 with its field', async () => {
    const s = fakeServices();
    const seed = await call(s, 'generateTracklist', { body: { ...good, seedSong: 's000000000000' } });
    expect(seed.status).toBe(404);
    expect((seed.body as Err).error.field).toBe('seedSong');
    const dj = await call(s, 'generateTracklist', { body: { ...good, dj: 'DJ Nobody' } });
    expect(dj.status).toBe(404);
    expect((dj.body as Err).error.field).toBe('dj');
    const schema = await call(s, 'generateTracklist', { body: { ...good, temperature: [1, 2] } });
    expect(schema.status).toBe(400);
    expect((schema.body as Err).error.field).toBe('temperature');
    // The engine's own messages: tests/functions/explainRoute.test.ts, on a real model.
    s.model.model!.failWith = new InputError('a message', 'length');
    const engine = await call(s, 'generateTracklist', { body: good });
    expect(engine.status).toBe(400);
    expect((engine.body as Err).error).toEqual({ message: 'a message', field: 'length' });
  });

  it('a version without a tracklist model answers 503 for generation only', async () => {
    const model = new FakeModel();
    model.hasTracklistModel = false;
    const s = fakeServices(model);
    expect((await call(s, 'generateTracklist', { body: good })).status).toBe(503);
    expect((await call(s, 'getSong', { params: { id: SONG_IDS[0] } })).status).toBe(200);
  });

  it('a bug is a 500 carrying the invocation id, logged with it through context.error', async () => {
    const model = new FakeModel();
    model.failWith = new TypeError('cannot read properties of undefined');
    const s = fakeServices(model);
    const r = await call(s, 'generateTracklist', { body: good });
    expect(r.status).toBe(500);
    expect((r.body as Err).error).toEqual({ message: 'internal error', invocationId: r.invocationId });
    const errors = r.logs.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].text).toContain(r.invocationId);
    expect(errors[0].text).toContain('cannot read properties of undefined');
    // Expected failures are not logged as errors.
    model.failWith = new InputError('bad', 'x');
    const bad = await call(s, 'generateTracklist', { body: good });
    expect(bad.status).toBe(400);
    expect(bad.logs.filter((l) => l.level === 'error')).toHaveLength(0);
  });
});

describe('/me', () => {
  it('needs a principal, and believes identity headers only when trusted', async () => {
    const s = fakeServices();
    for (const name of ['getMe', 'deleteMe', 'myRecommendations', 'listMyTracklists']) {
      const r = await call(s, name);
      expect(r.status, name).toBe(401);
      expect((r.body as Err).error.message).toMatch(/sign-in/);
    }
    const forged = await call(s, 'getMe', { headers: alice, trusted: false });
    expect(forged.status).toBe(401);
    // 401 comes before body validation.
    expect((await call(s, 'putPreferences', { raw: 'not json' })).status).toBe(401);
    const me = await call(s, 'getMe', { headers: alice });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ id: 'alice-oid', name: 'Alice', identityProvider: 'aad', likes: [] });
    expect(me.headers.get('cache-control')).toMatch(/no-store/);
  });

  it('replaces, patches and lists likes by song id with names; unknown ids are 400 naming the place', async () => {
    const s = fakeServices();
    const put = await call(s, 'putPreferences', {
      headers: alice,
      body: {
        likes: [
          { song: SONG_IDS[0], score: 1 },
          { song: SONG_IDS[1], score: 0.5 },
        ],
      },
    });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({
      likes: [
        { song: SONG_IDS[0], score: 1, name: SONGS[0] },
        { song: SONG_IDS[1], score: 0.5, name: SONGS[1] },
      ],
    });
    expect(s.users.users.get('alice-oid')).toMatchObject({ name: 'Alice', idp: 'aad' });
    const bad = await call(s, 'putPreferences', {
      headers: alice,
      body: {
        likes: [
          { song: SONG_IDS[0], score: 1 },
          { song: 'nope', score: 1 },
        ],
      },
    });
    expect(bad.status).toBe(400);
    expect((bad.body as Err).error.field).toBe('likes[1].song');
    const patch = await call(s, 'patchPreferences', {
      headers: alice,
      body: { add: [{ song: SONG_IDS[2], score: 0.75 }], remove: [SONG_IDS[0]] },
    });
    expect(patch.status).toBe(200);
    expect((patch.body as { likes: { song: string }[] }).likes.map((l) => l.song)).toEqual([
      SONG_IDS[1],
      SONG_IDS[2],
    ]);
    const badAdd = await call(s, 'patchPreferences', {
      headers: alice,
      body: { add: [{ song: 'x', score: 1 }] },
    });
    expect((badAdd.body as Err).error.field).toBe('add[0].song');
    const both = await call(s, 'patchPreferences', {
      headers: alice,
      body: { add: [{ song: SONG_IDS[3], score: 1 }], remove: [SONG_IDS[3]] },
    });
    expect(both.status).toBe(400);
    expect((both.body as Err).error.field).toBe('remove');
    const me = await call(s, 'getMe', { headers: alice });
    expect((me.body as { likes: unknown[] }).likes).toHaveLength(2);
  });

  it('recommends and generates from my stored likes, and saves my tracklists', async () => {
    const s = fakeServices();
    const m = s.model.model!;
    expect((await call(s, 'myRecommendations', { headers: alice })).body).toEqual({ items: [] });
    await call(s, 'putPreferences', { headers: alice, body: { likes: [{ song: SONG_IDS[4], score: 0.5 }] } });
    const recs = await call(s, 'myRecommendations', { headers: alice, query: { k: '3' } });
    expect(recs.status).toBe(200);
    expect(m.calls.at(-1)).toEqual({ method: 'recommendForLikes', args: [[{ song: 4, score: 0.5 }], 3] });
    expect((recs.body as Items).items.map((x) => x.id)).not.toContain(SONG_IDS[4]);

    const created = await call(s, 'createMyTracklist', {
      headers: alice,
      body: { seedSong: SONG_IDS[1], length: 3, name: 'Friday' },
    });
    expect(created.status).toBe(201);
    expect((m.calls.at(-1)!.args[0] as { likes: unknown }).likes).toEqual([{ song: 4, score: 0.5 }]);
    const saved = created.body as {
      id: string;
      name: string;
      tracklist: { id: string }[];
      model: { version: string };
    };
    expect(saved).toMatchObject({ name: 'Friday', model: { version: 'v-test' } });
    expect(saved.tracklist[0].id).toBe(SONG_IDS[1]);
    expect(created.headers.get('location')).toBe(`/api/me/tracklists/${saved.id}`);
    expect(
      (await call(s, 'createMyTracklist', { headers: alice, body: { seedSong: SONG_IDS[1], dj: DJ_IDS[0] } }))
        .status,
    ).toBe(400);

    const list = await call(s, 'listMyTracklists', { headers: alice });
    expect(list.body).toEqual({
      items: [
        {
          id: saved.id,
          name: 'Friday',
          createdAt: expect.any(String),
          seedSong: SONG_IDS[1],
          songs: 4,
          model: { version: 'v-test' },
        },
      ],
    });
    const one = await call(s, 'getMyTracklist', { headers: alice, params: { id: saved.id } });
    expect(one.body).toEqual(saved);
    expect((await call(s, 'deleteMyTracklist', { headers: alice, params: { id: saved.id } })).status).toBe(
      204,
    );
    expect((await call(s, 'getMyTracklist', { headers: alice, params: { id: saved.id } })).status).toBe(404);
    expect((await call(s, 'deleteMyTracklist', { headers: alice, params: { id: saved.id } })).status).toBe(
      404,
    );
  });

  it("one user can never read or change another user's data", async () => {
    const s = fakeServices();
    await call(s, 'putPreferences', { headers: alice, body: { likes: [{ song: SONG_IDS[0], score: 1 }] } });
    const saved = (await call(s, 'createMyTracklist', { headers: alice, body: { seedSong: SONG_IDS[0] } }))
      .body as { id: string };

    expect(((await call(s, 'getMe', { headers: bob })).body as { likes: unknown[] }).likes).toEqual([]);
    expect((await call(s, 'getMyTracklist', { headers: bob, params: { id: saved.id } })).status).toBe(404);
    expect((await call(s, 'deleteMyTracklist', { headers: bob, params: { id: saved.id } })).status).toBe(404);
    expect(((await call(s, 'listMyTracklists', { headers: bob })).body as Items).items).toEqual([]);
    await call(s, 'putPreferences', { headers: bob, body: { likes: [{ song: SONG_IDS[3], score: 1 }] } });
    expect((await call(s, 'deleteMe', { headers: bob })).status).toBe(204);
    // A body or query naming alice changes nothing: the id comes from the principal only.
    expect(
      (await call(s, 'putPreferences', { headers: bob, body: { likes: [], id: 'alice-oid' } })).status,
    ).toBe(400);

    expect(s.users.users.get('alice-oid')!.likes).toEqual([{ song: SONG_IDS[0], score: 1 }]);
    expect((await call(s, 'getMyTracklist', { headers: alice, params: { id: saved.id } })).status).toBe(200);
    expect(s.users.users.has('bob-oid')).toBe(false);
  });

  it('DELETE /me removes my likes and tracklists', async () => {
    const s = fakeServices();
    await call(s, 'putPreferences', { headers: alice, body: { likes: [{ song: SONG_IDS[0], score: 1 }] } });
    await call(s, 'createMyTracklist', { headers: alice, body: { seedSong: SONG_IDS[0] } });
    const r = await call(s, 'deleteMe', { headers: alice });
    expect(r.status).toBe(204);
    expect(r.body).toBeUndefined();
    expect(((await call(s, 'getMe', { headers: alice })).body as { likes: unknown[] }).likes).toEqual([]);
    expect(((await call(s, 'listMyTracklists', { headers: alice })).body as Items).items).toEqual([]);
  });

  it('refuses cross-site state changes (CSRF) and lets same-origin and non-browser callers through', async () => {
    const s = fakeServices();
    const likes = { likes: [{ song: SONG_IDS[0], score: 1 }] };
    const cors = new CorsPolicy(new Set(['https://partner.example']));
    const put = (headers: Record<string, string>) => call(s, 'putPreferences', { headers: { ...alice, ...headers }, body: likes, cors });
    // A page on another site posting with the victim's session cookie.
    const refused: Record<string, string>[] = [
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      { origin: 'https://evil.example' },
      { origin: 'null', 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'cross-site' },
      { origin: 'https://sub.localhost', 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of refused) {
      const r = await put(headers);
      expect(r.status, JSON.stringify(headers)).toBe(403);
      expect((r.body as Err).error.field).toBe('origin');
    }
    expect(s.users.users.has('alice-oid')).toBe(false);
    const allowed: Record<string, string>[] = [
      { 'sec-fetch-site': 'same-origin', origin: 'http://localhost' },
      { origin: 'http://localhost' }, // an older browser: Origin only
      {}, // curl, a mobile app with a bearer token
      { origin: 'https://partner.example', 'sec-fetch-site': 'cross-site' }, // listed in CORS_ALLOWED_ORIGINS
    ];
    for (const headers of allowed)
      expect((await put(headers)).status, JSON.stringify(headers)).toBe(200);
    // Reads and public routes are not state changes of a session.
    expect((await call(s, 'getMe', { headers: { ...alice, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } })).status).toBe(200);
    expect((await call(s, 'generateTracklist', { body: { seedSong: SONG_IDS[0] }, headers: { origin: 'https://evil.example' } })).status).toBe(200);
  });

  it('store trouble is a 503 (throttled, unreachable) or 409 (conflict), not a logged 500', async () => {
    const s = fakeServices();
    const fail = (e: unknown) => {
      s.users.getUser = async () => Promise.reject(e);
    };
    const conflict = new ConflictError('user e2e was changed concurrently 25 times in a row');
    for (const [e, status] of [
      [Object.assign(new Error('Request rate is large'), { code: 429 }), 503],
      [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8081'), { code: 'ECONNREFUSED' }), 503],
      // What the Cosmos SDK throws when its request timeout or our deadline fires.
      [Object.assign(new Error('Timeout Error! Request took more than 5000 ms'), { name: 'TimeoutError', code: 'TimeoutError' }), 503],
      [Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' }), 503],
      [Object.assign(new Error('Service Unavailable'), { statusCode: 503 }), 503],
      [conflict, 409],
      [new RangeError('a real bug'), 500],
    ] as const) {
      fail(e);
      const r = await call(s, 'getMe', { headers: alice });
      expect(r.status, e.message).toBe(status);
      if (status === 503) expect(r.headers.get('retry-after'), e.message).toBeTruthy();
      expect(r.logs.filter((l) => l.level === 'error')).toHaveLength(status === 500 ? 1 : 0);
    }
  });

  it('GET /me still lists likes (without names) when no model is available', async () => {
    const s = fakeServices();
    await call(s, 'putPreferences', { headers: alice, body: { likes: [{ song: SONG_IDS[0], score: 1 }] } });
    s.model.model = null;
    const r = await call(s, 'getMe', { headers: alice });
    expect(r.status).toBe(200);
    expect((r.body as { likes: unknown[] }).likes).toEqual([{ song: SONG_IDS[0], score: 1, name: null }]);
  });
});
