import type { Scalar, Tensor1D, Tensor2D, Variable } from '@tensorflow/tfjs';
import { Random } from '../../shared/util/random.ts';
import { glorotUniform, orthogonal, variable } from '../dmon/dmon.ts';
import { standardizeColumnsInto } from '../dmon/hierarchical.ts';
import { concatColumns, concatRows, matMul } from '../ops.ts';
import { selectRows, spmm } from '../sparse.ts';
import type { Tf } from '../tf.ts';
import { groupedCrossEntropy, singleGroup, type ExtraLogits, type Groups } from './groupedSoftmax.ts';
import { popularityByLevel, type TransitionPrior } from '../../shared/model/transitionPrior.ts';
import type { SessionPrior } from '../../shared/model/sessionPrior.ts';
import { LEVELS, type Level } from '../../shared/model/tracklistInference.ts';
import { membership, type ClusterTree } from './hierarchy.ts';
import { WINDOW } from './windows.ts';

/**
 * The next-song language model of SPEC §4: an LSTM over [start, s1..s14] whose hidden state
 * predicts the next song top-down through the cluster tree (level 3 → 2 → 1 → song), each level
 * conditioned on the teacher cluster one level up (one-hot, concatenated to h).
 * form 'factorised' (default): each level is a softmax over the children of its parent and the
 * song level over the songs of its level-1 cluster, so P(song) is the exact product down the
 * tree. form 'full' (the original): each level's softmax is over all its clusters / all songs.
 */
export type SoftmaxForm = 'factorised' | 'full';

export interface TracklistModelConfig {
  form: SoftmaxForm;
  hidden: number;
  /** Width of the trainable part of the input vector (beside the fixed song features). */
  inputEmbedding: number;
  /** Width of each head's tanh layer. */
  headWidth: number;
  /** Dropout on the LSTM input and (per sequence, Gal-style) on the recurrent state. */
  dropout: number;
  recurrentDropout: number;
  learningRate: number;
  clipNorm: number;
  batch: number;
  seed: number;
}

export const DEFAULT_TRACKLIST_MODEL: TracklistModelConfig = {
  form: 'factorised',
  hidden: 160,
  inputEmbedding: 32,
  headWidth: 64,
  dropout: 0.4,
  recurrentDropout: 0.45,
  learningRate: 2e-3,
  clipNorm: 10,
  batch: 256,
  seed: 1,
};

/** LSTM gates in Keras order (the export concatenates them so). */
export const GATES = ['i', 'f', 'c', 'o'] as const;
type Gate = (typeof GATES)[number];

interface Head {
  w1h: Variable;
  /** Rows for the one-hot teacher of the level above (null at level 3). */
  w1c: Variable | null;
  b1: Variable;
  w2: Variable;
  b2: Variable;
}

/** Constant inputs of the model: fixed song features, the tree and its membership groups. */
export interface TracklistInputs {
  songs: number;
  /** n × featureWidth fixed song features (the GCN features of SPEC §4). */
  features: Float32Array;
  featureWidth: number;
  tree: ClusterTree;
  /** Initial output tables per cluster level, finest first (standardised DMoN cluster features). */
  clusterFeatures: { values: Float32Array; width: number }[];
  /** Initial input embedding per song (n × inputEmbedding) or null for random. */
  songEmbedding: Float32Array | null;
  /** Initial song bias (e.g. log popularity). */
  songBias: Float32Array;
  /** Width of the per-set DJ vector added to every gate (the set's DJs' mean ē, unit rows). */
  djWidth: number;
  /**
   * The recommender's song vectors (n × tasteWidth, TL-MGCCF rec.song): the song level adds
   * α · (q · rec.song[s]) with q the set's taste vector (its DJs' mean rec.dj), so the model uses
   * what the recommender knows about the DJ directly. α is learned (starts at 0).
   */
  tasteSongs: Float32Array;
  tasteWidth: number;
  /** The direct n-gram connection (shared/model/transitionPrior.ts), or null for none. */
  prior: TransitionPrior | null;
  /**
   * The second direct connection, γ_l · log P_session(option | whole set prefix) from session kNN
   * (shared/model/sessionPrior.ts), or null / absent for none. A row's prefix is its set's tracks
   * before the target (sequences), and its own set never votes (sessionOf).
   */
  session?: SessionInputs | null;
}

