import { type Artifact, ArtifactError } from '../artifact.ts';
import { SessionKnn, SessionPrior, sessionEvidenceBuffer, type SessionEvidence } from '../sessionPrior.ts';
import { OptionMass, popularityByLevel, TransitionPrior } from '../transitionPrior.ts';
import type { TracklistNetwork } from './network.ts';
import { LEVELS, NO_SESSION, type Level, type StateView, type TensorReader, type TracklistMeta } from './types.ts';
import type { SessionTerms, Workspace } from './workspace.ts';

/**
 * The direct connections beside the network (SPEC §4): the n-gram prior β · log P(option |
 * previous song) and the session-kNN term γ · log P_session(option | whole prefix), at every level.
 *
 * Two ways to add them, equal up to rounding: the dense one computes each term per option of the
 * set (every cluster level, and what calibration reads term by term); the sparse one, for the
 * song level, adds per-row static values (the terms of a song without transition or vote) in one
 * pass and corrects only the few songs with a transition or a vote. Both serve (which is cheaper
 * depends on the votes, see addTo); tests/serving/tracklistInference.test.ts checks they agree.
 */

/** Session votes per set option up to which the song level adds its direct terms sparsely. */
const SPARSE_VOTES_PER_OPTION = 8;

function logOf(values: Record<Level, ArrayLike<number>>): Record<Level, Float64Array> {
  return Object.fromEntries(LEVELS.map((level) => [level, Float64Array.from(values[level], Math.log)])) as Record<Level, Float64Array>;
}

function perLevel(weights: Float32Array): Record<Level, number> {
  return Object.fromEntries(LEVELS.map((level, i) => [level, weights[i]])) as Record<Level, number>;
}

/** The n-gram connection (shared/model/transitionPrior.ts) with its per-level tables. */
interface NgramTerm {
  counts: TransitionPrior;
  weight: Record<Level, number>;
  labels: Record<Level, Int32Array | null>;
  popularity: Record<Level, ArrayLike<number>>;
  /** log popularity per option: most options have no mass, so their term needs no Math.log. */
  logPopularity: Record<Level, Float64Array>;
}

/** The session-kNN connection (shared/model/sessionPrior.ts) with its per-level tables. */
interface SessionTerm {
  sessions: SessionPrior;
  weight: Record<Level, number>;
  popularity: Record<Level, ArrayLike<number>>;
  logPopularity: Record<Level, Float64Array>;
}

export class DirectTerms {
  private readonly ngram: NgramTerm | null;
  private readonly session: SessionTerm | null;
  private readonly sizes: Record<Level, number>;
  private readonly parent: TracklistNetwork['parent'];
  /**
   * Song level, per output row: the prior's and session term's values for a song without a
   * transition or vote (their weighted log popularity, up to a per-step constant), and each
   * song's row.
   */
  private readonly songStatic: Float64Array | null;
  private readonly rowOfSong: Int32Array;
  private readonly all: Partial<Record<Level, Int32Array>> = {};

  /** Reads the terms the artifact has (null when it has neither). */
  static read(a: Artifact<TracklistMeta>, tensor: TensorReader, network: TracklistNetwork): DirectTerms | null {
    return a.has('prior.weight') || a.has('session.weight') ? new DirectTerms(a, tensor, network) : null;
  }

