/**
 * Faults of the model registry, injected into a real Azurite process: a blob corrupted and then
 * repaired under the same pointer, and Azurite killed and restarted. The provider must retry a
 * failed version (with backoff) and serve it once repaired, keep serving what it has while Blob is
 * gone, and /health must say 503 exactly while no model can be served.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobServiceClient } from '../../shared/store/config.ts';
import { startAzurite, type LocalBlobService } from '../../shared/store/localServices.ts';
import { ModelProvider } from '../../shared/store/modelProvider.ts';
import { BlobModelRegistry } from '../../shared/store/modelRegistry.ts';
import { call, FakeModel, FakeUsers } from '../functions/fakes.ts';
import { fakeLoad, writeVersion, type FakeModel as StoredVersion } from '../store/fixtures.ts';
import { tempDir } from '../tempDirs.ts';

let azurite: LocalBlobService;
let work: string;
let containers = 0;

beforeAll(async () => {
  work = tempDir('tracklist-registry-faults-');
  // On disk, so a killed Azurite comes back with its blobs.
  azurite = await startAzurite({ dataDir: join(work, 'azurite') });
  writeVersion(join(work, 'A'), 'A', 1);
  writeVersion(join(work, 'B'), 'B', 2);
});

afterAll(async () => {
  await azurite?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A registry client on the current Azurite (a new client, as a new process would make). */
function registryOn(container: string): BlobModelRegistry {
  const service = blobServiceClient({
    storageAccountUrl: azurite.url,
    azureClientId: undefined,
    blobTimeoutMs: 2000,
  });
  return new BlobModelRegistry(service, { container, createContainer: true });
}

const freshRegistry = () => registryOn(`faults-${++containers}`);

/** Flips one byte of a blob (same length: only checksums tell); returns the repair. */
async function corrupt(registry: BlobModelRegistry, name: string): Promise<() => Promise<void>> {
  const blob = registry.container.getBlockBlobClient(name);
  const original = await blob.downloadToBuffer();
  const bad = Buffer.from(original);
  bad[bad.length >> 1] ^= 0xff;
  await blob.upload(bad, bad.length);
  return async () => {
    await blob.upload(original, original.length);
  };
}

/** The API's view: the provider's model served through the route table (health, a model route). */
function services(provider: ModelProvider<StoredVersion>) {
  const model = new FakeModel();
  return {
    model: {
      get: async () => {
        const v = await provider.get();
        return Object.assign(model, { versionId: v.versionId });
      },
      status: () => provider.status(),
    },
    users: new FakeUsers(),
  };
}

describe('model registry faults', () => {
  it('a corrupted first version is retried with backoff and served once repaired; /health is 503 until then', async () => {
    const registry = freshRegistry();
    await registry.publish(join(work, 'A'), 'A');
    const repair = await corrupt(registry, 'models/A/tensors.bin');
    let now = 0;
    let downloads = 0;
    const provider = new ModelProvider<StoredVersion>({
      registry: {
        latest: () => registry.latest(),
        download: (...args) => (downloads++, registry.download(...args)),
      },
      cacheDir: join(work, 'cache-first'),
      refreshSeconds: 60,
      retrySeconds: 5,
      load: fakeLoad,
      now: () => now,
    });
    const api = services(provider);
    await expect(provider.get()).rejects.toThrow(/sha256/);
    const health = await call(api, 'health');
    expect(health.status).toBe(503);
    expect(health.headers.get('retry-after')).toBeTruthy();
    expect(health.body).toMatchObject({ status: 'degraded', model: null });
    expect((await call(api, 'searchSongs', { query: { q: 'a' } })).status).toBe(503);
    // Retried after 5 s, then 10 s: a checksum failure may have been a bad read.
    now += 5_000;
    await provider.get().catch(() => undefined);
    await provider.settled();
    expect(downloads).toBe(2);
    now += 5_000;
    await provider.get().catch(() => undefined);
    expect(downloads).toBe(2);
    await repair();
    now += 5_000;
    expect((await provider.get()).versionId).toBe('A');
    expect(downloads).toBe(3);
    expect((await call(api, 'health')).status).toBe(200);
    expect((await call(api, 'searchSongs', { query: { q: 'a' } })).status).toBe(200);
  });

  it('a served model keeps serving while Azurite is dead, and the next version is served once it is back', async () => {
    const registry = freshRegistry();
    await registry.publish(join(work, 'A'), 'A');
    let now = 0;
    const provider = new ModelProvider<StoredVersion>({
      registry,
      cacheDir: join(work, 'cache-killed'),
      refreshSeconds: 60,
      load: fakeLoad,
      now: () => now,
    });
    const api = services(provider);
    expect((await provider.get()).versionId).toBe('A');
    const port = azurite.port;
    process.kill(azurite.pid, 'SIGKILL');
    await azurite.stop();
    now += 60_000;
    expect((await provider.get()).versionId).toBe('A');
    await provider.settled();
    expect(provider.status()).toMatchObject({ status: 'degraded', model: { versionId: 'A' } });
    expect(provider.status().error).toMatch(/cannot read the model pointer/);
    // Degraded but serving: still ready.
    expect((await call(api, 'health')).status).toBe(200);
    expect((await call(api, 'searchSongs', { query: { q: 'a' } })).status).toBe(200);

    azurite = await startAzurite({ dataDir: join(work, 'azurite'), port });
    // A killed Azurite may lose its latest metadata (the container too); a new training run
    // (a new process) publishes into a container it creates again.
    await registryOn(registry.container.containerName).publish(join(work, 'B'), 'B');
    now += 60_000;
    await provider.get();
    await provider.settled();
    expect((await provider.get()).versionId).toBe('B');
    expect(provider.status().status).toBe('ok');
  });
});
