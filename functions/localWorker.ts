/**
 * One serving process of `npm start -- --workers N` (functions/workerPool.ts): the services from
 * the settings the primary passes in the environment (Azurite, the Cosmos server, the model
 * cache), the model loaded before it listens, then the local host on the shared port.
 */
import { readSettings } from '../shared/store/config.ts';
import { startLocalHost } from './localHost.ts';
import { createServices } from './services.ts';
import { serveInWorker } from './workerPool.ts';

const settings = readSettings(process.env);
const services = createServices(settings);
await services.model.get();
const accessLog = process.env.LOCAL_ACCESS_LOG === '1';
const host = await startLocalHost({
  services,
  port: Number(process.env.LOCAL_PORT ?? 0),
  host: process.env.LOCAL_HOST ?? '127.0.0.1',
  devIdentity: true,
  onRequest: accessLog
    ? (l) => process.stderr.write(`[${process.pid}] ${l.method} ${l.path} → ${l.status} (${l.ms.toFixed(1)} ms)\n`)
    : undefined,
});
serveInWorker(host);