export interface SessionInputs {
  prior: SessionPrior;
  /** The prepared sequences the windows were cut from (ids < 0 are gaps / unknown tracks). */
  sequences: { songs: Int32Array; offsets: Int32Array };
  /** Session index of each tracklist in the prior's table, −1 when it is not a neighbour candidate. */
  sessionOf: Int32Array;
}

export interface Batch {
  /** [WINDOW × B] input tokens, row t·B + b. */
  inputs: Int32Array;
  /** Targets and weights in the same row order (−1 / 0 past a window's end). */
  targets: Int32Array;
  weights: Float32Array;
  /** [B × djWidth] DJ vector of each window's set (zeros when the set has no known DJ). */
  dj: Float32Array;
  /** [B × tasteWidth] taste vector of each window's set (zeros when none). */
  taste: Float32Array;
  /** Training windows: each row's own transition is left out of the n-gram prior. */
  leaveOneOut: boolean;
  size: number;
  /** Tracklist of each window (B). */
  tracklist: Int32Array;
  /** Set position of each window's first target (B), or null when unknown (no session term then). */
  start: Int32Array | null;
}

/**
 * The tracklist model as tfjs variables, for training only; serving reads its export with the
 * plain-TS TracklistModel of shared/model/tracklistInference.ts.
 */
export class TfTracklistModel {
  readonly config: TracklistModelConfig;
  /** Replaced only by useDirectConnections (after training). */
  inputs: TracklistInputs;
  readonly inputDim: number;
  readonly fixedInput: Tensor2D;
  private readonly tasteTable: Tensor2D;
  readonly vars: Record<string, Variable>;
  private readonly heads: Record<Level, Head>;
  readonly tf: Tf;
  /** Candidate groups per level: children of each parent (factorised) or everything (full). */
  private readonly groups: Record<Level, Groups>;
  /** Labels per level for a song: [l3, l2, l1] (compact tree ids). */
  readonly songPath: Int32Array[];
  /** The n-gram prior's popularity summed per option at each level. */
  private optionPopularity: Record<Level, ArrayLike<number>>;
  /** The session term's popularity summed per option at each level. */
  private sessionPopularity: Record<Level, ArrayLike<number>>;

