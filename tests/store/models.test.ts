import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobServiceClient } from '@azure/storage-blob';
import { ArtifactError } from '../../shared/model/artifact.ts';
import { blobServiceClient } from '../../shared/store/config.ts';
import { startAzurite, type LocalBlobService } from '../../shared/store/localServices.ts';
import { ModelProvider, ModelUnavailableError } from '../../shared/store/modelProvider.ts';
import { BlobModelRegistry, RegistryError, type LatestPointer } from '../../shared/store/modelRegistry.ts';
import { fakeLoad, writeVersion, type FakeModel } from './fixtures.ts';
import { tempDir } from '../tempDirs.ts';

let azurite: LocalBlobService;
let service: BlobServiceClient;
let work: string;
let containers = 0;

beforeAll(async () => {
  azurite = await startAzurite();
  service = blobServiceClient({ storageAccountUrl: azurite.url, azureClientId: undefined });
  work = tempDir('tracklist-models-test-');
  // Three versions, written once.
  writeVersion(join(work, 'A'), 'A', 1);
  writeVersion(join(work, 'B'), 'B', 2);
  writeVersion(join(work, 'C'), 'C', 3);
});

afterAll(async () => {
  await azurite?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A registry over a fresh container, so tests do not see each other's versions. */
function freshRegistry(): BlobModelRegistry {
  return new BlobModelRegistry(service, { container: `models-${++containers}`, createContainer: true });
}

async function blobNames(registry: BlobModelRegistry): Promise<string[]> {
  const names: string[] = [];
  for await (const b of registry.container.listBlobsFlat()) names.push(b.name);
  return names.sort();
}

/**
 * Overwrites a blob with the same bytes but one flipped (same length: only checksums can tell).
 * Returns a function that puts the original bytes back (a repaired blob).
 */
async function tamper(registry: BlobModelRegistry, blobName: string): Promise<() => Promise<void>> {
  const blob = registry.container.getBlockBlobClient(blobName);
  const bytes = await blob.downloadToBuffer();
  const original = Buffer.from(bytes);
  bytes[bytes.length >> 1] ^= 0xff;
  await blob.upload(bytes, bytes.length);
  return async () => {
    await blob.upload(original, original.length);
  };
}

function filesOf(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));
}

/** Counts calls through to a real registry. */
function counting(registry: BlobModelRegistry): {
  latest: number;
  download: number;
  registry: BlobModelRegistry;
} {
  const counts = { latest: 0, download: 0, registry };
  const wrapped = Object.create(registry) as BlobModelRegistry;
  wrapped.latest = () => {
    counts.latest++;
    return registry.latest();
  };
  wrapped.download = (versionId, dir, options) => {
    counts.download++;
    return registry.download(versionId, dir, options);
  };
  counts.registry = wrapped;
  return counts;
}

