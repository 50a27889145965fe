import { type Artifact, ArtifactError } from './artifact.ts';
import { ColdStartModel, type Like } from './coldStart.ts';
import { EmbeddingIndex } from './embeddings.ts';
import { clusterNames, explainTracklist, type ClusterLevel, type SongExplanation } from './explain.ts';
import {
  checkGenerationDefaults,
  checkLikes,
  type GeneratedSong,
  type GenerateOptions,
  type GenerationDefaults,
  minMaxScale,
  resolveGenerateOptions,
  sampleTracklist,
  withModelDefaults,
} from './generate.ts';
import { movedPublicKnobs, publicGenerationDefaults, type PublicGenerationDefaults } from './engine/generateOptions.ts';
import { artistId, djId, indexIds, songId } from './ids.ts';
import {
  folderBytes,
  type ModelVersionMeta,
  readModelVersion,
  versionCatalogue,
  versionEmbeddings,
  versionTracklist,
} from './modelVersion.ts';
import { CatalogueSearch, type SearchHit } from './search.ts';
import { type Scored, topK } from './similarity.ts';
import { type SequenceContext, TracklistModel } from './tracklistInference.ts';
import { addAliasIds, canonicalArtistKey, canonicalKey, KeyIndex } from '../corpus/merge.ts';
import { normalizeName, parseTrack } from '../corpus/trackString.ts';
import { type Csr, transpose } from '../graph/csr.ts';
import type { Vocabulary } from '../graph/prepare.ts';
import { LIMITS } from '../limits.ts';
import { InputError } from '../util/errors.ts';

export type { GeneratedSong, GenerateOptions } from './generate.ts';
export type { Like } from './coldStart.ts';

/**
 * The serving engine (contract E): one loaded model version answering generation,
 * recommendation, similarity and search in plain TypeScript. Everything per version is computed
 * once, at load (the name search index on first use); a request allocates only per-song score
 * vectors. Methods are synchronous and keep no state between calls: the scratch they reuse (score
 * vectors here, the sampler's in the tracklist model's Workspace) is dead once a call returns, so
 * one instance serves concurrent requests on one thread (not several threads sharing it).
 *
 * Scores: songs for a DJ or a cold-start user are ranked by the dot product of the TL-MGCCF
 * vectors (see embeddings.ts); similar songs/artists/DJs by 1 + cos in [0, 2].
 */

export interface ItemScore {
  index: number;
  id: string;
  score: number;
}

export interface SearchResult extends ItemScore {
  name: string;
}

export interface SongInfo {
  id: string;
  name: string;
  artists: { id: string; name: string }[];
  plays: number;
  acappella: boolean;
}

export type SearchKind = 'songs' | 'artists' | 'djs';

type VersionVocab = Pick<
  Vocabulary,
  'songs' | 'songKeys' | 'artists' | 'artistKeys' | 'djs' | 'songAliases' | 'artistAliases'
> & {
  /** Public ids as exported; derived from the keys when absent. */
  songIds?: string[];
  artistIds?: string[];
  djIds?: string[];
};

