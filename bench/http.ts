import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { serveInWorker, startWorkerPool } from '../functions/workerPool.ts';

/**
 * HTTP load benchmark: POST /api/tracklists through the local host (the same route table and
 * handlers as Azure), served on the loopback interface by `--workers` processes sharing the port
 * (functions/workerPool.ts: the local FUNCTIONS_WORKER_PROCESS_COUNT; default one per core),
 * driven by autocannon from this process. Prints requests/s, latency p50/p99, errors and the
 * servers' RSS when loaded, after a warm-up and at the end (memory should stay flat under load).
 *
 *   npm run bench:http [-- --model VERSIONDIR|MODELDIR] [--duration 60] [--connections 8] [--length 15] [--workers N] [--rate R]
 *
 * Without --rate the connections send back to back (the throughput the host sustains; latency
 * then includes queueing at saturation); --rate R paces them at R requests/s in total, the
 * latency a client sees at that load. Server RSS is sampled every 10 s to show whether it is flat.
 *
 * Default model: the demo model of `npm start` (.data/demo/version, else .data/demo/model exported on first use).
 */

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  duration: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult> & { stop(): void };
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    duration: { type: 'string', default: '60' },
    connections: { type: 'string', default: '8' },
    length: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '5' },
    serve: { type: 'string' },
    workers: { type: 'string', default: String(availableParallelism()) },
    rate: { type: 'string' },
  },
});

if (values.serve !== undefined && cluster.isWorker) await serve(values.serve);
else await main();

interface ServerInfo {
  versionId: string;
  songs: number;
  seeds: string[];
}

/** A serving worker: the local host over one loaded model version. */
async function serve(dir: string): Promise<void> {
  const { ServingModel } = await import('../shared/model/serving.ts');
  const { startLocalHost } = await import('../functions/localHost.ts');
  const { loadedModelSource } = await import('../functions/services.ts');
  const model = ServingModel.load(dir);
  const users = new Proxy(
    {},
    {
      get: () => () => Promise.reject(new Error('the HTTP benchmark has no user store')),
    },
  );
  const host = await startLocalHost({
    services: {
      model: loadedModelSource(model),
      users: users as never,
    },
    host: '127.0.0.1',
    port: 0,
  });
  const seeds: string[] = [];
  for (let i = 0; i < Math.min(model.counts.songs, 500); i++)
    if (!model.song(i).acappella) seeds.push(model.song(i).id);
  const info: ServerInfo = { versionId: model.versionId, songs: model.counts.songs, seeds };
  serveInWorker(host, info);
}

async function modelDir(): Promise<string> {
  const demo = existsSync('.data/demo/version/manifest.json') ? '.data/demo/version' : '.data/demo/model';
  const dir = resolve(values.model ?? demo);
  if (!existsSync(dir))
    throw new Error(
      `${dir} does not exist: run npm start once (it trains the demo model) or pass --model VERSIONDIR`,
    );
  const { ensureModelVersion } = await import('../shared/model/modelVersion.ts');
  return ensureModelVersion(dir, (line) => process.stderr.write(line + '\n')).dir;
}

async function main(): Promise<void> {
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const length = Number(values.length);
  const warmup = Number(values.warmup);
  const workers = Number(values.workers);
  const rate = values.rate === undefined ? null : Number(values.rate);
  if (rate !== null && !(rate > 0 && rate <= 100_000)) throw new Error('--rate must be requests/s in (0, 100000]');
  if (!(duration > 0 && duration <= 3600)) throw new Error('--duration must be seconds in (0, 3600]');
  if (!(Number.isInteger(workers) && workers >= 1 && workers <= 16)) throw new Error('--workers must be 1 to 16');
  const dir = await modelDir();
  // Bounded in time whatever happens (workers are cluster children: they end with this process).
  const guard = setTimeout(
    () => {
      process.stderr.write('bench:http: time limit reached\n');
      process.exit(1);
    },
    (duration + warmup + 180) * 1000,
  );
  const pool = await startWorkerPool({ entry: import.meta.filename, args: ['--serve', dir], workers });
  try {
    const ready = { url: pool.url, ...(pool.info as ServerInfo) };
    // Total over the workers, and the largest one (each holds its own model).
    const rss = async () => {
      const each = (await pool.rss()).map((b) => b / 2 ** 20);
      return { total: each.reduce((a, b) => a + b, 0), max: Math.max(...each) };
    };
    const rssLoaded = await rss();
    let n = 0;
    const run = (seconds: number) =>
      autocannon({
        url: `${ready.url}/tracklists`,
        connections,
        duration: seconds,
        ...(rate !== null ? { overallRate: rate } : {}),
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            setupRequest: (req: Record<string, unknown>) => {
              n++;
              return {
                ...req,
                body: JSON.stringify({ seedSong: ready.seeds[n % ready.seeds.length], length, rngSeed: n }),
              };
            },
          },
        ],
      });
    process.stderr.write(
      `bench:http: model ${ready.versionId} (${ready.songs} songs) at ${ready.url}, ${workers} worker(s); warm-up ${warmup} s\n`,
    );
    if (warmup > 0) await run(warmup);
    const rssStart = await rss();
    process.stderr.write(
      `bench:http: ${duration} s of POST /api/tracklists (length ${length}) over ${connections} connections${rate !== null ? ` at ${rate} requests/s` : ''}\n`,
    );
    const samples: number[] = [];
    const sampler = setInterval(() => void rss().then((m) => samples.push(Math.round(m.total))), 10_000);
    const r = await run(duration);
    clearInterval(sampler);
    const rssEnd = await rss();
    const errors = r.errors + r.timeouts + r.non2xx;
    console.log(
      `\nbench:http  POST /api/tracklists  model ${ready.versionId}  length ${length}  ${connections} connections  ${workers} worker(s)  ${rate !== null ? `paced at ${rate}/s` : 'unpaced'}  ${duration} s`,
    );
    console.log(`requests/s ${r.requests.average.toFixed(1)}  (total ${r.requests.total}, 2xx ${r['2xx']})`);
    console.log(
      `latency    p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  mean ${r.latency.average.toFixed(1)} ms  max ${r.latency.max} ms`,
    );
    console.log(`errors     ${errors} (connection ${r.errors}, timeouts ${r.timeouts}, non-2xx ${r.non2xx})`);
    const mb = (r: { total: number; max: number }) => `${r.total.toFixed(0)} MB (largest worker ${r.max.toFixed(0)})`;
    const growth = rssEnd.total - rssStart.total;
    console.log(`server RSS every 10 s (MB, all workers): ${samples.join(', ')}`);
    console.log(
      `server RSS loaded ${mb(rssLoaded)}, after warm-up ${mb(rssStart)}, end ${mb(rssEnd)} (${growth >= 0 ? '+' : ''}${growth.toFixed(0)} MB under load)`,
    );
    console.log(
      JSON.stringify({
        model: ready.versionId,
        length,
        connections,
        workers,
        rate,
        seconds: duration,
        requestsPerSecond: r.requests.average,
        p50Ms: r.latency.p50,
        p99Ms: r.latency.p99,
        errors,
        rssMb: { loaded: rssLoaded, start: rssStart, end: rssEnd, every10s: samples },
      }),
    );
    if (errors > 0) process.exitCode = 1;
  } finally {
    clearTimeout(guard);
    await pool.stop();
  }
}
