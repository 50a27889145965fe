/**
 * The plumbing between a route of the table and an Azure Functions HTTP handler: body size limit,
 * JSON parsing, zod validation of params/query/body (400 naming the field), identity (401 on
 * routes that need a user), error mapping (HttpError as given, InputError → 400, model not
 * available → 503, anything else → 500 logged with the invocation id). The Functions host and the
 * local host both call handlers made here, so they behave the same.
 */
import type {
  HttpHandler,
  HttpMethod,
  HttpRequest,
  HttpResponseInit,
  InvocationContext,
} from '@azure/functions';
import type { z } from 'zod';
import { LIMITS } from '../shared/limits.ts';
import { isTransient } from '../shared/store/transient.ts';
import { ConflictError } from '../shared/store/userStore.ts';
import { InputError } from '../shared/util/errors.ts';
import { CorsPolicy } from './cors.ts';
import { errorBody, fromInputError, HttpError } from './errors.ts';
import { readPrincipal } from './identity.ts';
import { clientAddress, Shedding } from './shedding.ts';
import type { Principal } from './identity.ts';
import type { ServedModel, Services } from './services.ts';

export const MAX_BODY_BYTES = LIMITS.bodyBytes;

/** public: anyone, no identity read; optional: the principal when there is one; user: 401 without. */
export type Auth = 'public' | 'optional' | 'user';
type Schema = z.ZodType;

export interface RouteInput<P, Q, B, A extends Auth> {
  params: P;
  query: Q;
  body: B;
  /** The signed-in caller; always present on 'user' routes. */
  principal: A extends 'user' ? Principal : Principal | null;
  services: Services;
  /** The served model; 503 when none can be loaded. */
  model(): Promise<ServedModel>;
  /** Runs a generation of this size under the cost budget (routes with `generation: true`). */
  generate<T>(size: { length: number; likes: number }, work: () => T): Promise<T>;
  request: HttpRequest;
  context: InvocationContext;
}

export interface RouteResult {
  status?: number;
  /** A JSON body. */
  body?: unknown;
  /** A file to download instead of JSON (exports). */
  file?: DownloadFile;
  headers?: Record<string, string>;
}

export interface DownloadFile {
  body: string;
  contentType: string;
  filename: string;
}

/** A route whose success answer is a file rather than JSON (documentation). */
export interface FileResponse {
  description: string;
  /** Media types it can answer with. */
  contentTypes: string[];
}

export interface RouteSpec<P extends Schema, Q extends Schema, B extends Schema, A extends Auth> {
  /** Function name (unique; letters, digits, '_' and '-'); also the OpenAPI operationId. */
  name: string;
  methods: HttpMethod[];
  /** Azure route template under /api, e.g. "songs/{id}/similar". */
  route: string;
  auth: A;
  summary: string;
  description?: string;
  tags: string[];
  params?: P;
  query?: Q;
  body?: B;
  /** Schema of the success body (documentation). */
  response?: Schema;
  /** The success answer is a file (documentation). */
  fileResponse?: FileResponse;
  /** Success status (default 200). */
  status?: number;
  /** Error statuses the route can answer besides 400/500 (documentation). */
  errors?: number[];
  /** A CPU-bound generation route: rate-limited per client and capped per process (shedding.ts). */
  generation?: boolean;
  handler(input: RouteInput<z.output<P>, z.output<Q>, z.output<B>, A>): Promise<RouteResult> | RouteResult;
}

/** What the handler wrapper hands a route: raw inputs, validated by the route itself. */
export interface RawInput {
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  principal: Principal | null;
  services: Services;
  shedding: Shedding;
  request: HttpRequest;
  context: InvocationContext;
}

/** A route of the table with its types erased. */
export interface Route {
  name: string;
  methods: HttpMethod[];
  route: string;
  auth: Auth;
  summary: string;
  description?: string;
  tags: string[];
  schemas: { params?: Schema; query?: Schema; body?: Schema; response?: Schema };
  fileResponse?: FileResponse;
  status: number;
  errors: number[];
  generation?: boolean;
  invoke(input: RawInput): Promise<RouteResult>;
}

function unauthorized(): HttpError {
  return new HttpError(401, 'sign-in required');
}

