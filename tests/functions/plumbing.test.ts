import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import azureFunctions from '@azure/functions';
import type { Timer } from '@azure/functions';
import { platformAuthEnabled, principalHeaders, readPrincipal } from '../../functions/identity.ts';
import { openApiDocument } from '../../functions/openapi.ts';
import { createRetrainTimer, RETRAIN_SCHEDULE_BINDING } from '../../functions/retrainTimer.ts';
import { compileRoute, openApiPath } from '../../functions/routeTemplate.ts';
import { routes } from '../../functions/routes.ts';
import { readSettings } from '../../shared/store/config.ts';
import { LIMITS } from '../../shared/limits.ts';
import { call, fakeServices } from './fakes.ts';

const { InvocationContext } = azureFunctions;

describe('identity', () => {
  it('reads the Easy Auth headers only when trusted', () => {
    const h = new Headers(principalHeaders('0f1e-oid', 'Ann Example'));
    expect(readPrincipal(h, true)).toEqual({ id: '0f1e-oid', name: 'Ann Example', identityProvider: 'aad' });
    expect(readPrincipal(h, false)).toBeNull();
    expect(readPrincipal(new Headers(), true)).toBeNull();
  });

  it('falls back to the claims of x-ms-client-principal when the id header is absent', () => {
    const all = principalHeaders('abc-123', 'Zoe');
    const h = new Headers({ 'x-ms-client-principal': all['x-ms-client-principal'] });
    expect(readPrincipal(h, true)).toEqual({ id: 'abc-123', name: 'Zoe', identityProvider: 'aad' });
  });

  it('refuses malformed principals and ids that cannot be document ids (401)', () => {
    expect(() => readPrincipal(new Headers({ 'x-ms-client-principal': '!!!' }), true)).toThrow(/malformed/);
    const noId = Buffer.from(JSON.stringify({ auth_typ: 'aad', claims: [] })).toString('base64');
    expect(() => readPrincipal(new Headers({ 'x-ms-client-principal': noId }), true)).toThrow(/no user id/);
    for (const id of ['a/b', '../x', 'a?b', 'x'.repeat(200)])
      expect(() => readPrincipal(new Headers({ 'x-ms-client-principal-id': id }), true), id).toThrow(
        /unusable/,
      );
  });

  it('decodes the principal strictly: standard base64 of a JSON object with well-formed claims', () => {
    const good = principalHeaders('abc-123', 'Zoë ~?>!')['x-ms-client-principal']; // base64 with + or / and padding
    const only = (value: string) => new Headers({ 'x-ms-client-principal': value });
    expect(readPrincipal(only(good), true)?.id).toBe('abc-123');
    const json = Buffer.from(good, 'base64').toString('utf8');
    const base64url = Buffer.from(json).toString('base64url');
    expect(base64url).not.toBe(good.replace(/=+$/, ''));
    for (const [what, value] of [
      ['junk inside the base64', good.slice(0, 8) + '*!' + good.slice(8)],
      ['base64url', base64url],
      ['missing padding', good.replace(/=+$/, '')],
      ['whitespace', `${good.slice(0, 10)} ${good.slice(10)}`],
      ['not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64')],
      ['an array', Buffer.from('[]').toString('base64')],
      ['claims not an array', Buffer.from(JSON.stringify({ claims: { typ: 'oid', val: 'x' } })).toString('base64')],
      ['a claim value that is not a string', Buffer.from(JSON.stringify({ claims: [{ typ: 'oid', val: 7 }] })).toString('base64')],
    ] as const)
      expect(() => readPrincipal(only(value), true), what).toThrow(/malformed x-ms-client-principal/);
  });

  it('trusts the identity headers only when infra configured sign-in and the platform says Easy Auth is on', () => {
    // [AUTH_ENABLED, WEBSITE_AUTH_ENABLED, trusted]
    const cases: [string | undefined, string | undefined, boolean][] = [
      [undefined, undefined, false],
      ['false', undefined, false],
      ['true', undefined, false], // the fail-open case: nobody strips client-sent headers
      ['true', '', false],
      ['true', 'false', false],
      ['true', 'yes', false],
      [undefined, 'True', false],
      ['false', 'True', false],
      ['true', 'True', true],
      ['True', 'true', true],
    ];
    for (const [auth, website, trusted] of cases) {
      const env = { ...(auth !== undefined ? { AUTH_ENABLED: auth } : {}), ...(website !== undefined ? { WEBSITE_AUTH_ENABLED: website } : {}) };
      expect(platformAuthEnabled(env), JSON.stringify(env)).toBe(trusted);
    }
  });

  it('a forged x-ms-client-principal-id is not believed with AUTH_ENABLED=true alone (GET /me is a 401)', async () => {
    const s = fakeServices();
    const forged = { 'x-ms-client-principal-id': 'victim-oid', 'x-ms-client-principal-name': 'Victim' };
    const me = (env: NodeJS.ProcessEnv) => call(s, 'getMe', { headers: forged, trusted: platformAuthEnabled(env) });
    expect((await me({ AUTH_ENABLED: 'true' })).status).toBe(401);
    expect((await call(s, 'getSession', { headers: forged, trusted: platformAuthEnabled({ AUTH_ENABLED: 'true' }) })).body).toEqual({ user: null });
    // Behind Easy Auth the platform itself wrote the header, so it is the user.
    expect((await me({ AUTH_ENABLED: 'true', WEBSITE_AUTH_ENABLED: 'true' })).status).toBe(200);
  });
});

