import { join } from 'node:path';
import { type Artifact, readArtifact } from './artifact.ts';
import { type Csr, rowSums, transpose } from '../graph/csr.ts';
import { loadPrepared } from '../graph/preparedStore.ts';
import type { Prepared } from '../graph/prepare.ts';
import { MgccfInference, type UserNode } from './mgccfInference.ts';
import { RowMatrix } from './rowMatrix.ts';
import { type Scored, topK } from './similarity.ts';
import { EMBEDDINGS_KIND } from './embeddings.ts';
import { type ModelVersionMeta, versionCatalogue, versionEmbeddings } from './modelVersion.ts';

/**
 * Cold-start users (SPEC §5.3): liked songs → a vector in the DJ space of TL-MGCCF, scored
 * against `rec.song` by dot product exactly as existing DJs are (see embeddings.ts).
 *
 * 1. Click row: liked songs with their scores clamped to [0, 1] (0 = listed but not a click).
 *    Its scale does not matter: cosine, row-normalised sampling and the DJ–artist row via M are
 *    all scale-invariant, so scores stand in for ln(count) directly.
 * 2. Cosine similarity of that row to every DJ's training click row (sparse, via the songs'
 *    columns), as prepare builds the DJ–DJ graph.
 * 3. Graph neighbours by prepare's rule: the user's top-k DJs (k = prepare's djNeighbours, 50),
 *    plus every DJ that would keep the user among ITS top k (symmetrizeMax). A DJ's k-th best
 *    cosine is read from its symmetrised row, which holds its original top k; a DJ with fewer
 *    than k neighbours keeps any positive similarity.
 * 4. Base embedding = similarity-weighted mean of those neighbours' `emb.dj` rows.
 * 5. The user's row of the augmented D^-1/2 (A + I) D^-1/2: Â_uj = w_uj / √(deg_u · deg_j'),
 *    deg_u = 1 + Σ w_uj, deg_j' = deg_j + w_uj (the DJ's degree including its new edge), Â_uu =
 *    1 / deg_u. Approximation: existing DJs' rows stay as trained — a DJ that now keeps the user
 *    in its top k would, strictly, drop its k-th neighbour, and its own ē would move slightly.
 *    Neither enters the user's vector except through deg_j', which ignores that drop.
 * 6. MgccfInference runs the Bipar-GCN + multi-graph encoding for the user, averaged over passes.
 *
 * Fallback: when no liked song is a click song of the vocabulary, or none is shared with any
 * DJ (all similarities 0), there is no neighbourhood to place the user in, so the user vector
 * is the mean of `rec.dj` weighted by each DJ's click mass (Σ ln count): the "typical listener",
 * whose ranking is close to popularity.
 */

export interface Like {
  song: number;
  /** Preference in [0, 1]; values outside are clamped, non-finite ones ignored. */
  score: number;
}

export interface ColdStartOptions {
  /** Sampled Bipar-GCN passes averaged into the user vector [32]. */
  passes: number;
  seed: number;
}

export const DEFAULT_COLD_START_OPTIONS: ColdStartOptions = { passes: 32, seed: 1 };

/** The parts of the prepared data cold start reads. */
export type ColdStartData = Pick<Prepared, 'click' | 'clickBySong' | 'djArtistByArtist' | 'songArtistMap' | 'djDj'> & {
  options?: { djNeighbours?: number };
};

export interface DjNeighbour {
  dj: number;
  similarity: number;
}

export interface ColdStartUser {
  /** The user vector in the DJ space (length 2d). */
  vector: Float32Array;
  /** True when the popularity fallback was used. */
  fallback: boolean;
  /** The DJ–DJ graph neighbours, best first (empty on fallback). */
  neighbours: DjNeighbour[];
  /** Every known song in the like list, ascending (excluded from recommendations). */
  liked: Int32Array;
}


export class ColdStartModel {
  readonly inference: MgccfInference;
  readonly songs: number;
  readonly djs: number;
  readonly width: number;
  private readonly options: ColdStartOptions;
  private readonly neighboursK: number;
  private readonly clickBySongRows: Csr; // songs × DJs, raw click values
  private readonly djNorm: Float64Array;
  private readonly djDegree: Float64Array;
  private readonly djThreshold: Float64Array;
  private readonly embDj: Float32Array;
  private readonly recSong: RowMatrix;
  private readonly popularVector: Float32Array;

  /** `recSong`: the rec.song matrix when the caller already holds one (serving shares its index's). */
  constructor(
    data: ColdStartData,
    embeddings: Artifact,
    options: Partial<ColdStartOptions> = {},
    recSong?: RowMatrix,
  ) {
    this.options = { ...DEFAULT_COLD_START_OPTIONS, ...options };
    this.inference = MgccfInference.fromArtifact(embeddings, data);
    this.neighboursK = data.options?.djNeighbours ?? 50;
    this.songs = data.click.cols;
    this.djs = data.click.rows;
    if (this.djs !== this.inference.djs) throw new Error('ColdStartModel: prepared data and embeddings disagree on the DJ count');
    this.clickBySongRows = transpose(data.click);
    this.djNorm = new Float64Array(this.djs);
    const c = data.click;
    for (let j = 0; j < this.djs; j++) {
      let s = 0;
      for (let p = c.indptr[j]; p < c.indptr[j + 1]; p++) s += c.values[p] * c.values[p];
      this.djNorm[j] = Math.sqrt(s);
    }
    const dj = data.djDj;
    this.djDegree = rowSums(dj).map((s) => 1 + s);
    this.djThreshold = new Float64Array(this.djs);
    for (let j = 0; j < this.djs; j++) {
      const len = dj.indptr[j + 1] - dj.indptr[j];
      if (len < this.neighboursK) continue;
      const row = Array.from(dj.values.subarray(dj.indptr[j], dj.indptr[j + 1])).sort((a, b) => b - a);
      this.djThreshold[j] = row[this.neighboursK - 1];
    }
    this.embDj = embeddings.tensor('param.emb.dj');
    this.width = embeddings.shape('rec.song')[1];
    this.recSong = recSong ?? new RowMatrix(embeddings.tensor('rec.song'), this.width);

    const recDj = embeddings.tensor('rec.dj');
    const mass = rowSums(c);
    let total = 0;
    for (const m of mass) total += m;
    const acc = new Float64Array(this.width);
    for (let j = 0; j < this.djs; j++) {
      const w = total > 0 ? mass[j] / total : 1 / this.djs;
      for (let k = 0; k < this.width; k++) acc[k] += w * recDj[j * this.width + k];
    }
    this.popularVector = Float32Array.from(acc);
  }

