/**
 * Abuse of the public API: floods of generations (per-client rate limit, cost budget, per-process
 * cap), a slowloris body, a client that aborts mid-body, a text/plain body and a forged principal,
 * through the route table (call) and the local host on a real socket.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startLocalHost, CLIENT_CLOSED, type LocalHost } from '../../functions/localHost.ts';
import { Shedding } from '../../functions/shedding.ts';
import { call, fakeServices, SONG_IDS } from '../functions/fakes.ts';

const body = { seedSong: SONG_IDS[0], length: 5 };
const from = (ip: string) => ({ 'x-forwarded-for': ip });

describe('generation shedding', () => {
  it('rate-limits per client with a token bucket: 429 with Retry-After, other clients unaffected, loopback exempt', async () => {
    const s = fakeServices();
    let now = 0;
    const shedding = new Shedding({ ratePerMinute: 60, burst: 3 }, () => now);
    const gen = (ip: string) => call(s, 'generateTracklist', { body, headers: from(ip), shedding });
    for (let i = 0; i < 3; i++) expect((await gen('203.0.113.7')).status).toBe(200);
    const limited = await gen('203.0.113.7');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.logs.filter((l) => l.level === 'error')).toEqual([]);
    // The last X-Forwarded-For entry is the one the front end added; earlier ones are the client's.
    expect((await gen('198.51.100.1, 203.0.113.7:5123')).status).toBe(429);
    expect((await gen('198.51.100.1')).status).toBe(200);
    expect((await gen('127.0.0.1')).status).toBe(200);
    now += 1000; // one token back
    expect((await gen('203.0.113.7')).status).toBe(200);
    expect((await gen('203.0.113.7')).status).toBe(429);
  });

  it('refuses a request over the cost budget (length × likes) with a 400 naming length', async () => {
    const s = fakeServices();
    const shedding = new Shedding({ maxCost: 100 });
    const likes = SONG_IDS.slice(0, 4).map((song) => ({ song, score: 1 }));
    const over = await call(s, 'generateTracklist', {
      body: { seedSong: SONG_IDS[5], length: 30, likes },
      shedding,
    });
    expect(over.status).toBe(400);
    expect(over.body).toMatchObject({
      error: { field: 'length', message: expect.stringContaining('at most 25') },
    });
    expect(s.model.model!.calls.filter((c) => c.method === 'generate')).toHaveLength(0);
    expect(
      (await call(s, 'generateTracklist', { body: { seedSong: SONG_IDS[5], length: 25, likes }, shedding }))
        .status,
    ).toBe(200);
  });

  it('caps generations in flight per process: the rest get a quick 503 with Retry-After, not a queue', async () => {
    const s = fakeServices();
    const shedding = new Shedding({ concurrency: 2, ratePerMinute: 0 });
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => call(s, 'generateTracklist', { body, shedding })),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 200, 503, 503, 503, 503]);
    for (const a of answers.filter((x) => x.status === 503)) {
      expect(a.headers.get('retry-after')).toBe('1');
      // Shedding on purpose: no warning per refused request.
      expect(a.logs).toEqual([]);
    }
    // Released afterwards, also after failures.
    expect(
      (await call(s, 'generateTracklist', { body: { seedSong: 's000000000000' }, shedding })).status,
    ).toBe(404);
    expect(
      (
        await Promise.all([
          call(s, 'generateTracklist', { body, shedding }),
          call(s, 'generateTracklist', { body, shedding }),
        ])
      ).map((a) => a.status),
    ).toEqual([200, 200]);
  });
});

describe('shedding settings', () => {
  it('come from GENERATE_* with defaults, and a bad value names its setting', () => {
    expect(Shedding.fromEnv({}).settings).toEqual({
      ratePerMinute: 120,
      burst: 20,
      maxCost: 50_000,
      concurrency: 8,
    });
    expect(
      Shedding.fromEnv({ GENERATE_RATE_PER_MINUTE: '0', GENERATE_CONCURRENCY: '2' }).settings,
    ).toMatchObject({
      ratePerMinute: 0,
      concurrency: 2,
    });
    for (const [name, value] of [
      ['GENERATE_BURST', '0'],
      ['GENERATE_CONCURRENCY', '1.5'],
      ['GENERATE_MAX_COST', 'lots'],
    ])
      expect(() => Shedding.fromEnv({ [name]: value }), name).toThrow(name);
  });
});

describe('the local host under abuse', () => {
  let host: LocalHost;
  let strict: LocalHost;
  const lines: { path: string; status: number; ms: number }[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    const logHandler = (level: string, ...args: unknown[]) => {
      if (level === 'error') errors.push(args.map(String).join(' '));
    };
    host = await startLocalHost({
      services: fakeServices(),
      webRoot: null,
      headersTimeoutMs: 1000,
      requestTimeoutMs: 2000,
      logHandler,
      onRequest: (l) => lines.push(l),
    });
    // Sign-in not configured (no dev mode): identity headers are whatever the client made up.
    strict = await startLocalHost({
      services: fakeServices(),
      webRoot: null,
      devIdentity: false,
      logHandler,
    });
  });

  afterAll(async () => {
    await host?.close();
    await strict?.close();
  });

  /** Sends raw bytes; resolves with what came back and when the server closed the socket. */
  function raw(port: number, parts: { data: string; delayMs: number }[], abortAfterMs?: number) {
    return new Promise<{ response: string; ms: number }>((resolve) => {
      const started = performance.now();
      const socket = connect(port, '127.0.0.1');
      let response = '';
      let timer: NodeJS.Timeout | undefined;
      socket.on('data', (d) => (response += d.toString()));
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ response, ms: performance.now() - started });
      });
      socket.on('error', () => undefined);
      let i = 0;
      const next = () => {
        if (i >= parts.length || socket.destroyed) return;
        const part = parts[i++];
        timer = setTimeout(() => {
          if (!socket.destroyed) socket.write(part.data);
          next();
        }, part.delayMs);
      };
      socket.on('connect', next);
      if (abortAfterMs !== undefined) setTimeout(() => socket.destroy(), abortAfterMs);
    });
  }

  const head = (length: number) =>
    `POST /api/tracklists HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

  it('cuts off a slowloris body (a byte every 400 ms) at the request timeout with 408', async () => {
    const text = JSON.stringify(body);
    const trickle = [
      { data: head(text.length), delayMs: 0 },
      ...[...text].map((c) => ({ data: c, delayMs: 400 })),
    ];
    const r = await raw(host.port, trickle);
    expect(r.response).toMatch(/^HTTP\/1\.1 408/);
    // The 2 s timeout and the 1 s check interval, not the minutes a trickle would take.
    expect(r.ms).toBeLessThan(5000);
    // The host still serves.
    expect((await fetch(host.url + '/health')).status).toBe(200);
  });

  it('cuts off slow headers at the headers timeout', async () => {
    const r = await raw(host.port, [
      { data: 'GET /api/health HTTP/1.1\r\n', delayMs: 0 },
      { data: 'X-Slow: 1\r\n', delayMs: 800 },
      { data: 'X-Slow: 2\r\n', delayMs: 800 },
      { data: 'X-Slow: 3\r\n', delayMs: 800 },
    ]);
    expect(r.response).toMatch(/^HTTP\/1\.1 408/);
    expect(r.ms).toBeLessThan(4000);
  });

  it('a client that aborts mid-body is logged as gone (499), not as a 500', async () => {
    const consoleError = vi.spyOn(console, 'error');
    try {
      await raw(host.port, [{ data: head(200) + '{"seedSong": ', delayMs: 0 }], 300);
      await vi.waitFor(() => expect(lines.some((l) => l.status === CLIENT_CLOSED)).toBe(true));
      expect(lines.filter((l) => l.status >= 500)).toEqual([]);
      expect(consoleError).not.toHaveBeenCalled();
      expect(errors).toEqual([]);
    } finally {
      consoleError.mockRestore();
    }
  });

  it('answers 415 to a text/plain body (a CORS "simple" request) and never parses it', async () => {
    const r = await fetch(host.url + '/tracklists', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify(body),
    });
    expect(r.status).toBe(415);
    expect(((await r.json()) as { error: { field: string } }).error.field).toBe('content-type');
  });

  it('does not believe a forged principal when sign-in is not configured', async () => {
    const forged = { 'x-ms-client-principal-id': 'victim-oid', 'x-ms-client-principal-name': 'Victim' };
    expect((await fetch(strict.url + '/me', { headers: forged })).status).toBe(401);
    expect(await (await fetch(strict.url + '/session', { headers: forged })).json()).toEqual({ user: null });
  });
});
