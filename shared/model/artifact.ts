import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Csr } from '../graph/csr.ts';
import { writeDirAtomically } from '../util/atomicDir.ts';

/**
 * The artifact format shared by prepared datasets and model versions: `manifest.json` (metadata
 * plus a table of tensors and JSON documents, each with its sha256) beside one binary file of
 * 8-byte-aligned tensors, so a reader maps typed-array views onto one buffer without copying.
 */
export const ARTIFACT_SCHEMA_VERSION = 1;
export const TENSOR_FILE = 'tensors.bin';
export const MANIFEST_FILE = 'manifest.json';

export type DType = 'float32' | 'float64' | 'int32' | 'uint32' | 'uint8';
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;

export interface TensorEntry {
  dtype: DType;
  shape: number[];
  file: string;
  offset: number;
  byteLength: number;
  sha256: string;
}

export interface DocumentEntry {
  file: string;
  byteLength: number;
  sha256: string;
}

export interface Manifest<Meta = Record<string, unknown>> {
  schemaVersion: number;
  kind: string;
  createdAt: string;
  meta: Meta;
  tensors: Record<string, TensorEntry>;
  documents: Record<string, DocumentEntry>;
}

const CONSTRUCTORS = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint32: Uint32Array,
  uint8: Uint8Array,
} as const;

export function dtypeOf(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint32Array) return 'uint32';
  return 'uint8';
}

export class ArtifactError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArtifactError';
  }
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function bytesOf(a: TypedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Collects tensors and JSON documents, then writes them as one artifact folder. */
export class ArtifactWriter {
  private readonly tensors = new Map<string, { data: TypedArray; shape: number[] }>();
  private readonly documents = new Map<string, unknown>();

  addTensor(name: string, data: TypedArray, shape: number[] = [data.length]): this {
    if (this.tensors.has(name)) throw new Error(`duplicate tensor ${name}`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new Error(`tensor ${name}: shape [${shape}] does not hold ${data.length}`);
    this.tensors.set(name, { data, shape });
    return this;
  }

  addCsr(name: string, m: Csr): this {
    this.addTensor(`${name}.indptr`, m.indptr, [m.rows + 1]);
    this.addTensor(`${name}.indices`, m.indices);
    this.addTensor(`${name}.values`, m.values);
    this.addTensor(`${name}.shape`, new Int32Array([m.rows, m.cols]));
    return this;
  }

  addDocument(name: string, value: unknown): this {
    this.documents.set(name, value);
    return this;
  }

  /**
   * Writes into `dir` atomically: everything goes to a sibling temporary folder that is renamed
   * into place last, so a reader sees the old artifact or the whole new one.
   */
  write(dir: string, kind: string, meta: Record<string, unknown>): Manifest {
    return writeDirAtomically(dir, (staging) => this.writeInto(staging, kind, meta));
  }

  private writeInto(dir: string, kind: string, meta: Record<string, unknown>): Manifest {
    const tensorEntries: Record<string, TensorEntry> = {};
    let offset = 0;
    const parts: Uint8Array[] = [];
    for (const [name, { data, shape }] of this.tensors) {
      const pad = (8 - (offset % 8)) % 8;
      if (pad) parts.push(new Uint8Array(pad));
      offset += pad;
      const bytes = bytesOf(data);
      parts.push(bytes);
      tensorEntries[name] = {
        dtype: dtypeOf(data),
        shape,
        file: TENSOR_FILE,
        offset,
        byteLength: bytes.byteLength,
        sha256: sha256(bytes),
      };
      offset += bytes.byteLength;
    }
    writeFileSync(join(dir, TENSOR_FILE), Buffer.concat(parts));
    const documentEntries: Record<string, DocumentEntry> = {};
    for (const [name, value] of this.documents) {
      const file = `${name}.json`;
      const bytes = Buffer.from(JSON.stringify(value));
      writeFileSync(join(dir, file), bytes);
      documentEntries[name] = { file, byteLength: bytes.byteLength, sha256: sha256(bytes) };
    }
    const manifest: Manifest = {
      schemaVersion: ARTIFACT_SCHEMA_VERSION,
      kind,
      createdAt: new Date().toISOString(),
      meta,
      tensors: tensorEntries,
      documents: documentEntries,
    };
    writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 1));
    return manifest;
  }
}

/** A loaded artifact: typed-array views onto the file buffers (no copies), checksums verified. */
export class Artifact<Meta = Record<string, unknown>> {
  private readonly docCache = new Map<string, unknown>();

