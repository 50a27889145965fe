/**
 * The built web app (web/dist) served at the site root, on the same origin as the API: one handler
 * that the Functions app registers as a catch-all GET route and the local host calls for every
 * path outside /api and /.auth. Hashed bundles are cached for a year; index.html (and any path
 * of the single-page app, which gets index.html) is revalidated on every load so a deployment is
 * picked up at once.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { errorBody } from './errors.ts';

export const WEB_ROOT = fileURLToPath(new URL('../web/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** Bundles whose file names carry a content hash (esbuild's `[name]-[hash]`). */
const HASHED = /-[A-Z0-9]{8}\.(js|css)$/;

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
  // The app loads nothing from other origins; the API is same-origin.
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
};

async function fileAt(root: string, path: string): Promise<string | null> {
  const base = resolve(root);
  const full = resolve(base, path);
  if (!full.startsWith(base + sep)) return null; // ../ out of the app's folder
  try {
    return (await stat(full)).isFile() ? full : null;
  } catch {
    return null;
  }
}

/** The answer for GET/HEAD `path` (decoded, without query) from the app's files under `root`. */
export async function webAppResponse(path: string, method: string, root = WEB_ROOT): Promise<HttpResponseInit> {
  if (path === '/api' || path.startsWith('/api/'))
    return { status: 404, jsonBody: errorBody(`no endpoint at ${path}; see /api/openapi.json`) };
  if (method !== 'GET' && method !== 'HEAD')
    return { status: 405, headers: { allow: 'GET, HEAD' }, jsonBody: errorBody(`${method} not allowed on ${path}`) };
  const relative = path.replace(/^\/+/, '');
  let file = relative === '' ? null : await fileAt(root, relative);
  // A path of the single-page app (no extension) is the app itself; a missing asset is a 404.
  if (!file && extname(relative) === '') file = await fileAt(root, 'index.html');
  if (!file) {
    if (!(await fileAt(root, 'index.html')))
      return {
        status: 503,
        headers: { 'retry-after': '10' },
        jsonBody: errorBody('the web app is not built: run `npm run build:web`'),
      };
    return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `not found: ${path}` };
  }
  const body = await readFile(file);
  const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  return {
    status: 200,
    headers: {
      'content-type': type,
      'cache-control': HASHED.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache',
      ...(type.startsWith('text/html') ? SECURITY_HEADERS : { 'x-content-type-options': 'nosniff' }),
    },
    body: method === 'HEAD' ? undefined : body,
  };
}

/** The Functions handler of the catch-all route. */
export async function webAppHandler(request: HttpRequest): Promise<HttpResponseInit> {
  return webAppResponse(decodeURIComponent(new URL(request.url).pathname), request.method.toUpperCase());
}
