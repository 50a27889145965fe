import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerPool, workerHeapMb } from '../../functions/workerPool.ts';
import type { WorkerPool } from '../../functions/workerPool.ts';

/* Several serving processes on one port (the local FUNCTIONS_WORKER_PROCESS_COUNT). */

const entry = fileURLToPath(new URL('./fixtures/pidWorker.ts', import.meta.url));
let pool: WorkerPool;
const logged: string[] = [];

beforeAll(async () => {
  pool = await startWorkerPool({ entry, workers: 2, heapMb: 80, log: (line) => logged.push(line) });
}, 60_000);

afterAll(async () => {
  await pool?.stop();
});

async function whoami(): Promise<number> {
  // A fresh connection per request, so the primary can hand it to either worker.
  const res = await fetch(`${pool.url}/whoami`, { headers: { connection: 'close' } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { pid: number }).pid;
}

describe('worker pool', () => {
  it('serves one port from every worker', async () => {
    expect(pool.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
    expect((pool.info as { pid: number }).pid).toBeGreaterThan(0);
    const pids = new Set<number>();
    for (let i = 0; i < 20 && pids.size < 2; i++) pids.add(await whoami());
    expect(pids.size).toBe(2);
    expect(pids.has(process.pid)).toBe(false);
    const health = await fetch(`${pool.url}/health`);
    expect(health.status).toBe(200);
  });

  it('caps each worker’s V8 heap (default 96 MB, WORKER_HEAP_MB overrides)', async () => {
    const res = await fetch(`${pool.url}/whoami`, { headers: { connection: 'close' } });
    const { heapLimitMb } = (await res.json()) as { heapLimitMb: number };
    // The limit is the old-space cap plus V8's young generation.
    expect(heapLimitMb).toBeGreaterThanOrEqual(80);
    expect(heapLimitMb).toBeLessThan(200);
    expect(workerHeapMb({})).toBe(96);
    expect(workerHeapMb({ WORKER_HEAP_MB: '256' })).toBe(256);
    expect(() => workerHeapMb({ WORKER_HEAP_MB: 'lots' })).toThrow(/WORKER_HEAP_MB/);
  });

  it('reports each worker’s memory', async () => {
    const rss = await pool.rss();
    expect(rss).toHaveLength(2);
    for (const bytes of rss) expect(bytes).toBeGreaterThan(10 * 2 ** 20);
  });

  it('replaces a worker that dies', async () => {
    const victim = await whoami();
    process.kill(victim, 'SIGKILL');
    const deadline = Date.now() + 30_000;
    let replaced = false;
    while (!replaced && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      replaced = logged.includes('serving worker replaced');
    }
    expect(replaced).toBe(true);
    const pids = new Set<number>();
    for (let i = 0; i < 20 && pids.size < 2; i++) pids.add(await whoami());
    expect(pids.has(victim)).toBe(false);
    expect(pids.size).toBe(2);
  }, 60_000);

  it('rejects a worker count that is not a positive integer', async () => {
    await expect(startWorkerPool({ entry, workers: 0 })).rejects.toThrow(/positive integer/);
  });
});
