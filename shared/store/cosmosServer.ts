/**
 * The local Cosmos DB server (@vercel/cosmosdb-server, HTTPS with its bundled self-signed
 * certificate) as a process of its own, started by localServices.ts: a separate process, like the
 * real database, so tests can stop (SIGSTOP), kill and restart it. `node cosmosServer.ts PORT`
 * (0 = a free port) prints the port it listens on.
 */
import { createHttpsServer } from '@vercel/cosmosdb-server';
import type { AddressInfo } from 'node:net';

const server = createHttpsServer();
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  // localServices.ts waits for this line.
  process.stdout.write(
    `cosmosdb-server listens on https://127.0.0.1:${(server.address() as AddressInfo).port}\n`,
  );
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
// A parent that is gone (even killed) takes the server with it.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
