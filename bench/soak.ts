import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { serveInWorker, startWorkerPool } from '../functions/workerPool.ts';

/**
 * Soak: minutes of mixed traffic against `--workers` serving processes (the local host over one
 * loaded model version, the user store on a local Cosmos server process): name searches,
 * generations without and with likes, preference writes, reads of /me and saved tracklists.
 * Every `--report` seconds prints errors, p50/p99 per route in that window and the workers' RSS;
 * at the end the totals and whether RSS stayed within 10 % of its first sample.
 *
 *   npm run bench:soak [-- --model VERSIONDIR|MODELDIR] [--duration 300] [--workers 2] [--connections 8] [--rate 80] [--report 30]
 *
 * Default model: the `npm start` demo model (.data/demo), else the seed-size benchmark model of
 * `npm run bench:serving-model` (.data/bench/seed/version). Exits 1 when any request failed.
 */
const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    duration: { type: 'string', default: '300' },
    workers: { type: 'string', default: '2' },
    connections: { type: 'string', default: '8' },
    rate: { type: 'string', default: '80' },
    report: { type: 'string', default: '30' },
    serve: { type: 'string' },
    cosmos: { type: 'string' },
  },
});

interface ServerInfo {
  versionId: string;
  songs: number;
  seeds: string[];
  words: string[];
}

/** A serving worker: the model loaded from a folder, users in the Cosmos server. */
async function serve(dir: string, cosmosEndpoint: string): Promise<void> {
  const { ServingModel } = await import('../shared/model/serving.ts');
  const { startLocalHost } = await import('../functions/localHost.ts');
  const { cosmosClient } = await import('../shared/store/config.ts');
  const { UserStore } = await import('../shared/store/userStore.ts');
  const { loadedModelSource } = await import('../functions/services.ts');
  const model = ServingModel.load(dir);
  const users = new UserStore(cosmosClient({ cosmosEndpoint, azureClientId: undefined }), {
    createIfMissing: true,
  });
  const host = await startLocalHost({
    services: { model: loadedModelSource(model), users },
    webRoot: null,
  });
  const seeds: string[] = [];
  const words = new Set<string>();
  for (let i = 0; i < Math.min(model.counts.songs, 1000); i++) {
    const song = model.song(i);
    if (song.acappella) continue;
    seeds.push(song.id);
    const word = /[A-Za-z]{3,}/.exec(song.name)?.[0];
    if (word) words.add(word.slice(0, 4).toLowerCase());
  }
  serveInWorker(host, {
    versionId: model.versionId,
    songs: model.counts.songs,
    seeds,
    words: [...words],
  } satisfies ServerInfo);
}

async function modelDir(): Promise<string> {
  const candidates = ['.data/demo/version', '.data/demo/model', '.data/bench/seed/version'];
  const dir = resolve(values.model ?? candidates.find((c) => existsSync(c)) ?? candidates[0]);
  if (!existsSync(dir))
    throw new Error(
      `${dir} does not exist: run npm start once, or npm run bench:serving-model, or pass --model DIR`,
    );
  const { ensureModelVersion } = await import('../shared/model/modelVersion.ts');
  return ensureModelVersion(dir, (line) => process.stderr.write(line + '\n')).dir;
}

type Route = 'search' | 'generate' | 'generate+likes' | 'put likes' | 'get me' | 'save tracklist';
const ROUTES: Route[] = ['search', 'generate', 'generate+likes', 'put likes', 'get me', 'save tracklist'];
/** Share of the requests per route (sums to 1). */
const MIX: Record<Route, number> = {
  search: 0.35,
  generate: 0.25,
  'generate+likes': 0.15,
  'put likes': 0.1,
  'get me': 0.1,
  'save tracklist': 0.05,
};

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

class Window {
  readonly ms = new Map<Route, number[]>(ROUTES.map((r) => [r, []]));
  readonly errors: string[] = [];

  add(route: Route, ms: number): void {
    this.ms.get(route)!.push(ms);
  }

  lines(): string[] {
    return ROUTES.map((r) => {
      const s = [...this.ms.get(r)!].sort((a, b) => a - b);
      return `  ${r.padEnd(15)} n ${String(s.length).padStart(6)}  p50 ${percentile(s, 50).toFixed(1).padStart(6)} ms  p99 ${percentile(s, 99).toFixed(1).padStart(6)} ms`;
    });
  }

  summary(): Record<string, { n: number; p50Ms: number; p99Ms: number }> {
    return Object.fromEntries(
      ROUTES.map((r) => {
        const s = [...this.ms.get(r)!].sort((a, b) => a - b);
        return [
          r,
          { n: s.length, p50Ms: +percentile(s, 50).toFixed(2), p99Ms: +percentile(s, 99).toFixed(2) },
        ];
      }),
    );
  }
}