describe('route templates', () => {
  it('match paths like the Functions host, decoding parameters', () => {
    const r = compileRoute('songs/{id}/similar');
    expect(r.match('/songs/s0123/similar')).toEqual({ id: 's0123' });
    expect(r.match('/Songs/a%20b/similar/')).toEqual({ id: 'a b' });
    expect(r.match('/songs/x')).toBeNull();
    expect(r.match('/songs/x/similar/more')).toBeNull();
    expect(r.match('/songs/%E0%A4%A/similar')).toBeNull();
    expect(compileRoute('me/tracklists/{id?}').match('/me/tracklists')).toEqual({});
    expect(compileRoute('x/{n:int}').params).toEqual(['n']);
    expect(compileRoute('me').literals).toBe(1);
    expect(() => compileRoute('a{b}')).toThrow(/unsupported/);
    expect(openApiPath('songs/{id:alpha}/similar')).toBe('/songs/{id}/similar');
  });
});

describe('OpenAPI document', () => {
  const doc = openApiDocument(routes) as {
    openapi: string;
    info: { title: string; version: string };
    paths: Record<string, Record<string, Record<string, unknown>>>;
    components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
  };

  it('is OpenAPI 3.1 and lists every route with its method and operationId', () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.info.title).toBeTruthy();
    const ids: string[] = [];
    for (const route of routes) {
      const path = openApiPath(route.route);
      for (const method of route.methods) {
        const op = doc.paths[path]?.[method.toLowerCase()] as {
          operationId: string;
          responses: Record<string, unknown>;
        };
        expect(op, `${method} ${path}`).toBeDefined();
        expect(op.operationId).toBe(route.name);
        expect(Object.keys(op.responses)).toContain(String(route.status));
        ids.push(op.operationId);
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(Object.values(doc.paths).flatMap((p) => Object.keys(p)).length).toBe(ids.length);
  });

  it('describes parameters, bodies and security from the validating schemas', () => {
    const similar = doc.paths['/songs/{id}/similar'].get as {
      parameters: { name: string; in: string; required: boolean; schema: { maximum?: number } }[];
    };
    expect(similar.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'id', in: 'path', required: true }),
        expect.objectContaining({
          name: 'k',
          in: 'query',
          required: false,
          schema: expect.objectContaining({ maximum: 500, minimum: 1 }),
        }),
      ]),
    );
    const search = doc.paths['/songs'].get as { parameters: { name: string; required: boolean }[] };
    expect(search.parameters.find((p) => p.name === 'q')!.required).toBe(true);
    type Schema = {
      $ref?: string;
      required: string[];
      properties: Record<string, Schema & { maximum?: number; maxItems?: number; minItems?: number; items?: Schema }>;
      additionalProperties: boolean;
      exclusiveMaximum?: number;
    };
    const deref = (x: Schema): Schema =>
      x.$ref ? (doc.components.schemas[x.$ref.replace('#/components/schemas/', '')] as Schema) : x;
    const post = doc.paths['/tracklists'].post as {
      requestBody: { content: { 'application/json': { schema: Schema } } };
      security: unknown;
    };
    const ref = post.requestBody.content['application/json'].schema;
    expect(ref.$ref).toBe('#/components/schemas/TracklistRequest');
    const schema = deref(ref);
    expect(schema.required).toEqual(['seedSong']);
    expect(schema.properties.length.maximum).toBe(LIMITS.length.max);
    expect(schema.properties.likes.maxItems).toBe(LIMITS.likes);
    // Exactly as many numbers as the engine takes, within the engine's bounds.
    expect(schema.properties.temperature).toMatchObject({ minItems: 3, maxItems: 3 });
    expect(schema.properties.thresholds).toMatchObject({ minItems: 4, maxItems: 4 });
    expect(schema.properties.thresholds.items!.exclusiveMaximum).toBe(LIMITS.thresholds.below);
    expect(schema.additionalProperties).toBe(false);
    expect(post.security).toEqual([]);
    for (const name of ['Song', 'Artist', 'Dj', 'TracklistItem', 'Tracklist', 'Like', 'SavedTracklist', 'Error'])
      expect(doc.components.schemas[name], name).toBeDefined();
    const me = doc.paths['/me'].get as { security: unknown; responses: Record<string, unknown> };
    expect(me.security).toEqual([{ appServiceSession: [] }, { entraIdBearer: [] }]);
    expect(Object.keys(me.responses)).toContain('401');
    expect(doc.paths['/health'].get.security).toEqual([]);
    const schemes = (doc.components as unknown as { securitySchemes: Record<string, { in?: string; scheme?: string }> })
      .securitySchemes;
    expect(schemes.appServiceSession.in).toBe('cookie');
    expect(schemes.entraIdBearer.scheme).toBe('bearer');
    const generated = post as unknown as { responses: Record<string, { headers?: Record<string, unknown> }> };
    expect(generated.responses['503'].headers).toHaveProperty('Retry-After');
    const created = doc.paths['/me/tracklists'].post as unknown as {
      responses: Record<string, { headers?: Record<string, unknown> }>;
    };
    expect(created.responses['201'].headers).toHaveProperty('Location');
  });

  it('has only resolvable $refs and no leftover $schema keys', () => {
    const text = JSON.stringify(doc);
    for (const [, ref] of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g))
      expect(doc.components.schemas[ref]).toBeDefined();
    expect(text).not.toContain('"$schema"');
  });
});

