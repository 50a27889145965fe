/**
 * `npm start`: the whole system on this machine, no cloud account needed.
 *
 *   1. Azurite (Blob; data under .data/azurite, so published models survive restarts) and the
 *      local Cosmos DB server (in memory: user data does NOT survive a restart), both on free
 *      loopback ports, through shared/store/localServices.ts;
 *   2. when the registry has no model yet: synthesise the `small` corpus into .data/demo, train
 *      every stage with `tlgen train --budget fast` and `tlgen export` it as a model version
 *      (child processes: tfjs stays out of this one), then publish it through BlobModelRegistry;
 *   3. the web app (web/dist, built by scripts/buildWeb.ts when its sources changed) at
 *      http://127.0.0.1:${PORT:-7071}/ and the route table under /api (local host, dev identity
 *      mode: a dev sign-in page stands in for Easy Auth at /.auth/login/aad, and the Easy Auth
 *      headers are believed, e.g. `-H 'x-ms-client-principal-id: me'`), URLs printed;
 *   4. Ctrl-C (SIGINT/SIGTERM) closes the server and stops both services.
 *
 * Later runs skip step 2 (the published model is reused). Options: `npm start -- --port N --data DIR
 * --workers N` (PORT and WORKERS are also read from the environment). With N > 1 workers, N
 * processes serve the API on the same port (functions/workerPool.ts), as Azure runs several
 * instances: generation is CPU-bound and one Node process uses one core.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readSettings } from '../shared/store/config.ts';
import { InputError } from '../shared/util/errors.ts';
import type { Settings } from '../shared/store/config.ts';
import { startAzurite, startCosmos } from '../shared/store/localServices.ts';
import type { LocalBlobService, LocalCosmosService } from '../shared/store/localServices.ts';
import { BlobModelRegistry } from '../shared/store/modelRegistry.ts';
import { startLocalHost } from './localHost.ts';
import { createServices } from './services.ts';
import type { ServedModel, Services } from './services.ts';
import { startWorkerPool } from './workerPool.ts';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

/**
 * Step caps on top of `--budget fast` for the demo model (fast alone runs up to 383 embedding
 * and 492 tracklist steps on `small`), so a first `npm start` takes minutes, not a quarter hour.
 * A demo, not a model to evaluate.
 */
export const DEMO_TRAIN_ARGS = ['--steps', '300', '--tracklist-steps', '240'];
const TLGEN = join(REPO_ROOT, 'bin', 'tlgen.js');

export interface LocalStackOptions {
  /** Where local state lives (default <repo>/.data): azurite/, demo/, cache/. */
  dataDir?: string;
  /** Corpus profile of the demo model (default `small`). */
  profile?: string;
  /** Extra `tlgen train` arguments (default DEMO_TRAIN_ARGS). */
  trainArgs?: string[];
  /** Keep Azurite's data on disk under dataDir/azurite (default true; tests use memory). */
  persist?: boolean;
  /** Port of the API (default $PORT or 7071; 0 = free). */
  port?: number;
  host?: string;
  /** Progress lines (default stderr). */
  log?: (line: string) => void;
  /** Print an access log line per request (default false). */
  accessLog?: boolean;
  /** Serving processes (default 1 = this process serves; more = a worker pool on one port). */
  workers?: number;
  /** Build the web app first when its sources changed (default true). */
  web?: boolean;
}

export interface LocalStack {
  url: string;
  port: number;
  settings: Settings;
  services: Services;
  model: ServedModel;
  /** Whether this start trained and published the demo model. */
  published: boolean;
  /** Serving processes. */
  workers: number;
  stop(): Promise<void>;
}

/** tlgen children still running, ended if this process exits first (e.g. Ctrl-C while training). */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGTERM');
});

/** Runs `tlgen <args>` in a child process; progress goes to our stderr. */
function tlgen(args: string[], log: (line: string) => void): Promise<void> {
  log(`tlgen ${args.join(' ')}`);
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [TLGEN, ...args], {
      stdio: ['ignore', 'ignore', 'inherit'],
      cwd: REPO_ROOT,
    });
    children.add(child);
    child.once('error', fail);
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (code === 0) done();
      else fail(new Error(`tlgen ${args[0]} failed (${code ?? signal})`));
    });
  });
}

