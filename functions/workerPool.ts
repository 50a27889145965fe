/**
 * Several serving processes behind one port, the local counterpart of the Functions app setting
 * FUNCTIONS_WORKER_PROCESS_COUNT: generation is CPU-bound and a Node process uses one core, so a
 * 2-core host serves about twice the requests with two workers. node:cluster shares the listening
 * socket; each worker loads its own model (a model is ~250 MB at seed size).
 *
 * The worker entry calls `serveInWorker(host)` once its local host listens. Messages: worker →
 * primary `{ type: 'ready', url }`, primary → worker `'rss'` (answered `{ type: 'rss', rss }`) and
 * `'stop'`. A worker that dies unexpectedly is replaced (at most `maxRestarts` times).
 */
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import type { LocalHost } from './localHost.ts';

export interface WorkerPoolOptions {
  /** The script each worker runs (it ends by calling serveInWorker). */
  entry: string;
  args?: string[];
  workers: number;
  /** Extra environment for the workers (settings, port). */
  env?: Record<string, string>;
  log?: (line: string) => void;
  /** Replacements for workers that died (default 5). */
  maxRestarts?: number;
  /** Milliseconds a worker may take to load its model and listen (default 120 s). */
  readyTimeoutMs?: number;
  /**
   * V8 old-space cap per worker in MB (default WORKER_HEAP_MB, else 96). A serving worker's JS
   * heap is small (its model's tensors live outside it); uncapped, V8 lets garbage pile up
   * before its first full collection, so RSS climbs under load.
   */
  heapMb?: number;
}

/** The default per-worker heap cap (see WorkerPoolOptions.heapMb). */
export function workerHeapMb(env: NodeJS.ProcessEnv = process.env): number {
  const value = env.WORKER_HEAP_MB === undefined ? 96 : Number(env.WORKER_HEAP_MB);
  if (!(Number.isInteger(value) && value >= 64))
    throw new RangeError(`WORKER_HEAP_MB must be an integer of at least 64, got "${env.WORKER_HEAP_MB}"`);
  return value;
}

export interface WorkerPool {
  /** The API's base URL, as the first worker reported it. */
  url: string;
  /** What the first worker passed to serveInWorker (e.g. model facts for a benchmark). */
  info: unknown;
  workers: number;
  /** Each worker's RSS in bytes. */
  rss(): Promise<number[]>;
  stop(): Promise<void>;
}

type WorkerMessage = { type: 'ready'; url: string; info?: unknown } | { type: 'rss'; rss: number };

function nextMessage<T extends WorkerMessage['type']>(
  worker: Worker,
  type: T,
  timeoutMs: number,
): Promise<Extract<WorkerMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`worker ${worker.id}: no ${type} message in ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: WorkerMessage) => {
      if (m?.type === type) done(null, m as Extract<WorkerMessage, { type: T }>);
    };
    const onExit = (code: number | null) => done(new Error(`worker ${worker.id} exited (${code}) before ${type}`));
    function done(error: Error | null, m?: Extract<WorkerMessage, { type: T }>) {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      if (error) reject(error);
      else resolve(m!);
    }
    worker.on('message', onMessage);
    worker.on('exit', onExit);
  });
}

/** Forks the workers and resolves once every one of them listens. */
export async function startWorkerPool(options: WorkerPoolOptions): Promise<WorkerPool> {
  if (!cluster.isPrimary) throw new Error('startWorkerPool: call it from the primary process');
  if (!(Number.isInteger(options.workers) && options.workers >= 1))
    throw new RangeError(`workers must be a positive integer, got ${options.workers}`);
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const timeout = options.readyTimeoutMs ?? 120_000;
  const heapMb = options.heapMb ?? workerHeapMb();
  cluster.setupPrimary({
    exec: options.entry,
    args: options.args ?? [],
    execArgv: [...process.execArgv.filter((a) => !a.startsWith('--max-old-space-size')), `--max-old-space-size=${heapMb}`],
  });
  const live = new Set<Worker>();
  let stopping = false;
  let restarts = options.maxRestarts ?? 5;

  const fork = (): Promise<{ worker: Worker; url: string; info: unknown }> => {
    const worker = cluster.fork(options.env ?? {});
    live.add(worker);
    worker.once('exit', (code, signal) => {
      live.delete(worker);
      if (stopping) return;
      log(`serving worker ${worker.process.pid} died (${code ?? signal})`);
      if (restarts-- > 0)
        fork().then(
          () => log('serving worker replaced'),
          (e: unknown) => log(`could not replace the worker: ${String(e)}`),
        );
    });
    return nextMessage(worker, 'ready', timeout).then((m) => ({ worker, url: m.url, info: m.info }));
  };

  const stop = async () => {
    stopping = true;
    await Promise.all(
      [...live].map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            const kill = setTimeout(() => worker.process.kill('SIGKILL'), 10_000);
            worker.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            worker.send('stop');
          }),
      ),
    );
  };

  try {
    const ready = await Promise.all(Array.from({ length: options.workers }, fork));
    return {
      url: ready[0].url,
      info: ready[0].info,
      workers: options.workers,
      rss: () =>
        Promise.all(
          [...live].map((worker) => {
            const answer = nextMessage(worker, 'rss', 10_000);
            worker.send('rss');
            return answer.then((m) => m.rss);
          }),
        ),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Worker side: reports the host (and `info`) to the primary and serves until told to stop. */
export function serveInWorker(host: LocalHost, info?: unknown): void {
  if (!process.send) throw new Error('serveInWorker: not started by startWorkerPool');
  // Ctrl-C reaches the whole process group: the primary stops the workers in order.
  process.on('SIGINT', () => undefined);
  // A primary that is gone (even killed) takes its workers with it.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m) => {
    if (m === 'rss') process.send!({ type: 'rss', rss: process.memoryUsage().rss });
    if (m === 'stop') void host.close().finally(() => process.exit(0));
  });
  process.send({ type: 'ready', url: host.url, info });
}