export class ServingModel {
  readonly versionId: string;
  readonly meta: ModelVersionMeta;
  readonly loadedAt: Date;
  readonly counts: { songs: number; artists: number; djs: number };
  /**
   * The song blocked from generation as the "average replacement": the one the tracklist training
   * recorded (meta.replacementSong), else the song whose rec.song vector is closest to the mean.
   */
  readonly replacementSong: number;
  /** Size of the version's files (0 when built from an in-memory artifact). */
  readonly artifactBytes: number;
  private readonly vocab: VersionVocab;
  private readonly songIds: string[];
  private readonly artistIds: string[];
  private readonly djIds: string[];
  private readonly songById: Map<string, number>;
  private readonly artistById: Map<string, number>;
  private readonly djById: Map<string, number>;
  private readonly songByKey: KeyIndex;
  private readonly artistByKey: KeyIndex;
  private readonly songArtists: Csr;
  private readonly djPlayed: Csr;
  private readonly plays: Float32Array;
  private readonly acappella: Uint8Array;
  private readonly index: EmbeddingIndex;
  private readonly coldStart: ColdStartModel;
  private search_: CatalogueSearch | null = null;
  /** The song → artist map transposed (artist → songs), built on first use. */
  private artistSongMap: Csr | null = null;
  private readonly tracklist: TracklistModel | null;
  /** The tuned knobs' defaults this model was trained with (empty: the global LIMITS defaults). */
  readonly generationDefaults: Readonly<GenerationDefaults>;
  private readonly blocked: Uint8Array;
  /** encNorm.dj: unit DJ encodings, the DJ vectors of a DJ-conditioned tracklist model. */
  private readonly djUnit: Float32Array | null;
  /** rec.dj: the DJs' recommendation vectors (a taste-conditioned tracklist model's taste vectors). */
  private readonly djRec: Float32Array;
  /** The learned clusters' names (explanations), built on first use. */
  private names: Record<ClusterLevel, string[]> | null = null;
  private scoreScratch: { seed: Float32Array; taste: Float32Array; user: Float32Array } | null = null;
  /**
   * True when the tracklist model's taste.song is the recommender's rec.song (same checksum), so
   * a request's raw taste scores are the song level's taste products and are passed on.
   */
  private readonly tasteScoresShared: boolean;

  constructor(version: Artifact<ModelVersionMeta>, artifactBytes = 0) {
    const meta = version.meta;
    this.meta = meta;
    this.versionId = meta.versionId;
    this.loadedAt = new Date();
    this.artifactBytes = artifactBytes;
    const vocab = version.document<VersionVocab>('vocab');
    this.vocab = vocab;
    this.counts = { songs: vocab.songs.length, artists: vocab.artists.length, djs: vocab.djs.length };
    this.songIds = vocab.songIds ?? vocab.songKeys.map(songId);
    this.artistIds = vocab.artistIds ?? vocab.artistKeys.map(artistId);
    this.djIds = vocab.djIds ?? vocab.djs.map(djId);
    if (
      this.songIds.length !== this.counts.songs ||
      this.artistIds.length !== this.counts.artists ||
      this.djIds.length !== this.counts.djs
    )
      throw new ArtifactError('model version: vocabulary ids and names disagree in length');
    this.songById = indexIds(this.songIds);
    this.artistById = indexIds(this.artistIds);
    addAliasIds(this.songById, vocab.songAliases, songId);
    addAliasIds(this.artistById, vocab.artistAliases, artistId);
    this.djById = indexIds(this.djIds);
    this.songByKey = new KeyIndex(vocab.songKeys, vocab.songAliases, canonicalKey);
    this.artistByKey = new KeyIndex(vocab.artistKeys, vocab.artistAliases, canonicalArtistKey);

    const cat = versionCatalogue(version);
    this.songArtists = cat.songArtistMap;
    this.djPlayed = cat.djPlayed;
    this.plays = version.tensor('cat.songPlays');
    this.acappella = version.tensor<Uint8Array>('cat.songAcappella');
    const embeddings = versionEmbeddings(version);
    this.index = new EmbeddingIndex(embeddings);
    this.coldStart = ColdStartModel.fromModelVersion(version, {}, this.index.songVectors);
    const tl = versionTracklist(version);
    this.tracklist = tl ? new TracklistModel(tl) : null;
    try {
      this.generationDefaults = Object.freeze(checkGenerationDefaults(tl?.meta.generationDefaults));
    } catch (e) {
      if (e instanceof InputError) throw new ArtifactError(`model version: the tracklist model's generation defaults: ${e.message}`);
      throw e;
    }
    if (this.tracklist && this.tracklist.songs !== this.counts.songs)
      throw new ArtifactError(
        `model version: the tracklist model has ${this.tracklist.songs} songs, the vocabulary ${this.counts.songs}`,
      );
    this.djUnit = version.has('emb.encNorm.dj') ? version.tensor('emb.encNorm.dj') : null;
    this.djRec = version.tensor('emb.rec.dj');
    const djWidth = this.tracklist?.djWidth ?? 0;
    if (djWidth > 0 && (!this.djUnit || version.shape('emb.encNorm.dj')[1] !== djWidth))
      throw new ArtifactError(
        `model version: the tracklist model takes ${djWidth}-wide DJ vectors, emb.encNorm.dj does not match`,
      );
    const tasteWidth = this.tracklist?.tasteWidth ?? 0;
    if (tasteWidth > 0 && version.shape('emb.rec.dj')[1] !== tasteWidth)
      throw new ArtifactError(
        `model version: the tracklist model takes ${tasteWidth}-wide taste vectors, emb.rec.dj does not match`,
      );
    const recSong = version.manifest.tensors['emb.rec.song'];
    const tasteSong = version.manifest.tensors['tl.taste.song'];
    this.tasteScoresShared =
      tasteWidth > 0 &&
      recSong !== undefined &&
      tasteSong !== undefined &&
      recSong.sha256 === tasteSong.sha256 &&
      recSong.shape.join() === tasteSong.shape.join();
    if (this.index.songs !== this.counts.songs)
      throw new ArtifactError('model version: embeddings and vocabulary disagree on the song count');

    // The tracklist training records the replacement it used; otherwise the song closest to the mean song vector.
    const recorded = meta.config.tracklist?.replacementSong;
    this.replacementSong =
      Number.isInteger(recorded) && recorded! >= 0 && recorded! < this.counts.songs
        ? recorded!
        : closestToMean(embeddings.tensor('rec.song'), embeddings.shape('rec.song')[1]);
    this.blocked = Uint8Array.from(this.acappella, (a) => (a ? 1 : 0));
    this.blocked[this.replacementSong] = 1;
  }

