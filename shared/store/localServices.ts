import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AZURITE_ACCOUNT, AZURITE_KEY, LOCAL_COSMOS_KEY } from './config.ts';

/**
 * Local stand-ins for the cloud services, for tests and the local host: Azurite (Blob) and the
 * Cosmos DB server, each a child process of its own (so fault tests can stop, kill and restart
 * them), listening on free ports on 127.0.0.1 (or on `port`, e.g. to restart one where it was).
 */

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COSMOS_SERVER = fileURLToPath(new URL('./cosmosServer.ts', import.meta.url));

export interface LocalService {
  port: number;
  /** The service's process id (fault tests send it SIGSTOP, SIGCONT or SIGKILL). */
  pid: number;
  stop(): Promise<void>;
}

export interface LocalBlobService extends LocalService {
  /** Blob endpoint of the development account, e.g. http://127.0.0.1:PORT/devstoreaccount1 */
  url: string;
  connectionString: string;
}

export interface LocalCosmosService extends LocalService {
  endpoint: string;
  key: string;
}

function waitForPort(name: string, port: number, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before listening`));
        return;
      }
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline)
          reject(new Error(`${name} did not answer on port ${port} in ${timeoutMs} ms`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    // A stopped process only acts on SIGTERM once it runs again.
    child.kill('SIGCONT');
    child.kill('SIGTERM');
  });
}

/**
 * Runs `node args…` until it prints "listens on http(s)://host:PORT" (both services print the
 * address they actually bound, so port 0 works) and answers on that port. The child is killed if
 * this process exits; `cleanup` runs once it has stopped.
 */
async function startService(
  name: string,
  args: string[],
  options: { cwd?: string; timeoutMs?: number; cleanup?: () => void },
): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const child = spawn(process.execPath, args, { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const cleanup = (): void => {
    process.removeListener('exit', killOnExit);
    options.cleanup?.();
  };
  let output = '';
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name} did not start in ${timeoutMs} ms:\n${output}`)),
        timeoutMs,
      );
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const m = /listens on https?:\/\/[^:\s]+:(\d+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${code ?? signal}) before listening:\n${output}`));
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    await waitForPort(name, port, 10_000, child);
    // Keep draining output so the child never blocks on a full pipe.
    child.stdout!.resume();
    child.stderr!.resume();
    return {
      port,
      pid: child.pid!,
      async stop() {
        await stopChild(child);
        cleanup();
      },
    };
  } catch (e) {
    await stopChild(child);
    cleanup();
    throw e;
  }
}

/**
 * Starts Azurite's Blob service on a free port (or `port`). Data lives in `dataDir` when given,
 * otherwise in memory.
 */
export async function startAzurite(
  options: { dataDir?: string; port?: number; timeoutMs?: number } = {},
): Promise<LocalBlobService> {
  const bin = join(REPO_ROOT, 'node_modules', '.bin', 'azurite-blob');
  if (!existsSync(bin)) throw new Error(`${bin} not found: run npm install (azurite is a dev dependency)`);
  // Azurite writes nothing outside --location in memory mode, but keep its working folder private.
  const scratch = mkdtempSync(join(tmpdir(), 'tracklist-azurite-'));
  const args = [
    bin,
    '--blobHost',
    '127.0.0.1',
    '--blobPort',
    String(options.port ?? 0),
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--loose',
  ];
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    args.push('--location', options.dataDir);
  } else {
    args.push('--inMemoryPersistence', '--extentMemoryLimit', '1024');
  }
  const service = await startService('azurite-blob', args, {
    cwd: scratch,
    timeoutMs: options.timeoutMs,
    cleanup: () => rmSync(scratch, { recursive: true, force: true }),
  });
  const url = `http://127.0.0.1:${service.port}/${AZURITE_ACCOUNT}`;
  return {
    ...service,
    url,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${url};`,
  };
}

/**
 * Starts the Cosmos DB server (HTTPS with its bundled self-signed certificate) on a free port (or
 * `port`). It starts empty and keeps everything in memory; clients create the database and
 * containers.
 */
export async function startCosmos(
  options: { port?: number; timeoutMs?: number } = {},
): Promise<LocalCosmosService> {
  const service = await startService('cosmosdb-server', [COSMOS_SERVER, String(options.port ?? 0)], {
    timeoutMs: options.timeoutMs,
  });
  return { ...service, endpoint: `https://127.0.0.1:${service.port}`, key: LOCAL_COSMOS_KEY };
}
