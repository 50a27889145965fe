import { type Artifact, ArtifactError, type DType } from './artifact.ts';
import { RowMatrix } from './rowMatrix.ts';
import { SessionKnn, SessionPrior, type SessionEvidence, sessionEvidenceBuffer, type SessionKnnOptions } from './sessionPrior.ts';
import { OptionMass, popularityByLevel, TransitionPrior } from './transitionPrior.ts';

/**
 * Plain-TypeScript inference for the tracklist model (contract D, SPEC §4): the LSTM step, the
 * four top-down dense heads and the cluster/song scoring over the hard cluster tree. No tfjs, so
 * serving runs it directly on the artifact's typed-array views.
 *
 * Levels are named 'l3' (coarsest, k3 clusters), 'l2', 'l1' (finest clusters) and 'song'. Each
 * level below l3 is conditioned on a teacher: the chosen cluster one level up, fed to its head
 * as a one-hot after h. In the 'factorised' form a level's softmax runs over the children of the
 * teacher only (so P(song) is an exact product over the path); in 'full' over every cluster/song.
 *
 * Optional per-set conditioning (a SequenceContext), each present when training used it:
 * - `lstm.dj` [djWidth, 4H]: the set's DJ vector (meta.djVector: its DJs' mean encNorm.dj row,
 *   zeros when none) times it is added to every gate at every step (so to the gate bias);
 * - `song.taste` [1] = α and `taste.song` [n, tasteWidth] (the recommender's rec.song): every song
 *   logit adds α · (q · taste.song[s]), q the set's taste vector (meta.tasteVector: its DJs' mean
 *   rec.dj row, zeros when none).
 */

export const TRACKLIST_KIND = 'tracklist-ai/tracklist';

export type TracklistForm = 'factorised' | 'full';
export type Level = 'l3' | 'l2' | 'l1' | 'song';
export const LEVELS: readonly Level[] = ['l3', 'l2', 'l1', 'song'];

/** Session votes per set option up to which the song level adds its direct terms sparsely. */
const SPARSE_VOTES_PER_OPTION = 8;

function logOf(values: Record<Level, ArrayLike<number>>): Record<Level, Float64Array> {
  return Object.fromEntries(LEVELS.map((level) => [level, Float64Array.from(values[level], Math.log)])) as Record<Level, Float64Array>;
}

/** The session term's evidence after one prefix and its log normaliser. */
interface SessionTerms {
  prefix: object;
  evidence: SessionEvidence;
  logZ: number;
}

/** The level whose clusters group a level's options (its teacher's level). */
const PARENT_LEVEL = { l2: 'l3', l1: 'l2', song: 'l1' } as const;

/** `manifest.meta` of a tracklist artifact (contract D). */
export interface TracklistMeta {
  form: TracklistForm;
  hidden: number;
  /** [k1, k2, k3], finest first. */
  levels: [number, number, number];
  padIndex: number;
  songs: number;
  headWidth: number;
  /** [d1, d2, d3]. */
  clusterWidth: [number, number, number];
  songWidth: number;
  /** Width of the per-set DJ vector fed to every gate through `lstm.dj` (absent: no DJ input). */
  djWidth?: number;
  /** How the DJ vector is made (training's description). */
  djVector?: string;
  /** Width of the per-set taste vector of the song level (absent: none). */
  tasteWidth?: number;
  tasteVector?: string;
  /** The "average replacement" song training put in place of unknown songs, when recorded. */
  replacementSong?: number;
  /** Discount of the n-gram prior (with tensors prior.counts, prior.popularity, prior.weight). */
  priorDiscount?: number;
  /**
   * The session-kNN term (with tensors session.items, session.itemPos, session.itemOffsets,
   * session.recency, session.popularity, session.weight): V-SkNN settings and the popularity
   * mixing weight β.
   */
  session?: { beta: number; options: SessionKnnOptions };
  config?: Record<string, unknown>;
  metrics?: unknown;
  /** Defaults of the tuned generation knobs (generate.ts GenerationDefaults), chosen at training time. */
  generationDefaults?: Record<string, unknown>;
}

/** What a set conditions the model on (both optional; missing or null = zeros, no known DJ). */
export interface SequenceContext {
  /** DJ vector (djWidth): the DJs' mean unit encoding. */
  dj?: ArrayLike<number> | null;
  /** Taste vector (tasteWidth): the DJs' mean recommendation vector. */
  taste?: ArrayLike<number> | null;
  /**
   * q · taste.song[s] for every song s, when the caller already has them (serving scores every
   * song with the same vectors for the user scores): the song level then adds α times these
   * instead of a taste product per row. Used only with `taste`.
   */
  tasteScores?: ArrayLike<number> | null;
}

/** The state after feeding a prefix: h and c (length H), plus the sequence's constant terms. */
export interface LstmState {
  h: Float64Array;
  c: Float64Array;
  /** lstm.bias + dj · lstm.dj (length 4H). */
  bias: Float64Array;
  /** α · taste vector (length tasteWidth), or null when there is no taste term. */
  taste: Float64Array | null;
  /** The context's tasteScores (per song, before α) when it gave them with a taste term. */
  tasteScores?: ArrayLike<number> | null;
  /** The last song fed (−1 after the start token): what the n-gram prior conditions on. */
  previous: number;
  /**
   * The set's whole prefix so far (what the session term reads): every song fed after the start
   * token. A caller that feeds the LSTM only the recent tracks replaces it with the whole prefix
   * (ids < 0 are gaps / unknown tracks: positions without a song).
   */
  session: ArrayLike<number>;
}

