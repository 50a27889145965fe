/**
 * Serves the route table over node:http without the Functions host: each request is matched against
 * the same Azure route templates, turned into an `HttpRequest` / `InvocationContext` from
 * @azure/functions and handed to the same handler the Functions host would call (createHttpHandler),
 * and the HttpResponseInit is written back. Used by `npm start`, the end-to-end tests and the HTTP
 * benchmark. Binds to the loopback interface unless told otherwise.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import azureFunctions from '@azure/functions';
import type { HttpHandler, HttpResponse, HttpResponseInit, LogHandler } from '@azure/functions';
import { CorsPolicy } from './cors.ts';
import { devAuthAnswer, devSession, devSessionHeaders } from './devSignIn.ts';
import { errorBody } from './errors.ts';
import { createHttpHandler, MAX_BODY_BYTES } from './http.ts';
import { Shedding } from './shedding.ts';
import type { Route } from './http.ts';
import { API_PREFIX, compileRoute } from './routeTemplate.ts';
import type { CompiledRoute } from './routeTemplate.ts';
import { routes as defaultRoutes } from './routes.ts';
import type { Services } from './services.ts';
import { webAppResponse, WEB_ROOT } from './webApp.ts';

const { HttpRequest, InvocationContext } = azureFunctions;

export const ROUTE_PREFIX = `/${API_PREFIX}`;

export interface LocalHostOptions {
  services: Services | (() => Services);
  routes?: readonly Route[];
  /** 0 (default) = a free port. */
  port?: number;
  host?: string;
  /**
   * Local dev mode: believe x-ms-client-principal* headers as if App Service Authentication had set
   * them, and serve a dev stand-in of its /.auth sign-in endpoints (default true). With false,
   * /api/me* answers 401 to everyone.
   */
  devIdentity?: boolean;
  /** Cross-origin callers allowed (default: the CORS_ALLOWED_ORIGINS setting). */
  cors?: CorsPolicy;
  /** Folder of the built web app served at / (default web/dist; null = API only). */
  webRoot?: string | null;
  /** Where InvocationContext logs go (default: the console). */
  logHandler?: LogHandler;
  /** Called after each request (e.g. to print an access log line); status 499 = the client went away. */
  onRequest?: (line: { method: string; path: string; status: number; ms: number }) => void;
  /** Rate limit, cost budget and cap of the generation routes (default: the GENERATE_* settings). */
  shedding?: Shedding;
  /** Time a client has to send the request headers (default 10 s; Node's is 60 s). */
  headersTimeoutMs?: number;
  /** Time a client has to send the whole request, body included (default 30 s; Node's is 300 s). */
  requestTimeoutMs?: number;
}

/** Status logged for a request whose client closed the connection before it was answered. */
export const CLIENT_CLOSED = 499;
const ABORTED = Symbol('aborted');

export interface LocalHost {
  /** Base URL of the API, e.g. http://127.0.0.1:7071/api */
  url: string;
  port: number;
  close(): Promise<void>;
}

