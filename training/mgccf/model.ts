import type { Scalar, Tensor2D, Variable } from '@tensorflow/tfjs';
import type { Tf } from '../tf.ts';
import { type Csr, nnz, transpose } from '../../shared/graph/csr.ts';
import { RowAliasSampler } from '../../shared/graph/alias.ts';
import type { Prepared } from '../../shared/graph/prepare.ts';
import { Random } from '../../shared/util/random.ts';
import { meanRows, sddmm, selectRows, spmm, type SparseOperand } from '../sparse.ts';
import { matMul, matMulT, sumSquaredRelu } from '../ops.ts';
import type { MgccfConfig } from './config.ts';

/**
 * TL-MGCCF (SPEC §3): two MGCCF branches (DJ–song and DJ–artist) sharing DJ embeddings. Each
 * branch has a 2-layer Bipar-GCN over sampled neighbours; each entity type has a multi-graph
 * encoding over its own graph; fused vectors are trained with BPR plus GloVe-style
 * factorisation of the song/artist graphs on the multi-graph outputs.
 */
export type Branch = 'song' | 'artist';
export type Side = 'dj' | 'item';
export type EntityType = 'dj' | 'song' | 'artist';

/** Variable names, so export and checkpoints see one list. */
export function parameterShapes(counts: { djs: number; songs: number; artists: number }, d: number) {
  const shapes: Record<string, number[]> = {
    'emb.dj': [counts.djs, d],
    'emb.song': [counts.songs, d],
    'emb.artist': [counts.artists, d],
  };
  for (const branch of ['song', 'artist'] as const)
    for (const side of ['dj', 'item'] as const)
      for (const layer of [1, 2]) {
        shapes[`bipar.${branch}.${side}.Q${layer}`] = [d, d];
        shapes[`bipar.${branch}.${side}.W${layer}`] = [2 * d, d];
      }
  for (const type of ['dj', 'song', 'artist'] as const) {
    shapes[`graph.${type}.K`] = [d, d];
    shapes[`graph.${type}.s`] = [d];
    shapes[`graph.${type}.b`] = [d];
  }
  return shapes;
}

/** Everything constant during training: graphs, samplers, maps. */
export class MgccfData {
  readonly counts: { djs: number; songs: number; artists: number };
  readonly graphNorm: Record<EntityType, SparseOperand>;
  /** For (branch, side): sampler over a node's neighbours on the other side. */
  readonly samplers: Record<`${Branch}.${Side}`, RowAliasSampler>;
  readonly songArtistMap: Csr;
  readonly factor: {
    songSong: Csr;
    artistArtist: Csr;
    songArtist: Csr;
    artistSong: Csr;
  };
  readonly click: Csr;

  constructor(p: Prepared) {
    this.counts = { djs: p.vocab.djs.length, songs: p.vocab.songs.length, artists: p.vocab.artists.length };
    // The normalised graphs are symmetric, so each is its own transpose for the backward pass.
    this.graphNorm = {
      dj: { a: p.djDjNorm, at: p.djDjNorm },
      song: { a: p.songSongNorm, at: p.songSongNorm },
      artist: { a: p.artistArtistNorm, at: p.artistArtistNorm },
    };
    // DJ side samples by the DJ-scaled matrices, item side by the item-scaled ones (the
    // original wired the DJ–artist "by DJ" matrix to the artist-scaled one; fixed here).
    this.samplers = {
      'song.dj': new RowAliasSampler(p.clickByDj),
      'song.item': new RowAliasSampler(transpose(p.clickBySong)),
      'artist.dj': new RowAliasSampler(p.djArtistByDj),
      'artist.item': new RowAliasSampler(transpose(p.djArtistByArtist)),
    };
    this.songArtistMap = p.songArtistMap;
    this.factor = {
      songSong: p.songSong,
      artistArtist: p.artistArtist,
      songArtist: p.songArtist,
      artistSong: transpose(p.songArtist),
    };
    this.click = p.click;
  }

  size(type: EntityType): number {
    return type === 'dj' ? this.counts.djs : type === 'song' ? this.counts.songs : this.counts.artists;
  }
}

