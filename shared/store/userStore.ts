import { randomUUID } from 'node:crypto';
import type { Container, CosmosClient, Database } from '@azure/cosmos';
import { LIMITS } from '../limits.ts';
import { InputError } from '../util/errors.ts';
import { cosmosClient, DEFAULT_COSMOS_TIMEOUT_MS, isLocalEndpoint, type Settings } from './config.ts';

/**
 * Users and their saved tracklists in Cosmos DB (ARCHITECTURE "Cosmos"): container `users`
 * (partition key /id, one document per user holding liked songs by stable song id) and
 * `tracklists` (partition key /userId, so a user's reads never cross into another partition).
 * Every read-modify-write of a user replaces with IfMatch on the ETag and retries on 412.
 */
export interface StoredLike {
  /** Stable song id (contract A: 's' + 12 hex). */
  song: string;
  /** Strength in [0, 1]. */
  score: number;
}

export interface UserDoc {
  id: string;
  name?: string;
  idp?: string;
  createdAt: string;
  updatedAt: string;
  likes: StoredLike[];
}

export interface TracklistDoc {
  id: string;
  userId: string;
  /** Title given by the user; null when unnamed (older documents kept it in request.name). */
  name: string | null;
  createdAt: string;
  request: unknown;
  tracklist: unknown;
  modelVersion: string;
}

export interface LikesPatch {
  add?: StoredLike[];
  remove?: string[];
}

export interface Profile {
  name?: string;
  idp?: string;
}

/** Too many concurrent writers on one user: the update was not applied (HTTP 409/503). */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

const SONG_ID = /^s[0-9a-f]{12}$/;
const FORBIDDEN_ID = /[/\\?#]/;

export interface UserStoreOptions {
  /** Database name (COSMOS_DATABASE; default `tracklist`). */
  database?: string;
  /**
   * Create the database and containers when missing: for the local server only. In Azure they
   * are created by Bicep, and the app's data-plane role cannot create them.
   */
  createIfMissing?: boolean;
  /** Read–modify–replace attempts before a ConflictError (default 25). */
  maxAttempts?: number;
  /** Largest backoff between attempts in ms (default 400); the first is a few ms, all jittered. */
  maxBackoffMs?: number;
  /** Deadline of one operation, every request and retry in it (COSMOS_TIMEOUT_MS; default 5000). */
  timeoutMs?: number;
}

type Containers = { users: Container; tracklists: Container };

function statusOf(e: unknown): number | undefined {
  const code =
    (e as { code?: unknown; statusCode?: unknown }).code ?? (e as { statusCode?: unknown }).statusCode;
  return typeof code === 'number' ? code : undefined;
}

function checkId(value: unknown, field: string): string {
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > 255 ||
    FORBIDDEN_ID.test(value) ||
    value.trim() !== value
  )
    throw new InputError(
      `${field} must be a non-empty string of at most 255 characters without / \\ ? #`,
      field,
    );
  return value;
}

/** Validates likes, keeping the last score for a song given twice. */
function checkStoredLikes(likes: unknown, field: string): StoredLike[] {
  if (!Array.isArray(likes)) throw new InputError(`${field} must be an array of {song, score}`, field);
  const bySong = new Map<string, number>();
  likes.forEach((like: unknown, i) => {
    const { song, score } = (like ?? {}) as { song?: unknown; score?: unknown };
    if (typeof song !== 'string' || !SONG_ID.test(song))
      throw new InputError(`${field}[${i}].song must be a song id ('s' + 12 hex digits)`, field);
    if (typeof score !== 'number' || !Number.isFinite(score) || score < 0 || score > 1)
      throw new InputError(`${field}[${i}].score must be a number between 0 and 1`, field);
    bySong.delete(song);
    bySong.set(song, score);
  });
  return [...bySong].map(([song, score]) => ({ song, score }));
}

function checkLikeCount(likes: StoredLike[]): StoredLike[] {
  if (likes.length > LIMITS.likes)
    throw new InputError(
      `a user can like at most ${LIMITS.likes} songs (would have ${likes.length})`,
      'likes',
    );
  return likes;
}

/** The stored fields only (no _etag, _rid, _ts …). */
function userOf(doc: UserDoc): UserDoc {
  return {
    id: doc.id,
    ...(doc.name !== undefined ? { name: doc.name } : {}),
    ...(doc.idp !== undefined ? { idp: doc.idp } : {}),
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    likes: (doc.likes ?? []).map((l) => ({ song: l.song, score: l.score })),
  };
}