  constructor(tf: Tf, inputs: TracklistInputs, config: TracklistModelConfig) {
    this.tf = tf;
    this.config = config;
    this.inputs = inputs;
    const n = inputs.songs;
    const rng = new Random(config.seed);
    const { tree } = inputs;
    const [k1, k2, k3] = tree.sizes;
    // Fixed part: song features plus a start-token indicator column (row n is the start token).
    const fw = inputs.featureWidth;
    const fixed = new Float32Array((n + 1) * (fw + 1));
    for (let s = 0; s < n; s++) fixed.set(inputs.features.subarray(s * fw, (s + 1) * fw), s * (fw + 1));
    fixed[n * (fw + 1) + fw] = 1;
    this.fixedInput = tf.tensor2d(fixed, [n + 1, fw + 1]);
    this.inputDim = fw + 1 + config.inputEmbedding;
    const H = config.hidden;
    const e = config.inputEmbedding;
    const emb = new Float32Array((n + 1) * e);
    for (let i = 0; i < emb.length; i++) emb[i] = 0.05 * rng.normal();
    if (inputs.songEmbedding) emb.set(inputs.songEmbedding.subarray(0, n * e));
    // One [x ; h] → H matrix per gate (i, f, c, o): tfjs-wasm slices and splits run on a slow
    // path, so the gates never come out of one wide product.
    this.vars = { 'input.embedding': variable(tf, emb, [n + 1, e]) };
    for (const gate of GATES) {
      const w = new Float32Array((this.inputDim + H) * H);
      w.set(glorotUniform(rng, this.inputDim, H));
      w.set(orthogonal(rng, H, H), this.inputDim * H);
      this.vars[`lstm.${gate}.w`] = variable(tf, w, [this.inputDim + H, H]);
      this.vars[`lstm.${gate}.b`] = variable(tf, new Float32Array(H).fill(gate === 'f' ? 1 : 0), [H]);
      this.vars[`lstm.${gate}.dj`] = variable(tf, glorotUniform(rng, inputs.djWidth, H), [inputs.djWidth, H]);
    }
    const parentCount: Record<Level, number> = { l3: 0, l2: k3, l1: k2, song: k1 };
    const widths: Record<Level, number> = {
      l3: inputs.clusterFeatures[2].width,
      l2: inputs.clusterFeatures[1].width,
      l1: inputs.clusterFeatures[0].width,
      song: fw,
    };
    const a = config.headWidth;
    this.heads = {} as Record<Level, Head>;
    for (const level of LEVELS) {
      const kp = parentCount[level];
      const d = widths[level];
      const head: Head = {
        w1h: variable(tf, glorotUniform(rng, H, a), [H, a]),
        w1c: kp > 0 ? variable(tf, glorotUniform(rng, kp, a), [kp, a]) : null,
        b1: variable(tf, new Float32Array(a), [a]),
        w2: variable(tf, glorotUniform(rng, a, d), [a, d]),
        b2: variable(tf, new Float32Array(d), [d]),
      };
      this.heads[level] = head;
      this.vars[`head.${level}.w1h`] = head.w1h;
      if (head.w1c) this.vars[`head.${level}.w1c`] = head.w1c;
      this.vars[`head.${level}.b1`] = head.b1;
      this.vars[`head.${level}.w2`] = head.w2;
      this.vars[`head.${level}.b2`] = head.b2;
    }
    const cf = inputs.clusterFeatures;
    this.vars['cluster.l1'] = variable(tf, cf[0].values, [k1, cf[0].width]);
    this.vars['cluster.l2'] = variable(tf, cf[1].values, [k2, cf[1].width]);
    this.vars['cluster.l3'] = variable(tf, cf[2].values, [k3, cf[2].width]);
    // Song output vectors start as the standardised song features: similar songs, similar logits.
    this.vars['song.out'] = variable(tf, standardizeColumnsInto(inputs.features, new Float32Array(inputs.features.length), fw), [n, fw]);
    this.vars['song.bias'] = variable(tf, inputs.songBias, [n]);
    this.vars['song.taste'] = variable(tf, new Float32Array(1), [1]);
    if (inputs.prior) for (const level of LEVELS) this.vars[`prior.${level}`] = variable(tf, Float32Array.of(0.5), [1]);
    if (inputs.session) for (const level of LEVELS) this.vars[`session.${level}`] = variable(tf, Float32Array.of(0.5), [1]);
    this.tasteTable = tf.tensor2d(inputs.tasteSongs, [n, inputs.tasteWidth]);

    const l1 = tree.songCluster;
    const l2 = Int32Array.from(l1, (c) => tree.parents[0][c]);
    const l3 = Int32Array.from(l2, (c) => tree.parents[1][c]);
    this.songPath = [l3, l2, l1];
    this.optionPopularity = this.perLevel(inputs.prior?.popularity);
    this.sessionPopularity = this.perLevel(inputs.session?.prior.popularity);
    const factorised = config.form === 'factorised';
    this.groups = {
      l3: singleGroup(k3),
      l2: factorised ? { members: membership(tree.parents[1], k3) } : singleGroup(k2),
      l1: factorised ? { members: membership(tree.parents[0], k2) } : singleGroup(k1),
      song: factorised ? { members: membership(l1, k1) } : singleGroup(n),
    };
  }

