import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosmosClient } from '../../shared/store/config.ts';
import { startCosmos, type LocalCosmosService } from '../../shared/store/localServices.ts';
import { LIMITS } from '../../shared/limits.ts';
import { UserStore, type StoredLike } from '../../shared/store/userStore.ts';
import { InputError } from '../../shared/util/errors.ts';

let cosmos: LocalCosmosService;
let store: UserStore;

beforeAll(async () => {
  cosmos = await startCosmos();
  store = new UserStore(cosmosClient({ cosmosEndpoint: cosmos.endpoint, azureClientId: undefined }), {
    database: 'tracklist',
    createIfMissing: true,
  });
});

afterAll(async () => {
  await cosmos?.stop();
});

/** A song id in the contract-A form. */
const song = (n: number): string => 's' + createHash('sha256').update(`song ${n}`).digest('hex').slice(0, 12);

async function inputError(p: Promise<unknown>): Promise<InputError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(InputError);
  return e as InputError;
}

describe('UserStore users', () => {
  it('creates, reads, replaces and patches likes', async () => {
    expect(await store.getUser('u-crud')).toBeNull();
    const created = await store.putLikes(
      'u-crud',
      [
        { song: song(1), score: 1 },
        { song: song(2), score: 0.5 },
      ],
      { name: 'Ann', idp: 'aad' },
    );
    expect(created).toMatchObject({ id: 'u-crud', name: 'Ann', idp: 'aad' });
    expect(created.likes).toEqual([
      { song: song(1), score: 1 },
      { song: song(2), score: 0.5 },
    ]);
    const read = await store.getUser('u-crud');
    expect(read).toEqual(created);
    expect(Object.keys(read!).some((k) => k.startsWith('_'))).toBe(false);

    const replaced = await store.putLikes('u-crud', [{ song: song(3), score: 0.25 }]);
    expect(replaced.likes).toEqual([{ song: song(3), score: 0.25 }]);
    expect(replaced.createdAt).toBe(created.createdAt);
    expect(replaced.name).toBe('Ann');

    const patched = await store.patchLikes('u-crud', {
      add: [
        { song: song(4), score: 0.75 },
        { song: song(3), score: 0.9 },
      ],
    });
    expect(new Map(patched.likes.map((l) => [l.song, l.score]))).toEqual(
      new Map([
        [song(3), 0.9],
        [song(4), 0.75],
      ]),
    );
    const removed = await store.patchLikes('u-crud', { remove: [song(3), song(99)] });
    expect(removed.likes).toEqual([{ song: song(4), score: 0.75 }]);
    expect(await store.getUser('u-crud')).toEqual(removed);
  });

  it('validates likes and the 1,000-like limit', async () => {
    const many: StoredLike[] = Array.from({ length: LIMITS.likes + 1 }, (_, i) => ({
      song: song(i),
      score: 0.5,
    }));
    expect((await inputError(store.putLikes('u-limit', many))).field).toBe('likes');
    expect(await store.getUser('u-limit')).toBeNull();
    await store.putLikes('u-limit', many.slice(0, LIMITS.likes));
    expect((await inputError(store.patchLikes('u-limit', { add: [many[LIMITS.likes]] }))).field).toBe('likes');
    // Re-scoring an existing like does not grow the list.
    const rescored = await store.patchLikes('u-limit', { add: [{ song: many[0].song, score: 1 }] });
    expect(rescored.likes).toHaveLength(LIMITS.likes);

    expect((await inputError(store.putLikes('u-bad', [{ song: 'song-1', score: 0.5 }]))).field).toBe('likes');
    expect((await inputError(store.putLikes('u-bad', [{ song: song(1), score: 1.5 }]))).field).toBe('likes');
    expect((await inputError(store.putLikes('a/b', []))).field).toBe('userId');
    expect(
      (await inputError(store.patchLikes('u-bad', { add: [{ song: song(1), score: 1 }], remove: [song(1)] })))
        .field,
    ).toBe('remove');
  });

  it('keeps every one of 20 concurrent patches (ETag + retry on 412, create race on 409)', async () => {
    const n = 20;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        store.patchLikes('u-race', { add: [{ song: song(1000 + i), score: (i + 1) / n }] }),
      ),
    );
    expect(results).toHaveLength(n);
    const user = await store.getUser('u-race');
    expect(new Set(user!.likes.map((l) => l.song))).toEqual(
      new Set(Array.from({ length: n }, (_, i) => song(1000 + i))),
    );
    // And concurrent removals on top of them.
    await Promise.all(
      Array.from({ length: n / 2 }, (_, i) => store.patchLikes('u-race', { remove: [song(1000 + 2 * i)] })),
    );
    const after = await store.getUser('u-race');
    expect(new Set(after!.likes.map((l) => l.song))).toEqual(
      new Set(Array.from({ length: n / 2 }, (_, i) => song(1001 + 2 * i))),
    );
  });

  it('does not create the database outside local mode', async () => {
    const remote = new UserStore(
      cosmosClient({ cosmosEndpoint: cosmos.endpoint, azureClientId: undefined }),
      {
        database: 'not-provisioned',
      },
    );
    await expect(remote.putLikes('u-1', [])).rejects.toThrow();
    const client = cosmosClient({ cosmosEndpoint: cosmos.endpoint, azureClientId: undefined });
    const { resources } = await client.databases.readAll().fetchAll();
    expect(resources.map((d) => d.id)).toEqual(['tracklist']);
  });
});

