/**
 * In-memory stand-ins for the served model and the user store, implementing the interfaces the
 * handlers use (functions/services.ts), plus helpers to call a route's handler the way the
 * Functions host does (HttpRequest + InvocationContext).
 */
import { randomUUID } from 'node:crypto';
import azureFunctions from '@azure/functions';
import type { HttpResponseInit, LogLevel } from '@azure/functions';
import { CorsPolicy } from '../../functions/cors.ts';
import { createHttpHandler } from '../../functions/http.ts';
import { Shedding } from '../../functions/shedding.ts';
import type { Route } from '../../functions/http.ts';
import { routes } from '../../functions/routes.ts';
import type {
  GeneratedSong,
  Like,
  ModelStatus,
  Ranked,
  ServedModel,
  Services,
  StoredLike,
  TracklistDoc,
  UserDoc,
  Users,
} from '../../functions/services.ts';
import { artistId, djId, songId } from '../../shared/model/ids.ts';
import type { PublicGenerationDefaults } from '../../shared/model/engine/generateOptions.ts';
import type { SongInfo } from '../../shared/model/serving.ts';
import { InputError } from '../../shared/util/errors.ts';

const { HttpRequest, InvocationContext } = azureFunctions;

export const SONGS = [
  'Alpha - One',
  'Beta - Two',
  'Gamma - Three',
  'Delta - Four',
  'Eps - Five',
  'Zeta - Six',
];
export const ARTISTS = ['Alpha', 'Beta', 'Gamma', 'Delta', 'Eps', 'Zeta'];
export const DJS = ['DJ Red', 'DJ Blue'];
export const SONG_IDS = SONGS.map((s) => songId(s.toLowerCase()));
export const ARTIST_IDS = ARTISTS.map((a) => artistId(a.toLowerCase()));
export const DJ_IDS = DJS.map(djId);

/** Records what the handlers asked the model, so tests can check ids were mapped to indices. */
export class FakeModel implements ServedModel {
  readonly versionId: string;
  readonly loadedAt = new Date('2025-01-01T00:00:00Z');
  readonly counts = { songs: SONGS.length, artists: ARTISTS.length, djs: DJS.length };
  hasTracklistModel = true;
  calls: { method: string; args: unknown[] }[] = [];
  /** Set to make a method throw (to exercise error mapping). */
  failWith: Error | null = null;