  /**
   * The name search index, built on first use: it is the costliest part of a load (about half a
   * second at seed size) and only search needs it. Call it after load to build it eagerly.
   */
  catalogue(): CatalogueSearch {
    if (this.search_ === null) {
      // Popularity: plays for songs, weighted plays via M for artists, total plays for DJs.
      const artistPlays = new Float64Array(this.counts.artists);
      const m = this.songArtists;
      for (let s = 0; s < m.rows; s++)
        for (let p = m.indptr[s]; p < m.indptr[s + 1]; p++)
          artistPlays[m.indices[p]] += m.values[p] * this.plays[s];
      const djPlays = new Float64Array(this.counts.djs);
      const d = this.djPlayed;
      for (let j = 0; j < d.rows; j++)
        for (let p = d.indptr[j]; p < d.indptr[j + 1]; p++) djPlays[j] += d.values[p];
      const { songs, artists, djs, songAliases, artistAliases } = this.vocab;
      this.search_ = new CatalogueSearch(
        { songs, artists, djs, songAliases, artistAliases },
        { songs: this.plays, artists: artistPlays, djs: djPlays },
      );
    }
    return this.search_;
  }

  /**
   * Loads a model version folder; checksums verified (ArtifactError on any mismatch), on a
   * worker thread while this one builds the model, and before the model is returned.
   */
  static load(dir: string): ServingModel {
    const version = readModelVersion(dir, { parallelVerify: true });
    try {
      return new ServingModel(version, folderBytes(dir));
    } finally {
      // Also when damaged bytes fail the build first: the checksum error is the one to report.
      version.finishVerification();
    }
  }

  /** True when the version holds a tracklist model (generation available). */
  get hasTracklistModel(): boolean {
    return this.tracklist !== null;
  }

  // ---- ids and catalogue -------------------------------------------------------------------

  songIndex(id: string): number | undefined {
    return this.songById.get(id);
  }