export type Params = Record<string, Variable>;

export function initParams(tf: Tf, data: MgccfData, config: MgccfConfig): Params {
  const rng = new Random(config.seed ^ 0x5eed);
  const params: Params = {};
  for (const [name, shape] of Object.entries(parameterShapes(data.counts, config.dim))) {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (name.endsWith('.s')) values.fill(1);
    else if (!name.endsWith('.b')) {
      // Glorot-normal for matrices; embeddings get a small scale so tanh starts linear.
      const std = name.startsWith('emb.') ? 0.1 : Math.sqrt(2 / (shape[0] + shape[1]));
      for (let k = 0; k < size; k++) values[k] = rng.normal() * std;
    }
    params[name] = tf.variable(tf.tensor(values, shape), true, name);
  }
  return params;
}

function itemType(branch: Branch): EntityType {
  return branch === 'song' ? 'song' : 'artist';
}

export interface ForwardOptions {
  training: boolean;
  rng: Random;
  /** Precomputed ē per type (eval mode: they do not depend on sampling, so compute them once). */
  encodings?: Partial<Record<EntityType, Tensor2D>>;
}

/** One forward context: samples neighbours and runs the layers (call inside tf.tidy). */
export class MgccfForward {
  private readonly graphCache = new Map<EntityType, Tensor2D>();

  private readonly tf: Tf;
  private readonly data: MgccfData;
  private readonly params: Params;
  private readonly config: MgccfConfig;
  private readonly options: ForwardOptions;

  constructor(tf: Tf, data: MgccfData, params: Params, config: MgccfConfig, options: ForwardOptions) {
    this.tf = tf;
    this.data = data;
    this.params = params;
    this.config = config;
    this.options = options;
    for (const [type, enc] of Object.entries(options.encodings ?? {})) this.graphCache.set(type as EntityType, enc);
  }

  /**
   * Inverted dropout with a mask from the step's own generator: tf.dropout draws through
   * seedrandom in JavaScript, several times slower than sfc32 for the same reproducibility.
   */
  private drop(x: Tensor2D): Tensor2D {
    if (!this.options.training || this.config.dropout <= 0) return x;
    const keep = 1 - this.config.dropout;
    const mask = new Float32Array(x.size);
    const rng = this.options.rng;
    for (let k = 0; k < mask.length; k++) mask[k] = rng.next() < keep ? 1 / keep : 0;
    return this.tf.mul(x, this.tf.tensor2d(mask, x.shape));
  }

  private dense(x: Tensor2D, name: string): Tensor2D {
    return matMul(this.tf, x, this.params[name] as Tensor2D);
  }

  /** ē for every node of a type: tanh(Â (E K) + (E K) ⊙ s + b). */
  graphEncoding(type: EntityType): Tensor2D {
    let out = this.graphCache.get(type);
    if (!out) {
      const tf = this.tf;
      const ek = this.dense(this.params[`emb.${type}`] as Tensor2D, `graph.${type}.K`);
      out = tf.tanh(
        tf.add(tf.add(spmm(tf, this.data.graphNorm[type], ek), tf.mul(ek, this.params[`graph.${type}.s`])), this.params[`graph.${type}.b`]),
      ) as Tensor2D;
      this.graphCache.set(type, out);
    }
    return out;
  }

