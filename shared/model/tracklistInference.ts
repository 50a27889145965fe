import { type Artifact, ArtifactError } from './artifact.ts';
import { DirectTerms } from './engine/directTerms.ts';
import { TracklistNetwork } from './engine/network.ts';
import {
  asState,
  tensorReader,
  type Level,
  type LstmState,
  type SequenceContext,
  type StateOrH,
  type StateView,
  type TracklistMeta,
} from './engine/types.ts';
import { Workspace } from './engine/workspace.ts';
import type { SessionPrior } from './sessionPrior.ts';
import type { TransitionPrior } from './transitionPrior.ts';

export { LEVELS, TRACKLIST_KIND } from './engine/types.ts';
export type { Level, LstmState, SequenceContext, StateOrH, StateView, TracklistForm, TracklistMeta } from './engine/types.ts';
export type { Groups } from './engine/groups.ts';

/**
 * The serving tracklist model (contract D, SPEC §4): the network (engine/network.ts) plus its
 * direct connections (engine/directTerms.ts), read through one Workspace (engine/workspace.ts).
 * The workspace is this model's: its calls are synchronous and each overwrites the scratch of
 * the one before, so `setLogits`' logits are valid until the next call on this model, and a
 * sampler on it (generate.ts) takes its buffers from the same workspace.
 */
export class TracklistModel {
  readonly meta: TracklistMeta;
  // The network's shapes and cluster tree, documented on TracklistNetwork.
  readonly form: TracklistNetwork['form'];
  readonly hidden: TracklistNetwork['hidden'];
  readonly songs: TracklistNetwork['songs'];
  readonly inDim: TracklistNetwork['inDim'];
  readonly sizes: TracklistNetwork['sizes'];
  readonly parent: TracklistNetwork['parent'];
  readonly children: TracklistNetwork['children'];
  readonly songsIn: TracklistNetwork['songsIn'];
  readonly l2OfSong: TracklistNetwork['l2OfSong'];
  readonly l3OfSong: TracklistNetwork['l3OfSong'];
  readonly djWidth: TracklistNetwork['djWidth'];
  readonly tasteWidth: TracklistNetwork['tasteWidth'];
  private readonly network: TracklistNetwork;
  private readonly direct: DirectTerms | null;
  /** Every scratch buffer this model's computations use (one computation at a time). */
  readonly workspace: Workspace;

  /** Reads and validates the tensors of contract D; shape or range errors are ArtifactErrors. */
  constructor(a: Artifact<TracklistMeta>) {
    const meta = a.meta;
    if (meta.form !== 'factorised' && meta.form !== 'full')
      throw new ArtifactError(`tracklist model: unknown form "${String(meta.form)}"`);
    this.meta = meta;
    const tensor = tensorReader(a);
    const net = (this.network = new TracklistNetwork(a, tensor));
    this.direct = DirectTerms.read(a, tensor, net);
    this.workspace = new Workspace(net.workspaceShape);
    this.form = net.form;
    this.hidden = net.hidden;
    this.songs = net.songs;
    this.inDim = net.inDim;
    this.sizes = net.sizes;
    this.parent = net.parent;
    this.children = net.children;
    this.songsIn = net.songsIn;
    this.l2OfSong = net.l2OfSong;
    this.l3OfSong = net.l3OfSong;
    this.djWidth = net.djWidth;
    this.tasteWidth = net.tasteWidth;
  }

  /** The state after the pad/start token for a set's context (states are never mutated). */
  startState(context: SequenceContext = {}): LstmState {
    return this.network.startState(context, this.workspace);
  }

  /** h = c = 0 and the set's constant terms (gate bias with the DJ vector, α · taste). */
  initialState(context: SequenceContext = {}): LstmState {
    return this.network.initialState(context);
  }

  /** Feeds one song index (or `songs`, the pad/start token) and returns the next state. */
  step(state: LstmState, song: number): LstmState {
    return this.network.step(state, song, this.workspace);
  }

  /** The state after feeding [pad, ...songs] in a set with the given context. */
  run(songs: readonly number[], context: SequenceContext = {}): LstmState {
    let state = this.startState(context);
    for (const s of songs) state = this.step(state, s);
    return state;
  }

  /** Head output u = selu(tanh([h ; onehot(parent)]·w1 + b1)·w2 + b2); written to `out` when given. */
  headOutput(level: Level, h: ArrayLike<number>, parent = -1, out?: Float64Array): Float64Array {
    return this.network.headOutput(level, h, parent, this.workspace, out);
  }

  /** The options normalised over at a level given the teacher (null: all); see TracklistNetwork. */
  normalisationSet(level: Level, teacher: number): Int32Array | null {
    return this.network.normalisationSet(level, teacher);
  }

  /**
   * The only option of the level's normalisation set given the teacher, or −1 when it has
   * several: a softmax over one option gives it probability 1, so callers skip the logits.
   */
  onlyOption(level: Level, teacher: number): number {
    const { members, first, count } = this.network.setRows(level, teacher);
    return count !== 1 ? -1 : members ? members[first] : 0;
  }

  /**
   * The normalisation set at a level (null = every option) and the model's logit for each of its
   * options: head output · table, plus song bias and taste at the song level, plus the n-gram
   * prior β · log P(option | previous song) and the session term γ · log P_session(option | whole
   * prefix) when the model has them. `logits` is the workspace's, valid until the next call.
   */
  setLogits(level: Level, state: StateView, teacher = -1): { set: Int32Array | null; logits: Float64Array } {
    const { set, first, logits } = this.network.logits(level, state, teacher, this.workspace);
    this.direct?.addTo(level, state, set, first, logits, this.workspace);
    return { set, logits };
  }

  /**
   * The terms a level's logits add up, each before its weight (fresh arrays over the
   * normalisation set): `network` (head output · table, plus taste and bias at the song level),
   * then `prior` (log P_prior) and `session` (log P_session) when the model has them. Training
   * calibrates their weights on held-out sets.
   */
  setLogitTerms(level: Level, state: StateView, teacher = -1): { set: Int32Array | null; terms: Record<string, Float64Array> } {
    const { set, logits } = this.network.logits(level, state, teacher, this.workspace);
    const terms: Record<string, Float64Array> = { network: Float64Array.from(logits) };
    if (this.direct) Object.assign(terms, this.direct.separate(level, state, set, logits.length, this.workspace));
    return { set, terms };
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

  /** True when the model has the session-kNN term (its states' `session` prefix matters). */
  get hasSessionTerm(): boolean {
    return this.direct?.hasSessionTerm ?? false;
  }

  /** The n-gram counts and the training sessions behind the direct terms (for explanations). */
  get directEvidence(): { transitions: TransitionPrior | null; sessions: SessionPrior | null } {
    return this.direct?.evidence ?? { transitions: null, sessions: null };
  }

  /** The weights of the prior and session terms at a level (null without the term). */
  termWeights(level: Level): { prior: number | null; session: number | null } {
    return this.direct?.weights(level) ?? { prior: null, session: null };
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