function nameOf(doc: TracklistDoc): string | null {
  if (typeof doc.name === 'string') return doc.name;
  const legacy = (doc.request as { name?: unknown } | null)?.name;
  return doc.name === undefined && typeof legacy === 'string' ? legacy : null;
}

function checkName(name: unknown): string | null {
  if (name === null) return null;
  if (typeof name !== 'string' || name.trim() === '' || name.length > LIMITS.tracklistName)
    throw new InputError(`name must be 1 to ${LIMITS.tracklistName} characters, or null`, 'name');
  return name.trim();
}

function tracklistOf(doc: TracklistDoc): TracklistDoc {
  return {
    id: doc.id,
    userId: doc.userId,
    name: nameOf(doc),
    createdAt: doc.createdAt,
    request: doc.request,
    tracklist: doc.tracklist,
    modelVersion: doc.modelVersion,
  };
}

function withProfile(doc: UserDoc, profile: Profile | undefined): UserDoc {
  if (profile?.name !== undefined) doc.name = profile.name;
  if (profile?.idp !== undefined) doc.idp = profile.idp;
  return doc;
}

export class UserStore {
  private readonly client: CosmosClient;
  private readonly databaseId: string;
  private readonly createIfMissing: boolean;
  private readonly maxAttempts: number;
  private readonly maxBackoffMs: number;
  private readonly timeoutMs: number;
  private containers: Promise<Containers> | null = null;

  constructor(client: CosmosClient, options: UserStoreOptions = {}) {
    this.client = client;
    this.databaseId = options.database ?? 'tracklist';
    this.createIfMissing = options.createIfMissing ?? false;
    this.maxAttempts = options.maxAttempts ?? 25;
    this.maxBackoffMs = options.maxBackoffMs ?? 400;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_COSMOS_TIMEOUT_MS;
  }

  static fromSettings(settings: Settings): UserStore {
    return new UserStore(cosmosClient(settings), {
      database: settings.cosmosDatabase,
      createIfMissing: isLocalEndpoint(settings.cosmosEndpoint),
      timeoutMs: settings.cosmosTimeoutMs,
    });
  }

  /** The two containers, resolved (and locally created) once, on first use. */
  private ready(signal: AbortSignal): Promise<Containers> {
    this.containers ??= this.open(signal).catch((e: unknown) => {
      this.containers = null;
      throw e;
    });
    return this.containers;
  }

  private async open(signal: AbortSignal): Promise<Containers> {
    if (!this.createIfMissing) {
      const database = this.client.database(this.databaseId);
      return { users: database.container('users'), tracklists: database.container('tracklists') };
    }
    // createIfNotExists reads, then creates: another process (or a store after a restart) may
    // create in between (409), and then the next read finds it.
    const once = async <T>(f: () => Promise<T>): Promise<T> => {
      try {
        return await f();
      } catch (e) {
        if (statusOf(e) !== 409) throw e;
        return f();
      }
    };
    const { database } = await once(() =>
      this.client.databases.createIfNotExists({ id: this.databaseId }, { abortSignal: signal }),
    );
    const create = async (db: Database, id: string, path: string): Promise<Container> =>
      (
        await once(() =>
          db.containers.createIfNotExists({ id, partitionKey: { paths: [path] } }, { abortSignal: signal }),
        )
      ).container;
    return {
      users: await create(database, 'users', '/id'),
      tracklists: await create(database, 'tracklists', '/userId'),
    };
  }