  get variables(): Variable[] {
    return Object.values(this.vars);
  }

  /** LSTM hidden states for a batch: [WINDOW·B, H], row t·B + b. */
  hiddenStates(batch: Batch, training: boolean, rng: Random): Tensor2D {
    const tf = this.tf;
    const H = this.config.hidden;
    const B = batch.size;
    const table = concatColumns(tf, this.fixedInput, this.vars['input.embedding'] as Tensor2D);
    const recurrentMask =
      training && this.config.recurrentDropout > 0 ? dropoutMask(tf, rng, B, H, this.config.recurrentDropout) : null;
    let h = tf.zeros([B, H]) as Tensor2D;
    let c = tf.zeros([B, H]) as Tensor2D;
    const outs: Tensor2D[] = [];
    // The set's DJ conditions every step: a constant per-window term in each gate.
    const dj = tf.tensor2d(batch.dj, [B, this.inputs.djWidth]);
    const djTerm = Object.fromEntries(
      GATES.map((g) => [g, tf.add(matMul(tf, dj, this.vars[`lstm.${g}.dj`] as Tensor2D), this.vars[`lstm.${g}.b`])]),
    ) as Record<Gate, Tensor2D>;
    const gate = (g: Gate, xh: Tensor2D) => tf.add(matMul(tf, xh, this.vars[`lstm.${g}.w`] as Tensor2D), djTerm[g]) as Tensor2D;
    for (let t = 0; t < WINDOW; t++) {
      let x = spmm(tf, selectRows(batch.inputs.subarray(t * B, (t + 1) * B), this.inputs.songs + 1), table);
      if (training && this.config.dropout > 0) x = tf.mul(x, dropoutMask(tf, rng, B, this.inputDim, this.config.dropout)) as Tensor2D;
      const hin = recurrentMask ? (tf.mul(h, recurrentMask) as Tensor2D) : h;
      const xh = concatColumns(tf, x, hin);
      c = tf.add(tf.mul(tf.sigmoid(gate('f', xh)), c), tf.mul(tf.sigmoid(gate('i', xh)), tf.tanh(gate('c', xh)))) as Tensor2D;
      h = tf.mul(tf.sigmoid(gate('o', xh)), tf.tanh(c)) as Tensor2D;
      outs.push(h);
    }
    return concatRows(tf, outs);
  }

  /** u = selu(tanh([h ; onehot(parent)]·w1 + b1)·w2 + b2) for one level. */
  headOutput(level: Level, h: Tensor2D, parents: Int32Array | null): Tensor2D {
    const tf = this.tf;
    const head = this.heads[level];
    let z = matMul(tf, h, head.w1h as Tensor2D);
    if (head.w1c && parents) z = tf.add(z, spmm(tf, selectRows(parents, head.w1c.shape[0]), head.w1c as Tensor2D));
    const a = tf.tanh(tf.add(z, head.b1)) as Tensor2D;
    return tf.selu(tf.add(matMul(tf, a, head.w2 as Tensor2D), head.b2)) as Tensor2D;
  }

