import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { schemaSource, SCHEMA_FILE } from '../../scripts/buildWeb.ts';
import { ApiError, createTracklistApi } from '../../web/src/api/client.ts';
import type { Unavailable } from '../../web/src/api/client.ts';

/* The typed client: its types are the current document's, errors carry the field, 503s are retried. */

describe('typed API client', () => {
  it('is generated from the current OpenAPI document (run `npm run build:web` after changing the routes)', async () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(await schemaSource());
  });

  it('turns an error answer into an ApiError naming the field', async () => {
    const fetch = async () =>
      new Response(JSON.stringify({ error: { message: 'length: Too big', field: 'length' } }), {
        status: 400,
        headers: { 'content-type': 'application/json' },
      });
    const api = createTracklistApi({ baseUrl: 'http://api.test/api', fetch });
    const e = await api.call(() => api.client.POST('/tracklists', { body: { seedSong: 's0123456789ab', length: 500 } })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ status: 400, field: 'length', message: 'length: Too big' });
  });

  it('waits out 503s for Retry-After seconds (capped) and reports it, then returns the data', async () => {
    const seen: (Unavailable | null)[] = [];
    let calls = 0;
    const fetch = async (request: Request) => {
      calls++;
      expect(new URL(request.url).pathname).toBe('/api/health');
      if (calls < 3)
        return new Response(JSON.stringify({ error: { message: 'no model available: loading' } }), {
          status: 503,
          headers: { 'content-type': 'application/json', 'retry-after': '30' },
        });
      return new Response(JSON.stringify({ status: 'ok', model: null, checkedAt: null }), { headers: { 'content-type': 'application/json' } });
    };
    const api = createTracklistApi({ baseUrl: 'http://api.test/api', fetch: fetch as typeof globalThis.fetch, maxRetryAfterSeconds: 0.01, onUnavailable: (u) => seen.push(u) });
    const health = await api.call(() => api.client.GET('/health'));
    expect(health.status).toBe('ok');
    expect(calls).toBe(3);
    expect(seen.map((s) => s && { retryIn: s.retryIn, attempt: s.attempt })).toEqual([{ retryIn: 0.01, attempt: 1 }, { retryIn: 0.01, attempt: 2 }, null]);
    expect(seen[0]!.message).toBe('no model available: loading');
  });

  it('gives up after maxAttempts with the 503 as an ApiError', async () => {
    const fetch = async () => new Response(JSON.stringify({ error: { message: 'busy' } }), { status: 503, headers: { 'retry-after': '1', 'content-type': 'application/json' } });
    const api = createTracklistApi({ baseUrl: 'http://api.test/api', fetch, maxAttempts: 2, maxRetryAfterSeconds: 0.001 });
    await expect(api.call(() => api.client.GET('/health'))).rejects.toMatchObject({ status: 503, message: 'busy' });
  });
});
