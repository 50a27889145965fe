import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorsPolicy, parseAllowedOrigins } from '../../functions/cors.ts';
import { MAX_BODY_BYTES } from '../../functions/http.ts';
import { principalHeaders } from '../../functions/identity.ts';
import { startLocalHost } from '../../functions/localHost.ts';
import type { LocalHost } from '../../functions/localHost.ts';
import { tempDir } from '../tempDirs.ts';
import { fakeServices, SONG_IDS, SONGS } from './fakes.ts';

/* The local host adapter over node:http, with fake services: routing, bodies, statuses, identity. */

const services = fakeServices();
let host: LocalHost;
let strict: LocalHost;
const lines: { method: string; path: string; status: number }[] = [];

beforeAll(async () => {
  host = await startLocalHost({ services, onRequest: (l) => lines.push(l), logHandler: () => undefined });
  strict = await startLocalHost({ services, devIdentity: false, webRoot: null, logHandler: () => undefined });
});

afterAll(async () => {
  await host?.close();
  await strict?.close();
});

async function get(path: string, init: RequestInit = {}, base = host.url) {
  const res = await fetch(base + path, init);
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
  };
}

describe('local host', () => {
  it('serves the table under /api on a loopback port', async () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
    const r = await get('/health');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    expect(r.body).toMatchObject({ status: 'ok', model: { version: 'v-test' } });
    expect(lines).toContainEqual(
      expect.objectContaining({ method: 'GET', path: '/api/health', status: 200 }),
    );
  });

  it('passes route parameters (URL-decoded) and query strings', async () => {
    const song = await get(`/songs/${SONG_IDS[2]}`);
    expect(song.body).toMatchObject({ id: SONG_IDS[2], name: SONGS[2] });
    const search = await get(`/songs?q=${encodeURIComponent('delta')}&limit=3`);
    expect((search.body as { items: { id: string }[] }).items.map((i) => i.id)).toEqual([SONG_IDS[3]]);
    const byName = await get(`/songs/${encodeURIComponent('Gamma - Three')}`);
    expect(byName.status).toBe(404);
    expect((byName.body as { error: { suggestions: unknown[] } }).error.suggestions).toEqual([
      { id: SONG_IDS[2], name: SONGS[2] },
    ]);
    expect((await get('/songs?q=a&limit=0')).status).toBe(400);
  });

  it('answers 404 off the table and 405 with Allow for a wrong method', async () => {
    expect((await get('/nothing/here')).status).toBe(404);
    expect((await fetch(strict.url.replace(/\/api$/, '/health'))).status).toBe(404);
    const wrong = await get('/songs', { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET');
    const me = await get('/me', { method: 'POST' });
    expect(me.status).toBe(405);
    expect(me.headers.get('allow')?.split(', ').sort()).toEqual(['DELETE', 'GET']);
  });

  it('handles JSON bodies, invalid JSON and the size limit', async () => {
    const post = (body: string) =>
      get('/tracklists', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const ok = await post(JSON.stringify({ seedSong: SONG_IDS[0], length: 2 }));
    expect(ok.status).toBe(200);
    expect((ok.body as { tracklist: { id: string }[] }).tracklist.map((s) => s.id)).toEqual([
      SONG_IDS[0],
      SONG_IDS[1],
      SONG_IDS[2],
    ]);
    const broken = await post('{');
    expect(broken.status).toBe(400);
    expect(broken.body).toMatchObject({ error: { field: 'body' } });
    const big = await post(
      JSON.stringify({ seedSong: SONG_IDS[0], pad: 'é'.repeat(MAX_BODY_BYTES / 2 + 10) }),
    );
    expect(big.status).toBe(413);
  });

  it('accepts dev identity headers, and refuses them when dev mode is off', async () => {
    const headers = { ...principalHeaders('dev-user'), 'content-type': 'application/json' };
    const put = await get('/me/preferences', {
      method: 'PUT',
      headers,
      body: JSON.stringify({ likes: [{ song: SONG_IDS[1], score: 1 }] }),
    });
    expect(put.status).toBe(200);
    expect(services.users.users.get('dev-user')?.likes).toEqual([{ song: SONG_IDS[1], score: 1 }]);
    // The bare id header is enough locally (curl -H 'x-ms-client-principal-id: me').
    const me = await get('/me', { headers: { 'x-ms-client-principal-id': 'dev-user' } });
    expect(me.status).toBe(200);
    expect((me.body as { likes: unknown[] }).likes).toHaveLength(1);
    expect((await get('/me')).status).toBe(401);
    expect((await get('/me', { headers }, strict.url)).status).toBe(401);
    const del = await fetch(`${host.url}/me`, { method: 'DELETE', headers });
    expect(del.status).toBe(204);
    expect(await del.text()).toBe('');
  });

  it('serves the OpenAPI document', async () => {
    const r = await get('/openapi.json');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ openapi: expect.stringMatching(/^3\.1/), servers: [{ url: '/api' }] });
  });
});