  /**
   * Per-level negative log-likelihoods (nats) of the batch's targets, rows with weight 0 dropped.
   * Teachers are the targets' own ancestors (the tree is hard, so the "sampled" teacher is exact).
   */
  levelLosses(batch: Batch, training: boolean, rng: Random): { nll: Record<Level, Tensor1D>; weights: Float32Array } {
    const tf = this.tf;
    const all = this.hiddenStates(batch, training, rng);
    const rows: number[] = [];
    for (let r = 0; r < batch.targets.length; r++) if (batch.weights[r] > 0) rows.push(r);
    const h = spmm(tf, selectRows(rows, all.shape[0]), all);
    const song = Int32Array.from(rows, (r) => batch.targets[r]);
    const weights = Float32Array.from(rows, (r) => batch.weights[r]);
    const [p3, p2, p1] = this.songPath;
    const c3 = Int32Array.from(song, (s) => p3[s]);
    const c2 = Int32Array.from(song, (s) => p2[s]);
    const c1 = Int32Array.from(song, (s) => p1[s]);
    const zeros = new Int32Array(rows.length);
    const factorised = this.config.form === 'factorised';
    // The n-gram prior reads the token fed at that step; training rows leave their own pair out.
    const B = batch.size;
    const n = this.inputs.songs;
    const prev = Int32Array.from(rows, (r) => (batch.inputs[r] === n ? -1 : batch.inputs[r]));
    const exclude = Int32Array.from(rows, (r) =>
      batch.leaveOneOut && r >= B && batch.weights[r - B] === 1 && batch.weights[r] === 1 ? batch.targets[r] : -1,
    );
    const groupOf = { l3: zeros, l2: factorised ? c3 : zeros, l1: factorised ? c2 : zeros, song: factorised ? c1 : zeros };
    const session = this.sessionLogits(batch, rows, groupOf);
    const extra = (level: Level) => {
      const terms: ExtraLogits[] = [];
      const prior = this.priorLogits(level, this.groups[level], prev, exclude, groupOf[level]);
      if (prior) terms.push(prior);
      if (session) terms.push(session[level]);
      return terms;
    };
    const nll = {
      l3: groupedCrossEntropy(tf, this.headOutput('l3', h, null), this.vars['cluster.l3'] as Tensor2D, null, this.groups.l3, zeros, c3, extra('l3')),
      l2: this.crossEntropy('l2', this.headOutput('l2', h, c3), this.vars['cluster.l2'] as Tensor2D, null, groupOf.l2, c2, extra('l2')),
      l1: this.crossEntropy('l1', this.headOutput('l1', h, c2), this.vars['cluster.l1'] as Tensor2D, null, groupOf.l1, c1, extra('l1')),
      song: this.crossEntropy(
        'song',
        this.withTaste(this.headOutput('song', h, c1), tasteRows(batch, rows)),
        this.songTable(),
        this.vars['song.bias'] as Tensor1D,
        groupOf.song,
        song,
        extra('song'),
      ),
    };
    return { nll, weights };
  }

  /** [u ; α q]: with songTable() = [song.out ; rec.song] this adds α · q · rec.song[s] to each logit. */
  private withTaste(u: Tensor2D, taste: Float32Array): Tensor2D {
    const tf = this.tf;
    const q = tf.mul(tf.tensor2d(taste, [u.shape[0], this.inputs.tasteWidth]), this.vars['song.taste']) as Tensor2D;
    return concatColumns(tf, u, q);
  }

  private songTable(): Tensor2D {
    return concatColumns(this.tf, this.vars['song.out'] as Tensor2D, this.tasteTable);
  }

  private crossEntropy(
    level: Level,
    u: Tensor2D,
    table: Tensor2D,
    bias: Tensor1D | null,
    groupOf: Int32Array,
    targets: Int32Array,
    extra: ExtraLogits[],
  ): Tensor1D {
    if (this.config.form === 'full') return denseCrossEntropy(this.tf, u, table, bias, targets, extra);
    return groupedCrossEntropy(this.tf, u, table, bias, this.groups[level], groupOf, targets, extra);
  }