describe('retrain timer', () => {
  it('starts a retraining run with the settings and rethrows failures after logging them', async () => {
    const settings = readSettings({
      TRAINING_JOB_RESOURCE_ID: '/subscriptions/x/resourceGroups/y/providers/Microsoft.App/jobs/z',
    });
    const started: unknown[] = [];
    const timer = createRetrainTimer({
      settings: () => settings,
      start: async (s) => {
        started.push(s);
        return { mode: 'azure', status: 202, jobId: s.trainingJobResourceId!, execution: 'exec-1' };
      },
    });
    const tick = { isPastDue: false } as Timer;
    const logs: string[] = [];
    const context = new InvocationContext({
      invocationId: 'inv-1',
      logHandler: (_l, ...a) => logs.push(a.map(String).join(' ')),
    });
    expect(await timer(tick, context)).toMatchObject({ mode: 'azure', execution: 'exec-1' });
    expect(started).toEqual([settings]);
    const failing = createRetrainTimer({
      settings: () => settings,
      start: async () => Promise.reject(new Error('ARM said no')),
    });
    await expect(failing(tick, context)).rejects.toThrow('ARM said no');
    expect(logs.some((l) => l.includes('inv-1') && l.includes('ARM said no'))).toBe(true);
  });
});

describe('functions/index.ts', () => {
  afterEach(() => {
    vi.doUnmock('@azure/functions');
    vi.doUnmock('../../functions/services.ts');
    vi.resetModules();
  });

  it('registers every route and the timer, and does nothing else at import', async () => {
    const http = vi.fn();
    const timer = vi.fn();
    const create = vi.fn();
    vi.resetModules();
    vi.doMock('@azure/functions', async (original) => {
      const real = (await original<{ default: typeof azureFunctions }>()).default;
      return { default: { ...real, app: { ...real.app, http, timer } } };
    });
    vi.doMock('../../functions/services.ts', async (original) => ({
      ...(await original<object>()),
      createServices: create,
    }));
    await import('../../functions/index.ts');
    expect(http).toHaveBeenCalledTimes(routes.length + 1);
    expect(http).toHaveBeenCalledWith('webApp', expect.objectContaining({ route: '{*path}', methods: ['GET', 'HEAD'] }));
    // host.json drops the default "api" prefix so the web app can live at the root of the same origin.
    const host = JSON.parse(readFileSync(new URL('../../host.json', import.meta.url), 'utf8')) as {
      extensions: { http: { routePrefix: string } };
    };
    expect(host.extensions.http.routePrefix).toBe('');
    for (const route of routes) {
      const call = http.mock.calls.find((c) => c[0] === route.name);
      expect(call, route.name).toBeDefined();
      expect(call![1]).toMatchObject({ route: `api/${route.route}`, methods: route.methods, authLevel: 'anonymous' });
      expect(typeof call![1].handler).toBe('function');
    }
    expect(timer).toHaveBeenCalledWith(
      'retrainTimer',
      expect.objectContaining({ schedule: RETRAIN_SCHEDULE_BINDING }),
    );
    expect(RETRAIN_SCHEDULE_BINDING).toBe('%RETRAIN_SCHEDULE%');
    expect(create).not.toHaveBeenCalled();
  });
});
