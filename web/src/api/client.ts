/**
 * The typed Tracklist AI client: openapi-fetch over the types generated from the API's OpenAPI
 * document (schema.ts), plus what every app needs around it: errors as `ApiError` (status,
 * message, the offending field), and 503 answers (model still loading, storage busy) retried after
 * their Retry-After. Only `fetch` and timers are used, so a React Native app can use it as is.
 */
import createClient from 'openapi-fetch';
import type { Client } from 'openapi-fetch';
import type { components, paths } from './schema.ts';

export type { components, paths };
type Schemas = components['schemas'];
export type Song = Schemas['Song'];
export type ScoredSong = Schemas['ScoredSong'];
export type SongDetail = Schemas['SongDetail'];
export type Artist = Schemas['Artist'];
export type ScoredArtist = Schemas['ScoredArtist'];
export type Dj = Schemas['Dj'];
export type ScoredDj = Schemas['ScoredDj'];
export type TracklistItem = Schemas['TracklistItem'];
export type Tracklist = Schemas['Tracklist'];
export type TracklistRequest = Schemas['TracklistRequest'];
export type Like = Schemas['Like'];
export type LikeInput = Schemas['LikeInput'];
export type Me = Schemas['Me'];
export type SavedTracklist = Schemas['SavedTracklist'];
export type SavedTracklistSummary = Schemas['SavedTracklistSummary'];
export type SongMatch = Schemas['SongMatch'];
export type Health = Schemas['Health'];
export type ErrorBody = Schemas['Error'];
export type ExportFormat = NonNullable<paths['/tracklists/export']['post']['parameters']['query']>['format'];

export class ApiError extends Error {
  readonly status: number;
  /** The field the API named, as a client writes it (`length`, `likes[3].song`). */
  readonly field: string | undefined;
  readonly body: ErrorBody | undefined;

  constructor(status: number, message: string, field?: string, body?: ErrorBody) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.field = field;
    this.body = body;
  }
}

export interface Unavailable {
  /** Seconds until the next attempt. */
  retryIn: number;
  attempt: number;
  message: string;
}

export interface ApiOptions {
  /** Base URL of the API, e.g. `/api` (same origin) or `https://func-….azurewebsites.net/api`. */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Extra headers on every request, e.g. `authorization: Bearer …` from a mobile app's MSAL. */
  headers?: Record<string, string>;
  /** Attempts on 503 before giving up (default 30). */
  maxAttempts?: number;
  /** Called before each wait on a 503, and with null once an answer arrives. */
  onUnavailable?: (state: Unavailable | null) => void;
  /** Longest wait between attempts in seconds, whatever Retry-After says (default 10). */
  maxRetryAfterSeconds?: number;
}

type FetchResult<T> = { data?: T; error?: unknown; response: Response };

export interface TracklistApi {
  /** The raw typed client: `api.client.GET('/songs', { params: { query: { q } } })`. */
  readonly client: Client<paths>;
  /** Runs a client call: its data, or an ApiError; 503s are retried after Retry-After. */
  call<T>(request: () => Promise<FetchResult<T>>): Promise<NonNullable<T>>;
  /** Same, for calls whose success has no body (204). */
  send(request: () => Promise<FetchResult<unknown>>): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function errorOf(status: number, body: unknown): ApiError {
  const e = (body as ErrorBody | undefined)?.error;
  if (e && typeof e.message === 'string') return new ApiError(status, e.message, e.field, body as ErrorBody);
  return new ApiError(status, `request failed with status ${status}`);
}

export function createTracklistApi(options: ApiOptions = {}): TracklistApi {
  const client = createClient<paths>({
    baseUrl: options.baseUrl ?? '/api',
    ...(options.fetch ? { fetch: options.fetch } : {}),
    headers: options.headers,
  });
  const maxAttempts = options.maxAttempts ?? 30;
  const maxWait = options.maxRetryAfterSeconds ?? 10;

  async function run<T>(request: () => Promise<FetchResult<T>>): Promise<FetchResult<T>> {
    for (let attempt = 1; ; attempt++) {
      const result = await request();
      if (result.response.status !== 503 || attempt >= maxAttempts) {
        if (attempt > 1) options.onUnavailable?.(null);
        return result;
      }
      const header = Number(result.response.headers.get('retry-after'));
      const retryIn = Math.min(maxWait, Number.isFinite(header) && header > 0 ? header : 2);
      options.onUnavailable?.({ retryIn, attempt, message: errorOf(503, result.error).message });
      await sleep(retryIn * 1000);
    }
  }

  return {
    client,
    async call(request) {
      const result = await run(request);
      if (!result.response.ok || result.data === undefined) throw errorOf(result.response.status, result.error);
      return result.data as NonNullable<(typeof result)['data']>;
    },
    async send(request) {
      const result = await run(request);
      if (!result.response.ok) throw errorOf(result.response.status, result.error);
    },
  };
}
