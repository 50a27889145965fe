import type { Artifact } from './artifact.ts';
import { type Csr, multiply, normalizeRows, transpose } from '../graph/csr.ts';
import { RowAliasSampler } from '../graph/alias.ts';
import { Random } from '../util/random.ts';

/**
 * The DJ side of TL-MGCCF (SPEC §3) for ONE new DJ-like node, in plain TypeScript so serving
 * needs no tfjs. It mirrors `MgccfForward.djVectors` of training/mgccf/model.ts in eval mode
 * (no dropout), including the order in which neighbours are drawn from the Random, so one pass
 * with the same seed reproduces the tfjs pass for an existing DJ (tests/model/coldStart.test.ts).
 */

/** A sparse row: ascending column indices and their values. */
export interface SparseRow {
  indices: ArrayLike<number>;
  values: ArrayLike<number>;
}

/** The node standing in for a row of the DJ tables. */
export interface UserNode {
  /** Base embedding e_u (length d), in place of a row of `emb.dj`. */
  embedding: ArrayLike<number>;
  /** Click weights over songs (ascending, positive). Any scale: sampling is proportional. */
  clicks: SparseRow;
  /** The node's row of the normalised DJ–DJ graph Â over existing DJs, self entry excluded. */
  graph: SparseRow;
  /** Â_uu, the self-loop weight. */
  graphSelf: number;
}

/** Per-user state that does not change between sampled passes. */
export interface PreparedUser {
  embedding: Float64Array;
  songSampler: RowAliasSampler;
  artistSampler: RowAliasSampler;
  /** ē_u, shared by both branches. */
  encoding: Float64Array;
}

export interface AveragingOptions {
  passes: number;
  seed: number;
}

/** The graphs the forward samples from (a subset of `Prepared`). */
export type InferenceGraphs = { clickBySong: Csr; djArtistByArtist: Csr; songArtistMap: Csr };

type Branch = 'song' | 'artist';

interface BranchTables {
  item: Float32Array; // emb.song or emb.artist
  hop2: RowAliasSampler; // item → DJs, as MgccfData.samplers[`${branch}.item`]
  q1Dj: Float32Array;
  w1Dj: Float32Array;
  q2Dj: Float32Array;
  w2Dj: Float32Array;
  q1Item: Float32Array;
  w1Item: Float32Array;
}

export class MgccfInference {
  readonly dim: number;
  readonly djs: number;
  readonly samples: [number, number];
  private readonly embDj: Float32Array;
  private readonly graphK: Float32Array;
  private readonly graphS: Float32Array;
  private readonly graphB: Float32Array;
  private readonly songArtistMap: Csr;
  private readonly branches: Record<Branch, BranchTables>;

  /** `param(name)` returns the exported variable `name` (e.g. 'emb.dj') row-major. */
  constructor(param: (name: string) => Float32Array, graphs: InferenceGraphs, samples: [number, number] = [15, 10]) {
    this.embDj = param('emb.dj');
    this.graphK = param('graph.dj.K');
    this.graphS = param('graph.dj.s');
    this.graphB = param('graph.dj.b');
    this.dim = this.graphS.length;
    this.djs = this.embDj.length / this.dim;
    this.samples = samples;
    this.songArtistMap = graphs.songArtistMap;
    const tables = (branch: Branch, item: Float32Array, byItem: Csr): BranchTables => ({
      item,
      hop2: new RowAliasSampler(transpose(byItem)),
      q1Dj: param(`bipar.${branch}.dj.Q1`),
      w1Dj: param(`bipar.${branch}.dj.W1`),
      q2Dj: param(`bipar.${branch}.dj.Q2`),
      w2Dj: param(`bipar.${branch}.dj.W2`),
      q1Item: param(`bipar.${branch}.item.Q1`),
      w1Item: param(`bipar.${branch}.item.W1`),
    });
    this.branches = {
      song: tables('song', param('emb.song'), graphs.clickBySong),
      artist: tables('artist', param('emb.artist'), graphs.djArtistByArtist),
    };
    const d = this.dim;
    if (this.graphK.length !== d * d || this.branches.song.w1Dj.length !== 2 * d * d)
      throw new Error('MgccfInference: parameter shapes do not match the embedding width');
  }

