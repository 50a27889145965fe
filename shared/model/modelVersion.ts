import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Artifact, ArtifactError, ArtifactWriter, MANIFEST_FILE, readArtifact } from './artifact.ts';
import { EMBEDDINGS_KIND } from './embeddings.ts';
import { artistId, djId, songId } from './ids.ts';
import { TRACKLIST_KIND, TracklistModel, type TracklistMeta } from './tracklistInference.ts';
import { CooBuilder, type Csr } from '../graph/csr.ts';
import { PREPARED_KIND } from '../graph/preparedStore.ts';
import type { PrepareOptions, Vocabulary } from '../graph/prepare.ts';
import { InputError } from '../util/errors.ts';

/**
 * Model version (contract C): the one artifact folder that is published and served. It gathers
 * from a model folder (prepared/, embeddings/, tracklist/) exactly what serving needs:
 *
 *   emb.<name>  TL-MGCCF outputs and weights: rec.*, sim.song, param.*, and encNorm.dj (the DJ
 *               vectors a DJ-conditioned tracklist model takes); the other enc.* are not needed
 *   tl.<name>   every tensor of the tracklist artifact (contract D), when the folder has one
 *   cat.<name>  catalogue graphs: click, clickBySong, djArtistByArtist, songArtistMap, djDj (CSR),
 *               songPlays, songAcappella, and djPlayed (DJs × songs, times each DJ played each
 *               song in any tracklist: what "already played" excludes from recommendations)
 *   vocab       document: song/artist names and identity keys, DJ names, the public ids
 *               derived from them (shared/model/ids.ts), and songAliases / artistAliases: other
 *               spellings merged into an entry (optional; absent in older versions)
 *
 * meta = { versionId, corpusDigest, config: { prepare, embeddings, tracklist }, metrics, counts,
 * source }; `source` holds the sha256 of each source manifest so a cached export of a model
 * folder (ensureModelVersion) is redone when any part was retrained.
 */

export const MODEL_KIND = 'tracklist-ai/model';

/** The folder ensureModelVersion exports a model folder into. */
export const CACHED_VERSION_DIR = 'version';

export interface ModelVersionMeta {
  versionId: string;
  corpusDigest: string;
  config: {
    prepare: Partial<PrepareOptions>;
    embeddings: Record<string, unknown>;
    tracklist: TracklistMeta | null;
  };
  metrics: unknown;
  counts: { songs: number; artists: number; djs: number };
  source: { prepared: string; embeddings: string; tracklist: string | null };
}

export interface ExportOptions {
  versionId?: string;
  /** Evaluation results stored in the manifest; default DIR/eval.json when present, else null. */
  metrics?: unknown;
}

export interface ExportResult {
  versionId: string;
  /** Total size of the version folder's files. */
  bytes: number;
  dir: string;
}

const CAT_CSRS = ['click', 'clickBySong', 'djArtistByArtist', 'songArtistMap', 'djDj'] as const;
const VERSION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function manifestDigest(dir: string): string | null {
  const file = join(dir, MANIFEST_FILE);
  return existsSync(file) ? sha256(readFileSync(file)) : null;
}