  artistIndex(id: string): number | undefined {
    return this.artistById.get(id);
  }

  djIndex(id: string): number | undefined {
    return this.djById.get(id);
  }

  /** A song by id, by "Artist - Title" (identity key, so case/accents/ft. variants match) or exact name. */
  findSong(text: string): number | undefined {
    const byId = this.songById.get(text);
    if (byId !== undefined) return byId;
    const parsed = parseTrack(text);
    return parsed.kind === 'song' ? this.songByKey.get(parsed.key) : undefined;
  }

  /** A DJ by id or name (case and surrounding spaces ignored). */
  findDj(text: string): number | undefined {
    return this.djById.get(text) ?? this.djById.get(djId(text));
  }

  /** An artist by id or name (identity key: case, accents and spacing ignored). */
  findArtist(text: string): number | undefined {
    return this.artistById.get(text) ?? this.artistByKey.get(normalizeName(text));
  }

  song(i: number): SongInfo {
    this.check(i, this.counts.songs, 'song');
    const m = this.songArtists;
    const order: number[] = [];
    for (let p = m.indptr[i]; p < m.indptr[i + 1]; p++) order.push(p);
    // Heaviest credit first (remixers weigh most), then artist rank.
    order.sort((a, b) => m.values[b] - m.values[a] || m.indices[a] - m.indices[b]);
    return {
      id: this.songIds[i],
      name: this.vocab.songs[i],
      artists: order.map((p) => ({
        id: this.artistIds[m.indices[p]],
        name: this.vocab.artists[m.indices[p]],
      })),
      plays: this.plays[i],
      acappella: this.acappella[i] === 1,
    };
  }

  artist(i: number): { id: string; name: string } {
    this.check(i, this.counts.artists, 'artist');
    return { id: this.artistIds[i], name: this.vocab.artists[i] };
  }

  dj(i: number): { id: string; name: string } {
    this.check(i, this.counts.djs, 'dj');
    return { id: this.djIds[i], name: this.vocab.djs[i] };
  }

  search(kind: SearchKind, q: string, limit: number): SearchResult[] {
    const k = this.checkK(limit, 'limit', LIMITS.searchLimit.max);
    if (typeof q !== 'string') throw new InputError('q must be a string', 'q');
    const ids = { songs: this.songIds, artists: this.artistIds, djs: this.djIds }[kind];
    if (!ids) throw new InputError('kind must be songs, artists or djs', 'kind');
    const hits: SearchHit[] = this.catalogue()[kind](q, k);
    return hits.map((h) => ({ index: h.index, id: ids[h.index], name: h.name, score: h.score }));
  }

  // ---- generation --------------------------------------------------------------------------

  /** The public knobs' defaults a request gets from this model, and which of them it moved off LIMITS'. */
  publicGenerationDefaults(): { defaults: PublicGenerationDefaults; moved: string[] } {
    return { defaults: publicGenerationDefaults(this.generationDefaults), moved: movedPublicKnobs(this.generationDefaults) };
  }