describe('BlobModelRegistry', () => {
  it('publishes, points at and downloads a version, identical to the local files', async () => {
    const registry = freshRegistry();
    expect(await registry.latest()).toBeNull();
    await registry.publish(join(work, 'A'), 'A');
    const names = await blobNames(registry);
    expect(names).toEqual([
      'models/A/manifest.json',
      'models/A/tensors.bin',
      'models/A/vocab.json',
      'models/latest.json',
    ]);
    const pointer = (await registry.latest()) as LatestPointer;
    expect(pointer.versionId).toBe('A');
    expect(Number.isNaN(Date.parse(pointer.publishedAt))).toBe(false);
    expect(pointer.manifestSha256).toMatch(/^[0-9a-f]{64}$/);

    const dir = join(work, 'dl', 'A');
    expect(await registry.download('A', dir, { manifestSha256: pointer.manifestSha256 })).toBe(dir);
    expect(filesOf(dir)).toEqual(filesOf(join(work, 'A')));
    expect(fakeLoad(dir).versionId).toBe('A');
    // No temporary folders are left beside it.
    expect(readdirSync(join(work, 'dl'))).toEqual(['A']);

    await registry.publish(join(work, 'B'), 'B');
    expect((await registry.latest())?.versionId).toBe('B');
    // Versions are immutable: the published one cannot be overwritten.
    await expect(registry.publish(join(work, 'B'), 'B')).rejects.toThrow(RegistryError);
  });

  it('refuses a local folder that fails its own checksums, uploading nothing', async () => {
    const registry = freshRegistry();
    await registry.publish(join(work, 'A'), 'A');
    const bad = join(work, 'bad-local');
    writeVersion(bad, 'B', 2);
    const file = join(bad, 'tensors.bin');
    const bytes = readFileSync(file);
    bytes[100] ^= 1;
    writeFileSync(file, bytes);
    await expect(registry.publish(bad, 'B')).rejects.toThrow(ArtifactError);
    expect((await blobNames(registry)).filter((n) => n.startsWith('models/B/'))).toEqual([]);
    expect((await registry.latest())?.versionId).toBe('A');
    // A version id that names another version than the folder holds is refused too.
    await expect(registry.publish(join(work, 'C'), 'D')).rejects.toThrow(/holds model version C/);
    await expect(registry.publish(join(work, 'C'), '../C')).rejects.toThrow(/invalid model version id/);
  });

  it('never writes the pointer when an uploaded blob does not match (corrupted transfer)', async () => {
    class CorruptingRegistry extends BlobModelRegistry {
      protected override async uploadFile(blobName: string, localPath: string): Promise<void> {
        await super.uploadFile(blobName, localPath);
        if (blobName.endsWith('/tensors.bin')) await tamper(this, blobName);
      }
    }
    const container = `models-${++containers}`;
    const good = new BlobModelRegistry(service, { container, createContainer: true });
    const corrupting = new CorruptingRegistry(service, { container, createContainer: true });
    await good.publish(join(work, 'A'), 'A');
    const before = await good.latest();
    await expect(corrupting.publish(join(work, 'B'), 'B')).rejects.toThrow(
      /verification of B failed: .*tensors\.bin does not match/,
    );
    expect(await good.latest()).toEqual(before);
    // A later clean publish of the same id replaces the bad blobs and goes through.
    await good.publish(join(work, 'B'), 'B');
    expect((await good.latest())?.versionId).toBe('B');
  });

  it('rejects a downloaded version that fails its checksums and leaves nothing behind', async () => {
    const registry = freshRegistry();
    await registry.publish(join(work, 'A'), 'A');
    await tamper(registry, 'models/A/tensors.bin');
    const parent = join(work, 'dl-bad');
    await expect(registry.download('A', join(parent, 'A'))).rejects.toThrow(ArtifactError);
    expect(readdirSync(parent)).toEqual([]);
    await expect(registry.download('nope', join(parent, 'nope'))).rejects.toThrow(/does not exist/);
    // A manifest that is not the pointed one is refused even when self-consistent.
    await registry.publish(join(work, 'B'), 'B');
    await expect(
      registry.download('B', join(parent, 'B'), { manifestSha256: '0'.repeat(64) }),
    ).rejects.toThrow(/not the published one/);
  });
});

