import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelSource } from '../../functions/services.ts';
import { blobServiceClient } from '../../shared/store/config.ts';
import { startAzurite, type LocalBlobService } from '../../shared/store/localServices.ts';
import { ModelProvider } from '../../shared/store/modelProvider.ts';
import { BlobModelRegistry } from '../../shared/store/modelRegistry.ts';
import { call, FakeUsers } from '../functions/fakes.ts';
import { fakeLoad, writeVersion, type FakeModel } from '../store/fixtures.ts';
import { tempDir } from '../tempDirs.ts';
import { runTlgen, type TlgenRun } from './runTlgen.ts';

/**
 * `tlgen registry list | promote | prune` as an operator runs them (the CLI dispatcher), against
 * Azurite, with the API's settings (MODEL_STORAGE_ACCOUNT_URL, MODEL_CONTAINER).
 */

let azurite: LocalBlobService;
let work: string;
let containers = 0;

beforeAll(async () => {
  azurite = await startAzurite();
  work = tempDir('tlgen-registry-');
});

afterAll(async () => {
  await azurite?.stop();
});

function tlgen(container: string, ...args: string[]): Promise<TlgenRun> {
  return runTlgen({ MODEL_STORAGE_ACCOUNT_URL: azurite.url, MODEL_CONTAINER: container }, ...args);
}

const metrics = (recall: number, hr: number, nll: number) => ({
  recommendation: { model: { 'recall@20': recall } },
  nextSong: { model: { 'hr@10': hr, nllBits: nll } },
});

/** v1…v4 published in that order (v4 served), v5 rejected by the gate. */
async function seeded(): Promise<{ registry: BlobModelRegistry; container: string }> {
  const container = `registry-${++containers}`;
  const registry = new BlobModelRegistry(
    blobServiceClient({ storageAccountUrl: azurite.url, azureClientId: undefined }),
    {
      container,
      createContainer: true,
    },
  );
  for (let i = 1; i <= 5; i++) {
    const dir = join(work, container, `v${i}`);
    writeVersion(dir, `v${i}`, i, metrics(0.1 * i, 0.05 * i, 10 - i));
    if (i < 5) await registry.publish(dir, `v${i}`);
    else
      await registry.reject(dir, 'v5', {
        decision: 'reject',
        checks: [
          { name: 'recall@20 vs bpr-mf', ok: false, detail: 'below' },
          { name: 'smoke test', ok: true, detail: 'ok' },
        ],
      });
  }
  return { registry, container };
}