  /** A tracklist (SPEC §5.2): the seed, then `length` songs; see generate.ts. With `explain`, why each song is there. */
  generate(o: GenerateOptions & { explain?: boolean }): (GeneratedSong & { explanation?: SongExplanation })[] {
    if (!this.tracklist)
      throw new InputError(
        'model has no tracklist model (this version was exported before one was trained)',
        'model',
      );
    const r = resolveGenerateOptions(withModelDefaults(o, this.generationDefaults), this.counts);
    // Generation is synchronous and keeps no reference to its score vectors once it returns, so
    // one pair per model serves every request: fewer 120 KB buffers for the GC at seed size.
    const scratch = (this.scoreScratch ??= {
      seed: new Float32Array(this.counts.songs),
      taste: new Float32Array(this.counts.songs),
      user: new Float32Array(this.counts.songs),
    });
    const taste =
      r.dj !== null
        ? this.djTaste(r.dj, scratch.taste)
        : r.likes !== null
          ? this.likeTaste(r.likes, scratch.taste)
          : null;
    const context = taste ? { ...taste.context, tasteScores: this.tasteScoresShared ? taste.scores : null } : {};
    const songs = sampleTracklist(
      {
        model: this.tracklist,
        // Min-max scaling makes cos and the 1 + cos of similarSongs the same scores.
        songScores: minMaxScale(this.index.songCosines(r.seedSong, scratch.seed), scratch.seed),
        userScores: taste ? minMaxScale(taste.scores, scratch.user) : null,
        blocked: this.blocked,
        songArtists: this.songArtists,
        songSimilarity: this.index.songSimUnit,
        context,
      },
      r,
    );
    if (!o.explain) return songs;
    this.names ??= clusterNames(this.tracklist, this.songArtists, this.plays, (a) => this.vocab.artists[a]);
    const why = explainTracklist(this.tracklist, context, songs, { prefixLength: r.prefix.length, warmStart: r.warmStart, names: this.names });
    return songs.map((g, i) => ({ ...g, explanation: why[i] }));
  }

  // ---- recommendations ---------------------------------------------------------------------

  /** Songs for a DJ, best first, excluding every song the DJ has played. */
  recommendForDj(dj: number, k: number): ItemScore[] {
    this.check(dj, this.counts.djs, 'dj');
    const n = this.checkK(k, 'k');
    const p = this.djPlayed;
    const played = new Uint8Array(this.counts.songs);
    for (let q = p.indptr[dj]; q < p.indptr[dj + 1]; q++) played[p.indices[q]] = 1;
    return this.withIds(
      topK(this.djScores(dj), n, (s) => played[s] === 1),
      this.songIds,
    );
  }

  /** Songs for a cold-start user (SPEC §5.3), liked songs excluded. */
  recommendForLikes(likes: Like[], k: number): ItemScore[] {
    checkLikes(likes, this.counts.songs);
    return this.withIds(this.coldStart.recommendForLikes(likes, this.checkK(k, 'k')), this.songIds);
  }

  /** Songs crediting an artist (any role), most played first; score = plays. */
  artistSongs(i: number, k: number): ItemScore[] {
    this.check(i, this.counts.artists, 'artist');
    const n = this.checkK(k, 'k');
    const m = (this.artistSongMap ??= transpose(this.songArtists));
    const ranked = Array.from(m.indices.subarray(m.indptr[i], m.indptr[i + 1]), (s) => ({
      index: s,
      score: this.plays[s],
    }));
    ranked.sort((a, b) => b.score - a.score || a.index - b.index);
    return this.withIds(ranked.slice(0, n), this.songIds);
  }

  /** How many songs credit an artist. */
  artistSongCount(i: number): number {
    this.check(i, this.counts.artists, 'artist');
    const m = (this.artistSongMap ??= transpose(this.songArtists));
    return m.indptr[i + 1] - m.indptr[i];
  }

  /** Songs a DJ played in the corpus's tracklists, most played first; score = plays. */
  djSongs(i: number, k: number): ItemScore[] {
    this.check(i, this.counts.djs, 'dj');
    const n = this.checkK(k, 'k');
    const p = this.djPlayed;
    const ranked: Scored[] = [];
    for (let q = p.indptr[i]; q < p.indptr[i + 1]; q++) ranked.push({ index: p.indices[q], score: p.values[q] });
    ranked.sort((a, b) => b.score - a.score || a.index - b.index);
    return this.withIds(ranked.slice(0, n), this.songIds);
  }

  /** How many distinct songs a DJ played. */
  djSongCount(i: number): number {
    this.check(i, this.counts.djs, 'dj');
    return this.djPlayed.indptr[i + 1] - this.djPlayed.indptr[i];
  }