/**
 * Synthesises, trains (the stages still missing), exports and publishes the demo model. Returns
 * the published version id.
 */
export async function publishDemoModel(
  registry: BlobModelRegistry,
  options: { dir: string; profile: string; trainArgs: string[]; log: (line: string) => void },
): Promise<string> {
  const { dir, profile, trainArgs, log } = options;
  mkdirSync(dir, { recursive: true });
  const corpus = join(dir, 'corpus.jsonl');
  const modelDir = join(dir, 'model');
  if (!existsSync(corpus)) await tlgen(['synth', '--profile', profile, '--seed', '1', '--out', corpus], log);
  const has = (part: string) => existsSync(join(modelDir, part, 'manifest.json'));
  const train = (stage: string) =>
    tlgen(
      ['train', '--corpus', corpus, '--out', modelDir, '--stage', stage, '--budget', 'fast', ...trainArgs],
      log,
    );
  if (has('embeddings') && !has('tracklist')) {
    // Embeddings from an earlier run (the former `npm start` trained only those) are kept…
    await train('tracklist').catch(async (e: unknown) => {
      log(`${e instanceof Error ? e.message : String(e)}; training every stage instead`);
      await train('all');
    });
  } else if (!has('embeddings')) {
    await train('all');
  }
  const versionDir = join(dir, 'version');
  await tlgen(['export', '--model', modelDir, '--out', versionDir], log);
  const manifest = JSON.parse(readFileSync(join(versionDir, 'manifest.json'), 'utf8')) as {
    meta: { versionId: string };
  };
  const versionId = manifest.meta.versionId;
  log(`publishing model version ${versionId}`);
  await registry.publish(versionDir, versionId);
  return versionId;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const dataDir = resolve(options.dataDir ?? join(REPO_ROOT, '.data'));
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse())
      await stop().catch((e: unknown) => log(`stop: ${String(e)}`));
  };
  try {
    const persist = options.persist ?? true;
    const [azurite, cosmos]: [LocalBlobService, LocalCosmosService] = await Promise.all([
      startAzurite(persist ? { dataDir: join(dataDir, 'azurite') } : {}),
      startCosmos(),
    ]);
    stops.push(
      () => azurite.stop(),
      () => cosmos.stop(),
    );
    log(`Azurite (Blob) on ${azurite.url}${persist ? ` (data in ${join(dataDir, 'azurite')})` : ''}`);
    log(`Cosmos DB server on ${cosmos.endpoint} (in memory: users and saved tracklists are lost on restart)`);

    const localSettings = {
      MODEL_STORAGE_ACCOUNT_URL: azurite.url,
      COSMOS_ENDPOINT: cosmos.endpoint,
      MODEL_CACHE_DIR: join(dataDir, 'cache', 'models'),
      TRAINING_JOB_RESOURCE_ID: '',
      AUTH_ENABLED: 'false',
    };
    const settings = readSettings({ ...process.env, ...localSettings });
    const registry = BlobModelRegistry.fromSettings(settings);
    let published = false;
    const latest = await registry.latest();
    if (latest) {
      log(`model version ${latest.versionId} (published ${latest.publishedAt})`);
    } else {
      log('no model published yet: training the demo model (first run only)');
      await publishDemoModel(registry, {
        dir: join(dataDir, 'demo'),
        profile: options.profile ?? 'small',
        trainArgs: options.trainArgs ?? DEMO_TRAIN_ARGS,
        log,
      });
      published = true;
    }

    if (options.web ?? true) {
      // Build tooling stays out of the Functions package: only the local stack loads it.
      const { ensureWebBuild } = await import('../scripts/buildWeb.ts');
      await ensureWebBuild({ log });
    }
    const services = createServices(settings);
    const model = await services.model.get();
    const envPort = process.env.PORT ? Number(process.env.PORT) : undefined;
    const port = options.port ?? envPort ?? 7071;
    const host = options.host ?? '127.0.0.1';
    const workers = options.workers ?? 1;
    if (!(Number.isInteger(workers) && workers >= 1 && workers <= 64))
      throw new InputError(`workers must be an integer from 1 to 64, got ${workers}`, 'workers');
    let url: string;
    if (workers === 1) {
      const server = await startLocalHost({
        services,
        port,
        host,
        devIdentity: true,
        onRequest: options.accessLog
          ? (l) => log(`${l.method} ${l.path} → ${l.status} (${l.ms.toFixed(1)} ms)`)
          : undefined,
      });
      stops.push(() => server.close());
      url = server.url;
    } else {
      log(`starting ${workers} serving processes`);
      const pool = await startWorkerPool({
        entry: join(REPO_ROOT, 'functions', 'localWorker.ts'),
        workers,
        env: {
          ...localSettings,
          LOCAL_PORT: String(port),
          LOCAL_HOST: host,
          LOCAL_ACCESS_LOG: options.accessLog ? '1' : '0',
        },
        log,
      });
      stops.push(() => pool.stop());
      url = pool.url;
    }
    const boundPort = Number(new URL(url).port);
    return { url, port: boundPort, settings, services, model, published, workers, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** The lines `npm start` prints once the API is up. */
export function banner(stack: Pick<LocalStack, 'url' | 'model' | 'workers'>): string {
  const m = stack.model;
  const song = m.song(0);
  const q = encodeURIComponent(song.artists[0]?.name ?? song.name.split(' ')[0]);
  const site = stack.url.replace(/\/api$/, '');
  return [
    '',
    `Tracklist AI web app on ${site}/`,
    `Tracklist AI API on ${stack.url} (model ${m.versionId}: ${m.counts.songs} songs, ${m.counts.artists} artists, ${m.counts.djs} DJs; ${stack.workers} serving process${stack.workers > 1 ? 'es' : ''})`,
    `  health       ${stack.url}/health`,
    `  song search  ${stack.url}/songs?q=${q}`,
    `  OpenAPI      ${stack.url}/openapi.json (reference: ${site}/docs)`,
    `  generate     curl -s -X POST ${stack.url}/tracklists -H 'content-type: application/json' -d '{"seedSong": "${song.id}", "length": 10}'`,
    `  as a user    curl -s ${stack.url}/me -H 'x-ms-client-principal-id: me'   (dev identity headers are accepted locally)`,
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}

const USAGE = `usage: npm start [-- options]

Runs the whole system locally: Azurite and a Cosmos DB server, the demo model (trained and
published on the first run), the web app and the API on one origin.

options:
  --port N     port of the web app and API, 0 for a free one [default: PORT, else 7071]
  --workers N  serving processes sharing the port, 1-64 [default: WORKERS, else 1]
  --data DIR   Azurite's data, the demo corpus and model, the model cache [default: .data]
  -h, --help   print this help
`;

/** An integer option (or its environment variable) within bounds; a bad one names the option. */
function integerArg(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InputError(`--${name} must be an integer from ${min} to ${max}, got "${value}"`, name);
  return n;
}

async function main(): Promise<void> {
  const started = performance.now();
  // Until the stack is up, a signal just exits: 'exit' handlers end Azurite and any training child.
  const early = () => process.exit(130);
  process.once('SIGINT', early);
  process.once('SIGTERM', early);
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      port: { type: 'string' },
      workers: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const port = integerArg('port', values.port ?? process.env.PORT, 0, 65535);
  const workers = integerArg('workers', values.workers ?? process.env.WORKERS, 1, 64);
  const stack = await startLocalStack({
    accessLog: true,
    ...(values.data ? { dataDir: values.data } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(workers !== undefined ? { workers } : {}),
  });
  process.removeListener('SIGINT', early);
  process.removeListener('SIGTERM', early);
  process.stdout.write(banner(stack));
  process.stdout.write(`(ready in ${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      process.stderr.write('forced exit\n');
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`\n${signal}: stopping the API, Cosmos and Azurite…\n`);
    stack.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`stop failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

const entry = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (entry === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    // Bad options are the caller's to fix: the message and the usage, no stack.
    if (e instanceof InputError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`npm start: ${(e as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    process.stderr.write(`npm start failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