  constructor(versionId = 'v-test') {
    this.versionId = versionId;
  }

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
    if (this.failWith) throw this.failWith;
  }

  songIndex(id: string) {
    const i = SONG_IDS.indexOf(id);
    return i < 0 ? undefined : i;
  }
  artistIndex(id: string) {
    const i = ARTIST_IDS.indexOf(id);
    return i < 0 ? undefined : i;
  }
  djIndex(id: string) {
    const i = DJ_IDS.indexOf(id);
    return i < 0 ? undefined : i;
  }
  findSong(text: string) {
    const i = SONGS.findIndex((n) => n.toLowerCase() === text.trim().toLowerCase());
    return i < 0 ? this.songIndex(text) : i;
  }
  artistSongs(i: number, k: number) {
    this.record('artistSongs', i, k);
    return [{ index: i, id: SONG_IDS[i], score: 10 - i }].slice(0, k);
  }
  artistSongCount() {
    return 1;
  }
  djSongs(i: number, k: number) {
    this.record('djSongs', i, k);
    return this.ranked(SONGS.length, k, -1);
  }
  djSongCount() {
    return SONGS.length;
  }
  song(i: number): SongInfo {
    return {
      id: SONG_IDS[i],
      name: SONGS[i],
      artists: [{ id: ARTIST_IDS[i], name: ARTISTS[i] }],
      plays: 10 - i,
      acappella: false,
    };
  }
  artist(i: number) {
    return { id: ARTIST_IDS[i], name: ARTISTS[i] };
  }
  dj(i: number) {
    return { id: DJ_IDS[i], name: DJS[i] };
  }
  search(kind: 'songs' | 'artists' | 'djs', q: string, limit: number) {
    this.record('search', kind, q, limit);
    const names = kind === 'songs' ? SONGS : kind === 'artists' ? ARTISTS : DJS;
    const ids = kind === 'songs' ? SONG_IDS : kind === 'artists' ? ARTIST_IDS : DJ_IDS;
    return names
      .map((name, index) => ({ index, id: ids[index], name, score: 1 }))
      .filter((h) => h.name.toLowerCase().includes(q.toLowerCase()))
      .slice(0, limit);
  }
  readonly generationDefaults = {};
  publicGenerationDefaults(): { defaults: PublicGenerationDefaults; moved: string[] } {
    const defaults = { length: 3, temperature: [1, 1, 1], thresholds: [0, 0, 0, 0], userWeighting: 1, steering: 0, adventurousness: 1, artistRepeatPenalty: 0 };
    return { defaults, moved: [] };
  }
  generate(o: Parameters<ServedModel['generate']>[0]): GeneratedSong[] {
    this.record('generate', o);
    if (o.temperature && o.temperature.length !== 3)
      throw new InputError('temperature must be 3 numbers', 'temperature');
    const length = o.length ?? 3;
    const out: GeneratedSong[] = [];
    for (let k = 0; k <= length; k++)
      out.push({
        song: (o.seedSong + k) % SONGS.length,
        userScore: 0.5,
        songScore: 0.25,
        logProb: { l3: -1, l2: -1, l1: -1, song: -2 },
      });
    return out;
  }
  private ranked(n: number, k: number, skip: number): Ranked[] {
    const out: Ranked[] = [];
    for (let i = 0; i < n && out.length < k; i++)
      if (i !== skip) out.push({ index: i, id: '', score: 1 - i / 10 });
    return out;
  }
  recommendForDj(dj: number, k: number) {
    this.record('recommendForDj', dj, k);
    return this.ranked(SONGS.length, k, -1);
  }
  recommendForLikes(likes: Like[], k: number) {
    this.record('recommendForLikes', likes, k);
    return this.ranked(SONGS.length, k, likes[0]?.song ?? -1);
  }
  similarSongs(i: number, k: number) {
    this.record('similarSongs', i, k);
    return this.ranked(SONGS.length, k, i);
  }
  similarArtists(i: number, k: number) {
    this.record('similarArtists', i, k);
    return this.ranked(ARTISTS.length, k, i);
  }
  similarDjs(i: number, k: number) {
    this.record('similarDjs', i, k);
    return this.ranked(DJS.length, k, i);
  }
}

export class FakeModelSource {
  model: FakeModel | null;
  error = 'no model version has been published yet';
  gets = 0;

  constructor(model: FakeModel | null = new FakeModel()) {
    this.model = model;
  }
  async get(): Promise<ServedModel> {
    this.gets++;
    if (!this.model) throw new Error(this.error);
    return this.model;
  }
  status(): ModelStatus {
    if (!this.model) return { status: 'degraded', model: null, error: this.error, checkedAt: null };
    return {
      status: 'ok',
      model: {
        versionId: this.model.versionId,
        publishedAt: '2025-01-01T00:00:00.000Z',
        loadedAt: '2025-01-01T00:00:01.000Z',
      },
      checkedAt: '2025-01-01T00:00:02.000Z',
    };
  }
}

/** UserStore semantics in memory: likes by song id, the last score of a song wins, tracklists per user. */
export class FakeUsers implements Users {
  users = new Map<string, UserDoc>();
  tracklists = new Map<string, TracklistDoc[]>();

