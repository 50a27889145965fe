import { createHash, randomBytes } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import { MANIFEST_FILE, readArtifact } from '../model/artifact.ts';
import { writeDirAtomically } from '../util/atomicDir.ts';
import { blobServiceClient, isLocalEndpoint, type Settings } from './config.ts';

/**
 * Model versions in Blob Storage (ARCHITECTURE "Model version"): every file of a version under
 * `models/<version>/`, then `models/latest.json` — written only after every uploaded blob has been
 * read back and matched against the local files. Readers trust only the pointer, and a
 * downloaded version is checked against its manifest before anyone sees it.
 */
export interface LatestPointer {
  versionId: string;
  publishedAt: string;
  /** sha256 of the version's manifest.json, so a reader can tell it got the published one. */
  manifestSha256?: string;
}

export interface ModelRegistry {
  publish(localVersionDir: string, versionId: string): Promise<void>;
  latest(): Promise<LatestPointer | null>;
  /** Verifies every checksum (and the manifest's own sha256 when given) before returning the folder. */
  download(versionId: string, localDir: string, options?: { manifestSha256?: string }): Promise<string>;
}

export class RegistryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryError';
  }
}

export const MODELS_PREFIX = 'models/';
export const LATEST_BLOB = 'models/latest.json';
/** Candidates the training job's quality gate turned down, each with its report. */
export const REJECTED_PREFIX = 'models/rejected/';
export const GATE_REPORT_FILE = 'gate-report.json';
const VERSION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function checkVersionId(versionId: string): string {
  if (!VERSION_ID.test(versionId) || versionId === 'latest.json' || versionId === 'rejected')
    throw new RegistryError(`invalid model version id "${versionId}" (letters, digits, . _ - only)`);
  return versionId;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function streamSha256(stream: NodeJS.ReadableStream): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    hash.update(b);
    bytes += b.byteLength;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Files of a folder (recursively) as POSIX relative paths. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

function contentType(file: string): string {
  return file.endsWith('.json') ? 'application/json' : 'application/octet-stream';
}

function isNotFound(e: unknown): boolean {
  return (e as { statusCode?: number }).statusCode === 404;
}

export interface BlobModelRegistryOptions {
  /** Container name (MODEL_CONTAINER; default `models`). */
  container?: string;
  /** Create the container when missing: for the local stand-in only (in Azure Bicep creates it). */
  createContainer?: boolean;
}

export class BlobModelRegistry implements ModelRegistry {
  readonly container: ContainerClient;
  private readonly createContainer: boolean;
  private ready: Promise<void> | null = null;

  constructor(service: BlobServiceClient, options: BlobModelRegistryOptions = {}) {
    this.container = service.getContainerClient(options.container ?? 'models');
    this.createContainer = options.createContainer ?? false;
  }

  static fromSettings(settings: Settings): BlobModelRegistry {
    return new BlobModelRegistry(blobServiceClient(settings), {
      container: settings.modelContainer,
      createContainer: isLocalEndpoint(settings.storageAccountUrl),
    });
  }

  private ensureContainer(): Promise<void> {
    if (!this.createContainer) return Promise.resolve();
    this.ready ??= this.container.createIfNotExists().then(
      () => undefined,
      (e: unknown) => {
        this.ready = null;
        throw e;
      },
    );
    return this.ready;
  }

  blobName(versionId: string, file: string): string {
    return `${MODELS_PREFIX}${checkVersionId(versionId)}/${file}`;
  }

  /** Uploads one file; a seam for tests that simulate a corrupted transfer. */
  protected async uploadFile(blobName: string, localPath: string): Promise<void> {
    await this.container.getBlockBlobClient(blobName).uploadFile(localPath, {
      blobHTTPHeaders: { blobContentType: contentType(blobName) },
    });
  }

  /**
   * Publishes a local model-version folder: checks it (every sha256 of its manifest), uploads
   * every file, reads every blob back and compares length and sha256 with the local file, and only
   * then moves `models/latest.json`. Any failure throws and leaves the pointer where it was.
   */
  async publish(localVersionDir: string, versionId: string): Promise<void> {
    checkVersionId(versionId);
    // A folder that fails its own checksums is never uploaded.
    const artifact = readArtifact(localVersionDir, { verify: true });
    const metaVersion = (artifact.meta as { versionId?: unknown }).versionId;
    if (typeof metaVersion === 'string' && metaVersion !== versionId)
      throw new RegistryError(`${localVersionDir} holds model version ${metaVersion}, not ${versionId}`);
    await this.ensureContainer();
    const current = await this.latest();
    if (current?.versionId === versionId)
      throw new RegistryError(`model version ${versionId} is the published one; versions are immutable`);
    const local = await this.uploadVerified(localVersionDir, `${MODELS_PREFIX}${versionId}/`, versionId);
    await this.writePointer(versionId, local.get(MANIFEST_FILE)!.sha256);
  }

  /**
   * Keeps a candidate the quality gate turned down under `models/rejected/<version>/` with its
   * report (`gate-report.json`), uploaded and read back like a published version; the pointer
   * is not touched.
   */
  async reject(localVersionDir: string, versionId: string, report: object): Promise<void> {
    checkVersionId(versionId);
    await this.ensureContainer();
    const prefix = `${REJECTED_PREFIX}${versionId}/`;
    await this.uploadVerified(localVersionDir, prefix, versionId);
    const body = JSON.stringify(report, null, 2);
    await this.container.getBlockBlobClient(prefix + GATE_REPORT_FILE).upload(body, Buffer.byteLength(body), {
      blobHTTPHeaders: { blobContentType: 'application/json' },
    });
  }

  /** Moves `models/latest.json` to a version whose blobs have been verified. */
  async writePointer(versionId: string, manifestSha256: string): Promise<LatestPointer> {
    checkVersionId(versionId);
    const pointer: LatestPointer = { versionId, publishedAt: new Date().toISOString(), manifestSha256 };
    const body = JSON.stringify(pointer);
    await this.container.getBlockBlobClient(LATEST_BLOB).upload(body, Buffer.byteLength(body), {
      blobHTTPHeaders: { blobContentType: 'application/json', blobCacheControl: 'no-cache' },
    });
    return pointer;
  }

  /** The parsed manifest.json of a version (published, or rejected with `rejected: true`) and its sha256. */
  async manifest(
    versionId: string,
    options: { rejected?: boolean } = {},
  ): Promise<{ createdAt: string | null; meta: Record<string, unknown>; sha256: string }> {
    const name = `${options.rejected ? REJECTED_PREFIX : MODELS_PREFIX}${checkVersionId(versionId)}/${MANIFEST_FILE}`;
    let data: Buffer;
    try {
      data = await this.container.getBlobClient(name).downloadToBuffer();
    } catch (e) {
      if (isNotFound(e))
        throw new RegistryError(`model version ${versionId} does not exist in the registry (no ${name})`);
      throw e;
    }
    let parsed: { createdAt?: unknown; meta?: unknown };
    try {
      parsed = JSON.parse(data.toString('utf8')) as typeof parsed;
    } catch {
      throw new RegistryError(`${name} is not valid JSON`);
    }
    return {
      createdAt: typeof parsed.createdAt === 'string' ? parsed.createdAt : null,
      meta:
        typeof parsed.meta === 'object' && parsed.meta !== null
          ? (parsed.meta as Record<string, unknown>)
          : {},
      sha256: sha256(data),
    };
  }

  /**
   * Uploads every file of a folder under `prefix` (after removing blobs there that are not among
   * them, leftovers of an earlier failed attempt), then reads every blob back.
   */
  private async uploadVerified(
    localDir: string,
    prefix: string,
    versionId: string,
  ): Promise<Map<string, { bytes: number; sha256: string }>> {
    const files = listFiles(localDir);
    const local = new Map<string, { bytes: number; sha256: string }>();
    for (const file of files) {
      const path = join(localDir, file);
      local.set(file, { bytes: statSync(path).size, sha256: await fileSha256(path) });
    }
    for await (const blob of this.container.listBlobsFlat({ prefix })) {
      if (!local.has(blob.name.slice(prefix.length))) await this.container.deleteBlob(blob.name);
    }
    for (const file of files) await this.uploadFile(prefix + file, join(localDir, file));
    await this.verifyUploaded(versionId, prefix, local);
    return local;
  }

  /** Reads every blob under `prefix` back: exactly the local files, each with its length and sha256. */
  private async verifyUploaded(
    versionId: string,
    prefix: string,
    local: Map<string, { bytes: number; sha256: string }>,
  ): Promise<void> {
    const seen = new Set<string>();
    for await (const blob of this.container.listBlobsFlat({ prefix })) {
      const file = blob.name.slice(prefix.length);
      const expected = local.get(file);
      if (!expected)
        throw new RegistryError(`verification of ${versionId} failed: unexpected blob ${blob.name}`);
      if (blob.properties.contentLength !== expected.bytes)
        throw new RegistryError(
          `verification of ${versionId} failed: ${blob.name} has ${blob.properties.contentLength} bytes, expected ${expected.bytes}`,
        );
      const response = await this.container.getBlobClient(blob.name).download();
      const got = await streamSha256(response.readableStreamBody!);
      if (got.bytes !== expected.bytes || got.sha256 !== expected.sha256)
        throw new RegistryError(
          `verification of ${versionId} failed: ${blob.name} does not match its sha256`,
        );
      seen.add(file);
    }
    for (const file of local.keys())
      if (!seen.has(file))
        throw new RegistryError(`verification of ${versionId} failed: ${prefix}${file} is missing`);
  }

  /** The published version, or null when nothing has been published yet. */
  async latest(): Promise<LatestPointer | null> {
    let text: string;
    try {
      text = (await this.container.getBlobClient(LATEST_BLOB).downloadToBuffer()).toString('utf8');
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
    let pointer: Partial<LatestPointer>;
    try {
      pointer = JSON.parse(text) as Partial<LatestPointer>;
    } catch {
      throw new RegistryError(`${LATEST_BLOB} is not valid JSON`);
    }
    if (typeof pointer.versionId !== 'string' || typeof pointer.publishedAt !== 'string')
      throw new RegistryError(`${LATEST_BLOB} does not name a version`);
    checkVersionId(pointer.versionId);
    return {
      versionId: pointer.versionId,
      publishedAt: pointer.publishedAt,
      ...(typeof pointer.manifestSha256 === 'string' ? { manifestSha256: pointer.manifestSha256 } : {}),
    };
  }

  /**
   * Downloads a version into `localDir` (created; returned). The files go to a sibling temporary
   * folder that is checked (every sha256 of the manifest, and the manifest's own sha256 when
   * given) and then renamed into place, so `localDir` holds a whole, verified version or nothing
   * new. A `localDir` that already holds this version intact is reused without downloading.
   */
  async download(
    versionId: string,
    localDir: string,
    options: { manifestSha256?: string } = {},
  ): Promise<string> {
    checkVersionId(versionId);
    if (
      existsSync(join(localDir, MANIFEST_FILE)) &&
      this.holdsVersion(localDir, versionId, options.manifestSha256)
    )
      return localDir;
    const prefix = `${MODELS_PREFIX}${versionId}/`;
    return writeDirAtomically(localDir, async (tmp) => {
      let count = 0;
      for await (const blob of this.container.listBlobsFlat({ prefix })) {
        const file = blob.name.slice(prefix.length);
        if (file.split('/').some((part) => part === '' || part === '.' || part === '..'))
          throw new RegistryError(`model version ${versionId} holds an unsafe blob name ${blob.name}`);
        const target = join(tmp, ...file.split('/'));
        mkdirSync(dirname(target), { recursive: true });
        await this.container.getBlobClient(blob.name).downloadToFile(target);
        count++;
      }
      if (count === 0) throw new RegistryError(`model version ${versionId} does not exist in the registry`);
      this.checkDownloaded(tmp, versionId, options.manifestSha256);
      return localDir;
    });
  }

  private checkDownloaded(dir: string, versionId: string, manifestSha256: string | undefined): void {
    if (manifestSha256 !== undefined && sha256(readFileSync(join(dir, MANIFEST_FILE))) !== manifestSha256)
      throw new RegistryError(
        `model version ${versionId}: manifest.json is not the published one (sha256 differs)`,
      );
    const artifact = readArtifact(dir, { verify: true });
    const metaVersion = (artifact.meta as { versionId?: unknown }).versionId;
    if (typeof metaVersion === 'string' && metaVersion !== versionId)
      throw new RegistryError(`blobs of model version ${versionId} hold version ${metaVersion}`);
  }

  private holdsVersion(dir: string, versionId: string, manifestSha256: string | undefined): boolean {
    try {
      this.checkDownloaded(dir, versionId, manifestSha256);
      return true;
    } catch {
      return false;
    }
  }
}

type CorpusSettings = Pick<
  Settings,
  'storageAccountUrl' | 'azureClientId' | 'corpusContainer' | 'corpusBlob'
>;

/** Uploads a corpus file (for the local host and tests; in Azure use `az storage blob upload`). */
export async function uploadCorpus(
  settings: CorpusSettings,
  localFile: string,
  blobName = settings.corpusBlob,
): Promise<void> {
  const container = blobServiceClient(settings).getContainerClient(settings.corpusContainer);
  if (isLocalEndpoint(settings.storageAccountUrl)) await container.createIfNotExists();
  await container.getBlockBlobClient(blobName).uploadFile(localFile, {
    blobHTTPHeaders: { blobContentType: 'application/x-ndjson' },
  });
}

/** Downloads the corpus blob to `localFile` (temporary name, renamed when complete). */
export async function downloadCorpus(
  settings: CorpusSettings,
  localFile: string,
  blobName = settings.corpusBlob,
): Promise<string> {
  const blob = blobServiceClient(settings)
    .getContainerClient(settings.corpusContainer)
    .getBlobClient(blobName);
  mkdirSync(dirname(localFile), { recursive: true });
  const tmp = `${localFile}.tmp-${randomBytes(4).toString('hex')}`;
  try {
    await blob.downloadToFile(tmp);
    renameSync(tmp, localFile);
  } catch (e) {
    rmSync(tmp, { force: true });
    if (isNotFound(e))
      throw new RegistryError(
        `corpus blob ${settings.corpusContainer}/${blobName} does not exist (upload the corpus first)`,
      );
    throw e;
  }
  return localFile;
}