interface Entry {
  route: Route;
  compiled: CompiledRoute;
  handler: HttpHandler;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * Reads the body, or null when it is over the limit (the caller answers 413), or ABORTED when the
 * client went away (or was cut off by the request timeout) before sending all of it: not an error.
 */
function readBody(req: IncomingMessage): Promise<Buffer | null | typeof ABORTED> {
  return new Promise((resolve) => {
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
      req.resume();
      resolve(null);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        over = true;
        chunks.length = 0;
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', () => resolve(ABORTED));
    req.on('close', () => {
      if (!req.complete) resolve(ABORTED);
    });
  });
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

async function writeResponse(
  res: ServerResponse,
  result: HttpResponseInit | HttpResponse | void,
  extraHeaders: Record<string, string> = {},
): Promise<number> {
  const init = (result ?? {}) as HttpResponseInit;
  const status = init.status ?? 200;
  const headers = new Headers(init.headers as ConstructorParameters<typeof Headers>[0]);
  for (const [name, value] of Object.entries(extraHeaders)) headers.set(name, value);
  let payload: Buffer;
  if (init.jsonBody !== undefined) {
    payload = Buffer.from(JSON.stringify(init.jsonBody));
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  } else if (init.body === undefined || init.body === null) {
    payload = Buffer.alloc(0);
  } else if (typeof init.body === 'string') {
    payload = Buffer.from(init.body);
    if (!headers.has('content-type')) headers.set('content-type', 'text/plain; charset=utf-8');
  } else {
    payload = Buffer.from(
      await new Response(init.body as ConstructorParameters<typeof Response>[0]).arrayBuffer(),
    );
  }
  const out: Record<string, string> = {};
  headers.forEach((value, name) => (out[name] = value));
  if (status !== 204 && status !== 304) out['content-length'] = String(payload.length);
  res.writeHead(status, out);
  res.end(status === 204 || status === 304 ? undefined : payload);
  return status;
}

export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const services =
    typeof options.services === 'function' ? options.services : () => options.services as Services;
  const devIdentity = options.devIdentity ?? true;
  const cors = options.cors ?? CorsPolicy.fromEnv();
  const shedding = options.shedding ?? Shedding.fromEnv();
  const entries: Entry[] = (options.routes ?? defaultRoutes).map((route) => ({
    route,
    compiled: compileRoute(route.route),
    handler: createHttpHandler(route, { services, trustIdentityHeaders: () => devIdentity, cors, shedding }),
  }));
  // Literal segments win over parameters, as in the Functions host.
  entries.sort((a, b) => b.compiled.literals - a.compiled.literals);
  const host = options.host ?? '127.0.0.1';
  let port = 0;

  const webRoot = options.webRoot === undefined ? WEB_ROOT : options.webRoot;

  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  // Node enforces both on a timer that runs every connectionsCheckingInterval (default 30 s).
  const connectionsCheckingInterval = Math.min(1000, headersTimeout, requestTimeout);
  const server = createServer({ headersTimeout, requestTimeout, connectionsCheckingInterval }, (req, res) => {
    const started = performance.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', `http://${host}:${port}`);
    const finish = (status: number) =>
      options.onRequest?.({
        method,
        path: url.pathname + url.search,
        status,
        ms: performance.now() - started,
      });
    void (async () => {
      const path = url.pathname;
      const lower = path.toLowerCase();
      if (devIdentity && lower.startsWith('/.auth/')) {
        const raw = method === 'POST' ? await readBody(req) : null;
        if (raw === ABORTED) return finish(CLIENT_CLOSED);
        const form = (raw ?? Buffer.alloc(0)).toString('utf8');
        if (method !== 'POST') req.resume();
        const answer = devAuthAnswer(method, url, req.headers.cookie, form);
        if (answer) {
          res.writeHead(answer.status, {
            ...answer.headers,
            'content-length': Buffer.byteLength(answer.body),
          });
          res.end(answer.body);
          return finish(answer.status);
        }
      }
      if (lower !== ROUTE_PREFIX && !lower.startsWith(ROUTE_PREFIX + '/')) {
        req.resume();
        if (webRoot === null) {
          send(res, 404, errorBody(`no endpoint at ${path}; the API lives under ${ROUTE_PREFIX}/`));
          return finish(404);
        }
        let decoded: string;
        try {
          decoded = decodeURIComponent(path);
        } catch {
          send(res, 400, errorBody(`malformed path ${path}`));
          return finish(400);
        }
        return finish(await writeResponse(res, await webAppResponse(decoded, method, webRoot)));
      }
      const origin = req.headers.origin;
      const corsHeaders = cors.responseHeaders(origin);
      const rest = path.slice(ROUTE_PREFIX.length);
      const matching = entries
        .map((e) => ({ e, params: e.compiled.match(rest) }))
        .filter((m): m is { e: Entry; params: Record<string, string> } => m.params !== null);
      const methods = [...new Set(matching.flatMap((m) => m.e.route.methods))];
      if (method === 'OPTIONS' && matching.length > 0 && req.headers['access-control-request-method']) {
        req.resume();
        const pre = cors.preflight(origin, req.headers['access-control-request-headers'], methods);
        res.writeHead(pre.status, pre.headers);
        res.end();
        return finish(pre.status);
      }
      const hit = matching.find((m) => m.e.route.methods.includes(method as Route['methods'][number]));
      if (!hit) {
        req.resume();
        if (matching.length === 0) {
          send(res, 404, errorBody(`no endpoint at ${path}; see ${ROUTE_PREFIX}/openapi.json`), corsHeaders);
          return finish(404);
        }
        send(res, 405, errorBody(`${method} not allowed on ${path}`), {
          allow: methods.join(', '),
          ...corsHeaders,
        });
        return finish(405);
      }
      const body = await readBody(req);
      if (body === ABORTED) {
        res.destroy();
        return finish(CLIENT_CLOSED);
      }
      if (body === null) {
        send(res, 413, errorBody(`request body over ${MAX_BODY_BYTES} bytes`, 'body'), {
          connection: 'close',
          ...corsHeaders,
        });
        return finish(413);
      }
      const headers = flatHeaders(req);
      // As a front end does: the peer's address goes last (shedding.ts keys clients by it).
      const peer = req.socket.remoteAddress;
      if (peer)
        headers['x-forwarded-for'] = headers['x-forwarded-for']
          ? `${headers['x-forwarded-for']}, ${peer}`
          : peer;
      // What Easy Auth does for a browser session: the principal headers come from the session.
      const session = devIdentity ? devSession(req.headers.cookie) : null;
      if (session) Object.assign(headers, devSessionHeaders(session));
      const request = new HttpRequest({
        method,
        url: url.toString(),
        headers,
        body: body.length > 0 ? { string: body.toString('utf8') } : undefined,
        params: hit.params,
      });
      const context = new InvocationContext({
        invocationId: randomUUID(),
        functionName: hit.e.route.name,
        ...(options.logHandler ? { logHandler: options.logHandler } : {}),
      });
      const result = await hit.e.handler(request, context);
      finish(await writeResponse(res, result, corsHeaders));
    })().catch((e: unknown) => {
      // Only reachable through a bug in this adapter: the handlers map their own errors.
      console.error('local host: request failed', e);
      if (!res.headersSent) send(res, 500, errorBody('internal error'));
      else res.destroy();
      finish(500);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}${ROUTE_PREFIX}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}
