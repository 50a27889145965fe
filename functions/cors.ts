/**
 * CORS for browsers on other origins. In Azure the Function App's platform CORS answers (its
 * allowed origins come from the `CORS_ALLOWED_ORIGINS` azd variable through Bicep); the local host
 * reads the same setting and behaves the same: a preflight from a listed origin is answered with
 * the route's methods, a listed origin's requests get `Access-Control-Allow-Origin`, any other
 * origin gets no CORS header at all (so the browser refuses to hand it the answer). The web app
 * itself is same-origin and needs none of this.
 */
import { InputError } from '../shared/util/errors.ts';

export const CORS_SETTING = 'CORS_ALLOWED_ORIGINS';

/** Response headers a cross-origin script may read. */
const EXPOSED = ['retry-after', 'location', 'content-disposition'];
const ALLOWED_REQUEST_HEADERS = ['content-type', 'authorization'];
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** A comma-separated list of origins (`https://app.example.com`); `*` and paths are refused. */
export function parseAllowedOrigins(value: string | undefined, setting = CORS_SETTING): Set<string> {
  const origins = new Set<string>();
  for (const raw of (value ?? '').split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    let origin: string;
    try {
      origin = new URL(item).origin;
    } catch {
      throw new InputError(`${setting}: "${item}" is not an origin such as https://app.example.com`, setting);
    }
    if (item === '*' || origin === 'null' || origin !== item.replace(/\/$/, ''))
      throw new InputError(`${setting}: "${item}" must be scheme://host[:port], without a path or wildcard`, setting);
    origins.add(origin);
  }
  return origins;
}

export class CorsPolicy {
  private readonly origins: ReadonlySet<string>;

  constructor(origins: ReadonlySet<string>) {
    this.origins = origins;
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env): CorsPolicy {
    return new CorsPolicy(parseAllowedOrigins(env[CORS_SETTING]));
  }

  allows(origin: string | undefined): origin is string {
    return origin !== undefined && this.origins.has(origin);
  }

  /** Headers for an actual request's answer (empty for other origins). */
  responseHeaders(origin: string | undefined): Record<string, string> {
    if (!this.allows(origin)) return origin === undefined ? {} : { vary: 'Origin' };
    return { 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSED.join(', '), vary: 'Origin' };
  }

  /** The answer to a preflight (OPTIONS with Access-Control-Request-Method) for a path with these methods. */
  preflight(origin: string | undefined, requestedHeaders: string | undefined, methods: readonly string[]) {
    if (!this.allows(origin)) return { status: 204, headers: origin === undefined ? {} : { vary: 'Origin' } };
    const asked = (requestedHeaders ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter((h) => ALLOWED_REQUEST_HEADERS.includes(h));
    return {
      status: 204,
      headers: {
        'access-control-allow-origin': origin,
        'access-control-allow-methods': [...methods, 'OPTIONS'].join(', '),
        ...(asked.length > 0 ? { 'access-control-allow-headers': asked.join(', ') } : {}),
        'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
        vary: 'Origin',
      },
    };
  }
}