  /**
   * Runs one operation under its deadline (an abort signal every request gets; past it the SDK
   * throws AbortError, a transient error: HTTP 503). Locally, a server that lost the database (a
   * restarted emulator keeps nothing; it answers 404 or 500 for the old containers) gets it created
   * again and the operation runs once more, instead of failing until this process restarts.
   */
  private async run<T>(op: (c: Containers, signal: AbortSignal) => Promise<T>): Promise<T> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    const opened = this.ready(signal);
    try {
      return await op(await opened, signal);
    } catch (e) {
      const status = statusOf(e);
      if (!this.createIfMissing || (status !== 404 && status !== 500) || signal.aborted) throw e;
      // Concurrent operations that hit the same loss open the database once between them.
      if (this.containers === opened) this.containers = null;
      return await op(await this.ready(signal), signal);
    }
  }

  private backoff(attempt: number): Promise<void> {
    // Full jitter: uniform in [0, min(cap, 5 ms · 2^attempt)].
    const ms = Math.random() * Math.min(this.maxBackoffMs, 5 * 2 ** attempt);
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  async getUser(id: string): Promise<UserDoc | null> {
    checkId(id, 'userId');
    return this.run(async ({ users }, abortSignal) => {
      const { resource } = await users.item(id, id).read<UserDoc>({ abortSignal });
      return resource ? userOf(resource) : null;
    });
  }

  /** Replaces the user's likes (creating the user if needed). */
  async putLikes(id: string, likes: StoredLike[], profile?: Profile): Promise<UserDoc> {
    checkId(id, 'userId');
    const next = checkLikeCount(checkStoredLikes(likes, 'likes'));
    return this.run((c, signal) => this.update(c, signal, id, profile, () => next));
  }

  /** Adds (or re-scores) and removes likes by song id, atomically with respect to other writers. */
  async patchLikes(id: string, patch: LikesPatch, profile?: Profile): Promise<UserDoc> {
    checkId(id, 'userId');
    const add = checkStoredLikes(patch.add ?? [], 'add');
    const remove = patch.remove ?? [];
    if (!Array.isArray(remove) || remove.some((s) => typeof s !== 'string'))
      throw new InputError('remove must be an array of song ids', 'remove');
    const removed = new Set(remove);
    const both = add.find((l) => removed.has(l.song));
    if (both) throw new InputError(`song ${both.song} is both added and removed`, 'remove');
    const added = new Map(add.map((l) => [l.song, l.score]));
    return this.run((c, signal) =>
      this.update(c, signal, id, profile, (likes) => {
        const kept = likes.filter((l) => !removed.has(l.song) && !added.has(l.song));
        return checkLikeCount([...kept, ...add]);
      }),
    );
  }

  /**
   * Read–modify–write of one user document: create when absent (409: someone else created it,
   * so retry as an update), otherwise replace with IfMatch on the ETag read (412: someone else
   * wrote in between, so re-read and re-apply after a jittered backoff).
   */
  private async update(
    { users }: Containers,
    abortSignal: AbortSignal,
    id: string,
    profile: Profile | undefined,
    change: (likes: StoredLike[]) => StoredLike[],
  ): Promise<UserDoc> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const { resource, etag } = await users.item(id, id).read<UserDoc>({ abortSignal });
      const now = new Date().toISOString();
      if (!resource) {
        const doc = withProfile({ id, createdAt: now, updatedAt: now, likes: change([]) }, profile);
        try {
          const { resource: created } = await users.items.create(doc, { abortSignal });
          return userOf(created ?? doc);
        } catch (e) {
          if (statusOf(e) !== 409) throw e;
        }
      } else {
        const doc = withProfile({ ...userOf(resource), updatedAt: now }, profile);
        doc.likes = change(doc.likes);
        try {
          const { resource: replaced } = await users
            .item(id, id)
            .replace(doc, { accessCondition: { type: 'IfMatch', condition: etag! }, abortSignal });
          return userOf(replaced ?? doc);
        } catch (e) {
          const status = statusOf(e);
          // 404: deleted in between; the next attempt creates it again.
          if (status !== 412 && status !== 404) throw e;
        }
      }
      await this.backoff(attempt);
    }
    throw new ConflictError(
      `user ${id} was changed concurrently ${this.maxAttempts} times in a row; the update was not applied`,
    );
  }

  /** Deletes the user and every tracklist they saved. */
  async deleteUser(id: string): Promise<{ user: boolean; tracklists: number }> {
    checkId(id, 'userId');
    return this.run(async ({ users, tracklists }, abortSignal) => {
      const removed = await this.deleteTracklistsOf(tracklists, id, abortSignal);
      let user = true;
      try {
        await users.item(id, id).delete({ abortSignal });
      } catch (e) {
        if (statusOf(e) !== 404) throw e;
        user = false;
      }
      // A tracklist saved while the user was being deleted goes too.
      return { user, tracklists: removed + (await this.deleteTracklistsOf(tracklists, id, abortSignal)) };
    });
  }

  private async deleteTracklistsOf(
    tracklists: Container,
    userId: string,
    abortSignal: AbortSignal,
  ): Promise<number> {
    const { resources } = await tracklists.items
      .query<{ id: string }>(
        { query: 'SELECT c.id FROM c WHERE c.userId = @u', parameters: [{ name: '@u', value: userId }] },
        { partitionKey: userId, abortSignal },
      )
      .fetchAll();
    let n = 0;
    for (const { id } of resources) {
      try {
        await tracklists.item(id, userId).delete({ abortSignal });
        n++;
      } catch (e) {
        if (statusOf(e) !== 404) throw e;
      }
    }
    return n;
  }

  async saveTracklist(
    userId: string,
    doc: { name?: string | null; request: unknown; tracklist: unknown; modelVersion: string; id?: string },
  ): Promise<TracklistDoc> {
    checkId(userId, 'userId');
    const id = doc.id === undefined ? randomUUID() : checkId(doc.id, 'id');
    if (typeof doc.modelVersion !== 'string' || !doc.modelVersion)
      throw new InputError('modelVersion is required', 'modelVersion');
    const stored: TracklistDoc = {
      id,
      userId,
      name: checkName(doc.name ?? null),
      createdAt: new Date().toISOString(),
      request: doc.request,
      tracklist: doc.tracklist,
      modelVersion: doc.modelVersion,
    };
    return this.run(async ({ tracklists }, abortSignal) => {
      try {
        await tracklists.items.create(stored, { abortSignal });
      } catch (e) {
        if (statusOf(e) === 409) throw new InputError(`tracklist ${id} already exists`, 'id');
        throw e;
      }
      return stored;
    });
  }

  /** The user's tracklists, newest first. */
  async listTracklists(userId: string, options: { limit?: number } = {}): Promise<TracklistDoc[]> {
    checkId(userId, 'userId');
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new InputError('limit must be an integer in [1, 1000]', 'limit');
    return this.run(async ({ tracklists }, abortSignal) => {
      const { resources } = await tracklists.items
        .query<TracklistDoc>(
          {
            query: 'SELECT TOP @n * FROM c WHERE c.userId = @u ORDER BY c.createdAt DESC',
            parameters: [
              { name: '@n', value: limit },
              { name: '@u', value: userId },
            ],
          },
          { partitionKey: userId, abortSignal },
        )
        .fetchAll();
      return resources.map(tracklistOf);
    });
  }

  /** One tracklist of this user; null when it does not exist or belongs to someone else. */
  async getTracklist(userId: string, id: string): Promise<TracklistDoc | null> {
    checkId(userId, 'userId');
    checkId(id, 'id');
    return this.run(async ({ tracklists }, abortSignal) => {
      const { resource } = await tracklists.item(id, userId).read<TracklistDoc>({ abortSignal });
      return resource && resource.userId === userId ? tracklistOf(resource) : null;
    });
  }

  /**
   * Renames one of the user's tracklists (null clears the name); null when it does not exist.
   * Replaced with IfMatch on the ETag read, so a concurrent rename is retried rather than lost.
   */
  async renameTracklist(userId: string, id: string, name: string | null): Promise<TracklistDoc | null> {
    checkId(userId, 'userId');
    checkId(id, 'id');
    const next = checkName(name);
    return this.run(async ({ tracklists }, abortSignal) => {
      for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
        const { resource, etag } = await tracklists.item(id, userId).read<TracklistDoc>({ abortSignal });
        if (!resource || resource.userId !== userId) return null;
        const doc = { ...tracklistOf(resource), name: next };
        try {
          await tracklists
            .item(id, userId)
            .replace(doc, { accessCondition: { type: 'IfMatch', condition: etag! }, abortSignal });
          return doc;
        } catch (e) {
          const status = statusOf(e);
          if (status === 404) return null;
          if (status !== 412) throw e;
        }
        await this.backoff(attempt);
      }
      throw new ConflictError(`tracklist ${id} was changed concurrently ${this.maxAttempts} times in a row`);
    });
  }

  async deleteTracklist(userId: string, id: string): Promise<boolean> {
    checkId(userId, 'userId');
    checkId(id, 'id');
    return this.run(async ({ tracklists }, abortSignal) => {
      try {
        await tracklists.item(id, userId).delete({ abortSignal });
        return true;
      } catch (e) {
        if (statusOf(e) === 404) return false;
        throw e;
      }
    });
  }
}
