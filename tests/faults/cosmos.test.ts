/**
 * Faults of the user store's database, injected into a real local Cosmos server process: stopped
 * (SIGSTOP: the socket stays open and nothing answers), killed mid-traffic, and restarted empty on
 * the same port. The API must answer a quick 503 with Retry-After while it is gone (never a 500,
 * never a minute's wait) and serve writes again once it is back, without restarting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principalHeaders } from '../../functions/identity.ts';
import { startLocalHost, type LocalHost } from '../../functions/localHost.ts';
import { cosmosClient } from '../../shared/store/config.ts';
import { startCosmos, type LocalCosmosService } from '../../shared/store/localServices.ts';
import { UserStore } from '../../shared/store/userStore.ts';
import { FakeModel, FakeModelSource, SONG_IDS } from '../functions/fakes.ts';

/** The store's deadline in these tests (COSMOS_TIMEOUT_MS; 5 s by default). */
const TIMEOUT_MS = 1000;

let cosmos: LocalCosmosService;
let host: LocalHost;
const errors: string[] = [];

function makeStore(endpoint: string): UserStore {
  return new UserStore(
    cosmosClient({ cosmosEndpoint: endpoint, azureClientId: undefined, cosmosTimeoutMs: TIMEOUT_MS }),
    {
      createIfMissing: true,
      timeoutMs: TIMEOUT_MS,
    },
  );
}

beforeAll(async () => {
  cosmos = await startCosmos();
  const users = makeStore(cosmos.endpoint);
  host = await startLocalHost({
    services: { model: new FakeModelSource(new FakeModel()), users },
    webRoot: null,
    logHandler: (level, ...args) => {
      if (level === 'error')
        errors.push(args.map((a) => (a instanceof Error ? a.stack : String(a))).join(' '));
    },
  });
});

afterAll(async () => {
  await host?.close();
  if (cosmos) {
    process.kill(cosmos.pid, 'SIGCONT');
    await cosmos.stop();
  }
});

const user = (n: number) => ({ ...principalHeaders(`fault-user-${n}`), 'content-type': 'application/json' });

async function timed(
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; ms: number; retryAfter: string | null }> {
  const started = performance.now();
  const res = await fetch(host.url + path, init);
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - started, retryAfter: res.headers.get('retry-after') };
}

const putLikes = (n: number, song = SONG_IDS[n % SONG_IDS.length]) =>
  timed('/me/preferences', {
    method: 'PUT',
    headers: user(n),
    body: JSON.stringify({ likes: [{ song, score: 1 }] }),
  });

describe('Cosmos faults', () => {
  it('stopped (SIGSTOP): /me answers 503 with Retry-After within the deadline, public routes keep serving; back after SIGCONT', async () => {
    expect((await putLikes(1)).status).toBe(200);
    process.kill(cosmos.pid, 'SIGSTOP');
    try {
      const [me, put] = await Promise.all([timed('/me', { headers: user(1) }), putLikes(1)]);
      for (const r of [me, put]) {
        expect(r.status).toBe(503);
        expect(r.retryAfter).toBeTruthy();
        // The deadline plus slack, not the SDK's 60 s.
        expect(r.ms).toBeLessThan(TIMEOUT_MS + 2000);
      }
      expect((await timed(`/songs/${SONG_IDS[0]}`)).status).toBe(200);
    } finally {
      process.kill(cosmos.pid, 'SIGCONT');
    }
    expect((await timed('/me', { headers: user(1) })).status).toBe(200);
    expect(errors).toEqual([]);
  });

  it('killed mid-traffic: 200 or a quick 503, never a 500; restarted empty on the same port: writes work again', async () => {
    const port = cosmos.port;
    const statuses: number[] = [];
    let stop = false;
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const r = await putLikes(100 + w, SONG_IDS[i % SONG_IDS.length]);
        statuses.push(r.status);
        expect(r.ms).toBeLessThan(TIMEOUT_MS + 2000);
        if (r.status !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.kill(cosmos.pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const down = await putLikes(200);
    expect(down.status).toBe(503);
    expect(down.retryAfter).toBeTruthy();
    // The emulator keeps nothing: the database and containers the store opened are gone.
    cosmos = await startCosmos({ port });
    const restartedAt = statuses.length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    stop = true;
    await Promise.all(writers);
    expect(errors).toEqual([]);
    expect(new Set(statuses)).toEqual(new Set([200, 503]));
    expect(statuses.slice(restartedAt).filter((s) => s === 200).length).toBeGreaterThan(0);
    const after = await putLikes(201);
    expect(after.status).toBe(200);
    const me = await fetch(host.url + '/me', { headers: user(201) });
    expect(((await me.json()) as { likes: unknown[] }).likes).toHaveLength(1);
    expect(errors).toEqual([]);
  });
});