  readonly manifest: Manifest<Meta>;
  private readonly files: Map<string, Uint8Array>;
  private pending: (() => void) | null;

  constructor(manifest: Manifest<Meta>, files: Map<string, Uint8Array>, pending: (() => void) | null = null) {
    this.manifest = manifest;
    this.files = files;
    this.pending = pending;
  }

  /**
   * Waits for the checksums still being verified on a worker thread (`parallelVerify`), throwing
   * an ArtifactError on a mismatch. Nothing built on the views may be used before this returns.
   */
  finishVerification(): void {
    const pending = this.pending;
    this.pending = null;
    pending?.();
  }

  get meta(): Meta {
    return this.manifest.meta;
  }

  has(name: string): boolean {
    return name in this.manifest.tensors;
  }

  tensor<T extends TypedArray = Float32Array>(name: string): T {
    const entry = this.manifest.tensors[name];
    if (!entry) throw new ArtifactError(`artifact has no tensor "${name}"`);
    const file = this.files.get(entry.file)!;
    const Ctor = CONSTRUCTORS[entry.dtype];
    return new Ctor(file.buffer as ArrayBuffer, file.byteOffset + entry.offset, entry.byteLength / Ctor.BYTES_PER_ELEMENT) as T;
  }

  shape(name: string): number[] {
    const entry = this.manifest.tensors[name];
    if (!entry) throw new ArtifactError(`artifact has no tensor "${name}"`);
    return entry.shape;
  }

  csr(name: string): Csr {
    const [rows, cols] = this.tensor<Int32Array>(`${name}.shape`);
    return {
      rows,
      cols,
      indptr: this.tensor<Int32Array>(`${name}.indptr`),
      indices: this.tensor<Int32Array>(`${name}.indices`),
      values: this.tensor<Float32Array>(`${name}.values`),
    };
  }

  /**
   * The tensors and documents named `<prefix><name>` as an artifact of their own, renamed to
   * `<name>` and sharing this artifact's buffers (no copies): how a model version hands its parts
   * to code written for the separate artifacts.
   */
  view<M>(prefix: string, kind: string, meta: M): Artifact<M> {
    const pick = <E>(table: Record<string, E>): Record<string, E> =>
      Object.fromEntries(
        Object.entries(table)
          .filter(([name]) => name.startsWith(prefix))
          .map(([name, entry]) => [name.slice(prefix.length), entry]),
      );
    const { tensors, documents } = this.manifest;
    return new Artifact<M>({ ...this.manifest, kind, meta, tensors: pick(tensors), documents: pick(documents) }, this.files);
  }