  private constructor(a: Artifact<TracklistMeta>, tensor: TensorReader, network: TracklistNetwork) {
    const meta = a.meta;
    const s = network.songs;
    this.sizes = network.sizes;
    this.parent = network.parent;
    // Each song's ancestors: the option labels of both direct connections.
    const songCluster = { l3: network.l3OfSong, l2: network.l2OfSong, l1: network.parent.song };
    if (a.has('prior.weight')) {
      const weights = tensor<Float32Array>('prior.weight', 'float32', [LEVELS.length]);
      const counts = new TransitionPrior(a.csr('prior.counts'), tensor('prior.popularity', 'float32', [s]), meta.priorDiscount ?? 0.8);
      const popularity = popularityByLevel(counts.popularity, songCluster, this.sizes);
      this.ngram = {
        counts,
        weight: perLevel(weights),
        labels: { ...songCluster, song: null },
        popularity,
        logPopularity: logOf(popularity),
      };
    } else this.ngram = null;
    if (a.has('session.weight')) {
      if (!meta.session) throw new ArtifactError('tracklist model: session tensors without meta.session');
      const weights = tensor<Float32Array>('session.weight', 'float32', [LEVELS.length]);
      const offsets = tensor<Int32Array>('session.itemOffsets', 'int32', [-1]);
      const count = offsets.length - 1;
      const items = tensor<Int32Array>('session.items', 'int32', [offsets[count]]);
      const table = {
        items,
        itemPos: tensor<Int32Array>('session.itemPos', 'int32', [items.length]),
        itemOffsets: offsets,
        recency: tensor<Int32Array>('session.recency', 'int32', [count]),
      };
      let knn: SessionKnn;
      try {
        knn = new SessionKnn(table, s, meta.session.options);
      } catch (e) {
        throw new ArtifactError(`tracklist model: session tensors: ${(e as Error).message}`);
      }
      const popularity = tensor<Float32Array>('session.popularity', 'float32', [s]);
      const perLevelPopularity = popularityByLevel(popularity, songCluster, this.sizes);
      this.session = {
        sessions: new SessionPrior(knn, popularity, meta.session.beta),
        weight: perLevel(weights),
        popularity: perLevelPopularity,
        logPopularity: logOf(perLevelPopularity),
      };
    } else this.session = null;
    const songOrder = network.songOrder;
    this.rowOfSong = new Int32Array(s);
    for (let r = 0; r < s; r++) this.rowOfSong[songOrder ? songOrder[r] : r] = r;
    const values = new Float64Array(s);
    for (let r = 0; r < s; r++) {
      const o = songOrder ? songOrder[r] : r;
      if (this.ngram) values[r] += this.ngram.weight.song * this.ngram.logPopularity.song[o];
      if (this.session)
        values[r] += this.session.weight.song * (Math.log(this.session.sessions.beta) + this.session.logPopularity.song[o]);
    }
    this.songStatic = values;
  }

  get hasSessionTerm(): boolean {
    return this.session !== null;
  }

  /** The n-gram counts and the training sessions behind the terms (for explanations). */
  get evidence(): { transitions: TransitionPrior | null; sessions: SessionPrior | null } {
    return { transitions: this.ngram?.counts ?? null, sessions: this.session?.sessions ?? null };
  }

  /** The weights of the prior and session terms at a level (null without the term). */
  weights(level: Level): { prior: number | null; session: number | null } {
    return { prior: this.ngram?.weight[level] ?? null, session: this.session?.weight[level] ?? null };
  }

  /**
   * logits[i] += the weighted terms of option i of the set (null: every option); `first` is the
   * set's first output row. Sparse at the song level unless the session votes to look through far
   * outnumber the set (a vote costs a lookup, a dense option a logarithm or two).
   */
  addTo(level: Level, state: StateView, set: Int32Array | null, first: number, logits: Float64Array, ws: Workspace): void {
    const count = logits.length;
    if (count === 0) return;
    if (level === 'song' && this.songStatic && SPARSE_VOTES_PER_OPTION * count >= this.sessionVotes(state, ws)) {
      this.addSongTerms(state, first, logits, ws);
      return;
    }
    if (this.ngram) {
      ws.reserve(count);
      const prior = this.priorTerm(level, state, set, ws.prior);
      const weight = this.ngram.weight[level];
      for (let i = 0; i < count; i++) logits[i] += weight * prior[i];
    }
    if (this.session) this.addSessionTerm(level, state, set, logits, this.session.weight[level], ws);
  }