/** Formats a zod issue path the way clients write it: likes[3].song. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

function validate<T extends Schema>(
  schema: T,
  value: unknown,
  what: 'params' | 'query' | 'body',
): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const path = keys.length > 0 ? [...issue.path, keys[0]] : issue.path;
    const field = fieldPath(path) || what;
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${fieldPath([...issue.path, k])}"`).join(', ')}`
        : value === undefined && what === 'body'
          ? 'a JSON body is required'
          : issue.message;
    return { field, message };
  });
  const first = issues[0];
  throw new HttpError(400, `${first.field}: ${first.message}`, {
    field: first.field,
    extra: issues.length > 1 ? { issues } : undefined,
  });
}

export function defineRoute<
  A extends Auth,
  P extends Schema = z.ZodType<Record<string, string>>,
  Q extends Schema = z.ZodType<Record<string, string>>,
  B extends Schema = z.ZodType<undefined>,
>(spec: RouteSpec<P, Q, B, A>): Route {
  return {
    name: spec.name,
    methods: spec.methods,
    route: spec.route,
    auth: spec.auth,
    summary: spec.summary,
    description: spec.description,
    tags: spec.tags,
    schemas: { params: spec.params, query: spec.query, body: spec.body, response: spec.response },
    fileResponse: spec.fileResponse,
    status: spec.status ?? 200,
    errors: spec.errors ?? [],
    generation: spec.generation ?? false,
    async invoke(raw) {
      if (spec.auth === 'user' && !raw.principal) throw unauthorized();
      const params = spec.params ? validate(spec.params, raw.params, 'params') : raw.params;
      const query = spec.query ? validate(spec.query, raw.query, 'query') : raw.query;
      const body = spec.body ? validate(spec.body, raw.body, 'body') : undefined;
      const services = raw.services;
      const result = await spec.handler({
        // Without a schema the raw value passes through; the default type parameters describe it.
        params: params as z.output<P>,
        query: query as z.output<Q>,
        body: body as z.output<B>,
        principal: raw.principal as RouteInput<unknown, unknown, unknown, A>['principal'],
        services,
        model: () => loadModel(services),
        generate: (size, work) => raw.shedding.generate(size, work),
        request: raw.request,
        context: raw.context,
      });
      return { status: spec.status ?? 200, ...result };
    },
  };
}

/** Retry-After of a 503 for want of a model (a load takes seconds). */
export const MODEL_RETRY_AFTER_SECONDS = 10;

/** The 503 for a request that finds no model to serve (nothing published, a failed or slow load). */
function noModelResponse(reason: string): HttpError {
  return new HttpError(503, `no model available: ${reason}`, { headers: { 'retry-after': String(MODEL_RETRY_AFTER_SECONDS) } });
}

/** How long a request waits for a first model load (a hung registry must not hang requests). */
export const MODEL_WAIT_MS = 10_000;

async function loadModel(services: Services): Promise<ServedModel> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still loading after ${MODEL_WAIT_MS / 1000} s`)), MODEL_WAIT_MS);
  });
  try {
    return await Promise.race([services.model.get(), deadline]);
  } catch (e) {
    throw noModelResponse(e instanceof Error ? e.message : String(e));
  } finally {
    clearTimeout(timer);
  }
}

export interface HandlerDeps {
  /** Called on each request; memoise inside (see createServices). */
  services: () => Services;
  /** Whether Easy Auth identity headers are believed (platform auth enabled, or local dev mode). */
  trustIdentityHeaders: () => boolean;
  /** Other origins allowed to call (default: the CORS_ALLOWED_ORIGINS setting). */
  cors?: CorsPolicy;
  /** Rate limit, cost budget and cap of the generation routes (default: the GENERATE_* settings). */
  shedding?: Shedding;
}

/** `application/json` or any `application/*+json`, parameters ignored. */
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * A body must say it is JSON: HTML forms and fetch without a preflight can only send text/plain,
 * form or multipart bodies, so refusing those makes every body-carrying call from another site a
 * CORS-checked one.
 */