  document<T>(name: string): T {
    if (!this.docCache.has(name)) {
      const entry = this.manifest.documents[name];
      if (!entry) throw new ArtifactError(`artifact has no document "${name}"`);
      const bytes = this.files.get(entry.file)!;
      this.docCache.set(name, JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')));
    }
    return this.docCache.get(name) as T;
  }
}

export interface ReadArtifactOptions {
  /** Verify every sha256 (default true). A version that fails is never used. */
  verify?: boolean;
  /**
   * Hash the tensors on a worker thread while the caller builds on the views (so the hashing
   * overlaps the build on another core); the caller must call
   * `artifact.finishVerification()` before it uses what it built.
   */
  parallelVerify?: boolean;
  /** Expected manifest kind. */
  kind?: string;
}

/** Reads an artifact from in-memory files (from disk or Blob Storage alike). */
export function parseArtifact<Meta>(
  manifestBytes: Uint8Array,
  readFile: (name: string) => Uint8Array,
  options: ReadArtifactOptions = {},
): Artifact<Meta> {
  let manifest: Manifest<Meta>;
  try {
    manifest = JSON.parse(Buffer.from(manifestBytes).toString('utf8')) as Manifest<Meta>;
  } catch (e) {
    throw new ArtifactError(`manifest.json is not valid JSON: ${(e as Error).message}`);
  }
  if (manifest.schemaVersion !== ARTIFACT_SCHEMA_VERSION)
    throw new ArtifactError(`unsupported artifact schema version ${manifest.schemaVersion}`);
  if (options.kind && manifest.kind !== options.kind)
    throw new ArtifactError(`expected a ${options.kind} artifact, found ${manifest.kind}`);
  const files = new Map<string, Uint8Array>();
  const load = (name: string): Uint8Array => {
    let bytes = files.get(name);
    if (!bytes) {
      bytes = readFile(name);
      // Typed-array views need element alignment; copy only in the rare unaligned case.
      if (bytes.byteOffset % 8 !== 0) bytes = new Uint8Array(bytes);
      files.set(name, bytes);
    }
    return bytes;
  };
  const verify = options.verify ?? true;
  const checks: HashCheck[] = [];
  for (const [name, entry] of Object.entries(manifest.tensors)) {
    const file = load(entry.file);
    if (entry.offset + entry.byteLength > file.byteLength)
      throw new ArtifactError(`tensor "${name}" lies beyond the end of ${entry.file} (truncated file?)`);
    if (verify) checks.push({ name, bytes: file.subarray(entry.offset, entry.offset + entry.byteLength), sha256: entry.sha256 });
  }
  const pending = options.parallelVerify ? hashOnWorker(checks) : null;
  if (!pending) verifyHashes(checks, checks.map((c) => sha256(c.bytes)));
  for (const [name, entry] of Object.entries(manifest.documents)) {
    const file = load(entry.file);
    if (file.byteLength !== entry.byteLength) throw new ArtifactError(`document "${name}" has the wrong size`);
    if (verify && sha256(file) !== entry.sha256) throw new ArtifactError(`document "${name}" fails its sha256 check`);
  }
  return new Artifact<Meta>(manifest, files, pending);
}

interface HashCheck {
  name: string;
  bytes: Uint8Array;
  sha256: string;
}

function verifyHashes(checks: HashCheck[], digests: string[]): void {
  checks.forEach((c, i) => {
    if (digests[i] !== c.sha256) throw new ArtifactError(`tensor "${c.name}" fails its sha256 check`);
  });
}

/** Hashes each check's bytes on a worker thread (they must live in SharedArrayBuffers). */
const HASH_WORKER = `
const { workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { parts, digests, status } = workerData;
try {
  parts.forEach((bytes, i) => digests.set(createHash('sha256').update(bytes).digest(), 32 * i));
  Atomics.store(status, 0, 1);
} catch {
  Atomics.store(status, 0, 2);
}
Atomics.notify(status, 0);
`;

/**
 * Starts hashing the checks on a worker thread and returns the wait-and-compare step, or null
 * when that cannot run (bytes not shared, no worker): the caller then hashes inline.
 */
function hashOnWorker(checks: HashCheck[]): (() => void) | null {
  if (checks.length === 0 || !checks.every((c) => c.bytes.buffer instanceof SharedArrayBuffer)) return null;
  const digests = new Uint8Array(new SharedArrayBuffer(32 * checks.length));
  const status = new Int32Array(new SharedArrayBuffer(4));
  try {
    new Worker(HASH_WORKER, { eval: true, workerData: { parts: checks.map((c) => c.bytes), digests, status } }).unref();
  } catch {
    return null;
  }
  return () => {
    // A worker that never answers (or fails) leaves the hashing to this thread.
    if (Atomics.load(status, 0) === 0) Atomics.wait(status, 0, 0, 120_000);
    const done = Atomics.load(status, 0) === 1;
    verifyHashes(
      checks,
      checks.map((c, i) => (done ? Buffer.from(digests.subarray(32 * i, 32 * i + 32)).toString('hex') : sha256(c.bytes))),
    );
  };
}

/** A whole file in a SharedArrayBuffer (so a worker thread can read it without a copy). */
function readFileShared(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const bytes = new Uint8Array(new SharedArrayBuffer(size));
    let offset = 0;
    while (offset < size) {
      const n = readSync(fd, bytes, offset, size - offset, offset);
      if (n === 0) break;
      offset += n;
    }
    return offset === size ? bytes : bytes.subarray(0, offset);
  } finally {
    closeSync(fd);
  }
}

export function readArtifact<Meta = Record<string, unknown>>(
  dir: string,
  options: ReadArtifactOptions = {},
): Artifact<Meta> {
  const path = (name: string): string => join(dir, name);
  let manifestBytes: Uint8Array;
  try {
    manifestBytes = readFileSync(path(MANIFEST_FILE));
  } catch {
    throw new ArtifactError(`${dir}: no ${MANIFEST_FILE} (not an artifact folder?)`);
  }
  return parseArtifact<Meta>(
    manifestBytes,
    (name) => {
      try {
        return options.parallelVerify ? readFileShared(path(name)) : readFileSync(path(name));
      } catch {
        throw new ArtifactError(`${dir}: missing file ${name}`);
      }
    },
    options,
  );
}
