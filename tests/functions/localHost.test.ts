import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../functions/http.ts';
import { principalHeaders } from '../../functions/identity.ts';
import { startLocalHost } from '../../functions/localHost.ts';
import type { LocalHost } from '../../functions/localHost.ts';
import { fakeServices, SONG_IDS, SONGS } from './fakes.ts';

/* The local host adapter over node:http, with fake services: routing, bodies, statuses, identity. */

const services = fakeServices();
let host: LocalHost;
let strict: LocalHost;
const lines: { method: string; path: string; status: number }[] = [];

beforeAll(async () => {
  host = await startLocalHost({ services, onRequest: (l) => lines.push(l), logHandler: () => undefined });
  strict = await startLocalHost({ services, devIdentity: false, logHandler: () => undefined });
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
    expect((await fetch(host.url.replace(/\/api$/, '/health'))).status).toBe(404);
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