function checkContentType(request: HttpRequest): void {
  const type = request.headers.get('content-type') ?? '';
  if (!JSON_TYPE.test(type))
    throw new HttpError(415, `content-type must be application/json${type ? `, got "${type}"` : ''}`, {
      field: 'content-type',
    });
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const SAME_SITE_FETCH = new Set(['same-origin', 'none']);

/** Origins the request itself was sent to (the host as the client, a proxy or the platform names it). */
function ownOrigins(request: HttpRequest): Set<string> {
  const url = new URL(request.url);
  const out = new Set([url.origin]);
  for (const header of ['host', 'x-forwarded-host', 'x-original-host']) {
    const host = request.headers.get(header)?.split(',')[0].trim();
    if (host) out.add(`${request.headers.get('x-forwarded-proto')?.split(',')[0].trim() || url.protocol.slice(0, -1)}://${host}`);
  }
  return out;
}

/**
 * CSRF for cookie sessions: a state change on a signed-in route is refused (403) when the browser
 * says it comes from another site (Origin not this site nor a CORS-listed one; or, without Origin,
 * Sec-Fetch-Site other than same-origin). Callers that send neither (curl, apps with a bearer
 * token) carry no ambient cookie, so they pass.
 */
function checkOrigin(request: HttpRequest, cors: CorsPolicy): void {
  const origin = request.headers.get('origin');
  const site = request.headers.get('sec-fetch-site');
  const allowed =
    origin !== null
      ? ownOrigins(request).has(origin) || cors.allows(origin)
      : site === null || SAME_SITE_FETCH.has(site.toLowerCase());
  if (!allowed)
    throw new HttpError(403, `cross-site request refused (origin ${origin ?? site})`, { field: 'origin' });
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

function json(status: number, body: unknown, headers?: Record<string, string>): HttpResponseInit {
  return { status, jsonBody: body, headers: { ...JSON_HEADERS, ...headers } };
}

async function readBody(request: HttpRequest): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES)
    throw new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`, { field: 'body' });
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > MAX_BODY_BYTES)
    throw new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`, { field: 'body' });
  const text = new TextDecoder('utf-8').decode(bytes);
  if (text.trim() === '') return undefined;
  checkContentType(request);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new HttpError(400, `invalid JSON: ${e instanceof Error ? e.message : String(e)}`, {
      field: 'body',
    });
  }
}

/** A download: the name in both the plain (ASCII) and the RFC 6266 UTF-8 form. */
function fileAnswer(status: number, file: DownloadFile, headers: Record<string, string>): HttpResponseInit {
  const ascii = file.filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return {
    status,
    body: file.body,
    headers: {
      ...headers,
      'content-type': file.contentType,
      'content-disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(file.filename)}`,
    },
  };
}

/** Turns a thrown value into the answer; only bugs are logged as errors. */
export function errorResponse(e: unknown, route: string, context: InvocationContext): HttpResponseInit {
  if (e instanceof InputError) e = fromInputError(e);
  if (e instanceof HttpError) {
    if (e.status >= 500 && !e.quiet) context.warn(`${route}: ${e.status} ${e.message}`);
    return json(e.status, errorBody(e.message, e.field, e.extra), e.headers);
  }
  if (e instanceof ConflictError) {
    // UserStore gave up after many concurrent writers on one document: nothing was applied.
    return json(409, errorBody(`${e.message}; try again`));
  }
  if (isTransient(e)) {
    context.warn(`${route}: storage unavailable`, e);
    return json(503, errorBody('storage busy or unreachable, try again'), { 'retry-after': '2' });
  }
  context.error(`invocation ${context.invocationId}: ${route} failed`, e);
  return json(500, errorBody('internal error', undefined, { invocationId: context.invocationId }));
}

let processShedding: Shedding | undefined;

/** The Azure Functions handler of one route. */
export function createHttpHandler(route: Route, deps: HandlerDeps): HttpHandler {
  let cors = deps.cors;
  let shedding = deps.shedding;
  return async (request, context) => {
    let release: (() => void) | undefined;
    try {
      // One per process by default: buckets and the cap are shared by both generation routes.
      shedding ??= processShedding ??= Shedding.fromEnv();
      if (route.generation) {
        shedding.take(clientAddress(request));
        release = shedding.enter();
      }
      const principal =
        route.auth === 'public' ? null : readPrincipal(request.headers, deps.trustIdentityHeaders());
      if (route.auth === 'user' && !principal) throw unauthorized();
      if (route.auth !== 'public' && !SAFE_METHODS.has(request.method.toUpperCase()))
        checkOrigin(request, (cors ??= CorsPolicy.fromEnv()));
      const body = route.schemas.body ? await readBody(request) : undefined;
      const result = await route.invoke({
        params: { ...request.params },
        query: Object.fromEntries(request.query),
        body,
        principal,
        services: deps.services(),
        shedding,
        request,
        context,
      });
      const status = result.status ?? 200;
      const headers: Record<string, string> = { ...result.headers };
      if (route.auth !== 'public') headers['cache-control'] = 'private, no-store';
      if (result.file) return fileAnswer(status, result.file, headers);
      if (result.body === undefined) return { status, headers: result.headers };
      return json(status, result.body, headers);
    } catch (e) {
      return errorResponse(e, route.name, context);
    } finally {
      release?.();
    }
  };
}
