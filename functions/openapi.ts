/**
 * The OpenAPI 3.1 document of the route table, generated from the same zod schemas that validate
 * requests (z.toJSONSchema emits JSON Schema 2020-12, the dialect of OpenAPI 3.1). Schemas
 * with an `id` (schemas.ts `named`) become named components referenced with $ref, so generated
 * clients get one type per shape.
 */
import { z } from 'zod';
import { LIMITS } from '../shared/limits.ts';
import type { Route } from './http.ts';
import { openApiPath } from './routeTemplate.ts';
import { errorOut } from './schemas.ts';

type JsonSchema = Record<string, unknown>;

const COMPONENTS = '#/components/schemas/';

/** Builds component schemas while operations are converted; a name must mean one shape. */
class Components {
  readonly schemas: Record<string, JsonSchema> = {};

  /** The JSON Schema of `schema`, its named parts moved into the components. */
  convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const out = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
    delete out.$schema;
    const defs = (out.$defs ?? {}) as Record<string, JsonSchema>;
    delete out.$defs;
    for (const [id, def] of Object.entries(defs)) this.add(id, rewrite(def, io) as JsonSchema);
    // A named schema itself comes back as a $ref to its own definition.
    return rewrite(out, io) as JsonSchema;
  }

  private add(id: string, schema: JsonSchema): void {
    const known = this.schemas[id];
    if (known && JSON.stringify(known) !== JSON.stringify(schema))
      throw new Error(
        `openapi: component ${id} has two shapes (is it used both in requests and in responses?)`,
      );
    this.schemas[id] = schema;
  }
}

/**
 * Local $defs references become component references. Responses drop zod's
 * `additionalProperties: false` (zod strips unknown keys on output, but clients should accept
 * fields added later); request schemas keep theirs, as strict objects refuse unknown fields.
 */
function rewrite(x: unknown, io: 'input' | 'output'): unknown {
  if (Array.isArray(x)) return x.map((v) => rewrite(v, io));
  if (x === null || typeof x !== 'object') return x;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(x)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')) out[k] = COMPONENTS + v.slice(8);
    else if (io === 'output' && k === 'additionalProperties' && v === false) continue;
    else out[k] = rewrite(v, io);
  }
  return out;
}

const ERROR_REF = { $ref: `${COMPONENTS}Error` };

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
};

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid input; error.field names the offending field (e.g. likes[3].song)',
  401: 'Sign-in required',
  403: 'A state change from another site (Origin not this site nor a CORS-allowed one); error.field is origin',
  404: 'Unknown id; error.suggestions may list matching names',
  409: 'The document kept changing under concurrent writes; nothing was applied, try again',
  413: `Body larger than ${LIMITS.bodyBytes} bytes`,
  415: 'The body is not application/json; error.field is content-type',
  429: 'Too many generations from this client; retry after Retry-After seconds',
  500: 'A bug; error.invocationId identifies the logged invocation',
  503: 'The model is still loading (or none is published), or storage is busy; retry after Retry-After seconds',
};

/** Security schemes: what a client of the Azure deployment really sends. */
const SECURITY_SCHEMES = {
  appServiceSession: {
    type: 'apiKey',
    in: 'cookie',
    name: 'AppServiceAuthSession',
    description:
      'Browser session of App Service Authentication: sign in at /.auth/login/aad?post_login_redirect_uri=/account (same origin as the API), sign out at /.auth/logout. Locally `npm start` emulates these URLs with a dev sign-in page.',
  },
  entraIdBearer: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      "Microsoft Entra ID access token for the API's app registration (audience its client id or api://<client id>), e.g. from MSAL in a mobile app; App Service Authentication validates it.",
  },
};
const USER_SECURITY = [{ appServiceSession: [] }, { entraIdBearer: [] }];

function parameters(route: Route, components: Components): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [where, schema] of [
    ['path', route.schemas.params],
    ['query', route.schemas.query],
  ] as const) {
    if (!schema) continue;
    const s = components.convert(schema, 'input');
    const properties = (s.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((s.required as string[] | undefined) ?? []);
    for (const [name, prop] of Object.entries(properties)) {
      const { description, ...rest } = prop;
      out.push({
        name,
        in: where,
        required: where === 'path' || (required.has(name) && !('default' in prop)),
        ...(description ? { description } : {}),
        schema: rest,
      });
    }
  }
  return out;
}

