/**
 * The OpenAPI 3.1 document of the route table, generated from the same zod schemas that validate
 * requests (z.toJSONSchema emits JSON Schema 2020-12, the dialect of OpenAPI 3.1).
 */
import { z } from 'zod';
import type { Route } from './http.ts';
import { MAX_BODY_BYTES } from './http.ts';
import { PRINCIPAL_HEADER } from './identity.ts';
import { openApiPath } from './routeTemplate.ts';
import { errorOut } from './schemas.ts';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  delete out.$schema;
  return out;
}

const ERROR_REF = { $ref: '#/components/schemas/Error' };

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid input; error.field names the offending field (e.g. likes[3].song)',
  401: 'Sign-in required',
  404: 'Unknown id; error.suggestions may list matching names',
  413: `Body larger than ${MAX_BODY_BYTES} bytes`,
  500: 'A bug; error.invocationId identifies the logged invocation',
  503: 'No model available yet, or storage busy; retry later',
};

function parameters(route: Route): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [where, schema] of [
    ['path', route.schemas.params],
    ['query', route.schemas.query],
  ] as const) {
    if (!schema) continue;
    const s = jsonSchema(schema, 'input');
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

function operation(route: Route): JsonSchema {
  const ok = route.status;
  const responses: Record<string, JsonSchema> = {
    [String(ok)]: route.schemas.response
      ? {
          description: route.summary,
          content: { 'application/json': { schema: jsonSchema(route.schemas.response, 'output') } },
        }
      : { description: ok === 204 ? 'Done (no body)' : route.summary },
  };
  const errors = new Set([400, ...route.errors, 500]);
  if (route.auth === 'user') errors.add(401);
  if (route.name !== 'openapi') errors.add(503);
  for (const status of [...errors].sort((a, b) => a - b))
    responses[String(status)] = {
      description: ERROR_TEXT[status] ?? 'Error',
      content: { 'application/json': { schema: ERROR_REF } },
    };
  return {
    operationId: route.name,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: route.tags,
    parameters: parameters(route),
    ...(route.schemas.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: jsonSchema(route.schemas.body, 'input') } },
          },
        }
      : {}),
    responses,
    ...(route.auth === 'user' ? { security: [{ easyAuth: [] }] } : {}),
  };
}

const cache = new WeakMap<readonly Route[], JsonSchema>();

export function openApiDocument(routes: readonly Route[]): JsonSchema {
  const cached = cache.get(routes);
  if (cached) return cached;
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const path = openApiPath(route.route);
    paths[path] ??= {};
    for (const method of route.methods) paths[path][method.toLowerCase()] = operation(route);
  }
  const doc: JsonSchema = {
    openapi: '3.1.0',
    info: {
      title: 'Tracklist AI',
      version: '1',
      description:
        'DJ tracklist generation and music recommendations. Ids are stable across model versions. ' +
        'Catalogue and generation endpoints are public; /me endpoints need a user signed in through ' +
        'App Service Authentication.',
    },
    servers: [{ url: '/api' }],
    tags: [
      { name: 'service' },
      { name: 'songs' },
      { name: 'artists' },
      { name: 'djs' },
      { name: 'tracklists' },
      { name: 'me', description: 'The signed-in user' },
    ],
    paths,
    components: {
      schemas: { Error: jsonSchema(errorOut, 'output') },
      securitySchemes: {
        easyAuth: {
          type: 'apiKey',
          in: 'header',
          name: PRINCIPAL_HEADER,
          description:
            'Set by App Service Authentication after sign-in (/.auth/login/aad); not sent by clients directly.',
        },
      },
    },
  };
  cache.set(routes, doc);
  return doc;
}