describe('UserStore tracklists', () => {
  const body = (n: number): { request: unknown; tracklist: unknown; modelVersion: string } => ({
    request: { seed: song(n), length: 3 },
    tracklist: [song(n), song(n + 1), song(n + 2)],
    modelVersion: 'v1',
  });

  it("saves, lists newest first, reads and deletes a user's tracklists only", async () => {
    const first = await store.saveTracklist('alice', body(1));
    await new Promise((r) => setTimeout(r, 5));
    const second = await store.saveTracklist('alice', body(2));
    const bobs = await store.saveTracklist('bob', body(3));
    expect(first).toMatchObject({ userId: 'alice', modelVersion: 'v1', tracklist: body(1).tracklist });

    expect((await store.listTracklists('alice')).map((t) => t.id)).toEqual([second.id, first.id]);
    expect((await store.listTracklists('alice', { limit: 1 })).map((t) => t.id)).toEqual([second.id]);
    expect((await store.listTracklists('bob')).map((t) => t.id)).toEqual([bobs.id]);
    expect(await store.getTracklist('alice', first.id)).toEqual(first);

    // Bob cannot see or delete Alice's tracklist, even knowing its id.
    expect(await store.getTracklist('bob', first.id)).toBeNull();
    expect(await store.deleteTracklist('bob', first.id)).toBe(false);
    expect(await store.getTracklist('alice', first.id)).toEqual(first);

    expect(await store.deleteTracklist('alice', first.id)).toBe(true);
    expect(await store.getTracklist('alice', first.id)).toBeNull();
    expect(await store.deleteTracklist('alice', first.id)).toBe(false);
  });

  it('renames a tracklist (20 concurrent renames all land on one of their values), never for another user', async () => {
    const saved = await store.saveTracklist('erin', { ...body(20), name: '  Warm-up  ' });
    expect(saved.name).toBe('Warm-up');
    expect(await store.renameTracklist('frank', saved.id, 'Stolen')).toBeNull();
    expect((await store.getTracklist('erin', saved.id))!.name).toBe('Warm-up');
    const names = Array.from({ length: 20 }, (_, i) => `Peak time ${i}`);
    const renamed = await Promise.all(names.map((n) => store.renameTracklist('erin', saved.id, n)));
    expect(renamed.every((r) => r !== null && names.includes(r.name!))).toBe(true);
    const after = await store.getTracklist('erin', saved.id);
    expect(names).toContain(after!.name);
    expect(after!.tracklist).toEqual(saved.tracklist);
    expect((await store.renameTracklist('erin', saved.id, null))!.name).toBeNull();
    expect(await store.renameTracklist('erin', 'no-such-id', 'x')).toBeNull();
    expect((await inputError(store.renameTracklist('erin', saved.id, ' '))).field).toBe('name');
    expect((await inputError(store.renameTracklist('erin', saved.id, 'x'.repeat(201)))).field).toBe('name');
  });

  it("deleteUser removes the user and all their tracklists, nobody else's", async () => {
    await store.putLikes('carol', [{ song: song(1), score: 1 }]);
    for (let i = 0; i < 3; i++) await store.saveTracklist('carol', body(i));
    const dave = await store.saveTracklist('dave', body(9));
    expect(await store.deleteUser('carol')).toEqual({ user: true, tracklists: 3 });
    expect(await store.getUser('carol')).toBeNull();
    expect(await store.listTracklists('carol')).toEqual([]);
    expect(await store.getTracklist('dave', dave.id)).toEqual(dave);
    expect(await store.deleteUser('carol')).toEqual({ user: false, tracklists: 0 });
  });
});