function success(route: Route, components: Components): JsonSchema {
  const ok = route.status;
  const headers =
    ok === 201
      ? { Location: { description: 'URL of the created resource', schema: { type: 'string' } } }
      : undefined;
  if (route.fileResponse)
    return {
      description: route.fileResponse.description,
      headers: {
        'Content-Disposition': {
          description: 'attachment; filename="…" (and filename* in UTF-8)',
          schema: { type: 'string' },
        },
      },
      content: Object.fromEntries(
        route.fileResponse.contentTypes.map((t) => [t, { schema: { type: 'string' } }]),
      ),
    };
  if (!route.schemas.response) return { description: ok === 204 ? 'Done (no body)' : route.summary };
  return {
    description: route.summary,
    ...(headers ? { headers } : {}),
    content: { 'application/json': { schema: components.convert(route.schemas.response, 'output') } },
  };
}

function operation(route: Route, components: Components): JsonSchema {
  const responses: Record<string, JsonSchema> = { [String(route.status)]: success(route, components) };
  const errors = new Set([400, ...route.errors, 500]);
  if (route.auth === 'user') errors.add(401);
  if (route.auth !== 'public' && route.methods.some((m) => m !== 'GET' && m !== 'HEAD')) errors.add(403);
  if (route.schemas.body) errors.add(415);
  if (route.generation) errors.add(429);
  if (route.name !== 'openapi') errors.add(503);
  for (const status of [...errors].sort((a, b) => a - b))
    responses[String(status)] = {
      description: ERROR_TEXT[status] ?? 'Error',
      ...(status === 503 || status === 429 ? { headers: RETRY_AFTER } : {}),
      content: { 'application/json': { schema: ERROR_REF } },
    };
  // Not ready: the readiness probe answers 503 with its usual body.
  if (route.name === 'health')
    responses['503'] = {
      ...success(route, components),
      description: 'No model can be served yet (not ready); the body says why',
      headers: RETRY_AFTER,
    };
  return {
    operationId: route.name,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: route.tags,
    parameters: parameters(route, components),
    ...(route.schemas.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: components.convert(route.schemas.body, 'input') } },
          },
        }
      : {}),
    responses,
    // {} = also without credentials (optional sign-in).
    security: route.auth === 'user' ? USER_SECURITY : route.auth === 'optional' ? [{}, ...USER_SECURITY] : [],
  };
}

const cache = new WeakMap<readonly Route[], JsonSchema>();

export function openApiDocument(routes: readonly Route[]): JsonSchema {
  const cached = cache.get(routes);
  if (cached) return cached;
  const components = new Components();
  components.convert(errorOut, 'output');
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const path = openApiPath(route.route);
    paths[path] ??= {};
    for (const method of route.methods) paths[path][method.toLowerCase()] = operation(route, components);
  }
  const doc: JsonSchema = {
    openapi: '3.1.0',
    info: {
      title: 'Tracklist AI',
      version: '1',
      description:
        'DJ tracklist generation and music recommendations. Ids are stable across model versions. ' +
        'Catalogue and generation endpoints are public; /me endpoints need a signed-in user ' +
        '(App Service Authentication: a browser session on the same origin, or an Entra ID bearer token).',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/api' }],
    tags: [
      { name: 'service', description: 'Health and this document' },
      { name: 'songs', description: 'Songs: search, details, similar songs, matching imported lines' },
      { name: 'artists', description: 'Artists: search, details, their songs, similar artists' },
      { name: 'djs', description: 'DJs: search, details, their songs, similar DJs, recommendations' },
      { name: 'tracklists', description: 'Generating and exporting tracklists' },
      { name: 'me', description: 'The signed-in user: likes, recommendations, saved tracklists' },
    ],
    paths,
    components: { schemas: components.schemas, securitySchemes: SECURITY_SCHEMES },
  };
  cache.set(routes, doc);
  return doc;
}
