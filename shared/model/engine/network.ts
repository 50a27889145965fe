import { type Artifact, ArtifactError } from '../artifact.ts';
import { RowMatrix } from '../rowMatrix.ts';
import { groupsOf, type Groups } from './groups.ts';
import {
  LEVELS,
  NO_SESSION,
  PARENT_LEVEL,
  type Level,
  type LstmState,
  type SequenceContext,
  type StateView,
  type TensorReader,
  type TracklistForm,
  type TracklistMeta,
} from './types.ts';
import type { Workspace, WorkspaceShape } from './workspace.ts';

/**
 * The tracklist network (contract D, SPEC §4) on the artifact's typed-array views: the LSTM step,
 * the four top-down dense heads, and the cluster and song tables over the hard cluster tree. No
 * direct connections (engine/directTerms.ts) and no buffers of its own: every method that needs
 * scratch writes it into the caller's Workspace.
 *
 * Levels are named 'l3' (coarsest, k3 clusters), 'l2', 'l1' (finest clusters) and 'song'. Each
 * level below l3 is conditioned on a teacher: the chosen cluster one level up, fed to its head
 * as a one-hot after h. In the 'factorised' form a level's softmax runs over the children of the
 * teacher only (so P(song) is an exact product over the path); in 'full' over every cluster/song.
 *
 * Optional per-set conditioning (a SequenceContext), each present when training used it:
 * - `lstm.dj` [djWidth, 4H]: the set's DJ vector times it is added to every gate at every step;
 * - `song.taste` [1] = α and `taste.song` [n, tasteWidth]: every song logit adds
 *   α · (q · taste.song[s]), q the set's taste vector.
 */

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
}

const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;

