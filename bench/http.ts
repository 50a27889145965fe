import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

/**
 * HTTP load benchmark: POST /api/tracklists through the local host (the same route table and
 * handlers as Azure), served by a child process on the loopback interface, driven by autocannon
 * from this process. Prints requests/s, latency p50/p99, errors and the server's RSS when loaded,
 * after a warm-up and at the end (memory should stay flat under load).
 *
 *   npm run bench:http [-- --model VERSIONDIR|MODELDIR] [--duration 60] [--connections 8] [--length 15]
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
  },
});

if (values.serve !== undefined) await serve(values.serve);
else await main();

/** The server side (child process): the local host over one loaded model version. */
async function serve(dir: string): Promise<void> {
  const { ServingModel } = await import('../shared/model/serving.ts');
  const { startLocalHost } = await import('../functions/localHost.ts');
  const model = ServingModel.load(dir);
  const users = new Proxy(
    {},
    {
      get: () => () => Promise.reject(new Error('the HTTP benchmark has no user store')),
    },
  );
  const host = await startLocalHost({
    services: {
      model: {
        get: async () => model,
        status: () => ({
          status: 'ok',
          model: { versionId: model.versionId, publishedAt: null, loadedAt: model.loadedAt.toISOString() },
          checkedAt: null,
        }),
      },
      users: users as never,
    },
    host: '127.0.0.1',
    port: 0,
  });
  const seeds: string[] = [];
  for (let i = 0; i < Math.min(model.counts.songs, 500); i++)
    if (!model.song(i).acappella) seeds.push(model.song(i).id);
  process.on('message', (m) => {
    if (m === 'rss') process.send!({ rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed });
    if (m === 'stop') void host.close().then(() => process.exit(0));
  });
  process.send!({ url: host.url, versionId: model.versionId, songs: model.counts.songs, seeds });
}

function ask<T>(child: ChildProcess, message: string): Promise<T> {
  return new Promise((done) => {
    child.once('message', (m) => done(m as T));
    child.send(message);
  });
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
  if (!(duration > 0 && duration <= 3600)) throw new Error('--duration must be seconds in (0, 3600]');
  const dir = await modelDir();
  const child = fork(import.meta.filename, ['--serve', dir], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  // Bounded in time whatever happens.
  const guard = setTimeout(
    () => {
      process.stderr.write('bench:http: time limit reached\n');
      child.kill('SIGKILL');
      process.exit(1);
    },
    (duration + warmup + 120) * 1000,
  );
  try {
    const ready = await new Promise<{ url: string; versionId: string; songs: number; seeds: string[] }>(
      (done, fail) => {
        child.once('message', (m) => done(m as never));
        child.once('exit', (code) => fail(new Error(`server exited (${code}) before listening`)));
      },
    );
    const rss = async () => (await ask<{ rss: number; heap: number }>(child, 'rss')).rss / 2 ** 20;
    const rssLoaded = await rss();
    let n = 0;
    const run = (seconds: number) =>
      autocannon({
        url: `${ready.url}/tracklists`,
        connections,
        duration: seconds,
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
      `bench:http: model ${ready.versionId} (${ready.songs} songs) at ${ready.url}; warm-up ${warmup} s\n`,
    );
    if (warmup > 0) await run(warmup);
    const rssStart = await rss();
    process.stderr.write(
      `bench:http: ${duration} s of POST /api/tracklists (length ${length}) over ${connections} connections\n`,
    );
    const r = await run(duration);
    const rssEnd = await rss();
    const errors = r.errors + r.timeouts + r.non2xx;
    console.log(
      `\nbench:http  POST /api/tracklists  model ${ready.versionId}  length ${length}  ${connections} connections  ${duration} s`,
    );
    console.log(`requests/s ${r.requests.average.toFixed(1)}  (total ${r.requests.total}, 2xx ${r['2xx']})`);
    console.log(
      `latency    p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  mean ${r.latency.average.toFixed(1)} ms  max ${r.latency.max} ms`,
    );
    console.log(`errors     ${errors} (connection ${r.errors}, timeouts ${r.timeouts}, non-2xx ${r.non2xx})`);
    console.log(
      `server RSS loaded ${rssLoaded.toFixed(0)} MB, after warm-up ${rssStart.toFixed(0)} MB, end ${rssEnd.toFixed(0)} MB (${rssEnd - rssStart >= 0 ? '+' : ''}${(rssEnd - rssStart).toFixed(0)} MB under load)`,
    );
    console.log(
      JSON.stringify({
        model: ready.versionId,
        length,
        connections,
        seconds: duration,
        requestsPerSecond: r.requests.average,
        p50Ms: r.latency.p50,
        p99Ms: r.latency.p99,
        errors,
        rssMb: { loaded: rssLoaded, start: rssStart, end: rssEnd },
      }),
    );
    if (errors > 0) process.exitCode = 1;
  } finally {
    clearTimeout(guard);
    child.send('stop');
    await new Promise((done) => child.once('exit', done));
  }
}
