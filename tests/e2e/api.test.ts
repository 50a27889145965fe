import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principalHeaders } from '../../functions/identity.ts';
import { startLocalStack } from '../../functions/localStack.ts';
import type { LocalStack } from '../../functions/localStack.ts';
import { tempDir } from '../tempDirs.ts';
import { seedTinyDemo, TINY_TRAIN_ARGS } from './tinyModel.ts';

/*
 * End to end through HTTP: the `npm start` stack (functions/localStack.ts) with real Azurite and
 * Cosmos servers on free ports and a tiny model trained once here (`tlgen train --budget fast`,
 * steps capped to keep the file short), exported and published through the Blob registry, then
 * loaded by the ModelProvider behind the local host.
 */

let dir: string;
let stack: LocalStack;
let api: string;

beforeAll(async () => {
  dir = tempDir('tracklist-e2e-');
  await seedTinyDemo(dir);
  stack = await startLocalStack({
    dataDir: dir,
    profile: 'tiny',
    trainArgs: TINY_TRAIN_ARGS,
    persist: false,
    web: false,
    port: 0,
    log: () => undefined,
  });
  api = stack.url;
}, 170_000);

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Json = Record<string, unknown>;
type Item = { id: string; name: string; score: number; artists?: { id: string; name: string }[] };

async function http(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(api + path, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Json & { items: Item[] } };
}

const alice = principalHeaders('e2e-alice', 'Alice');
const bob = principalHeaders('e2e-bob', 'Bob');