describe('ModelProvider', () => {
  it('does nothing until get(), then loads once for concurrent callers', async () => {
    const registry = freshRegistry();
    await registry.publish(join(work, 'A'), 'A');
    const calls = counting(registry);
    let loads = 0;
    const provider = new ModelProvider<FakeModel>({
      registry: calls.registry,
      cacheDir: join(work, 'cache-lazy'),
      load: (dir) => {
        loads++;
        return fakeLoad(dir);
      },
    });
    expect(calls.latest + calls.download + loads).toBe(0);
    expect(provider.status()).toMatchObject({ status: 'loading', model: null });
    const pending = Array.from({ length: 8 }, () => provider.get());
    expect(provider.status().status).toBe('loading');
    const models = await Promise.all(pending);
    expect(new Set(models).size).toBe(1);
    expect(models[0].versionId).toBe('A');
    expect(loads).toBe(1);
    expect(calls.download).toBe(1);
    expect(calls.latest).toBe(1);
    expect(provider.status()).toMatchObject({ status: 'ok', model: { versionId: 'A' } });
    expect(provider.status().error).toBeUndefined();
    expect(await provider.get()).toBe(models[0]);
  });

  it('re-checks the pointer at most every refreshSeconds and swaps to the new version', async () => {
    const registry = freshRegistry();
    await registry.publish(join(work, 'A'), 'A');
    const calls = counting(registry);
    let now = 1_000_000;
    const cacheDir = join(work, 'cache-refresh');
    const provider = new ModelProvider<FakeModel>({
      registry: calls.registry,
      cacheDir,
      refreshSeconds: 60,
      load: fakeLoad,
      now: () => now,
    });
    const a = await provider.get();
    expect(a.versionId).toBe('A');
    await registry.publish(join(work, 'B'), 'B');

    now += 30_000;
    expect(await provider.get()).toBe(a);
    await provider.settled();
    expect(calls.latest).toBe(1);

    now += 31_000;
    // The request that notices the interval is over still gets the current model at once.
    expect(await provider.get()).toBe(a);
    await provider.settled();
    expect(calls.latest).toBe(2);
    const b = await provider.get();
    expect(b.versionId).toBe('B');
    expect(provider.status()).toMatchObject({ status: 'ok', model: { versionId: 'B' } });
    // The old version's download is gone; the new one is in the cache.
    expect(readdirSync(cacheDir)).toEqual(['B']);

    // Same pointer at the next interval: nothing is downloaded again.
    now += 61_000;
    await provider.get();
    await provider.settled();
    expect(calls.latest).toBe(3);
    expect(calls.download).toBe(2);
  });

  it('keeps serving the old version when the new one fails its checksums, and says so', async () => {
    const registry = freshRegistry();
    await registry.publish(join(work, 'A'), 'A');
    const calls = counting(registry);
    let now = 0;
    const provider = new ModelProvider<FakeModel>({
      registry: calls.registry,
      cacheDir: join(work, 'cache-degraded'),
      refreshSeconds: 60,
      load: fakeLoad,
      now: () => now,
    });
    const a = await provider.get();
    await registry.publish(join(work, 'B'), 'B');
    const repair = await tamper(registry, 'models/B/tensors.bin');

    now += 60_000;
    await provider.get();
    await provider.settled();
    expect(await provider.get()).toBe(a);
    const status = provider.status();
    expect(status.status).toBe('degraded');
    expect(status.model?.versionId).toBe('A');
    expect(status.error).toMatch(/version B .*sha256/);
    expect(existsSync(join(work, 'cache-degraded', 'B'))).toBe(false);
    const downloads = calls.download;

    // The failure may have been a bad read: the next check tries the version again.
    now += 60_000;
    await provider.get();
    await provider.settled();
    expect(calls.download).toBe(downloads + 1);
    expect(provider.status().status).toBe('degraded');

    // Repaired under the same pointer: served on the next check.
    await repair();
    now += 60_000;
    await provider.get();
    await provider.settled();
    expect((await provider.get()).versionId).toBe('B');
    expect(provider.status()).toMatchObject({ status: 'ok', model: { versionId: 'B' } });

    // A good version replaces it and health stays ok.
    await registry.publish(join(work, 'C'), 'C');
    now += 60_000;
    await provider.get();
    await provider.settled();
    expect((await provider.get()).versionId).toBe('C');
    expect(provider.status()).toMatchObject({ status: 'ok', model: { versionId: 'C' } });
  });

  it('reports a missing model as unavailable and recovers once one is published', async () => {
    const registry = freshRegistry();
    let now = 0;
    const provider = new ModelProvider<FakeModel>({
      registry,
      cacheDir: join(work, 'cache-empty'),
      refreshSeconds: 60,
      retrySeconds: 5,
      load: fakeLoad,
      now: () => now,
    });
    await expect(provider.get()).rejects.toThrow(ModelUnavailableError);
    expect(provider.status()).toMatchObject({ status: 'degraded', model: null });
    expect(provider.status().error).toMatch(/no model version has been published/);
    await registry.publish(join(work, 'A'), 'A');
    // Within the retry window callers get the same failure without another round trip.
    await expect(provider.get()).rejects.toThrow(ModelUnavailableError);
    now += 5_000;
    expect((await provider.get()).versionId).toBe('A');
    expect(provider.status().status).toBe('ok');
  });

  it('retries a first version that failed its checksums with growing backoff, and serves it once repaired', async () => {
    const registry = freshRegistry();
    await registry.publish(join(work, 'A'), 'A');
    const repair = await tamper(registry, 'models/A/tensors.bin');
    const calls = counting(registry);
    let now = 0;
    const provider = new ModelProvider<FakeModel>({
      registry: calls.registry,
      cacheDir: join(work, 'cache-first-broken'),
      refreshSeconds: 60,
      retrySeconds: 5,
      load: fakeLoad,
      now: () => now,
    });
    const attempt = async () => {
      await provider.get().catch(() => undefined);
      await provider.settled();
      return calls.download;
    };
    await expect(provider.get()).rejects.toThrow(/version A .*sha256/);
    expect(calls.download).toBe(1);
    // 5 s, then 10 s, 20 s, 40 s, … capped at refreshSeconds between attempts.
    now += 5_000;
    expect(await attempt()).toBe(2);
    now += 5_000;
    expect(await attempt()).toBe(2);
    now += 5_000;
    expect(await attempt()).toBe(3);
    now += 19_000;
    expect(await attempt()).toBe(3);
    now += 1_000;
    expect(await attempt()).toBe(4);
    for (let i = 0; i < 3; i++) {
      now += 60_000;
      expect(await attempt()).toBe(5 + i);
    }
    expect(provider.status()).toMatchObject({ status: 'degraded', model: null });
    await repair();
    now += 60_000;
    expect((await provider.get()).versionId).toBe('A');
    expect(provider.status()).toMatchObject({ status: 'ok', model: { versionId: 'A' } });
  });

  it('does not serve a version whose loader fails', async () => {
    const registry = freshRegistry();
    await registry.publish(join(work, 'A'), 'A');
    const provider = new ModelProvider<FakeModel>({
      registry,
      cacheDir: join(work, 'cache-loader'),
      load: () => {
        throw new Error('incompatible model format');
      },
    });
    await expect(provider.get()).rejects.toThrow(/incompatible model format/);
    expect(provider.status()).toMatchObject({ status: 'degraded', model: null });
  });
});