  /** β_level · log P_prior(option | prev) for every row's candidates (grouped layout), or null without a prior. */
  private priorLogits(
    level: Level,
    groups: Groups,
    prev: Int32Array,
    exclude: Int32Array,
    groupOf: Int32Array,
  ): ExtraLogits | null {
    const prior = this.inputs.prior;
    if (!prior) return null;
    const { indptr, indices } = groups.members;
    let size = 0;
    for (const g of groupOf) size += indptr[g + 1] - indptr[g];
    const values = new Float32Array(size);
    const labels = this.songLabels(level);
    let offset = 0;
    for (let r = 0; r < prev.length; r++) {
      const g = groupOf[r];
      const candidates = indices.subarray(indptr[g], indptr[g + 1]);
      prior.logProbs(prev[r], candidates, labels, this.optionPopularity[level], values, offset, exclude[r]);
      offset += candidates.length;
    }
    return { weight: this.vars[`prior.${level}`] as Tensor1D, values };
  }

  /** Song → option labels at a level (null at the song level: options are songs). */
  private songLabels(level: Level): Int32Array | null {
    return level === 'song' ? null : this.songPath[level === 'l3' ? 0 : level === 'l2' ? 1 : 2];
  }

  /**
   * γ_level · log P_session(option | whole set prefix) for every row's candidates at every level
   * (grouped layout), or null without a session term. One kNN query per row (sparse evidence),
   * then each level's candidates read it summed per option.
   */
  private sessionLogits(
    batch: Batch,
    rows: readonly number[],
    groupOf: Record<Level, Int32Array>,
  ): Record<Level, ExtraLogits> | null {
    const session = this.inputs.session;
    if (!session) return null;
    if (!batch.start) throw new Error('tracklist model: the session term needs each window\'s start in its set');
    const { prior, sequences, sessionOf } = session;
    const B = batch.size;
    const values = {} as Record<Level, Float32Array>;
    const offsets = {} as Record<Level, number>;
    const labels = {} as Record<Level, Int32Array | null>;
    for (const level of LEVELS) {
      const { indptr } = this.groups[level].members;
      let size = 0;
      for (const g of groupOf[level]) size += indptr[g + 1] - indptr[g];
      values[level] = new Float32Array(size);
      offsets[level] = 0;
      labels[level] = this.songLabels(level);
    }
    rows.forEach((r, i) => {
      const b = r % B;
      const t = batch.tracklist[b];
      const begin = sequences.offsets[t];
      const prefix = sequences.songs.subarray(begin, begin + batch.start![b] + Math.floor(r / B));
      const evidence = prior.evidence(prefix, sessionOf[t] ?? -1);
      for (const level of LEVELS) {
        const { indptr, indices } = this.groups[level].members;
        const g = groupOf[level][i];
        const candidates = indices.subarray(indptr[g], indptr[g + 1]);
        prior.logProbs(evidence, candidates, labels[level], this.sessionPopularity[level], values[level], offsets[level]);
        offsets[level] += candidates.length;
      }
    });
    return Object.fromEntries(
      LEVELS.map((level) => [level, { weight: this.vars[`session.${level}`] as Tensor1D, values: values[level] }]),
    ) as Record<Level, ExtraLogits>;
  }

  /** A song popularity summed per option at each level (zeros when absent). */
  private perLevel(popularity: Float32Array | undefined): Record<Level, ArrayLike<number>> {
    const [l3, l2, l1] = this.songPath;
    const sizes = { l3: this.inputs.tree.sizes[2], l2: this.inputs.tree.sizes[1], l1: this.inputs.tree.sizes[0] };
    return popularityByLevel(popularity ?? new Float32Array(this.inputs.songs), { l3, l2, l1 }, sizes);
  }

  /**
   * Swaps the direct connections' tables (n-gram counts, session index) and keeps their weights:
   * after training, the model indexes every training set as the baselines do.
   */
  useDirectConnections(prior: TransitionPrior | null, session: SessionInputs | null): void {
    this.inputs = { ...this.inputs, prior, session };
    this.optionPopularity = this.perLevel(prior?.popularity);
    this.sessionPopularity = this.perLevel(session?.prior.popularity);
  }