/** What the output layers read from a state: h, the taste term and the previous song. */
export interface StateView {
  h: ArrayLike<number>;
  taste: Float64Array | null;
  tasteScores?: ArrayLike<number> | null;
  previous?: number;
  /** The whole set prefix for the session term (absent: empty). */
  session?: ArrayLike<number>;
}

/** A state, or just an output h (read without a taste term). */
export type StateOrH = StateView | ArrayLike<number>;

function asState(from: StateOrH): StateView {
  return 'h' in from ? from : { h: from, taste: null };
}

/** A list of members per group (children of a cluster), CSR-style. */
export interface Groups {
  start: Int32Array;
  items: Int32Array;
}

interface Head {
  w1: RowMatrix;
  b1: Float32Array;
  w2: RowMatrix;
  b2: Float32Array;
  /** a and d: hidden and output widths. */
  width: number;
  out: number;
  /** Number of one-hot parent inputs after h (0 for l3). */
  parents: number;
  /** Scratch for the hidden layer and the output. */
  hidden: Float64Array;
  output?: Float64Array;
}

const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;

function selu(x: number): number {
  return SELU_SCALE * (x > 0 ? x : SELU_ALPHA * (Math.exp(x) - 1));
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Members of each group from a member → group map, ascending within a group. */
export function groupsOf(groupOf: Int32Array, groups: number): Groups {
  const start = new Int32Array(groups + 1);
  for (const g of groupOf) start[g + 1]++;
  for (let g = 0; g < groups; g++) start[g + 1] += start[g];
  const fill = start.slice(0, groups);
  const items = new Int32Array(groupOf.length);
  for (let i = 0; i < groupOf.length; i++) items[fill[groupOf[i]]++] = i;
  return { start, items };
}

export class TracklistModel {
  readonly meta: TracklistMeta;
  readonly form: TracklistForm;
  readonly hidden: number;
  readonly songs: number;
  readonly inDim: number;
  /** Cluster counts per level. */
  readonly sizes: Record<Level, number>;
  /** Parent of each member: song → l1 (`assign.song`), l1 → l2 (`tree.l1`), l2 → l3 (`tree.l2`). */
  readonly parent: { song: Int32Array; l1: Int32Array; l2: Int32Array };
  /** Children per cluster: l3 → l2 clusters, l2 → l1 clusters, l1 → songs. */
  readonly children: { l3: Groups; l2: Groups; l1: Groups };
  /** The songs under each cluster of each level. */
  readonly songsIn: { l3: Groups; l2: Groups; l1: Groups };
  /** Each song's level-2 and level-3 cluster (one pass over songs scores every level-3 cluster). */
  readonly l2OfSong: Int32Array;
  readonly l3OfSong: Int32Array;
  private readonly input: Float32Array;
  private readonly kernel: RowMatrix;
  private readonly recurrent: RowMatrix;
  private readonly bias: Float32Array;
  /** [djWidth, 4H] DJ-vector kernel, or null for a model without DJ input. */
  private readonly djKernel: RowMatrix | null;
  readonly djWidth: number;
  /** taste.song rows in song-level row order and α (song.taste), or null / 0 for a model without a taste term. */
  private readonly tasteRows: RowMatrix | null;
  private readonly tasteScale: number;
  private tasteScratch = new Float64Array(0);
  /** The direct n-gram connection (shared/model/transitionPrior.ts), or null for a model without one. */
  private readonly prior: {
    prior: TransitionPrior;
    weight: Record<Level, number>;
    labels: Record<Level, Int32Array | null>;
    popularity: Record<Level, ArrayLike<number>>;
    /** log popularity per option: most options have no mass, so their term needs no Math.log. */
    logPopularity: Record<Level, Float64Array>;
  } | null;
  /** The session-kNN connection (shared/model/sessionPrior.ts), or null for a model without one. */
  private readonly session: {
    prior: SessionPrior;
    weight: Record<Level, number>;
    popularity: Record<Level, ArrayLike<number>>;
    logPopularity: Record<Level, Float64Array>;
  } | null;
  /**
   * The session terms of the last prefix asked for (callers ask for one state's levels in a row).
   * Not a WeakMap: its entries would survive young-generation GCs into the old generation and
   * force a full GC every few hundred requests.
   */
  private lastSessionTerms: SessionTerms | null = null;
  /** Where the session term's evidence is written (the last prefix's, see lastSessionTerms). */
  private sessionEvidence: SessionEvidence | null = null;
  /**
   * The session evidence summed per cluster at every cluster level, for one prefix's terms at a
   * time (the cluster levels ask for the same prefix in a row).
   */
  private clusterSessionMass: { terms: SessionTerms | null; l3: Float64Array; l2: Float64Array; l1: Float64Array } | null = null;
  /** Song-level session mass for a dense song level (the sparse one reads the evidence itself). */
  private songSessionMass: OptionMass | null = null;
  private static readonly noSession = new Int32Array(0);
  readonly tasteWidth: number;
  private readonly heads: Record<Level, Head>;
  /**
   * Each level's output rows in normalisation-set order (a teacher's children are contiguous
   * rows, so a set's logits are one SIMD product): cluster features per level; at the song level
   * [song.out ; bias ; 0…], read with the query [u ; 1 ; 0…] (the taste term is separate, as the
   * caller may have it already).
   */
  private readonly outputs: Record<Level, { rows: RowMatrix; query: Float32Array }>;
  /**
   * Song level, per output row: the prior's and session term's values for a song without a
   * transition or vote (their weighted log popularity, up to a per-step constant), and each
   * song's row. A step then adds these in one pass and corrects only the few songs with a
   * transition or a vote, instead of a logarithm per song.
   */
  private readonly songStatic: Float64Array | null;
  private readonly rowOfSong: Int32Array;
  private afterPad: LstmState | null = null;
  private logitScratch = new Float64Array(0);
  private priorScratch = new Float64Array(0);
  /** The LSTM step's gate pre-activations (scratch). */
  private readonly gates: Float64Array;

  /** Reads and validates the tensors of contract D; shape or range errors are ArtifactErrors. */
  constructor(a: Artifact<TracklistMeta>) {
    const meta = a.meta;
    if (meta.form !== 'factorised' && meta.form !== 'full')
      throw new ArtifactError(`tracklist model: unknown form "${String(meta.form)}"`);
    this.meta = meta;
    this.form = meta.form;
    const tensor = <T extends Float32Array | Int32Array>(name: string, dtype: DType, shape: number[]): T => {
      const entry = a.manifest.tensors[name];
      if (!entry) throw new ArtifactError(`tracklist model: no tensor "${name}"`);
      if (entry.dtype !== dtype)
        throw new ArtifactError(`tracklist model: "${name}" is ${entry.dtype}, expected ${dtype}`);
      if (entry.shape.length !== shape.length || entry.shape.some((s, i) => shape[i] >= 0 && s !== shape[i]))
        throw new ArtifactError(
          `tracklist model: "${name}" has shape [${entry.shape}], expected [${shape.map((s) => (s < 0 ? '?' : s))}]`,
        );
      return a.tensor<T>(name);
    };
    const [n, inDim] = a.shape('input.song');
    this.songs = n - 1;
    this.inDim = inDim;
    if (meta.padIndex !== this.songs)
      throw new ArtifactError(`tracklist model: padIndex ${meta.padIndex}, expected ${this.songs}`);
    const H = (this.hidden = a.shape('lstm.recurrent')[0]);
    this.gates = new Float64Array(4 * H);
    this.input = tensor('input.song', 'float32', [n, inDim]);
    this.kernel = new RowMatrix(tensor('lstm.kernel', 'float32', [inDim, 4 * H]), 4 * H);
    this.recurrent = new RowMatrix(tensor('lstm.recurrent', 'float32', [H, 4 * H]), 4 * H);
    this.bias = tensor('lstm.bias', 'float32', [4 * H]);
    this.djKernel = a.has('lstm.dj') ? new RowMatrix(tensor('lstm.dj', 'float32', [-1, 4 * H]), 4 * H) : null;
    this.djWidth = this.djKernel ? a.shape('lstm.dj')[0] : 0;

    const k1 = a.shape('cluster.l1')[0];
    const k2 = a.shape('cluster.l2')[0];
    const k3 = a.shape('cluster.l3')[0];
    this.sizes = { l3: k3, l2: k2, l1: k1, song: this.songs };
    const s = this.songs;
    const tables: Record<Level, Float32Array> = {
      l3: tensor('cluster.l3', 'float32', [k3, -1]),
      l2: tensor('cluster.l2', 'float32', [k2, -1]),
      l1: tensor('cluster.l1', 'float32', [k1, -1]),
      song: tensor('song.out', 'float32', [s, -1]),
    };
    const songBias = tensor<Float32Array>('song.bias', 'float32', [s]);
    const tasteSongs: Float32Array | null = a.has('taste.song') ? tensor('taste.song', 'float32', [s, -1]) : null;
    this.tasteWidth = tasteSongs ? a.shape('taste.song')[1] : 0;
    this.tasteScale = tasteSongs ? tensor('song.taste', 'float32', [1])[0] : 0;
    const head = (level: Level, parents: number): Head => {
      const name = `head.${level}`;
      const width = a.shape(`${name}.w1`)[1];
      const out = a.shape(`${level === 'song' ? 'song.out' : `cluster.${level}`}`)[1];
      return {
        w1: new RowMatrix(tensor(`${name}.w1`, 'float32', [H + parents, width]), width),
        b1: tensor(`${name}.b1`, 'float32', [width]),
        w2: new RowMatrix(tensor(`${name}.w2`, 'float32', [width, out]), out),
        b2: tensor(`${name}.b2`, 'float32', [out]),
        width,
        out,
        parents,
        hidden: new Float64Array(width),
      };
    };
    this.heads = { l3: head('l3', 0), l2: head('l2', k3), l1: head('l1', k2), song: head('song', k1) };

    const tree = (name: string, length: number, range: number): Int32Array => {
      const t = tensor<Int32Array>(name, 'int32', [length]);
      for (const v of t)
        if (!(v >= 0 && v < range))
          throw new ArtifactError(`tracklist model: "${name}" holds ${v}, outside [0, ${range})`);
      return t;
    };
    this.parent = {
      song: tree('assign.song', s, k1),
      l1: tree('tree.l1', k1, k2),
      l2: tree('tree.l2', k2, k3),
    };
    this.children = {
      l3: groupsOf(this.parent.l2, k3),
      l2: groupsOf(this.parent.l1, k2),
      l1: groupsOf(this.parent.song, k1),
    };
    this.outputs = {} as typeof this.outputs;
    for (const level of LEVELS) {
      const table = tables[level];
      const rows = this.sizes[level];
      const d = table.length / rows;
      const song = level === 'song';
      const width = song ? Math.ceil((d + 1) / 4) * 4 : d;
      const order = level === 'l3' || this.form === 'full' ? null : this.children[PARENT_LEVEL[level]].items;
      const matrix = RowMatrix.build(rows, width, (data) => {
        for (let r = 0; r < rows; r++) {
          const o = order ? order[r] : r;
          data.set(table.subarray(o * d, (o + 1) * d), r * width);
          if (song) data[r * width + d] = songBias[o];
        }
      });
      const query = new Float32Array(width);
      if (song) query[d] = 1;
      this.outputs[level] = { rows: matrix, query };
    }
    const tw = this.tasteWidth;
    const songOrder = this.form === 'full' ? null : this.children.l1.items;
    // Padded to a multiple of 4 for the SIMD kernels (the query's padding stays 0).
    const tasteWidth = Math.ceil(tw / 4) * 4;
    this.tasteRows = tasteSongs
      ? RowMatrix.build(s, tasteWidth, (data) => {
          for (let r = 0; r < s; r++) {
            const o = songOrder ? songOrder[r] : r;
            data.set(tasteSongs.subarray(o * tw, (o + 1) * tw), r * tasteWidth);
          }
        })
      : null;
    // Each song's ancestors: the option labels of both direct connections and of cluster scoring.
    const l2OfSong = (this.l2OfSong = Int32Array.from(this.parent.song, (c) => this.parent.l1[c]));
    this.l3OfSong = Int32Array.from(l2OfSong, (c) => this.parent.l2[c]);
    const songCluster = { l3: this.l3OfSong, l2: l2OfSong, l1: this.parent.song };
    if (a.has('prior.weight')) {
      const weights = tensor<Float32Array>('prior.weight', 'float32', [LEVELS.length]);
      const prior = new TransitionPrior(a.csr('prior.counts'), tensor('prior.popularity', 'float32', [s]), meta.priorDiscount ?? 0.8);
      const labels: Record<Level, Int32Array | null> = { ...songCluster, song: null };
      const popularity = popularityByLevel(prior.popularity, songCluster, this.sizes);
      this.prior = {
        prior,
        weight: Object.fromEntries(LEVELS.map((level, i) => [level, weights[i]])) as Record<Level, number>,
        labels,
        popularity,
        logPopularity: logOf(popularity),
      };
    } else this.prior = null;
    if (a.has('session.weight')) {
      if (!meta.session) throw new ArtifactError('tracklist model: session tensors without meta.session');
      const weights = tensor<Float32Array>('session.weight', 'float32', [LEVELS.length]);
      const offsets = tensor<Int32Array>('session.itemOffsets', 'int32', [-1]);
      const sessions = offsets.length - 1;
      const items = tensor<Int32Array>('session.items', 'int32', [offsets[sessions]]);
      const table = {
        items,
        itemPos: tensor<Int32Array>('session.itemPos', 'int32', [items.length]),
        itemOffsets: offsets,
        recency: tensor<Int32Array>('session.recency', 'int32', [sessions]),
      };
      let knn: SessionKnn;
      try {
        knn = new SessionKnn(table, s, meta.session.options);
      } catch (e) {
        throw new ArtifactError(`tracklist model: session tensors: ${(e as Error).message}`);
      }
      const popularity = tensor<Float32Array>('session.popularity', 'float32', [s]);
      const prior = new SessionPrior(knn, popularity, meta.session.beta);
      const perLevel = popularityByLevel(popularity, songCluster, this.sizes);
      this.session = {
        prior,
        weight: Object.fromEntries(LEVELS.map((level, i) => [level, weights[i]])) as Record<Level, number>,
        popularity: perLevel,
        logPopularity: logOf(perLevel),
      };
    } else this.session = null;
    this.songsIn = {
      l3: groupsOf(this.l3OfSong, k3),
      l2: groupsOf(l2OfSong, k2),
      l1: this.children.l1,
    };
    this.rowOfSong = new Int32Array(s);
    for (let r = 0; r < s; r++) this.rowOfSong[songOrder ? songOrder[r] : r] = r;
    if (this.prior || this.session) {
      const values = new Float64Array(s);
      for (let r = 0; r < s; r++) {
        const o = songOrder ? songOrder[r] : r;
        if (this.prior) values[r] += this.prior.weight.song * this.prior.logPopularity.song[o];
        if (this.session)
          values[r] += this.session.weight.song * (Math.log(this.session.prior.beta) + this.session.logPopularity.song[o]);
      }
      this.songStatic = values;
    } else this.songStatic = null;
  }

  /**
   * The state after the pad/start token for a set's context. Without a DJ vector (or for a model
   * without DJ input) the recurrent part is the same for every sequence and cached; states are
   * never mutated.
   */
  startState(context: SequenceContext = {}): LstmState {
    const taste = this.tasteTerm(context.taste);
    const tasteScores = this.tasteScoresOf(context);
    if (context.dj && this.djKernel) return { ...this.step(this.initialState(context), this.songs), taste, tasteScores };
    this.afterPad ??= this.step(this.initialState(), this.songs);
    return { ...this.afterPad, taste, tasteScores };
  }

  /**
   * h = c = 0 and the set's constant terms: the gate bias lstm.bias + dj · lstm.dj, and α · taste.
   * A model without DJ input or taste term ignores those vectors.
   */
  initialState(context: SequenceContext = {}): LstmState {
    const bias = Float64Array.from(this.bias);
    const { dj } = context;
    if (dj && this.djKernel) {
      if (dj.length !== this.djWidth)
        throw new RangeError(`DJ vector has ${dj.length} values, the model takes ${this.djWidth}`);
      this.djKernel.accumulate(bias, dj);
    }
    const h = new Float64Array(this.hidden);
    return {
      h,
      c: new Float64Array(this.hidden),
      bias,
      taste: this.tasteTerm(context.taste),
      tasteScores: this.tasteScoresOf(context),
      previous: -1,
      session: TracklistModel.noSession,
    };
  }

  private tasteTerm(taste: ArrayLike<number> | null | undefined): Float64Array | null {
    if (!taste || !this.tasteRows) return null;
    if (taste.length !== this.tasteWidth)
      throw new RangeError(`taste vector has ${taste.length} values, the model takes ${this.tasteWidth}`);
    const scaled = new Float64Array(this.tasteRows.width);
    for (let k = 0; k < taste.length; k++) scaled[k] = taste[k] * this.tasteScale;
    return scaled;
  }

  /** The context's per-song taste scores when it has a taste term (checked against the song count). */
  private tasteScoresOf(context: SequenceContext): ArrayLike<number> | null {
    const scores = context.tasteScores;
    if (!scores || !context.taste || !this.tasteRows) return null;
    if (scores.length !== this.songs)
      throw new RangeError(`taste scores hold ${scores.length} songs, the model has ${this.songs}`);
    return scores;
  }

  /** Feeds one song index (or `songs`, the pad/start token) and returns the next state. */
  step(state: LstmState, song: number): LstmState {
    if (!(Number.isInteger(song) && song >= 0 && song <= this.songs))
      throw new RangeError(`song index ${song} out of range`);
    const H = this.hidden;
    const z = this.gates;
    z.set(state.bias);
    this.kernel.accumulate(z, this.input.subarray(song * this.inDim, (song + 1) * this.inDim));
    this.recurrent.accumulate(z, state.h);
    // One allocation for both (per step per request).
    const hc = new Float64Array(2 * H);
    const h = hc.subarray(0, H);
    const c = hc.subarray(H);
    // Keras gate order: input, forget, cell candidate, output.
    for (let j = 0; j < H; j++) {
      const ig = sigmoid(z[j]);
      const fg = sigmoid(z[H + j]);
      const g = Math.tanh(z[2 * H + j]);
      const og = sigmoid(z[3 * H + j]);
      c[j] = fg * state.c[j] + ig * g;
      h[j] = og * Math.tanh(c[j]);
    }
    const start = song === this.songs;
    let session = state.session;
    if (!start) {
      const grown = new Int32Array(session.length + 1);
      grown.set(session);
      grown[session.length] = song;
      session = grown;
    }
    return { h, c, bias: state.bias, taste: state.taste, tasteScores: state.tasteScores, previous: start ? -1 : song, session };
  }

  /** The state after feeding [pad, ...songs] in a set with the given context. */
  run(songs: readonly number[], context: SequenceContext = {}): LstmState {
    let state = this.startState(context);
    for (const s of songs) state = this.step(state, s);
    return state;
  }

  /**
   * Head output u = selu(tanh([h ; onehot(parent)]·w1 + b1)·w2 + b2); parent ignored for l3.
   * Written to `out` when given (the logits reuse one per head: a request makes ~64 calls).
   */
  headOutput(level: Level, h: ArrayLike<number>, parent = -1, out?: Float64Array): Float64Array {
    const hd = this.heads[level];
    const a = hd.width;
    const H = this.hidden;
    const t = hd.hidden;
    t.set(hd.b1);
    hd.w1.accumulate(t, h);
    if (hd.parents > 0) {
      if (!(Number.isInteger(parent) && parent >= 0 && parent < hd.parents))
        throw new RangeError(`${level}: teacher ${parent} outside [0, ${hd.parents})`);
      const o = (H + parent) * a;
      for (let j = 0; j < a; j++) t[j] += hd.w1.data[o + j];
    }
    for (let j = 0; j < a; j++) t[j] = Math.tanh(t[j]);
    const d = hd.out;
    const u = out ?? new Float64Array(d);
    u.set(hd.b2);
    hd.w2.accumulate(u, t);
    for (let k = 0; k < d; k++) u[k] = selu(u[k]);
    return u;
  }

  /**
   * The options the model normalises over at a level given the teacher one level up: all
   * clusters/songs in the full form (and always at l3), the teacher's children when factorised.
   * Returns null for "all".
   */
  normalisationSet(level: Level, teacher: number): Int32Array | null {
    const { members, first, count } = this.setRows(level, teacher);
    return members ? members.subarray(first, first + count) : null;
  }

  /**
   * Where a normalisation set sits in the level's row order: rows [first, first + count), the
   * teacher's group of `members` (null: every option, in index order).
   */
  private setRows(level: Level, teacher: number): { members: Int32Array | null; first: number; count: number } {
    if (level === 'l3' || this.form === 'full') return { members: null, first: 0, count: this.sizes[level] };
    const { start, items } = this.children[PARENT_LEVEL[level]];
    return { members: items, first: start[teacher], count: start[teacher + 1] - start[teacher] };
  }

  /**
   * The only option of the level's normalisation set given the teacher, or −1 when it has
   * several: a softmax over one option gives it probability 1, so callers skip the logits.
   */
  onlyOption(level: Level, teacher: number): number {
    const { members, first, count } = this.setRows(level, teacher);
    return count !== 1 ? -1 : members ? members[first] : 0;
  }

  /**
   * Probabilities at one level, as a dense array over all options (zero outside the
   * normalisation set), from a state and the teacher one level up (ignored for l3).
   */
  levelProbabilities(level: Level, from: StateOrH, teacher = -1): Float64Array {
    const out = new Float64Array(this.sizes[level]);
    const { set, logits } = this.setLogits(level, asState(from), teacher);
    const count = logits.length;
    if (count === 0) return out;
    let max = -Infinity;
    for (let i = 0; i < count; i++) if (logits[i] > max) max = logits[i];
    let sum = 0;
    for (let i = 0; i < count; i++) sum += logits[i] = Math.exp(logits[i] - max);
    for (let i = 0; i < count; i++) out[set ? set[i] : i] = logits[i] / sum;
    return out;
  }

  /**
   * The normalisation set at a level (null = every option) and the model's logit for each of its
   * options: head output · table, plus song bias and taste at the song level, plus the n-gram
   * prior β · log P(option | previous song) and the session term γ · log P_session(option | whole
   * prefix) when the model has them. `logits` is this model's scratch (a request makes ~64 calls),
   * valid until its next call.
   */
  setLogits(level: Level, state: StateView, teacher = -1): { set: Int32Array | null; logits: Float64Array } {
    const { set, first, logits } = this.neuralLogits(level, state, teacher);
    const count = logits.length;
    // Sparse pays unless the session votes to look through far outnumber the set: a vote costs a
    // lookup, a dense option a logarithm or two (at 50-song sets, 8 and 40 votes per option timed alike).
    if (level === 'song' && this.songStatic && count > 0 && SPARSE_VOTES_PER_OPTION * count >= this.sessionVotes(state)) {
      this.addSongTerms(state, first, logits);
      return { set, logits };
    }
    if (this.prior && count > 0) {
      const prior = this.priorTerm(level, state, set, this.priorScratch);
      const beta = this.prior.weight[level];
      for (let i = 0; i < count; i++) logits[i] += beta * prior[i];
    }
    if (this.session && count > 0) this.addSessionTerm(level, state, set, logits, this.session.weight[level]);
    return { set, logits };
  }

  /**
   * The song level's prior and session terms over the set of rows [first, first + logits.length):
   * the static per-row values plus this step's constants in one pass, then corrections for the
   * songs in the set with a transition from the previous song or a session vote. Equal to the
   * dense sums of setLogitTerms.
   */
  private addSongTerms(state: StateView, first: number, logits: Float64Array): void {
    const count = logits.length;
    const rowOf = this.rowOfSong;
    const inSet = (s: number): number => {
      const i = rowOf[s] - first;
      return i >= 0 && i < count ? i : -1;
    };
    let shift = 0;
    const p = this.prior;
    if (p) {
      const beta = p.weight.song;
      const logBackoff = p.prior.sparseLogProbs(state.previous ?? -1, (s, logRatio) => {
        const i = inSet(s);
        if (i >= 0) logits[i] += beta * logRatio;
      });
      shift += beta * logBackoff;
    }
    const q = this.session;
    if (q) {
      const gamma = q.weight.song;
      const terms = this.sessionTermsFor(state.session ?? TracklistModel.noSession);
      const { songs, scores } = terms.evidence;
      const beta = q.prior.beta;
      const pop = q.popularity.song;
      const logBase = Math.log(beta);
      const logPop = q.logPopularity.song;
      for (let k = 0; k < terms.evidence.count; k++) {
        const i = inSet(songs[k]);
        if (i >= 0) logits[i] += gamma * (Math.log(scores[k] + beta * pop[songs[k]]) - logBase - logPop[songs[k]]);
      }
      shift -= gamma * terms.logZ;
    }
    const base = this.songStatic!;
    for (let i = 0; i < count; i++) logits[i] += base[first + i] + shift;
  }

  /**
   * The terms a level's logits add up, each before its weight (fresh arrays over the
   * normalisation set): `network` (head output · table, plus taste and bias at the song level),
   * then `prior` (log P_prior) and `session` (log P_session) when the model has them. Training
   * calibrates their weights on held-out sets.
   */
  setLogitTerms(level: Level, state: StateView, teacher = -1): { set: Int32Array | null; terms: Record<string, Float64Array> } {
    const { set, logits } = this.neuralLogits(level, state, teacher);
    const terms: Record<string, Float64Array> = { network: Float64Array.from(logits) };
    const count = logits.length;
    if (this.prior && count > 0) terms.prior = this.priorTerm(level, state, set, new Float64Array(count));
    if (this.session && count > 0) this.addSessionTerm(level, state, set, (terms.session = new Float64Array(count)), 1);
    return { set, terms };
  }

  /** How many songs the session term's evidence votes for after the state's prefix (0 without the term). */
  private sessionVotes(state: StateView): number {
    return this.session ? this.sessionTermsFor(state.session ?? TracklistModel.noSession).evidence.count : 0;
  }

  /**
   * The network's logits over the normalisation set (with taste and bias at the song level), into
   * the logit scratch, and the set's first output row (its rows are contiguous).
   */
  private neuralLogits(level: Level, state: StateView, teacher: number): { set: Int32Array | null; first: number; logits: Float64Array } {
    const hd = this.heads[level];
    const u = this.headOutput(level, state.h, teacher, (hd.output ??= new Float64Array(hd.out)));
    const set = this.normalisationSet(level, teacher);
    const query = this.outputs[level].query;
    query.set(u);
    // The set's rows are contiguous: the teacher's group in the parent level's children.
    const { first, count } = this.setRows(level, teacher);
    if (this.logitScratch.length < count) {
      this.logitScratch = new Float64Array(count);
      this.priorScratch = new Float64Array(count);
      this.tasteScratch = new Float64Array(count);
    }
    const logits = this.outputs[level].rows.dotRange(query, first, count, this.logitScratch.subarray(0, count));
    if (level === 'song' && state.taste && this.tasteRows) {
      const scores = state.tasteScores;
      if (scores) {
        const alpha = this.tasteScale;
        if (set) for (let i = 0; i < count; i++) logits[i] += alpha * scores[set[i]];
        else for (let i = 0; i < count; i++) logits[i] += alpha * scores[i];
      } else {
        const taste = this.tasteRows.dotRange(state.taste, first, count, this.tasteScratch.subarray(0, count));
        for (let i = 0; i < count; i++) logits[i] += taste[i];
      }
    }
    return { set, first, logits };
  }

  /** log P_prior(option | previous song) over the set, into `out` (the model has a prior). */
  private priorTerm(level: Level, state: StateView, set: Int32Array | null, out: Float64Array): Float64Array {
    const p = this.prior!;
    const options = set ?? this.allOptions(level);
    p.prior.logProbs(state.previous ?? -1, options, p.labels[level], p.popularity[level], out, 0, -1, p.logPopularity[level]);
    return out;
  }

  /** out[i] += gamma · log P_session(option i | whole prefix) over the set (the model has a session term). */
  private addSessionTerm(level: Level, state: StateView, set: Int32Array | null, out: Float64Array, gamma: number): void {
    const q = this.session!;
    const terms = this.sessionTermsFor(state.session ?? TracklistModel.noSession);
    const songMass = level === 'song' ? (this.songSessionMass ??= new OptionMass(this.songs)) : null;
    if (songMass) for (let i = 0; i < terms.evidence.count; i++) songMass.add(terms.evidence.songs[i], terms.evidence.scores[i]);
    const mass = songMass ? songMass.values : this.clusterMass(terms)[level as 'l3' | 'l2' | 'l1'];
    const pop = q.popularity[level];
    const logPop = q.logPopularity[level];
    const beta = q.prior.beta;
    const logBeta = Math.log(beta);
    for (let i = 0; i < out.length; i++) {
      const o = set ? set[i] : i;
      // Options without votes need no logarithm: their term is their popularity share alone.
      const term = mass[o] > 0 ? Math.log(mass[o] + beta * pop[o]) : logBeta + logPop[o];
      out[i] += gamma * (term - terms.logZ);
    }
    songMass?.clear();
  }

  /** The session term's evidence for a whole prefix and its log normaliser (a state's prefix array never changes). */
  private sessionTermsFor(prefix: ArrayLike<number>): SessionTerms {
    const last = this.lastSessionTerms;
    if (last && last.prefix === prefix) return last;
    const prior = this.session!.prior;
    const evidence = prior.evidence(prefix, -1, (this.sessionEvidence ??= sessionEvidenceBuffer(this.songs)));
    const terms = { prefix, evidence, logZ: prior.logNormaliser(evidence) };
    this.lastSessionTerms = terms;
    return terms;
  }

  /** The session mass per cluster at every cluster level for these terms: level 1 from the votes, the levels above from their children. */
  private clusterMass(terms: SessionTerms): { l3: Float64Array; l2: Float64Array; l1: Float64Array } {
    const sizes = this.sizes;
    const mass = (this.clusterSessionMass ??= {
      terms: null,
      l3: new Float64Array(sizes.l3),
      l2: new Float64Array(sizes.l2),
      l1: new Float64Array(sizes.l1),
    });
    if (mass.terms !== terms) {
      const { song: l1Of, l1: l2Of, l2: l3Of } = this.parent;
      const { songs, scores, count } = terms.evidence;
      const { l1: m1, l2: m2, l3: m3 } = mass;
      m1.fill(0);
      m2.fill(0);
      m3.fill(0);
      for (let i = 0; i < count; i++) m1[l1Of[songs[i]]] += scores[i];
      for (let c = 0; c < m1.length; c++) m2[l2Of[c]] += m1[c];
      for (let c = 0; c < m2.length; c++) m3[l3Of[c]] += m2[c];
      mass.terms = terms;
    }
    return mass;
  }

  /** True when the model has the session-kNN term (its states' `session` prefix matters). */
  get hasSessionTerm(): boolean {
    return this.session !== null;
  }

  /** The n-gram counts and the training sessions behind the direct terms (for explanations). */
  get directEvidence(): { transitions: TransitionPrior | null; sessions: SessionPrior | null } {
    return { transitions: this.prior?.prior ?? null, sessions: this.session?.prior ?? null };
  }

  /** The weights of the prior and session terms at a level (null without the term). */
  termWeights(level: Level): { prior: number | null; session: number | null } {
    return { prior: this.prior?.weight[level] ?? null, session: this.session?.weight[level] ?? null };
  }

  private readonly all: Partial<Record<Level, Int32Array>> = {};

  private allOptions(level: Level): Int32Array {
    return (this.all[level] ??= Int32Array.from({ length: this.sizes[level] }, (_, i) => i));
  }

  /** The song's ancestors: its l1, l2 and l3 clusters. */
  path(song: number): { l3: number; l2: number; l1: number } {
    const l1 = this.parent.song[song];
    const l2 = this.parent.l1[l1];
    return { l3: this.parent.l2[l2], l2, l1 };
  }

  /**
   * Exact next-song distribution P(s | state) of the factorised form:
   * P(c3) · P(c2 | c3) · P(c1 | c2) · P(s | c1) along each song's path. Mass the model puts on
   * clusters without songs is not assigned to any song, so the sum can fall short of 1.
   */
  songDistribution(from: StateOrH): Float64Array {
    const state = asState(from);
    if (this.form !== 'factorised')
      throw new Error('songDistribution: only the factorised form has an exact product');
    const p3 = this.levelProbabilities('l3', state);
    const p2 = new Float64Array(this.sizes.l2);
    for (let c3 = 0; c3 < this.sizes.l3; c3++) {
      if (p3[c3] === 0) continue;
      const q = this.levelProbabilities('l2', state, c3);
      for (const c2 of this.normalisationSet('l2', c3)!) p2[c2] = p3[c3] * q[c2];
    }
    const p1 = new Float64Array(this.sizes.l1);
    for (let c2 = 0; c2 < this.sizes.l2; c2++) {
      if (p2[c2] === 0) continue;
      const q = this.levelProbabilities('l1', state, c2);
      for (const c1 of this.normalisationSet('l1', c2)!) p1[c1] = p2[c2] * q[c1];
    }
    const out = new Float64Array(this.songs);
    for (let c1 = 0; c1 < this.sizes.l1; c1++) {
      if (p1[c1] === 0) continue;
      const q = this.levelProbabilities('song', state, c1);
      for (const s of this.normalisationSet('song', c1)!) out[s] = p1[c1] * q[s];
    }
    return out;
  }
}

/** Per-level distributions after a prefix (see tracklistStepProbabilities). */
export interface StepProbabilities {
  /** The LSTM output after feeding [pad, ...prefix]. */
  h: Float64Array;
  l3: Float64Array;
  l2: Float64Array;
  l1: Float64Array;
  song: Float64Array;
  /** The teachers used for l2, l1 and song (given, or the argmax of the level above). */
  teacher: { l3: number; l2: number; l1: number };
}

function argmax(p: Float64Array): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  return best;
}