  /** From a model folder as `train` writes it: <model>/prepared and <model>/embeddings. */
  static load(modelDir: string, options: Partial<ColdStartOptions> = {}): ColdStartModel {
    const prepared = loadPrepared(join(modelDir, 'prepared'));
    const embeddings = readArtifact(join(modelDir, 'embeddings'), { kind: EMBEDDINGS_KIND });
    return new ColdStartModel(prepared, embeddings, options);
  }

  /** From a model version (shared/model/modelVersion.ts): its `cat.*` graphs and `emb.*` tensors. */
  static fromModelVersion(
    version: Artifact<ModelVersionMeta>,
    options: Partial<ColdStartOptions> = {},
    recSong?: RowMatrix,
  ): ColdStartModel {
    const data = { ...versionCatalogue(version), options: { djNeighbours: version.meta.config.prepare.djNeighbours } };
    return new ColdStartModel(data, versionEmbeddings(version), options, recSong);
  }

  /**
   * The user's node for MgccfInference (base embedding, click row, graph row), or null when
   * the fallback applies. Exposed for tests and diagnostics.
   */
  userNode(likes: readonly Like[]): { node: UserNode | null; neighbours: DjNeighbour[]; liked: Int32Array } {
    const scores = new Map<number, number>();
    for (const { song, score } of likes) {
      if (!Number.isInteger(song) || song < 0 || song >= this.songs) continue;
      const s = Number.isFinite(score) ? Math.min(1, Math.max(0, score)) : 0;
      scores.set(song, Math.max(s, scores.get(song) ?? 0));
    }
    const liked = Int32Array.from(scores.keys()).sort();
    const clickSongs = Array.from(liked).filter((s) => scores.get(s)! > 0);
    const clickValues = clickSongs.map((s) => scores.get(s)!);

    // Cosine to every DJ through the liked songs' columns only.
    const dots = new Float64Array(this.djs);
    let norm2 = 0;
    const t = this.clickBySongRows;
    clickSongs.forEach((s, k) => {
      const x = clickValues[k];
      norm2 += x * x;
      for (let p = t.indptr[s]; p < t.indptr[s + 1]; p++) dots[t.indices[p]] += x * t.values[p];
    });
    const candidates: DjNeighbour[] = [];
    for (let j = 0; j < this.djs; j++)
      if (dots[j] > 0 && this.djNorm[j] > 0) candidates.push({ dj: j, similarity: dots[j] / (Math.sqrt(norm2) * this.djNorm[j]) });
    candidates.sort((a, b) => b.similarity - a.similarity || a.dj - b.dj);
    // The user is appended last, so it loses ties in a DJ's top k: strict comparison.
    const neighbours = candidates.filter((c, rank) => rank < this.neighboursK || c.similarity > this.djThreshold[c.dj]);
    if (neighbours.length === 0) return { node: null, neighbours, liked };

    const d = this.inference.dim;
    const embedding = new Float64Array(d);
    let weight = 0;
    for (const { dj, similarity } of neighbours) {
      weight += similarity;
      for (let c = 0; c < d; c++) embedding[c] += similarity * this.embDj[dj * d + c];
    }
    for (let c = 0; c < d; c++) embedding[c] /= weight;
    const degree = 1 + weight;
    const graph = [...neighbours].sort((a, b) => a.dj - b.dj);
    const node: UserNode = {
      embedding,
      clicks: { indices: clickSongs, values: clickValues },
      graph: {
        indices: graph.map((n) => n.dj),
        values: graph.map((n) => n.similarity / Math.sqrt(degree * (this.djDegree[n.dj] + n.similarity))),
      },
      graphSelf: 1 / degree,
    };
    return { node, neighbours, liked };
  }

  /** The user's vector in the DJ space (SPEC §5.3). */
  userVector(likes: readonly Like[], options: Partial<ColdStartOptions> = {}): ColdStartUser {
    const { passes, seed } = { ...this.options, ...options };
    const { node, neighbours, liked } = this.userNode(likes);
    if (!node) return { vector: this.popularVector.slice(), fallback: true, neighbours, liked };
    return { vector: this.inference.userVector(node, { passes, seed }), fallback: false, neighbours, liked };
  }

  /** out[s] = user vector · rec.song[s], the DJ→song score. */
  scoreVector(vector: ArrayLike<number>, out: Float32Array = new Float32Array(this.songs)): Float32Array {
    return this.recSong.dot(vector, out);
  }

  /** The k best songs for a like list by dot product with `rec.song`, liked songs excluded. */
  recommendForLikes(likes: readonly Like[], k: number, options: Partial<ColdStartOptions> = {}): Scored[] {
    const user = this.userVector(likes, options);
    const scores = this.scoreVector(user.vector);
    const excluded = new Uint8Array(this.songs);
    for (const s of user.liked) excluded[s] = 1;
    return topK(scores, k, (i) => excluded[i] === 1);
  }
}