  /** Bipar-GCN output h² for target nodes of one side of one branch. */
  bipar(branch: Branch, side: Side, targets: ArrayLike<number>): Tensor2D {
    const tf = this.tf;
    const [n1, n2] = this.config.samples;
    const ownType: EntityType = side === 'dj' ? 'dj' : itemType(branch);
    const otherType: EntityType = side === 'dj' ? itemType(branch) : 'dj';
    const otherSide: Side = side === 'dj' ? 'item' : 'dj';
    const own = this.params[`emb.${ownType}`] as Tensor2D;
    const other = this.params[`emb.${otherType}`] as Tensor2D;
    const nOwn = this.data.size(ownType);
    const nOther = this.data.size(otherType);
    const hop1Sampler = this.data.samplers[`${branch}.${side}`];
    const hop2Sampler = this.data.samplers[`${branch}.${otherSide}`];
    const rng = this.options.rng;

    const hop1 = new Int32Array(targets.length * n1);
    for (let k = 0; k < targets.length; k++)
      for (let t = 0; t < n1; t++) hop1[k * n1 + t] = hop1Sampler.sample(targets[k], rng);
    const hop2 = new Int32Array(hop1.length * n2);
    for (let q = 0; q < hop1.length; q++)
      for (let r = 0; r < n2; r++) hop2[q * n2 + r] = hop1[q] < 0 ? -1 : hop2Sampler.sample(hop1[q], rng);
    const pool = new Int32Array(hop1.length);
    for (let q = 0; q < hop1.length; q++) pool[q] = hop1[q] < 0 ? -1 : q;

    const p = (name: string) => `bipar.${branch}.${side}.${name}`;
    const q = (name: string) => `bipar.${branch}.${otherSide}.${name}`;
    // Layer 1 for the targets and for their hop-1 neighbours, layer 2 for the targets.
    const eTargets = this.drop(spmm(tf, selectRows(targets, nOwn), own));
    const meanOther0 = this.drop(spmm(tf, meanRows(hop1, n1, nOther), other));
    const h1Targets = tf.tanh(
      this.dense(tf.concat([eTargets, tf.tanh(this.dense(meanOther0, p('Q1')))], 1), p('W1')),
    ) as Tensor2D;
    const eHop1 = this.drop(spmm(tf, selectRows(hop1, nOther), other));
    const meanOwn0 = this.drop(spmm(tf, meanRows(hop2, n2, nOwn), own));
    const h1Hop1 = tf.tanh(this.dense(tf.concat([eHop1, tf.tanh(this.dense(meanOwn0, q('Q1')))], 1), q('W1'))) as Tensor2D;
    const agg2 = tf.tanh(this.dense(this.drop(spmm(tf, meanRows(pool, n1, hop1.length), h1Hop1)), p('Q2'))) as Tensor2D;
    return tf.tanh(this.dense(tf.concat([this.drop(h1Targets), agg2], 1), p('W2'))) as Tensor2D;
  }

  /** Fused e* = h_bipar + ē for targets. */
  fused(branch: Branch, side: Side, targets: ArrayLike<number>): Tensor2D {
    const type: EntityType = side === 'dj' ? 'dj' : itemType(branch);
    const enc = spmm(this.tf, selectRows(targets, this.data.size(type)), this.graphEncoding(type));
    return this.tf.add(this.bipar(branch, side, targets), enc) as Tensor2D;
  }

  /** Final DJ vectors [e*_u,s ; e*_u,a]. */
  djVectors(djs: ArrayLike<number>): Tensor2D {
    return this.tf.concat([this.fused('song', 'dj', djs), this.fused('artist', 'dj', djs)], 1);
  }

  /** Final song vectors [e*_s ; M e*_a] (artists' fused vectors weighted by the song's credits). */
  songVectors(songs: ArrayLike<number>): Tensor2D {
    const m = this.data.songArtistMap;
    const artistLocal = new Map<number, number>();
    const artists: number[] = [];
    const rows: number[][] = [];
    for (let k = 0; k < songs.length; k++) {
      const s = songs[k];
      const row: number[] = [];
      for (let p = m.indptr[s]; p < m.indptr[s + 1]; p++) {
        let local = artistLocal.get(m.indices[p]);
        if (local === undefined) {
          local = artists.length;
          artistLocal.set(m.indices[p], local);
          artists.push(m.indices[p]);
        }
        row.push(local, m.values[p]);
      }
      rows.push(row);
    }
    const tf = this.tf;
    const songPart = this.fused('song', 'item', songs);
    if (artists.length === 0) return tf.concat([songPart, tf.zerosLike(songPart)], 1);
    const indptr = new Int32Array(songs.length + 1);
    const indices: number[] = [];
    const values: number[] = [];
    rows.forEach((row, k) => {
      for (let t = 0; t < row.length; t += 2) {
        indices.push(row[t]);
        values.push(row[t + 1]);
      }
      indptr[k + 1] = indices.length;
    });
    const local: Csr = {
      rows: songs.length,
      cols: artists.length,
      indptr,
      indices: Int32Array.from(indices),
      values: Float32Array.from(values),
    };
    const artistPart = spmm(tf, { a: local }, this.fused('artist', 'item', artists));
    return tf.concat([songPart, artistPart], 1);
  }
}