  similarSongs(i: number, k: number): ItemScore[] {
    this.check(i, this.counts.songs, 'song');
    return this.withIds(this.index.similarSongs(i, this.checkK(k, 'k')), this.songIds);
  }

  similarArtists(i: number, k: number): ItemScore[] {
    this.check(i, this.counts.artists, 'artist');
    return this.withIds(this.index.similarArtists(i, this.checkK(k, 'k')), this.artistIds);
  }

  similarDjs(i: number, k: number): ItemScore[] {
    this.check(i, this.counts.djs, 'dj');
    return this.withIds(this.index.similarDjs(i, this.checkK(k, 'k')), this.djIds);
  }

  // ---- internals ---------------------------------------------------------------------------

  /** DJ → song scores (dot product), into `out` or a fresh vector. */
  private djScores(dj: number, out: Float32Array = new Float32Array(this.counts.songs)): Float32Array {
    return this.index.scoreDj(dj, out);
  }

  /**
   * A DJ's taste: song scores, and the set context a conditioned tracklist model takes, as in
   * training: the DJ's unit encoding (encNorm.dj row) and recommendation vector (rec.dj row).
   */
  private djTaste(dj: number, out: Float32Array): { scores: Float32Array; context: SequenceContext } {
    const dw = this.tracklist?.djWidth ?? 0;
    const tw = this.tracklist?.tasteWidth ?? 0;
    return {
      scores: this.djScores(dj, out),
      context: {
        dj: dw > 0 ? this.djUnit!.subarray(dj * dw, (dj + 1) * dw) : null,
        taste: tw > 0 ? this.djRec.subarray(dj * tw, (dj + 1) * tw) : null,
      },
    };
  }

  /**
   * A cold-start user's taste: song scores, and as set context the user's own multi-graph
   * encoding ē_u at unit length (what encNorm.dj holds for DJs) and user vector (the rec.dj
   * analogue); none on the popularity fallback, like a set without known DJs.
   */
  private likeTaste(likes: Like[], out: Float32Array): { scores: Float32Array; context: SequenceContext } {
    const user = this.coldStart.userVector(likes);
    const scores = this.coldStart.scoreVector(user.vector, out);
    if (user.fallback || !this.tracklist) return { scores, context: {} };
    let dj: Float64Array | null = null;
    if (this.tracklist.djWidth > 0) {
      const e = this.coldStart.inference.prepareUser(this.coldStart.userNode(likes).node!).encoding;
      const norm = Math.hypot(...e);
      dj = norm > 0 ? e.map((x) => x / norm) : null;
    }
    return { scores, context: { dj, taste: this.tracklist.tasteWidth > 0 ? user.vector : null } };
  }

  private withIds(items: Scored[], ids: string[]): ItemScore[] {
    return items.map((x) => ({ index: x.index, id: ids[x.index], score: x.score }));
  }

  private check(i: number, n: number, field: string): void {
    if (!(Number.isInteger(i) && i >= 0 && i < n))
      throw new InputError(`${field} must be an index in [0, ${n})`, field);
  }

  private checkK(k: number, field: string, max: number = LIMITS.k.max): number {
    if (!(Number.isInteger(k) && k >= 1 && k <= max))
      throw new InputError(`${field} must be an integer from 1 to ${max}`, field);
    return k;
  }
}

/** The row closest (Euclidean) to the mean row. */
function closestToMean(x: Float32Array, width: number): number {
  const n = x.length / width;
  const mean = new Float64Array(width);
  for (let r = 0; r < n; r++) for (let c = 0; c < width; c++) mean[c] += x[r * width + c] / n;
  let best = 0;
  let bestDist = Infinity;
  for (let r = 0; r < n; r++) {
    let d = 0;
    for (let c = 0; c < width; c++) d += (x[r * width + c] - mean[c]) ** 2;
    if (d < bestDist) {
      bestDist = d;
      best = r;
    }
  }
  return best;
}