/** 'YYYYMMDDTHHMMSSZ-' + the first 8 hex digits of the corpus digest. */
export function defaultVersionId(corpusDigest: string, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${corpusDigest.slice(0, 8)}`;
}

export function folderBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) total += statSync(join(dir, name)).size;
  return total;
}

/** DJs × songs play counts over every tracklist (both splits), from prepared sequences. */
function djPlayed(prepared: Artifact, djs: number, songs: number): Csr {
  const seqSongs = prepared.tensor<Int32Array>('seq.songs');
  const offsets = prepared.tensor<Int32Array>('seq.offsets');
  const seqDjs = prepared.tensor<Int32Array>('seq.djs');
  const djOffsets = prepared.tensor<Int32Array>('seq.djOffsets');
  const coo = new CooBuilder(djs, songs, 1 << 16);
  for (let t = 0; t + 1 < offsets.length; t++)
    for (let q = djOffsets[t]; q < djOffsets[t + 1]; q++)
      for (let p = offsets[t]; p < offsets[t + 1]; p++)
        if (seqSongs[p] >= 0) coo.add(seqDjs[q], seqSongs[p], 1);
  return coo.toCsr();
}

/**
 * Exports a model folder (contract B) into a model version folder, written atomically.
 * Throws InputError when the folder lacks prepared data or embeddings, ArtifactError when a part
 * fails its checks (a tracklist artifact is validated by building its inference model).
 */
export function exportModelVersion(
  modelDir: string,
  outDir: string,
  options: ExportOptions = {},
): ExportResult {
  const preparedDir = join(modelDir, 'prepared');
  const embeddingsDir = join(modelDir, 'embeddings');
  const tracklistDir = join(modelDir, 'tracklist');
  for (const dir of [preparedDir, embeddingsDir])
    if (!existsSync(join(dir, MANIFEST_FILE)))
      throw new InputError(
        `${modelDir} has no ${dir.slice(modelDir.length + 1)}/ (train it first: tlgen train --stage embeddings)`,
        'model',
      );
  if (options.versionId !== undefined && !VERSION_ID.test(options.versionId))
    throw new InputError(
      `versionId "${options.versionId}" must be letters, digits, ".", "_" or "-" (at most 100)`,
      'versionId',
    );

  const prepared = readArtifact<{ corpusDigest?: string; options?: PrepareOptions }>(preparedDir, {
    kind: PREPARED_KIND,
  });
  const embeddings = readArtifact<{ config?: Record<string, unknown> }>(embeddingsDir, {
    kind: EMBEDDINGS_KIND,
  });
  const tracklist = existsSync(join(tracklistDir, MANIFEST_FILE))
    ? readArtifact<TracklistMeta>(tracklistDir, { kind: TRACKLIST_KIND })
    : null;
  const vocab = prepared.document<Vocabulary>('vocab');
  const counts = { songs: vocab.songs.length, artists: vocab.artists.length, djs: vocab.djs.length };
  if (embeddings.shape('rec.song')[0] !== counts.songs || embeddings.shape('rec.dj')[0] !== counts.djs)
    throw new ArtifactError(`${embeddingsDir} does not match ${preparedDir} (song or DJ counts differ)`);
  if (tracklist) {
    const tl = new TracklistModel(tracklist);
    if (tl.songs !== counts.songs)
      throw new ArtifactError(`${tracklistDir} has ${tl.songs} songs, the vocabulary ${counts.songs}`);
    if (tl.djWidth > 0 && (!embeddings.has('encNorm.dj') || embeddings.shape('encNorm.dj')[1] !== tl.djWidth))
      throw new ArtifactError(
        `${tracklistDir} takes ${tl.djWidth}-wide DJ vectors; ${embeddingsDir} has no matching encNorm.dj`,
      );
    if (tl.tasteWidth > 0 && embeddings.shape('rec.dj')[1] !== tl.tasteWidth)
      throw new ArtifactError(
        `${tracklistDir} takes ${tl.tasteWidth}-wide taste vectors; ${embeddingsDir} rec.dj differs`,
      );
  }

  const corpusDigest = prepared.meta.corpusDigest ?? sha256(readFileSync(join(preparedDir, MANIFEST_FILE)));
  const metricsFile = join(modelDir, 'eval.json');
  const metrics =
    options.metrics !== undefined
      ? options.metrics
      : existsSync(metricsFile)
        ? JSON.parse(readFileSync(metricsFile, 'utf8'))
        : null;
  const versionId = options.versionId ?? defaultVersionId(corpusDigest);

  const w = new ArtifactWriter();
  for (const name of Object.keys(embeddings.manifest.tensors))
    if (/^(rec|sim|param)\.|^encNorm\.dj$/.test(name))
      w.addTensor(`emb.${name}`, embeddings.tensor(name), embeddings.shape(name));
  if (tracklist)
    for (const name of Object.keys(tracklist.manifest.tensors))
      w.addTensor(`tl.${name}`, tracklist.tensor(name), tracklist.shape(name));
  for (const name of CAT_CSRS) w.addCsr(`cat.${name}`, prepared.csr(name));
  w.addCsr('cat.djPlayed', djPlayed(prepared, counts.djs, counts.songs));
  w.addTensor('cat.songPlays', prepared.tensor('songPlays'));
  w.addTensor('cat.songAcappella', prepared.tensor<Uint8Array>('songAcappella'));
  const { songs, songKeys, artists, artistKeys, djs, songAliases, artistAliases } = vocab;
  // Public ids (contract A) stored beside the keys they derive from: hashing them costs load time.
  w.addDocument('vocab', {
    songs,
    songKeys,
    artists,
    artistKeys,
    djs,
    songIds: songKeys.map(songId),
    artistIds: artistKeys.map(artistId),
    djIds: djs.map(djId),
    // Merged spellings (optional: versions prepared before merging have none).
    ...(songAliases ? { songAliases } : {}),
    ...(artistAliases ? { artistAliases } : {}),
  });
  const meta: ModelVersionMeta = {
    versionId,
    corpusDigest,
    config: {
      prepare: prepared.meta.options ?? {},
      embeddings: embeddings.meta.config ?? {},
      tracklist: tracklist ? tracklist.meta : null,
    },
    metrics,
    counts,
    source: {
      prepared: manifestDigest(preparedDir)!,
      embeddings: manifestDigest(embeddingsDir)!,
      tracklist: manifestDigest(tracklistDir),
    },
  };
  w.write(outDir, MODEL_KIND, meta as unknown as Record<string, unknown>);
  return { versionId, bytes: folderBytes(outDir), dir: outDir };
}

const REQUIRED_TENSORS = [
  'emb.rec.dj',
  'emb.rec.song',
  'emb.rec.artist',
  'emb.sim.song',
  'cat.songPlays',
  'cat.songAcappella',
];

/** Reads a model version folder: checksums verified, kind and required parts checked (ArtifactError). */
export function readModelVersion(dir: string, options: { parallelVerify?: boolean } = {}): Artifact<ModelVersionMeta> {
  const a = readArtifact<ModelVersionMeta>(dir, { kind: MODEL_KIND, ...options });
  const meta = a.meta;
  if (typeof meta?.versionId !== 'string' || !meta.counts)
    throw new ArtifactError(`${dir}: model version manifest has no versionId/counts`);
  for (const name of REQUIRED_TENSORS)
    if (!a.has(name)) throw new ArtifactError(`${dir}: model version has no tensor "${name}"`);
  if (!a.manifest.documents.vocab) throw new ArtifactError(`${dir}: model version has no vocab document`);
  return a;
}

/** The embeddings part as the embeddings artifact it was exported from (shared buffers). */
export function versionEmbeddings(version: Artifact<ModelVersionMeta>): Artifact {
  return version.view<Record<string, unknown>>('emb.', EMBEDDINGS_KIND, {
    config: version.meta.config.embeddings,
  });
}

/** The tracklist part, or null when the version was exported before a tracklist model existed. */
export function versionTracklist(version: Artifact<ModelVersionMeta>): Artifact<TracklistMeta> | null {
  const tl = version.meta.config.tracklist;
  if (!tl || !version.has('tl.input.song')) return null;
  return version.view('tl.', TRACKLIST_KIND, tl);
}

/** The catalogue graphs, as the prepared fields of the same names. */
export function versionCatalogue(
  version: Artifact<ModelVersionMeta>,
): Record<(typeof CAT_CSRS)[number] | 'djPlayed', Csr> {
  const names = [...CAT_CSRS, 'djPlayed'] as const;
  return Object.fromEntries(names.map((n) => [n, version.csr(`cat.${n}`)])) as Record<
    (typeof names)[number],
    Csr
  >;
}

export type ModelFolderKind = 'version' | 'model' | 'none';

export function modelFolderKind(dir: string): ModelFolderKind {
  const manifest = join(dir, MANIFEST_FILE);
  if (existsSync(manifest)) {
    try {
      if ((JSON.parse(readFileSync(manifest, 'utf8')) as { kind?: string }).kind === MODEL_KIND)
        return 'version';
    } catch {
      return 'none';
    }
  }
  return existsSync(join(dir, 'prepared', MANIFEST_FILE)) &&
    existsSync(join(dir, 'embeddings', MANIFEST_FILE))
    ? 'model'
    : 'none';
}

/**
 * Resolves `--model DIR` for the serving commands: a model version folder is used as it is; a
 * model folder (prepared/ + embeddings/ [+ tracklist/]) is exported into DIR/version first, and
 * that export is reused until a source part changes.
 */
export function ensureModelVersion(
  dir: string,
  say: (line: string) => void = () => {},
): { dir: string; exported: boolean } {
  const kind = modelFolderKind(dir);
  if (kind === 'version') return { dir, exported: false };
  if (kind === 'none')
    throw new InputError(
      `--model: ${dir} is neither a model version nor a model folder (prepared/ + embeddings/)`,
      'model',
    );
  const out = join(dir, CACHED_VERSION_DIR);
  const current = {
    prepared: manifestDigest(join(dir, 'prepared')),
    embeddings: manifestDigest(join(dir, 'embeddings')),
    tracklist: manifestDigest(join(dir, 'tracklist')),
  };
  if (modelFolderKind(out) === 'version') {
    const source = (JSON.parse(readFileSync(join(out, MANIFEST_FILE), 'utf8')) as { meta: ModelVersionMeta })
      .meta.source;
    if (
      source &&
      source.prepared === current.prepared &&
      source.embeddings === current.embeddings &&
      source.tracklist === current.tracklist
    )
      return { dir: out, exported: false };
  }
  say(`exporting ${dir} into the model version ${out}`);
  exportModelVersion(dir, out);
  return { dir: out, exported: true };
}