describe('tlgen registry', () => {
  it('lists, promotes an older version that health then reports within the refresh interval, and prunes', async () => {
    const { registry, container } = await seeded();

    const list = await tlgen(container, 'registry', 'list', '--json');
    expect(list.code, list.stderr).toBe(0);
    const listing = list.last as {
      served: { versionId: string };
      versions: {
        versionId: string;
        served: boolean;
        rejected: boolean;
        createdAt: string;
        metrics: Record<string, number>;
        failedChecks?: string[];
        bytes: number;
      }[];
    };
    expect(listing.served.versionId).toBe('v4');
    expect(listing.versions.map((v) => [v.versionId, v.served, v.rejected])).toEqual([
      ['v4', true, false],
      ['v3', false, false],
      ['v2', false, false],
      ['v1', false, false],
      ['v5', false, true],
    ]);
    expect(listing.versions[0].metrics).toEqual({ 'recall@20': 0.4, 'hr@10': 0.2, nllBits: 6 });
    expect(listing.versions[4].failedChecks).toEqual(['recall@20 vs bpr-mf']);
    for (const v of listing.versions) {
      expect(Number.isNaN(Date.parse(v.createdAt))).toBe(false);
      expect(v.bytes).toBeGreaterThan(64 * 1024 * 4);
    }
    // The readable form marks the served (*) and rejected (x) ones.
    const readable = await tlgen(container, 'registry', 'list');
    expect(readable.stdout).toMatch(/^\* v4 /m);
    expect(readable.stdout).toMatch(/^x v5 .*failed: recall@20 vs bpr-mf/m);

    // A serving instance (the real provider and health route) serves v4.
    let now = 0;
    const provider = new ModelProvider<FakeModel>({
      registry,
      cacheDir: join(work, 'cache'),
      refreshSeconds: 60,
      load: fakeLoad,
      now: () => now,
    });
    const services = { model: provider as unknown as ModelSource, users: new FakeUsers() };
    const health = async () => {
      const r = await call(services, 'health');
      await provider.settled();
      return r.body as { status: string; model: { version: string } | null };
    };
    await provider.get();
    expect(await health()).toMatchObject({ status: 'ok', model: { version: 'v4' } });

    // The rollback.
    const promote = await tlgen(container, 'registry', 'promote', 'v2', '--json');
    expect(promote.code, promote.stderr).toBe(0);
    expect(promote.last).toMatchObject({ previous: { versionId: 'v4' }, pointer: { versionId: 'v2' } });
    expect((await registry.latest())?.versionId).toBe('v2');

    // Before the next pointer check the old version is still served; at the check, v2.
    now += 59_000;
    expect((await health()).model?.version).toBe('v4');
    now += 1_000;
    await health(); // the check runs in the background; the next answer reports it
    expect(await health()).toMatchObject({ status: 'ok', model: { version: 'v2' } });

    // Prune to one: v4 (newest) stays, v2 (served) and v1 (published before it) are protected.
    const prune = await tlgen(container, 'registry', 'prune', '--keep', '1', '--json');
    expect(prune.code, prune.stderr).toBe(0);
    expect(prune.last).toMatchObject({ deleted: ['v3'], kept: ['v4', 'v2', 'v1', 'v5'] });
    const after = (await tlgen(container, 'registry', 'list', '--json')).last as typeof listing;
    expect(after.versions.map((v) => v.versionId)).toEqual(['v4', 'v2', 'v1', 'v5']);
    const names: string[] = [];
    for await (const b of registry.container.listBlobsFlat({ prefix: 'models/v3/' })) names.push(b.name);
    expect(names).toEqual([]);
    // Serving is untouched.
    now += 60_000;
    expect(await health()).toMatchObject({ status: 'ok', model: { version: 'v2' } });
  });

  it('refuses to promote a version that fails its checksums, a rejected one or an unknown one, naming it', async () => {
    const { registry, container } = await seeded();
    const blob = registry.container.getBlockBlobClient('models/v2/tensors.bin');
    const bytes = await blob.downloadToBuffer();
    bytes[bytes.length >> 1] ^= 0xff;
    await blob.upload(bytes, bytes.length);

    const broken = await tlgen(container, 'registry', 'promote', 'v2', '--json');
    expect(broken.code).toBe(2);
    expect(broken.last).toMatchObject({
      error: { field: 'version', message: expect.stringMatching(/sha256|checksum/) },
    });
    const rejected = await tlgen(container, 'registry', 'promote', 'v5', '--json');
    expect(rejected.code).toBe(2);
    expect(rejected.last).toMatchObject({
      error: { field: 'version', message: expect.stringMatching(/rejected by the quality gate/) },
    });
    const unknown = await tlgen(container, 'registry', 'promote', 'v9');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/v9 does not exist/);
    const missing = await tlgen(container, 'registry', 'promote', '--json');
    expect(missing.last).toMatchObject({ error: { field: 'version' } });
    expect((await registry.latest())?.versionId).toBe('v4');

    // Pruning to zero still keeps the served version and the one before it.
    const prune = await tlgen(container, 'registry', 'prune', '--keep', '0', '--json');
    expect(prune.last).toMatchObject({ deleted: ['v2', 'v1', 'v5'], kept: ['v4', 'v3'] });
    expect((await tlgen(container, 'registry', 'prune', '--json')).last).toMatchObject({
      error: { field: 'keep' },
    });
  });
});