async function main(): Promise<void> {
  const duration = Number(values.duration);
  const workers = Number(values.workers);
  const connections = Number(values.connections);
  const rate = Number(values.rate);
  const report = Number(values.report);
  if (!(duration > 0 && duration <= 3600)) throw new Error('--duration must be seconds in (0, 3600]');
  if (!(Number.isInteger(workers) && workers >= 1 && workers <= 16))
    throw new Error('--workers must be 1 to 16');
  if (!(Number.isInteger(connections) && connections >= 1 && connections <= 256))
    throw new Error('--connections must be 1 to 256');
  if (!(rate > 0 && rate <= 10_000)) throw new Error('--rate must be requests/s in (0, 10000]');
  if (!(report > 0)) throw new Error('--report must be seconds above 0');
  const dir = await modelDir();
  const { startCosmos } = await import('../shared/store/localServices.ts');
  const { principalHeaders } = await import('../functions/identity.ts');
  const guard = setTimeout(
    () => {
      process.stderr.write('bench:soak: time limit reached\n');
      process.exit(1);
    },
    (duration + 240) * 1000,
  );
  const cosmos = await startCosmos();
  const pool = await startWorkerPool({
    entry: import.meta.filename,
    args: ['--serve', dir, '--cosmos', cosmos.endpoint],
    workers,
  });
  try {
    const info = pool.info as ServerInfo;
    const base = pool.url;
    const rssMb = async () => (await pool.rss()).reduce((a, b) => a + b, 0) / 2 ** 20;
    process.stderr.write(
      `bench:soak: model ${info.versionId} (${info.songs} songs), ${workers} worker(s) at ${base}, ${connections} connections at ${rate} requests/s for ${duration} s\n`,
    );
    const total = new Window();
    let window = new Window();
    let n = 0;
    const pick = (): Route => {
      let x = Math.random();
      for (const r of ROUTES) if ((x -= MIX[r]) < 0) return r;
      return 'search';
    };
    const seed = () => info.seeds[Math.floor(Math.random() * info.seeds.length)];
    const likes = (k: number) =>
      [...new Set(Array.from({ length: k }, seed))].map((song) => ({
        song,
        score: Math.round(Math.random() * 100) / 100,
      }));
    const json = { 'content-type': 'application/json' };
    const request = (route: Route, c: number): [string, RequestInit] => {
      const user = { ...principalHeaders(`soak-${c}`), ...json };
      switch (route) {
        case 'search':
          return [`/songs?q=${encodeURIComponent(info.words[n % info.words.length])}&limit=10`, {}];
        case 'generate':
          return [
            '/tracklists',
            { method: 'POST', headers: json, body: JSON.stringify({ seedSong: seed(), rngSeed: n }) },
          ];
        case 'generate+likes':
          return [
            '/tracklists',
            {
              method: 'POST',
              headers: json,
              body: JSON.stringify({ seedSong: seed(), likes: likes(50), rngSeed: n }),
            },
          ];
        case 'put likes':
          return [
            '/me/preferences',
            { method: 'PUT', headers: user, body: JSON.stringify({ likes: likes(20) }) },
          ];
        case 'get me':
          return ['/me', { headers: user }];
        case 'save tracklist':
          return [
            '/me/tracklists',
            { method: 'POST', headers: user, body: JSON.stringify({ seedSong: seed(), length: 10 }) },
          ];
      }
    };
    const started = performance.now();
    const end = started + duration * 1000;
    const interval = (connections / rate) * 1000;
    const samples: { s: number; rssMb: number }[] = [];
    const printWindow = async () => {
      const s = Math.round((performance.now() - started) / 1000);
      const rss = await rssMb();
      samples.push({ s, rssMb: Math.round(rss) });
      console.log(
        `[${String(s).padStart(4)} s] errors ${window.errors.length}  RSS ${rss.toFixed(0)} MB (all workers)`,
      );
      for (const line of window.lines()) console.log(line);
      for (const e of window.errors.slice(0, 5)) console.log(`  error: ${e}`);
      window = new Window();
    };
    const reporter = setInterval(() => void printWindow(), report * 1000);
    await Promise.all(
      Array.from({ length: connections }, async (_, c) => {
        let due = performance.now() + Math.random() * interval;
        while (performance.now() < end) {
          const wait = due - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          due += interval;
          const route = pick();
          const [path, init] = request(route, c);
          n++;
          const t = performance.now();
          try {
            const res = await fetch(base + path, init);
            const body = await res.arrayBuffer();
            const ms = performance.now() - t;
            window.add(route, ms);
            total.add(route, ms);
            if (!res.ok) {
              const e = `${route}: HTTP ${res.status} ${Buffer.from(body).toString('utf8').slice(0, 200)}`;
              window.errors.push(e);
              total.errors.push(e);
            }
          } catch (e) {
            const text = `${route}: ${e instanceof Error ? e.message : String(e)}`;
            window.errors.push(text);
            total.errors.push(text);
          }
        }
      }),
    );
    clearInterval(reporter);
    if ([...window.ms.values()].some((x) => x.length > 0)) await printWindow();
    const first = samples[0].rssMb;
    const last = samples[samples.length - 1].rssMb;
    const change = ((last - first) / first) * 100;
    console.log(
      `\nbench:soak  ${duration} s  ${workers} worker(s)  ${connections} connections at ${rate}/s  model ${info.versionId}`,
    );
    console.log(
      `requests ${[...total.ms.values()].reduce((a, s) => a + s.length, 0)}  errors ${total.errors.length}`,
    );
    for (const line of total.lines()) console.log(line);
    console.log(
      `RSS every ${report} s (MB, all workers): ${samples.map((x) => x.rssMb).join(', ')}; first → last ${change >= 0 ? '+' : ''}${change.toFixed(1)} % (target within 10 %)`,
    );
    console.log(
      JSON.stringify({
        model: info.versionId,
        seconds: duration,
        workers,
        connections,
        rate,
        errors: total.errors.length,
        routes: total.summary(),
        rssMb: samples,
        rssChangePercent: +change.toFixed(1),
      }),
    );
    if (total.errors.length > 0 || Math.abs(change) > 10) process.exitCode = 1;
  } finally {
    clearTimeout(guard);
    await pool.stop();
    await cosmos.stop();
  }
}

// Last: the classes above must be initialised before either runs.
if (values.serve !== undefined && cluster.isWorker) await serve(values.serve, values.cosmos!);
else await main();
