import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MANIFEST_FILE } from '../model/artifact.ts';
import {
  GATE_REPORT_FILE,
  MODELS_PREFIX,
  REJECTED_PREFIX,
  RegistryError,
  checkVersionId,
  type BlobModelRegistry,
  type LatestPointer,
} from './modelRegistry.ts';

/**
 * The operator's view of the model registry (`tlgen registry list | promote | prune`): every
 * version under models/ and models/rejected/ with its date and headline metrics, a promote that
 * verifies a version's checksums before it moves the pointer (the rollback), and a prune that
 * never touches the served version or the one before it. Serving instances follow the pointer on
 * their next check (MODEL_REFRESH_SECONDS).
 */
export interface VersionInfo {
  versionId: string;
  createdAt: string | null;
  served: boolean;
  rejected: boolean;
  bytes: number;
  metrics: { 'recall@20': number | null; 'hr@10': number | null; nllBits: number | null };
  counts: { songs: number | null; artists: number | null; djs: number | null };
  /** Rejected versions: the names of the gate's failed checks. */
  failedChecks?: string[];
}

export interface RegistryListing {
  served: LatestPointer | null;
  /** Newest first: published versions, then rejected candidates. */
  versions: VersionInfo[];
}

function num(value: unknown, ...path: string[]): number | null {
  let v = value;
  for (const key of path)
    v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Version ids directly under a prefix (`models/<id>/`), `rejected` excluded. */
async function versionIds(registry: BlobModelRegistry, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const item of registry.container.listBlobsByHierarchy('/', { prefix })) {
    if (item.kind !== 'prefix') continue;
    const id = item.name.slice(prefix.length, -1);
    if (prefix === MODELS_PREFIX && `${MODELS_PREFIX}${id}/` === REJECTED_PREFIX) continue;
    ids.push(id);
  }
  return ids;
}

async function blobsUnder(
  registry: BlobModelRegistry,
  prefix: string,
): Promise<{ name: string; bytes: number }[]> {
  const out: { name: string; bytes: number }[] = [];
  for await (const blob of registry.container.listBlobsFlat({ prefix }))
    out.push({ name: blob.name, bytes: blob.properties.contentLength ?? 0 });
  return out;
}

async function describe(
  registry: BlobModelRegistry,
  versionId: string,
  rejected: boolean,
  served: LatestPointer | null,
): Promise<VersionInfo> {
  const prefix = `${rejected ? REJECTED_PREFIX : MODELS_PREFIX}${versionId}/`;
  const blobs = await blobsUnder(registry, prefix);
  let createdAt: string | null = null;
  let meta: Record<string, unknown> = {};
  try {
    ({ createdAt, meta } = await registry.manifest(versionId, { rejected }));
  } catch (e) {
    if (!(e instanceof RegistryError)) throw e; // an incomplete upload is listed without metrics
  }
  const info: VersionInfo = {
    versionId,
    createdAt,
    served: !rejected && served?.versionId === versionId,
    rejected,
    bytes: blobs.reduce((sum, b) => sum + b.bytes, 0),
    metrics: {
      'recall@20': num(meta.metrics, 'recommendation', 'model', 'recall@20'),
      'hr@10': num(meta.metrics, 'nextSong', 'model', 'hr@10'),
      nllBits: num(meta.metrics, 'nextSong', 'model', 'nllBits'),
    },
    counts: {
      songs: num(meta.counts, 'songs'),
      artists: num(meta.counts, 'artists'),
      djs: num(meta.counts, 'djs'),
    },
  };
  if (rejected && blobs.some((b) => b.name === prefix + GATE_REPORT_FILE)) {
    const report = JSON.parse(
      (await registry.container.getBlobClient(prefix + GATE_REPORT_FILE).downloadToBuffer()).toString('utf8'),
    ) as { checks?: { name: string; ok: boolean }[] };
    info.failedChecks = (report.checks ?? []).filter((c) => !c.ok).map((c) => c.name);
  }
  return info;
}

const newestFirst = (a: VersionInfo, b: VersionInfo): number =>
  (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || b.versionId.localeCompare(a.versionId);

export async function listVersions(registry: BlobModelRegistry): Promise<RegistryListing> {
  const served = await registry.latest();
  const published = await Promise.all(
    (await versionIds(registry, MODELS_PREFIX)).map((id) => describe(registry, id, false, served)),
  );
  const rejected = await Promise.all(
    (await versionIds(registry, REJECTED_PREFIX)).map((id) => describe(registry, id, true, served)),
  );
  return { served, versions: [...published.sort(newestFirst), ...rejected.sort(newestFirst)] };
}

/**
 * Points models/latest.json at a published version after downloading it and checking every
 * checksum (a version that fails them is never pointed at). Returns the old and the new pointer.
 */
export async function promoteVersion(
  registry: BlobModelRegistry,
  versionId: string,
): Promise<{ previous: LatestPointer | null; pointer: LatestPointer }> {
  checkVersionId(versionId);
  const previous = await registry.latest();
  let manifest;
  try {
    manifest = await registry.manifest(versionId);
  } catch (e) {
    if (
      e instanceof RegistryError &&
      (await blobsUnder(registry, `${REJECTED_PREFIX}${versionId}/`)).length > 0
    )
      throw new RegistryError(
        `model version ${versionId} was rejected by the quality gate (models/rejected/${versionId}/); only published versions can be promoted`,
      );
    throw e;
  }
  const scratch = mkdtempSync(join(tmpdir(), 'tracklist-promote-'));
  try {
    await registry.download(versionId, join(scratch, versionId), { manifestSha256: manifest.sha256 });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const pointer = await registry.writePointer(versionId, manifest.sha256);
  return { previous, pointer };
}

/**
 * Deletes all but the `keep` newest published versions and the `keep` newest rejected ones,
 * never the served version nor the published version created just before it (the rollback).
 */
export async function pruneVersions(
  registry: BlobModelRegistry,
  keep: number,
): Promise<{ deleted: VersionInfo[]; kept: VersionInfo[] }> {
  const { versions } = await listVersions(registry);
  const published = versions.filter((v) => !v.rejected);
  const servedAt = published.findIndex((v) => v.served);
  const protectedIds = new Set(
    servedAt < 0
      ? []
      : [published[servedAt], published[servedAt + 1]].filter(Boolean).map((v) => v.versionId),
  );
  const deleted: VersionInfo[] = [];
  const kept: VersionInfo[] = [];
  for (const group of [published, versions.filter((v) => v.rejected)])
    group.forEach((v, i) =>
      (i < keep || (!v.rejected && protectedIds.has(v.versionId)) ? kept : deleted).push(v),
    );
  for (const v of [...deleted]) {
    // The pointer may have moved since the listing (a job published, someone promoted).
    if (!v.rejected && (await registry.latest())?.versionId === v.versionId) {
      deleted.splice(deleted.indexOf(v), 1);
      kept.push(v);
      continue;
    }
    const prefix = `${v.rejected ? REJECTED_PREFIX : MODELS_PREFIX}${v.versionId}/`;
    // Manifest first: a prune cut short leaves a version that is visibly incomplete, never one
    // that looks whole and fails later.
    const blobs = (await blobsUnder(registry, prefix)).sort(
      (a, b) => Number(b.name === prefix + MANIFEST_FILE) - Number(a.name === prefix + MANIFEST_FILE),
    );
    for (const blob of blobs) await registry.container.deleteBlob(blob.name);
  }
  return { deleted, kept };
}