describe('API end to end (Azurite + Cosmos server + published tiny model)', () => {
  it('serves the published model', async () => {
    expect(stack.published).toBe(true);
    const health = await http('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', model: { version: stack.model.versionId } });
  });

  it('searches, looks up and finds similar songs, artists and DJs by stable ids', async () => {
    const first = stack.model.song(0);
    const q = first.artists[0].name;
    const search = await http('GET', `/songs?q=${encodeURIComponent(q)}&limit=5`);
    expect(search.status).toBe(200);
    expect(search.body.items.length).toBeGreaterThan(0);
    expect(search.body.items.length).toBeLessThanOrEqual(5);
    const hit = search.body.items[0];
    expect(hit.id).toMatch(/^s[0-9a-f]{12}$/);
    const song = await http('GET', `/songs/${hit.id}`);
    expect(song.body).toMatchObject({ id: hit.id, name: hit.name });
    const similar = await http('GET', `/songs/${hit.id}/similar?k=5`);
    expect(similar.body.items).toHaveLength(5);
    expect(similar.body.items.map((i) => i.id)).not.toContain(hit.id);

    const artist = first.artists[0];
    const artists = await http('GET', `/artists/${artist.id}/similar?k=3`);
    expect(artists.status).toBe(200);
    expect(artists.body.items.map((i) => i.id)).not.toContain(artist.id);
    expect((await http('GET', `/artists?q=${encodeURIComponent(artist.name)}`)).body.items[0].id).toBe(
      artist.id,
    );

    const djName = stack.model.dj(0).name;
    const djs = await http('GET', `/djs?q=${encodeURIComponent(djName)}`);
    const dj = djs.body.items.find((d) => d.name === djName)!;
    expect(dj).toBeDefined();
    const recs = await http('GET', `/djs/${dj.id}/recommendations?k=7`);
    expect(recs.body.items).toHaveLength(7);
    expect(recs.body.items[0].artists).toBeDefined();
    expect((await http('GET', `/djs/${dj.id}/similar?k=2`)).body.items).toHaveLength(2);
    expect((await http('GET', '/songs/s000000000000')).status).toBe(404);
    expect((await http('GET', `/songs/${hit.id}/similar?k=501`)).status).toBe(400);
  });

  it('generates tracklists: seed first, no repeats, reproducible with rngSeed, with a DJ or likes', async () => {
    const seed = stack.model.song(1).id;
    const body = { seedSong: seed, length: 8, rngSeed: 42 };
    const a = await http('POST', '/tracklists', body);
    expect(a.status).toBe(200);
    const list = a.body.tracklist as { id: string; userScore: number; songScore: number; logProb: Json }[];
    expect(list).toHaveLength(9); // the seed, then `length` songs
    expect(list[0].id).toBe(seed);
    expect(new Set(list.map((s) => s.id)).size).toBe(9);
    expect(a.body.model).toEqual({ version: stack.model.versionId });
    for (const s of list) expect(Object.keys(s.logProb).sort()).toEqual(['l1', 'l2', 'l3', 'song']);
    const again = await http('POST', '/tracklists', body);
    expect(again.body.tracklist).toEqual(a.body.tracklist);

    const dj = stack.model.dj(0).id;
    expect((await http('POST', '/tracklists', { ...body, dj })).status).toBe(200);
    const likes = [
      { song: stack.model.song(2).id, score: 1 },
      { song: 's0000000000ff', score: 0.5 },
    ];
    const bad = await http('POST', '/tracklists', { ...body, likes });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ field: 'likes[1].song' });
    const withLikes = await http('POST', '/tracklists', { ...body, likes: likes.slice(0, 1) });
    expect(withLikes.status).toBe(200);
    expect((withLikes.body.tracklist as unknown[]).length).toBe(9);
    expect((await http('POST', '/tracklists', '{"seedSong":')).status).toBe(400);
    expect((await http('POST', '/tracklists', { ...body, length: 101 })).body.error).toMatchObject({
      field: 'length',
    });
  });

  it('keeps each user’s likes and tracklists in Cosmos, private to that user', async () => {
    expect((await http('GET', '/me')).status).toBe(401);
    const liked = [stack.model.song(3).id, stack.model.song(4).id];
    const put = await http(
      'PUT',
      '/me/preferences',
      { likes: liked.map((song) => ({ song, score: 0.8 })) },
      alice,
    );
    expect(put.status).toBe(200);
    const me = await http('GET', '/me', undefined, alice);
    expect(me.body).toMatchObject({ id: 'e2e-alice', name: 'Alice' });
    expect((me.body.likes as { song: string; name: string }[]).map((l) => l.song)).toEqual(liked);
    expect((me.body.likes as { name: string }[])[0].name).toBe(stack.model.song(3).name);

    const recs = await http('GET', '/me/recommendations?k=10', undefined, alice);
    expect(recs.body.items).toHaveLength(10);
    for (const id of liked) expect(recs.body.items.map((i) => i.id)).not.toContain(id);

    const created = await http(
      'POST',
      '/me/tracklists',
      { seedSong: liked[0], length: 5, rngSeed: 3, name: 'mine' },
      alice,
    );
    expect(created.status).toBe(201);
    const saved = created.body as unknown as { id: string; tracklist: { id: string }[] };
    expect(saved.tracklist[0].id).toBe(liked[0]);
    const list = await http('GET', '/me/tracklists', undefined, alice);
    expect(list.body.items.map((i) => i.id)).toEqual([saved.id]);
    expect((await http('GET', `/me/tracklists/${saved.id}`, undefined, alice)).body).toEqual(created.body);

    // Bob sees and changes none of it.
    expect(((await http('GET', '/me', undefined, bob)).body.likes as unknown[]).length).toBe(0);
    expect((await http('GET', `/me/tracklists/${saved.id}`, undefined, bob)).status).toBe(404);
    expect((await http('DELETE', `/me/tracklists/${saved.id}`, undefined, bob)).status).toBe(404);
    expect((await http('GET', '/me/tracklists', undefined, bob)).body.items).toEqual([]);
    expect((await http('DELETE', '/me', undefined, bob)).status).toBe(204);
    expect((await http('GET', `/me/tracklists/${saved.id}`, undefined, alice)).status).toBe(200);

    // Concurrent PATCHes on one user lose nothing (ETag + retry in the store).
    const more = [5, 6, 7, 8, 9, 10].map((i) => stack.model.song(i).id);
    const patches = await Promise.all(
      more.map((song) => http('PATCH', '/me/preferences', { add: [{ song, score: 0.3 }] }, alice)),
    );
    expect(patches.map((p) => p.status)).toEqual(more.map(() => 200));
    const after = await http('GET', '/me', undefined, alice);
    expect(new Set((after.body.likes as { song: string }[]).map((l) => l.song))).toEqual(
      new Set([...liked, ...more]),
    );

    expect((await http('DELETE', '/me', undefined, alice)).status).toBe(204);
    expect(((await http('GET', '/me', undefined, alice)).body.likes as unknown[]).length).toBe(0);
    expect((await http('GET', `/me/tracklists/${saved.id}`, undefined, alice)).status).toBe(404);
  });

  it('serves its OpenAPI document', async () => {
    const doc = await http('GET', '/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths as Json)).toContain('/me/tracklists/{id}');
  });
});