  /** Each term before its weight over the set (fresh arrays of `count`): `prior` and `session` when the model has them. */
  separate(level: Level, state: StateView, set: Int32Array | null, count: number, ws: Workspace): Record<string, Float64Array> {
    const terms: Record<string, Float64Array> = {};
    if (count === 0) return terms;
    if (this.ngram) terms.prior = this.priorTerm(level, state, set, new Float64Array(count));
    if (this.session) this.addSessionTerm(level, state, set, (terms.session = new Float64Array(count)), 1, ws);
    return terms;
  }

  /**
   * The sparse song level over rows [first, first + logits.length): the static per-row values plus
   * this step's constants in one pass, then corrections for the songs in the set with a
   * transition from the previous song or a session vote.
   */
  private addSongTerms(state: StateView, first: number, logits: Float64Array, ws: Workspace): void {
    const count = logits.length;
    const rowOf = this.rowOfSong;
    const inSet = (s: number): number => {
      const i = rowOf[s] - first;
      return i >= 0 && i < count ? i : -1;
    };
    let shift = 0;
    const p = this.ngram;
    if (p) {
      const weight = p.weight.song;
      const logBackoff = p.counts.sparseLogProbs(state.previous ?? -1, (s, logRatio) => {
        const i = inSet(s);
        if (i >= 0) logits[i] += weight * logRatio;
      });
      shift += weight * logBackoff;
    }
    const q = this.session;
    if (q) {
      const gamma = q.weight.song;
      const terms = this.sessionTermsFor(state.session ?? NO_SESSION, ws);
      const { songs, scores } = terms.evidence;
      const beta = q.sessions.beta;
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

  /** How many songs the session term's evidence votes for after the state's prefix (0 without the term). */
  private sessionVotes(state: StateView, ws: Workspace): number {
    return this.session ? this.sessionTermsFor(state.session ?? NO_SESSION, ws).evidence.count : 0;
  }

  /** log P_prior(option | previous song) over the set, into `out` (the model has a prior). */
  private priorTerm(level: Level, state: StateView, set: Int32Array | null, out: Float64Array): Float64Array {
    const p = this.ngram!;
    const options = set ?? this.allOptions(level);
    p.counts.logProbs(state.previous ?? -1, options, p.labels[level], p.popularity[level], out, 0, -1, p.logPopularity[level]);
    return out;
  }

  /** out[i] += gamma · log P_session(option i | whole prefix) over the set (the model has a session term). */
  private addSessionTerm(level: Level, state: StateView, set: Int32Array | null, out: Float64Array, gamma: number, ws: Workspace): void {
    const q = this.session!;
    const terms = this.sessionTermsFor(state.session ?? NO_SESSION, ws);
    const songMass = level === 'song' ? (ws.songSessionMass ??= new OptionMass(this.sizes.song)) : null;
    if (songMass) for (let i = 0; i < terms.evidence.count; i++) songMass.add(terms.evidence.songs[i], terms.evidence.scores[i]);
    const mass = songMass ? songMass.values : this.clusterMass(terms, ws)[level as 'l3' | 'l2' | 'l1'];
    const pop = q.popularity[level];
    const logPop = q.logPopularity[level];
    const beta = q.sessions.beta;
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
  private sessionTermsFor(prefix: ArrayLike<number>, ws: Workspace): SessionTerms {
    const last = ws.lastSessionTerms;
    if (last && last.prefix === prefix) return last;
    const sessions = this.session!.sessions;
    const evidence: SessionEvidence = sessions.evidence(prefix, -1, (ws.sessionEvidence ??= sessionEvidenceBuffer(this.sizes.song)));
    const terms = { prefix, evidence, logZ: sessions.logNormaliser(evidence) };
    ws.lastSessionTerms = terms;
    return terms;
  }

  /** The session mass per cluster at every cluster level for these terms: level 1 from the votes, the levels above from their children. */
  private clusterMass(terms: SessionTerms, ws: Workspace): { l3: Float64Array; l2: Float64Array; l1: Float64Array } {
    const sizes = this.sizes;
    const mass = (ws.clusterSessionMass ??= {
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

  private allOptions(level: Level): Int32Array {
    return (this.all[level] ??= Int32Array.from({ length: this.sizes[level] }, (_, i) => i));
  }
}