  async getUser(id: string) {
    const u = this.users.get(id);
    return u ? structuredClone(u) : null;
  }
  private write(id: string, likes: StoredLike[], profile?: { name?: string; idp?: string }): UserDoc {
    const now = new Date().toISOString();
    const prev = this.users.get(id);
    const doc: UserDoc = {
      id,
      createdAt: prev?.createdAt ?? now,
      updatedAt: now,
      likes,
      ...prev,
      ...profile,
    };
    doc.likes = likes;
    this.users.set(id, doc);
    return structuredClone(doc);
  }
  async putLikes(id: string, likes: StoredLike[], profile?: { name?: string; idp?: string }) {
    return this.write(
      id,
      likes.map((l) => ({ ...l })),
      profile,
    );
  }
  async patchLikes(
    id: string,
    patch: { add?: StoredLike[]; remove?: string[] },
    profile?: { name?: string; idp?: string },
  ) {
    const add = patch.add ?? [];
    const removed = new Set(patch.remove ?? []);
    const both = add.find((l) => removed.has(l.song));
    if (both) throw new InputError(`song ${both.song} is both added and removed`, 'remove');
    const added = new Set(add.map((l) => l.song));
    const kept = (this.users.get(id)?.likes ?? []).filter((l) => !removed.has(l.song) && !added.has(l.song));
    const likes = [...kept, ...add];
    if (likes.length > 1000) throw new InputError('a user can like at most 1000 songs', 'likes');
    return this.write(id, likes, profile);
  }
  async deleteUser(id: string) {
    const user = this.users.delete(id);
    const n = this.tracklists.get(id)?.length ?? 0;
    this.tracklists.delete(id);
    return { user, tracklists: n };
  }
  async saveTracklist(
    userId: string,
    doc: { name?: string | null; request: unknown; tracklist: unknown; modelVersion: string; id?: string },
  ) {
    const stored: TracklistDoc = {
      id: doc.id ?? randomUUID(),
      userId,
      name: doc.name ?? null,
      createdAt: new Date().toISOString(),
      request: doc.request,
      tracklist: doc.tracklist,
      modelVersion: doc.modelVersion,
    };
    this.tracklists.set(userId, [...(this.tracklists.get(userId) ?? []), stored]);
    return structuredClone(stored);
  }
  async listTracklists(userId: string) {
    return [...(this.tracklists.get(userId) ?? [])].reverse().map((d) => structuredClone(d));
  }
  async getTracklist(userId: string, id: string) {
    const d = (this.tracklists.get(userId) ?? []).find((x) => x.id === id);
    return d ? structuredClone(d) : null;
  }
  async renameTracklist(userId: string, id: string, name: string | null) {
    const d = (this.tracklists.get(userId) ?? []).find((x) => x.id === id);
    if (!d) return null;
    d.name = name;
    return structuredClone(d);
  }
  async deleteTracklist(userId: string, id: string) {
    const list = this.tracklists.get(userId) ?? [];
    const i = list.findIndex((x) => x.id === id);
    if (i < 0) return false;
    list.splice(i, 1);
    return true;
  }
}

export function fakeServices(
  model: FakeModel | null = new FakeModel(),
): Services & { model: FakeModelSource; users: FakeUsers } {
  return { model: new FakeModelSource(model), users: new FakeUsers() };
}

export interface Logged {
  level: LogLevel;
  text: string;
}

export interface CallOptions {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  /** Raw body text (overrides body). */
  raw?: string;
  headers?: Record<string, string>;
  trusted?: boolean;
  /** Other origins allowed (default none). */
  cors?: CorsPolicy;
  /** Generation shedding (default: no rate limit, the default budget and cap). */
  shedding?: Shedding;
}

export interface CallResult {
  status: number;
  body: unknown;
  /** A non-JSON body (file downloads). */
  text: string | undefined;
  headers: Headers;
  logs: Logged[];
  invocationId: string;
}

export function routeNamed(name: string): Route {
  const r = routes.find((x) => x.name === name);
  if (!r) throw new Error(`no route ${name}`);
  return r;
}

/** Calls a route's Functions handler with a constructed HttpRequest / InvocationContext. */
export async function call(services: Services, name: string, o: CallOptions = {}): Promise<CallResult> {
  const route = routeNamed(name);
  const url = new URL(`http://localhost/api/${route.route}`);
  for (const [k, v] of Object.entries(o.query ?? {})) url.searchParams.set(k, v);
  const text = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
  const request = new HttpRequest({
    method: route.methods[0],
    url: url.toString(),
    headers: { ...(text !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers },
    body: text !== undefined ? { string: text } : undefined,
    params: o.params ?? {},
  });
  const logs: Logged[] = [];
  const invocationId = randomUUID();
  const context = new InvocationContext({
    invocationId,
    functionName: route.name,
    logHandler: (level, ...args) =>
      logs.push({ level, text: args.map((a) => (a instanceof Error ? a.stack : String(a))).join(' ') }),
  });
  const handler = createHttpHandler(route, {
    services: () => services,
    trustIdentityHeaders: () => o.trusted ?? true,
    cors: o.cors ?? new CorsPolicy(new Set()),
    shedding: o.shedding ?? new Shedding({ ratePerMinute: 0 }),
  });
  const res = (await handler(request, context)) as HttpResponseInit;
  return {
    status: res.status ?? 200,
    body: res.jsonBody,
    text: typeof res.body === 'string' ? res.body : undefined,
    headers: new Headers(res.headers as Record<string, string>),
    logs,
    invocationId,
  };
}
