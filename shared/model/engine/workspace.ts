import type { SessionEvidence } from '../sessionPrior.ts';
import type { OptionMass } from '../transitionPrior.ts';
import type { Level } from './types.ts';

/** The session term's evidence after one prefix and its log normaliser. */
export interface SessionTerms {
  prefix: object;
  evidence: SessionEvidence;
  logZ: number;
}

/** The sampler's buffers for one level's candidates (generate.ts sampleLevel). */
export interface SamplerScratch {
  candidates: Int32Array;
  logits: Float64Array;
  weights: Float64Array;
  probabilities: Float64Array;
  /** exp(z − max z) over the normalisation set, and gathered for the candidates. */
  exps: Float64Array;
  candidateExps: Float64Array;
  /** Per-candidate log factor (the artist-repeat penalty). */
  bias: Float64Array;
}

function samplerScratch(size: number): SamplerScratch {
  return {
    candidates: new Int32Array(size),
    logits: new Float64Array(size),
    weights: new Float64Array(size),
    probabilities: new Float64Array(size),
    exps: new Float64Array(size),
    candidateExps: new Float64Array(size),
    bias: new Float64Array(size),
  };
}

/** The sizes a workspace's buffers take (from the network). */
export interface WorkspaceShape {
  hidden: number;
  /** Per level: the head's hidden width, its output width, and the width of its output rows' query. */
  heads: Record<Level, { width: number; out: number; query: number }>;
}

/**
 * Every scratch buffer of the tracklist engine, in one place. Whatever reads one (the LSTM step,
 * the heads, the logits, the direct terms, the sampler) overwrites it on its next call, so a workspace serves
 * one computation at a time: the engine is synchronous, so one per model serves every request in
 * turn, and anything run concurrently (a worker, an interleaved generator) needs its own.
 */
export class Workspace {
  /** The LSTM step's gate pre-activations. */
  readonly gates: Float64Array;
  /** Per head: its hidden layer, its output, and the query its output rows are read with. */
  readonly headHidden: Record<Level, Float64Array>;
  readonly headOutput: Record<Level, Float64Array>;
  readonly query: Record<Level, Float32Array>;
  /** Logits over a normalisation set, and the prior and taste terms beside them (grown to the largest set). */
  logits = new Float64Array(0);
  prior = new Float64Array(0);
  taste = new Float64Array(0);
  /**
   * The session terms of the last prefix asked for (callers ask for one state's levels in a row).
   * Not a WeakMap: its entries would outlive young-generation GCs into the old generation.
   */
  lastSessionTerms: SessionTerms | null = null;
  /** Where the session term's evidence is written (the last prefix's). */
  sessionEvidence: SessionEvidence | null = null;
  /** The session evidence summed per cluster at every cluster level, for one prefix's terms. */
  clusterSessionMass: { terms: SessionTerms | null; l3: Float64Array; l2: Float64Array; l1: Float64Array } | null = null;
  /** Song-level session mass for a dense song level (the sparse one reads the evidence itself). */
  songSessionMass: OptionMass | null = null;
  private samplerBuffers: SamplerScratch | null = null;

  constructor(shape: WorkspaceShape) {
    this.gates = new Float64Array(4 * shape.hidden);
    // Object literals: one fixed shape for the hot per-level lookups.
    const perLevel = <T>(f: (level: Level) => T): Record<Level, T> => ({ l3: f('l3'), l2: f('l2'), l1: f('l1'), song: f('song') });
    this.headHidden = perLevel((l) => new Float64Array(shape.heads[l].width));
    this.headOutput = perLevel((l) => new Float64Array(shape.heads[l].out));
    this.query = perLevel((l) => {
      const q = new Float32Array(shape.heads[l].query);
      // The song level's rows hold [song.out ; bias ; 0…]: the query's 1 reads the bias.
      if (l === 'song') q[shape.heads.song.out] = 1;
      return q;
    });
  }

  /** The logit, prior and taste scratch, at least `count` long. */
  reserve(count: number): void {
    if (this.logits.length >= count) return;
    this.logits = new Float64Array(count);
    this.prior = new Float64Array(count);
    this.taste = new Float64Array(count);
  }

  /** The sampler's buffers, at least `size` long. */
  sampler(size: number): SamplerScratch {
    if (!this.samplerBuffers || this.samplerBuffers.candidates.length < size) this.samplerBuffers = samplerScratch(Math.max(size, 64));
    return this.samplerBuffers;
  }
}