function selu(x: number): number {
  return SELU_SCALE * (x > 0 ? x : SELU_ALPHA * (Math.exp(x) - 1));
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export class TracklistNetwork {
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
  /** The song of each song-level output row (null: row = song). */
  readonly songOrder: Int32Array | null;
  readonly djWidth: number;
  readonly tasteWidth: number;
  private readonly input: Float32Array;
  private readonly kernel: RowMatrix;
  private readonly recurrent: RowMatrix;
  private readonly bias: Float32Array;
  /** [djWidth, 4H] DJ-vector kernel, or null for a model without DJ input. */
  private readonly djKernel: RowMatrix | null;
  /** taste.song rows in song-level row order and α (song.taste), or null / 0 for a model without a taste term. */
  private readonly tasteRows: RowMatrix | null;
  private readonly tasteScale: number;
  private readonly heads: Record<Level, Head>;
  /**
   * Each level's output rows in normalisation-set order (a teacher's children are contiguous
   * rows, so a set's logits are one SIMD product): cluster features per level; at the song level
   * [song.out ; bias ; 0…], read with the query [u ; 1 ; 0…] (the taste term is separate, as the
   * caller may have it already).
   */
  private readonly outputs: Record<Level, RowMatrix>;
  /** The state after the start token without a DJ vector (the same for every such set; never mutated). */
  private afterPad: LstmState | null = null;

  constructor(a: Artifact<TracklistMeta>, tensor: TensorReader) {
    const meta = a.meta;
    this.form = meta.form;
    const [n, inDim] = a.shape('input.song');
    this.songs = n - 1;
    this.inDim = inDim;
    if (meta.padIndex !== this.songs)
      throw new ArtifactError(`tracklist model: padIndex ${meta.padIndex}, expected ${this.songs}`);
    const H = (this.hidden = a.shape('lstm.recurrent')[0]);
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
      this.outputs[level] = RowMatrix.build(rows, width, (data) => {
        for (let r = 0; r < rows; r++) {
          const o = order ? order[r] : r;
          data.set(table.subarray(o * d, (o + 1) * d), r * width);
          if (song) data[r * width + d] = songBias[o];
        }
      });
    }
    const tw = this.tasteWidth;
    const songOrder = (this.songOrder = this.form === 'full' ? null : this.children.l1.items);
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
    const l2OfSong = (this.l2OfSong = Int32Array.from(this.parent.song, (c) => this.parent.l1[c]));
    this.l3OfSong = Int32Array.from(l2OfSong, (c) => this.parent.l2[c]);
    this.songsIn = {
      l3: groupsOf(this.l3OfSong, k3),
      l2: groupsOf(l2OfSong, k2),
      l1: this.children.l1,
    };
  }

  /** The buffer sizes a Workspace for this network needs. */
  get workspaceShape(): WorkspaceShape {
    const shape = (level: Level) => ({ width: this.heads[level].width, out: this.heads[level].out, query: this.outputs[level].width });
    return { hidden: this.hidden, heads: { l3: shape('l3'), l2: shape('l2'), l1: shape('l1'), song: shape('song') } };
  }

  /**
   * The state after the pad/start token for a set's context. Without a DJ vector (or for a model
   * without DJ input) the recurrent part is the same for every sequence and cached; states are
   * never mutated.
   */
  startState(context: SequenceContext, ws: Workspace): LstmState {
    const taste = this.tasteTerm(context.taste);
    const tasteScores = this.tasteScoresOf(context);
    if (context.dj && this.djKernel) return { ...this.step(this.initialState(context), this.songs, ws), taste, tasteScores };
    this.afterPad ??= this.step(this.initialState({}), this.songs, ws);
    return { ...this.afterPad, taste, tasteScores };
  }

  /**
   * h = c = 0 and the set's constant terms: the gate bias lstm.bias + dj · lstm.dj, and α · taste.
   * A model without DJ input or taste term ignores those vectors.
   */
  initialState(context: SequenceContext): LstmState {
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
      session: NO_SESSION,
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
  step(state: LstmState, song: number, ws: Workspace): LstmState {
    if (!(Number.isInteger(song) && song >= 0 && song <= this.songs))
      throw new RangeError(`song index ${song} out of range`);
    const H = this.hidden;
    const z = ws.gates;
    z.set(state.bias);
    this.kernel.accumulate(z, this.input.subarray(song * this.inDim, (song + 1) * this.inDim));
    this.recurrent.accumulate(z, state.h);
    // One allocation for both.
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

  /**
   * Head output u = selu(tanh([h ; onehot(parent)]·w1 + b1)·w2 + b2); parent ignored for l3.
   * Written to `out` when given, else to a new array.
   */
  headOutput(level: Level, h: ArrayLike<number>, parent: number, ws: Workspace, out?: Float64Array): Float64Array {
    const hd = this.heads[level];
    const a = hd.width;
    const H = this.hidden;
    const t = ws.headHidden[level];
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
  setRows(level: Level, teacher: number): { members: Int32Array | null; first: number; count: number } {
    if (level === 'l3' || this.form === 'full') return { members: null, first: 0, count: this.sizes[level] };
    const { start, items } = this.children[PARENT_LEVEL[level]];
    return { members: items, first: start[teacher], count: start[teacher + 1] - start[teacher] };
  }

  /**
   * The network's logits over the normalisation set (with taste and bias at the song level), into
   * the workspace's logits, and the set's first output row (its rows are contiguous).
   */
  logits(level: Level, state: StateView, teacher: number, ws: Workspace): { set: Int32Array | null; first: number; logits: Float64Array } {
    const u = this.headOutput(level, state.h, teacher, ws, ws.headOutput[level]);
    const set = this.normalisationSet(level, teacher);
    const query = ws.query[level];
    query.set(u);
    // The set's rows are contiguous: the teacher's group in the parent level's children.
    const { first, count } = this.setRows(level, teacher);
    ws.reserve(count);
    const logits = this.outputs[level].dotRange(query, first, count, ws.logits.subarray(0, count));
    if (level === 'song' && state.taste && this.tasteRows) {
      const scores = state.tasteScores;
      if (scores) {
        const alpha = this.tasteScale;
        if (set) for (let i = 0; i < count; i++) logits[i] += alpha * scores[set[i]];
        else for (let i = 0; i < count; i++) logits[i] += alpha * scores[i];
      } else {
        const taste = this.tasteRows.dotRange(state.taste, first, count, ws.taste.subarray(0, count));
        for (let i = 0; i < count; i++) logits[i] += taste[i];
      }
    }
    return { set, first, logits };
  }
}