export interface LossParts {
  total: Scalar;
  bpr: Scalar;
  songSong: Scalar;
  artistArtist: Scalar;
  songArtist: Scalar;
  artistSong: Scalar;
  l2: Scalar;
}

/**
 * Weighted factorisation loss Σ f(X)(ReLU(ē_rows ē_allᵀ) − X)² averaged over entries, with
 * f = 1 on non-zeros and zeroWeight elsewhere: the dense part needs no X, the non-zero
 * correction only touches the rows' non-zeros (a sampled dense–dense product).
 */
function factorLoss(
  tf: Tf,
  rowsEnc: Tensor2D,
  rowIds: ArrayLike<number>,
  allEnc: Tensor2D,
  x: Csr,
  zeroWeight: number,
  columnSample: number,
  rng: Random,
): Scalar {
  const n = allEnc.shape[0];
  let dense: Scalar;
  if (columnSample > 0 && columnSample < n) {
    // Unbiased estimate of the zero-weighted sum over all columns from uniformly sampled ones.
    const cols = new Int32Array(columnSample);
    for (let k = 0; k < columnSample; k++) cols[k] = rng.int(n);
    const sampled = spmm(tf, selectRows(cols, n), allEnc);
    dense = tf.mul(zeroWeight * (n / columnSample), sumSquaredRelu(tf, matMulT(tf, rowsEnc, sampled)));
  } else {
    dense = tf.mul(zeroWeight, sumSquaredRelu(tf, matMulT(tf, rowsEnc, allEnc)));
  }
  let count = 0;
  for (let k = 0; k < rowIds.length; k++) count += x.indptr[rowIds[k] + 1] - x.indptr[rowIds[k]];
  let total = dense;
  if (count > 0) {
    const pairRows = new Int32Array(count);
    const pairCols = new Int32Array(count);
    const targets = new Float32Array(count);
    let q = 0;
    for (let k = 0; k < rowIds.length; k++) {
      const i = rowIds[k];
      for (let p = x.indptr[i]; p < x.indptr[i + 1]; p++, q++) {
        pairRows[q] = k;
        pairCols[q] = x.indices[p];
        targets[q] = x.values[p];
      }
    }
    const rnz = tf.relu(sddmm(tf, rowsEnc, allEnc, pairRows, pairCols));
    const target = tf.tensor1d(targets);
    const correction = tf.sub(tf.sum(tf.square(tf.sub(rnz, target))), tf.mul(zeroWeight, tf.sum(tf.square(rnz))));
    total = tf.add(total, correction) as Scalar;
  }
  return tf.div(total, rowIds.length * n) as Scalar;
}

export interface Triplets {
  djs: Int32Array;
  positives: Int32Array;
  negatives: Int32Array;
}

/** Triplets (DJ, played song, unplayed song): positives uniform over training click entries. */
export function sampleTriplets(click: Csr, batch: number, rng: Random): Triplets {
  const n = nnz(click);
  const djs = new Int32Array(batch);
  const positives = new Int32Array(batch);
  const negatives = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    const p = rng.int(n);
    let lo = 0;
    let hi = click.rows;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (click.indptr[mid] <= p) lo = mid;
      else hi = mid;
    }
    djs[b] = lo;
    positives[b] = click.indices[p];
    let j: number;
    do j = rng.int(click.cols);
    while (rowHas(click, lo, j));
    negatives[b] = j;
  }
  return { djs, positives, negatives };
}