  /** Weighted mean of the summed level losses (nats per target). */
  loss(batch: Batch, training: boolean, rng: Random): Scalar {
    const tf = this.tf;
    const { nll, weights } = this.levelLosses(batch, training, rng);
    const w = tf.tensor1d(weights);
    const total = tf.addN(LEVELS.map((l) => nll[l]));
    let sum = 0;
    for (const v of weights) sum += v;
    return tf.div(tf.sum(tf.mul(total, w)), Math.max(sum, 1e-9)) as Scalar;
  }

  /**
   * Per-level probabilities for the song after [start, ...prefix] (prefix < WINDOW songs) given
   * the set's DJ vector and a teacher per level, over each level's normalisation set: the tfjs
   * side of the equivalence test with the plain-TypeScript inference. `session` is the whole set
   * prefix the session term reads (default: the prefix itself).
   */
  stepProbabilities(
    prefix: readonly number[],
    dj: Float32Array,
    taste: Float32Array,
    teachers: { l3: number; l2: number; l1: number },
    session: readonly number[] = prefix,
  ): Record<Level, Float64Array> {
    const tf = this.tf;
    if (prefix.length >= WINDOW) throw new Error(`stepProbabilities: prefix longer than ${WINDOW - 1}`);
    const n = this.inputs.songs;
    const inputs = new Int32Array(WINDOW).fill(n);
    prefix.forEach((song, i) => (inputs[i + 1] = song));
    const batch: Batch = {
      inputs,
      targets: new Int32Array(WINDOW).fill(-1),
      weights: new Float32Array(WINDOW),
      dj,
      taste,
      leaveOneOut: false,
      size: 1,
      tracklist: Int32Array.of(0),
      start: Int32Array.of(0),
    };
    // The session term's evidence for the whole prefix (no set left out).
    const evidence = this.inputs.session ? this.inputs.session.prior.evidence(session, -1) : null;
    const rows = tf.tidy(() => {
      const h = spmm(tf, selectRows([prefix.length], WINDOW), this.hiddenStates(batch, false, new Random(1)));
      const parents: Record<Level, number | null> = { l3: null, l2: teachers.l3, l1: teachers.l2, song: teachers.l1 };
      return LEVELS.map((level) => {
        const parent = parents[level];
        let u = this.headOutput(level, h, parent === null ? null : Int32Array.of(parent));
        if (level === 'song') u = this.withTaste(u, taste);
        const table = level === 'song' ? this.songTable() : (this.vars[`cluster.${level}`] as Tensor2D);
        let logits = matMul(tf, u, tf.transpose(table));
        if (level === 'song') logits = tf.add(logits, this.vars['song.bias']) as Tensor2D;
        // The prior over every option (group 0 of a single all-items group).
        const all = singleGroup(table.shape[0]);
        const previous = Int32Array.of(prefix.length > 0 ? prefix[prefix.length - 1] : -1);
        const prior = this.priorLogits(level, all, previous, Int32Array.of(-1), Int32Array.of(0));
        if (prior) logits = tf.add(logits, tf.mul(tf.tensor2d(prior.values, logits.shape), prior.weight)) as Tensor2D;
        if (evidence) {
          const values = new Float32Array(table.shape[0]);
          const labels = this.songLabels(level);
          this.inputs.session!.prior.logProbs(evidence, all.members.indices, labels, this.sessionPopularity[level], values, 0);
          logits = tf.add(logits, tf.mul(tf.tensor2d(values, logits.shape), this.vars[`session.${level}`])) as Tensor2D;
        }
        return logits.dataSync() as Float32Array;
      });
    });
    const out = {} as Record<Level, Float64Array>;
    LEVELS.forEach((level, i) => {
      const logits = rows[i];
      const members = this.groups[level].members;
      const parent = level === 'l3' ? 0 : level === 'l2' ? teachers.l3 : level === 'l1' ? teachers.l2 : teachers.l1;
      const group = members.rows === 1 ? 0 : parent;
      const set = members.indices.subarray(members.indptr[group], members.indptr[group + 1]);
      let max = -Infinity;
      for (const j of set) max = Math.max(max, logits[j]);
      let sum = 0;
      for (const j of set) sum += Math.exp(logits[j] - max);
      const p = new Float64Array(logits.length);
      for (const j of set) p[j] = Math.exp(logits[j] - max) / sum;
      out[level] = p;
    });
    return out;
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
    this.fixedInput.dispose();
    this.tasteTable.dispose();
  }
}