  /** From an embeddings artifact (`param.*` tensors; samples from its training config). */
  static fromArtifact(artifact: Artifact, graphs: InferenceGraphs): MgccfInference {
    const config = (artifact.meta as { config?: { samples?: [number, number] } }).config;
    return new MgccfInference((name) => artifact.tensor(`param.${name}`), graphs, config?.samples ?? [15, 10]);
  }

  /** (row at offset) · K: a node's input to the DJ–DJ multi-graph encoding. */
  private projected(row: ArrayLike<number>, offset: number): Float64Array {
    const d = this.dim;
    const out = new Float64Array(d);
    for (let r = 0; r < d; r++) {
      const x = row[offset + r];
      if (x === 0) continue;
      for (let c = 0; c < d; c++) out[c] += x * this.graphK[r * d + c];
    }
    return out;
  }

  /** Samplers and ē_u = tanh(Â_u (E K) + (e_u K) ⊙ s + b) for a node; reuse across passes. */
  prepareUser(node: UserNode): PreparedUser {
    const d = this.dim;
    if (node.embedding.length !== d) throw new Error(`MgccfInference: embedding has ${node.embedding.length} values, expected ${d}`);
    const embedding = Float64Array.from(node.embedding);
    const n = node.clicks.indices.length;
    const row: Csr = {
      rows: 1,
      cols: this.songArtistMap.rows,
      indptr: Int32Array.of(0, n),
      indices: Int32Array.from(node.clicks.indices),
      values: Float32Array.from(node.clicks.values),
    };
    // Same arithmetic as prepare's clickByDj / djArtistByDj rows, so alias tables match bit for bit.
    const songSampler = new RowAliasSampler(normalizeRows(row));
    const artistSampler = new RowAliasSampler(normalizeRows(multiply(row, this.songArtistMap)));

    const own = this.projected(embedding, 0);
    const pre = new Float64Array(d);
    for (let c = 0; c < d; c++) pre[c] = node.graphSelf * own[c] + own[c] * this.graphS[c] + this.graphB[c];
    for (let p = 0; p < node.graph.indices.length; p++) {
      const w = node.graph.values[p];
      if (w === 0) continue;
      const ek = this.projected(this.embDj, node.graph.indices[p] * d);
      for (let c = 0; c < d; c++) pre[c] += w * ek[c];
    }
    const encoding = pre.map(Math.tanh);
    return { embedding, songSampler, artistSampler, encoding };
  }

  /** One sampled eval-mode pass: [e*_u,s ; e*_u,a] (length 2d). */
  samplePass(user: PreparedUser, rng: Random): Float32Array {
    const d = this.dim;
    const out = new Float32Array(2 * d);
    // Song branch first, then artist: the order djVectors draws neighbours in.
    const hs = this.bipar('song', user.songSampler, user.embedding, rng);
    const ha = this.bipar('artist', user.artistSampler, user.embedding, rng);
    for (let c = 0; c < d; c++) {
      out[c] = hs[c] + user.encoding[c];
      out[d + c] = ha[c] + user.encoding[c];
    }
    return out;
  }

  /** The user vector averaged over sampled passes, seeded per pass as the training export is. */
  userVector(node: UserNode, options: AveragingOptions): Float32Array {
    const user = this.prepareUser(node);
    const passes = Number.isFinite(options.passes) ? Math.max(1, Math.floor(options.passes)) : 1;
    const acc = new Float64Array(2 * this.dim);
    for (let pass = 0; pass < passes; pass++) {
      const v = this.samplePass(user, new Random(options.seed + 7919 * pass));
      for (let c = 0; c < acc.length; c++) acc[c] += v[c];
    }
    return Float32Array.from(acc, (x) => x / passes);
  }