function rowHas(m: Csr, row: number, col: number): boolean {
  let lo = m.indptr[row];
  let hi = m.indptr[row + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (m.indices[mid] === col) return true;
    if (m.indices[mid] < col) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** At most `limit` of the rows, uniformly without replacement (0 = all). */
function sampleRows(rows: number[], limit: number, rng: Random): number[] {
  if (limit <= 0 || rows.length <= limit) return rows;
  return rng.shuffle(rows).slice(0, limit);
}

function uniqueWithIndex(values: ArrayLike<number>[]): { unique: number[]; index: Map<number, number> } {
  const index = new Map<number, number>();
  const unique: number[] = [];
  for (const arr of values)
    for (let k = 0; k < arr.length; k++)
      if (!index.has(arr[k])) {
        index.set(arr[k], unique.length);
        unique.push(arr[k]);
      }
  return { unique, index };
}

/** The training loss for one batch of triplets. */
export function batchLoss(
  tf: Tf,
  data: MgccfData,
  params: Params,
  config: MgccfConfig,
  triplets: Triplets,
  forward: MgccfForward,
  rng: Random,
): LossParts {
  const djs = uniqueWithIndex([triplets.djs]);
  const songs = uniqueWithIndex([triplets.positives, triplets.negatives]);
  const djVec = forward.djVectors(djs.unique);
  const songVec = forward.songVectors(songs.unique);
  const u = spmm(tf, selectRows(Array.from(triplets.djs, (d) => djs.index.get(d)!), djs.unique.length), djVec);
  const i = spmm(tf, selectRows(Array.from(triplets.positives, (s) => songs.index.get(s)!), songs.unique.length), songVec);
  const j = spmm(tf, selectRows(Array.from(triplets.negatives, (s) => songs.index.get(s)!), songs.unique.length), songVec);
  const diff = tf.sub(tf.sum(tf.mul(u, i), 1), tf.sum(tf.mul(u, j), 1));
  const bpr = tf.mean(tf.softplus(tf.neg(diff))) as Scalar;

  // Factorisation terms on ē for the batch's songs and their artists against all songs/artists.
  const m = data.songArtistMap;
  const artistSet = new Set<number>();
  for (const s of songs.unique) for (let p = m.indptr[s]; p < m.indptr[s + 1]; p++) artistSet.add(m.indices[p]);
  const batchArtists = sampleRows([...artistSet], config.factorRows, rng);
  const batchSongs = sampleRows([...songs.unique], config.factorRows, rng);
  const songEnc = forward.graphEncoding('song');
  const artistEnc = forward.graphEncoding('artist');
  const batchSongEnc = spmm(tf, selectRows(batchSongs, data.counts.songs), songEnc);
  const z = config.zeroWeight;
  const c = config.factorColumns;
  const songSong = factorLoss(tf, batchSongEnc, batchSongs, songEnc, data.factor.songSong, z, c, rng);
  const songArtist = factorLoss(tf, batchSongEnc, batchSongs, artistEnc, data.factor.songArtist, z, c, rng);
  let artistArtist = tf.scalar(0);
  let artistSong = tf.scalar(0);
  if (batchArtists.length > 0) {
    const batchArtistEnc = spmm(tf, selectRows(batchArtists, data.counts.artists), artistEnc);
    artistArtist = factorLoss(tf, batchArtistEnc, batchArtists, artistEnc, data.factor.artistArtist, z, c, rng);
    artistSong = factorLoss(tf, batchArtistEnc, batchArtists, songEnc, data.factor.artistSong, z, c, rng);
  }

  const weightNames = Object.keys(params).filter((n) => n.startsWith('bipar.') || n.endsWith('.K'));
  const l2w = tf.mul(config.l2Weights, tf.addN(weightNames.map((n) => tf.sum(tf.square(params[n]))))) as Scalar;
  const l2o = tf.mul(
    config.l2Output,
    tf.mean(tf.add(tf.add(tf.sum(tf.square(u), 1), tf.sum(tf.square(i), 1)), tf.sum(tf.square(j), 1))),
  ) as Scalar;
  const l2 = tf.add(l2w, l2o) as Scalar;
  const w = config.factorWeights;
  const total = tf.addN([
    bpr,
    tf.mul(w.songSong, songSong),
    tf.mul(w.artistArtist, artistArtist),
    tf.mul(w.songArtist, songArtist),
    tf.mul(w.artistSong, artistSong),
    l2,
  ]) as Scalar;
  return { total, bpr, songSong, artistArtist, songArtist, artistSong, l2 };
}