/** Softmax over every item through WASM matmul (the full form's path). */
function denseCrossEntropy(
  tf: Tf,
  u: Tensor2D,
  table: Tensor2D,
  bias: Tensor1D | null,
  targets: Int32Array,
  extras: readonly ExtraLogits[],
): Tensor1D {
  let logits = matMul(tf, u, tf.transpose(table));
  if (bias) logits = tf.add(logits, bias) as Tensor2D;
  // Every row's candidates are all items here, so the extra features are a dense rows × items block.
  for (const extra of extras) logits = tf.add(logits, tf.mul(tf.tensor2d(extra.values, logits.shape), extra.weight)) as Tensor2D;
  const logp = tf.logSoftmax(logits);
  const onehot = tf.oneHot(tf.tensor1d(targets, 'int32'), table.shape[0]);
  return tf.neg(tf.sum(tf.mul(logp, onehot), 1)) as Tensor1D;
}

/** Each selected row's set taste vector (row r of a batch belongs to window r mod B). */
function tasteRows(batch: Batch, rows: readonly number[]): Float32Array {
  const width = batch.taste.length / batch.size;
  const out = new Float32Array(rows.length * width);
  rows.forEach((r, i) => {
    const b = r % batch.size;
    out.set(batch.taste.subarray(b * width, (b + 1) * width), i * width);
  });
  return out;
}

function dropoutMask(tf: Tf, rng: Random, rows: number, cols: number, rate: number): Tensor2D {
  const keep = 1 - rate;
  const mask = new Float32Array(rows * cols);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < keep ? 1 / keep : 0;
  return tf.tensor2d(mask, [rows, cols]);
}

/** Per-tracklist vectors (row t = tracklist t). */
export interface SetVectors {
  values: Float32Array;
  width: number;
}

function rowsOf(v: SetVectors, tracklists: ArrayLike<number>): Float32Array {
  const out = new Float32Array(tracklists.length * v.width);
  for (let b = 0; b < tracklists.length; b++)
    out.set(v.values.subarray(tracklists[b] * v.width, (tracklists[b] + 1) * v.width), b * v.width);
  return out;
}

/** Rows of a windows set as a batch in time-major order, with each window's set DJ and taste vectors. */
export function makeBatch(
  windows: { inputs: Int32Array; targets: Int32Array; weights: Float32Array; tracklist: Int32Array; start?: Int32Array },
  ids: ArrayLike<number>,
  sets: { dj: SetVectors; taste: SetVectors },
  leaveOneOut = false,
): Batch {
  const B = ids.length;
  const owners = Array.from(ids, (id) => windows.tracklist[id]);
  const dj = rowsOf(sets.dj, owners);
  const taste = rowsOf(sets.taste, owners);
  const inputs = new Int32Array(WINDOW * B);
  const targets = new Int32Array(WINDOW * B);
  const weights = new Float32Array(WINDOW * B);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < WINDOW; t++) {
      const src = ids[b] * WINDOW + t;
      inputs[t * B + b] = windows.inputs[src];
      targets[t * B + b] = windows.targets[src];
      weights[t * B + b] = windows.weights[src];
    }
  const start = windows.start ? Int32Array.from(ids, (id) => windows.start![id]) : null;
  return { inputs, targets, weights, dj, taste, leaveOneOut, size: B, tracklist: Int32Array.from(owners), start };
}

