import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AZURITE_ACCOUNT, AZURITE_KEY, LOCAL_COSMOS_KEY } from './config.ts';

/**
 * Local stand-ins for the cloud services, for tests and the local host: Azurite (Blob) as a child
 * process and the Cosmos DB server in-process. Both listen on free ports on 127.0.0.1.
 */

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface LocalBlobService {
  /** Blob endpoint of the development account, e.g. http://127.0.0.1:PORT/devstoreaccount1 */
  url: string;
  connectionString: string;
  port: number;
  stop(): Promise<void>;
}

export interface LocalCosmosService {
  endpoint: string;
  key: string;
  port: number;
  stop(): Promise<void>;
}

function waitForPort(port: number, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new Error(`azurite-blob exited (${child.exitCode ?? child.signalCode}) before listening`));
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
          reject(new Error(`azurite-blob did not answer on port ${port} in ${timeoutMs} ms`));
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
    child.kill('SIGTERM');
  });
}

/**
 * Starts Azurite's Blob service on a free port (or `port`). Data lives in `dataDir` when given,
 * otherwise in memory. `stop()` ends the child process (also ended if this process exits).
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
  const child = spawn(process.execPath, args, { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  let output = '';
  const cleanup = (): void => {
    process.removeListener('exit', killOnExit);
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    // Azurite prints the address it actually bound (with --blobPort 0, the kernel's free port).
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`azurite-blob did not start in ${options.timeoutMs ?? 30_000} ms:\n${output}`)),
        options.timeoutMs ?? 30_000,
      );
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        const m = /listens on https?:\/\/[^:\s]+:(\d+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`azurite-blob exited (${code ?? signal}) before listening:\n${output}`));
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    await waitForPort(port, 10_000, child);
    // Keep draining output so the child never blocks on a full pipe.
    child.stdout!.resume();
    child.stderr!.resume();
    const url = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
    return {
      url,
      port,
      connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${url};`,
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
 * Starts the Cosmos DB server (in-process, HTTPS with its bundled self-signed certificate) on a
 * free port (or `port`). It starts empty; clients create the database and containers.
 */
export async function startCosmos(options: { port?: number } = {}): Promise<LocalCosmosService> {
  const { createHttpsServer } = await import('@vercel/cosmosdb-server');
  const server = createHttpsServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `https://127.0.0.1:${port}`,
    key: LOCAL_COSMOS_KEY,
    port,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}