/**
 * The model's per-level probabilities for the song after `prefix` (fed as [pad, ...prefix]) in a
 * set with the given context (DJ and taste vectors; omitted: zeros, no known DJ), each level
 * conditioned on a teacher cluster one level up: `teacher.l3` for l2, `teacher.l2` for l1,
 * `teacher.l1` for the song level. Missing teachers are the argmax of the level above.
 * Arrays are dense over all options; in the factorised form they are zero outside the teacher's
 * children. This is what a tfjs equivalence test compares against (teacher-forced outputs).
 */
export function tracklistStepProbabilities(
  model: TracklistModel,
  prefix: readonly number[],
  teacher: Partial<{ l3: number; l2: number; l1: number }> = {},
  context: SequenceContext = {},
): StepProbabilities {
  const state = model.run(prefix, context);
  const l3 = model.levelProbabilities('l3', state);
  const t3 = teacher.l3 ?? argmax(l3);
  const l2 = model.levelProbabilities('l2', state, t3);
  const t2 = teacher.l2 ?? argmax(l2);
  const l1 = model.levelProbabilities('l1', state, t2);
  const t1 = teacher.l1 ?? argmax(l1);
  const song = model.levelProbabilities('song', state, t1);
  return { h: state.h, l3, l2, l1, song, teacher: { l3: t3, l2: t2, l1: t1 } };
}