  /** Bipar-GCN h² for the user on one branch (MgccfForward.bipar with one target). */
  private bipar(branch: Branch, hop1Sampler: RowAliasSampler, embedding: Float64Array, rng: Random): Float64Array {
    const d = this.dim;
    const t = this.branches[branch];
    const [n1, n2] = this.samples;
    const hop1 = new Int32Array(n1);
    for (let k = 0; k < n1; k++) hop1[k] = hop1Sampler.sample(0, rng);
    const hop2 = new Int32Array(n1 * n2);
    for (let q = 0; q < n1; q++)
      for (let r = 0; r < n2; r++) hop2[q * n2 + r] = hop1[q] < 0 ? -1 : t.hop2.sample(hop1[q], rng);

    // Layer 1 for the user: tanh(W1 [e_u ; tanh(mean(e_items) Q1)]).
    const h1User = layer(embedding, meanRows(t.item, hop1, 0, n1, d), t.q1Dj, t.w1Dj, d);
    // Layer 1 for each hop-1 item from its sampled DJs, pooled over the valid items.
    const pooled = new Float64Array(d);
    let valid = 0;
    for (let q = 0; q < n1; q++) {
      if (hop1[q] < 0) continue;
      const own = t.item.subarray(hop1[q] * d, (hop1[q] + 1) * d);
      const h = layer(own, meanRows(this.embDj, hop2, q * n2, n2, d), t.q1Item, t.w1Item, d);
      for (let c = 0; c < d; c++) pooled[c] += h[c];
      valid++;
    }
    if (valid > 0) for (let c = 0; c < d; c++) pooled[c] /= valid;
    const agg2 = tanhDense(pooled, t.q2Dj, 0, d);
    return concatDenseTanh(h1User, agg2, t.w2Dj, d);
  }
}

/** Mean of the table rows listed in ids[start, start+len) (negative ids are padding; none → 0). */
function meanRows(table: Float32Array, ids: Int32Array, start: number, len: number, d: number): Float64Array {
  const out = new Float64Array(d);
  let count = 0;
  for (let k = start; k < start + len; k++) {
    const id = ids[k];
    if (id < 0) continue;
    count++;
    const o = id * d;
    for (let c = 0; c < d; c++) out[c] += table[o + c];
  }
  if (count > 0) for (let c = 0; c < d; c++) out[c] /= count;
  return out;
}

/** tanh(x · W[offset rows]) for a d-wide x and W of width d. */
function tanhDense(x: ArrayLike<number>, w: Float32Array, rowOffset: number, d: number): Float64Array {
  const out = new Float64Array(d);
  accumulate(out, x, w, rowOffset, d);
  return out.map(Math.tanh);
}

function accumulate(out: Float64Array, x: ArrayLike<number>, w: Float32Array, rowOffset: number, d: number): void {
  for (let r = 0; r < d; r++) {
    const v = x[r];
    if (v === 0) continue;
    const o = (rowOffset + r) * d;
    for (let c = 0; c < d; c++) out[c] += v * w[o + c];
  }
}

/** tanh([a ; b] · W) with W of shape [2d, d]. */
function concatDenseTanh(a: ArrayLike<number>, b: ArrayLike<number>, w: Float32Array, d: number): Float64Array {
  const out = new Float64Array(d);
  accumulate(out, a, w, 0, d);
  accumulate(out, b, w, d, d);
  return out.map(Math.tanh);
}

/** One Bipar layer: tanh(W [self ; tanh(mean(neighbours) Q)]). */
function layer(self: ArrayLike<number>, neighbourMean: Float64Array, q: Float32Array, w: Float32Array, d: number): Float64Array {
  return concatDenseTanh(self, tanhDense(neighbourMean, q, 0, d), w, d);
}