describe('local host: web app, CORS and dev sign-in', () => {
  const root = tempDir('webroot-');
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>app</title>');
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'assets', 'main-ABCDEF12.js'), 'console.log(1)');
  writeFileSync(join(tempDir('outside-'), 'secret.txt'), 'no');
  let web: LocalHost;
  let site: string;

  beforeAll(async () => {
    web = await startLocalHost({
      services,
      webRoot: root,
      cors: new CorsPolicy(parseAllowedOrigins('https://partner.example, http://localhost:5173')),
      logHandler: () => undefined,
    });
    site = web.url.replace(/\/api$/, '');
  });
  afterAll(() => web?.close());

  it('serves the app at /, hashed assets for a year, app paths as index.html, missing assets 404', async () => {
    const index = await fetch(site + '/');
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('<title>app</title>');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    const asset = await fetch(site + '/assets/main-ABCDEF12.js');
    expect(asset.headers.get('content-type')).toMatch(/text\/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(await (await fetch(site + '/songs/s0123456789ab')).text()).toContain('<title>app</title>');
    expect((await fetch(site + '/assets/gone-12345678.js')).status).toBe(404);
    expect((await fetch(site + '/%2e%2e/%2e%2e/etc/passwd.txt')).status).toBe(404);
    expect((await fetch(site + '/', { method: 'POST' })).status).toBe(405);
  });

  it('answers preflights and marks answers only for listed origins', async () => {
    const preflight = (origin: string) =>
      fetch(web.url + '/tracklists', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const ok = await preflight('https://partner.example');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://partner.example');
    expect(ok.headers.get('access-control-allow-methods')).toContain('POST');
    expect(ok.headers.get('access-control-allow-headers')).toBe('content-type');
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const listed = await fetch(web.url + '/health', { headers: { origin: 'http://localhost:5173' } });
    expect(listed.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(listed.headers.get('access-control-expose-headers')).toContain('retry-after');
    const unlisted = await fetch(web.url + '/health', { headers: { origin: 'https://evil.example' } });
    expect(unlisted.status).toBe(200);
    expect(unlisted.headers.get('access-control-allow-origin')).toBeNull();
    expect(() => parseAllowedOrigins('*')).toThrow(/CORS_ALLOWED_ORIGINS/);
    expect(() => parseAllowedOrigins('https://a.example/path')).toThrow(/without a path/);
  });

  it('signs in with the dev page, turns the session cookie into the principal, and signs out', async () => {
    const page = await fetch(site + '/.auth/login/aad?post_login_redirect_uri=/account');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('name="name"');
    expect((await fetch(web.url + '/me')).status).toBe(401);
    const login = await fetch(site + '/.auth/login/aad?post_login_redirect_uri=/account', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=Ada%20L%C3%B6v',
      redirect: 'manual',
    });
    expect(login.status).toBe(302);
    expect(login.headers.get('location')).toBe('/account');
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    expect(login.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Lax/);
    const me = await fetch(web.url + '/me', { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: 'dev-ada-lov', name: 'Ada Löv', identityProvider: 'dev' });
    expect(await (await fetch(site + '/.auth/me', { headers: { cookie } })).json()).toEqual([
      expect.objectContaining({ user_id: 'dev-ada-lov' }),
    ]);
    // Only same-origin paths are redirect targets.
    const evil = await fetch(site + '/.auth/logout?post_logout_redirect_uri=//evil.example', { redirect: 'manual' });
    expect(evil.headers.get('location')).toBe('/');
    expect(evil.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    // Without dev identity mode there is no sign-in stand-in.
    expect((await fetch(strict.url.replace(/\/api$/, '') + '/.auth/me')).status).toBe(404);
  });
});
