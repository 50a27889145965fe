import { LIMITS } from '../limits.ts';
import { InputError } from '../util/errors.ts';
import { Random } from '../util/random.ts';
import { TopK } from '../util/topK.ts';
import type { Csr } from '../graph/csr.ts';
import type { RowMatrix } from './rowMatrix.ts';
import { adjustedProbabilities } from './engine/adjust.ts';
import { Availability } from './engine/availability.ts';
import { ClusterScores, weightedScore } from './engine/clusterScores.ts';
import { clusterCentroids, rowDot } from './engine/flow.ts';
import { type ResolvedGenerateOptions, WARM_START } from './engine/generateOptions.ts';
import type { Level, LstmState, SequenceContext, TracklistModel } from './tracklistInference.ts';

export { type ExpLogits, adjustedProbabilities } from './engine/adjust.ts';
export { type ClusterScoreStrategy, ClusterScores, clusterScores, minMaxScale } from './engine/clusterScores.ts';
export {
  type GenerateOptions,
  type GenerationDefaults,
  type ResolvedGenerateOptions,
  TUNED_OPTIONS,
  checkGenerationDefaults,
  checkLikes,
  resolveGenerateOptions,
  withModelDefaults,
} from './engine/generateOptions.ts';

/**
 * Tracklist generation (SPEC §5.2) on the plain-TS tracklist model.
 *
 * Scores: `songScores` (similarity to the seed) and `userScores` (the DJ's or user's taste) come
 * min-max scaled to [0, 1] over all songs. A cluster's score is the mean of the top 15 scores of
 * its songs available at the start, for each of the two (computed once per request and cluster). The weighted score of an
 * option is (w·user³ + song³)/(1 + w); without a taste it is song³.
 *
 * Loop: the seed is fed after the pad token; optionally (warmStart, the original's 2, default 0)
 * the first songs are drawn uniformly from the top 10 available songs by song × user^log2(1+w);
 * each song is drawn top-down:
 * at every level the model's logits over the available options (clusters with an unused song
 * left; at the song level the teacher's songs, or all songs in the full form) are multiplied by
 * the level's temperature (cluster levels only, as in the original: a higher value sharpens),
 * shifted so the best is ln 1000, multiplied by the options' min-max-scaled weighted score but
 * never raised (min(x, x·f): an option with a negative logit keeps it; steering < 1 narrows f
 * towards 1), plus at the song level the flow bias λ·cos(previous song, option) with
 * λ = 10·(1 − adventurousness) and the artist-repeat penalty, softmaxed, cut below the
 * level's threshold (the best option always stays), renormalised and sampled; the choice is the
 * next level's teacher. The seed, acappellas, the "average replacement" song and every chosen
 * song are blocked, so no song repeats.
 *
 * Reward breakdown per song: its scaled user score (0 without a taste), its scaled seed-song
 * score, and the model's own log-probability of the song and each of its clusters at that step
 * (before temperature and score adjustment; per level in the model's form, so the four sum to
 * log P(song) when factorised).
 */

export interface GeneratedSong {
  song: number;
  userScore: number;
  songScore: number;
  logProb: { l3: number; l2: number; l1: number; song: number };
}

const WARM_TOP = 10;
/**
 * Song-level logit bias per unit of cosine to the previous song at adventurousness 0 (it falls
 * linearly to none at 1): the ablation of bench/generation.ts put real-like scene changes near 5.
 */
const FLOW_AT_ZERO = 10;

/** Everything one generation request needs beside the options. */
export interface GenerationInputs {
  model: TracklistModel;
  /** Similarity to the seed, scaled to [0, 1]. */
  songScores: Float32Array;
  /** Taste, scaled to [0, 1]; null without a DJ or likes. */
  userScores: Float32Array | null;
  /** Songs never generated: acappellas and the average replacement song. */
  blocked: Uint8Array;
  /** The DJ and taste vectors the tracklist model is conditioned on (none: zeros, a set without known DJs). */
  context?: SequenceContext;
  /** Songs × artists credits, needed for the artist-repeat penalty. */
  songArtists?: Csr | null;
  /** Unit song-similarity rows (the seed scores' cosines), needed to follow the set. */
  songSimilarity?: RowMatrix | null;
}

const LEVEL_INDEX: Record<Level, number> = { l3: 0, l2: 1, l1: 2, song: 3 };

/** Log-probability of `option` under the model's softmax at a level (its normalisation set). */
function modelLogProb(
  model: TracklistModel,
  level: Level,
  state: LstmState,
  teacher: number,
  option: number,
): number {
  if (model.onlyOption(level, teacher) === option) return 0;
  const { set, logits: z } = model.setLogits(level, state, teacher);
  const count = z.length;
  let max = -Infinity;
  for (let i = 0; i < count; i++) if (z[i] > max) max = z[i];
  let sum = 0;
  for (let i = 0; i < count; i++) sum += Math.exp(z[i] - max);
  const at = set ? set.indexOf(option) : option;
  if (at < 0) throw new Error(`generate: option ${option} is not in the ${level} normalisation set`);
  return z[at] - max - Math.log(sum);
}

/** The model's log-probabilities along a given song's path, from a state. */
function pathLogProbs(model: TracklistModel, state: LstmState, song: number): GeneratedSong['logProb'] {
  const p = model.path(song);
  return {
    l3: modelLogProb(model, 'l3', state, -1, p.l3),
    l2: modelLogProb(model, 'l2', state, p.l3, p.l2),
    l1: modelLogProb(model, 'l1', state, p.l2, p.l1),
    song: modelLogProb(model, 'song', state, p.l1, song),
  };
}

interface LevelContext {
  /** The weighted score of a cluster option. */
  clusterWeighted: (level: 'l3' | 'l2' | 'l1', option: number) => number;
  /** Song options' weighted scores come from these (without user scores the weighting is 0). */
  songScores: ArrayLike<number>;
  userScores: ArrayLike<number> | null;
  userWeighting: number;
  temperature: readonly number[];
  thresholds: readonly number[];
  steering: number;
  /** Song-level factor for a song one of whose artists already played: ln(1 − penalty), 0 = none. */
  repeatLogit: number;
  /** Songs × artists credits, and the artists already in the set (for the repeat penalty). */
  songArtists: Csr | null;
  artistsPlayed: Uint8Array | null;
  /** Song-level logit bias per unit of cosine similarity to the previous song (0 = none). */
  flow: number;
  /** The same at the cluster levels, to the clusters' mean directions (0 = none). */
  clusterFlow: number;
  centroids: Record<'l3' | 'l2' | 'l1', RowMatrix> | null;
  songSimilarity: RowMatrix | null;
  previous: number;
  rng: Random;
}

/** Whether one of the song's credited artists already played in the set. */
function artistRepeats(ctx: LevelContext, song: number): boolean {
  const m = ctx.songArtists!;
  for (let q = m.indptr[song]; q < m.indptr[song + 1]; q++) if (ctx.artistsPlayed![m.indices[q]]) return true;
  return false;
}

/**
 * One top-down level: adjusted sampling among the available options of the model's
 * normalisation set. Returns the choice and the model's own log-probability of it.
 */
function sampleLevel(
  model: TracklistModel,
  level: Level,
  state: LstmState,
  teacher: number,
  avail: Availability,
  ctx: LevelContext,
): { option: number; logProb: number } {
  const only = model.onlyOption(level, teacher);
  if (only >= 0) {
    if (!avail.has(level, only)) throw new Error(`generate: no available option at ${level}`);
    // The draw a set of several would take, so a seed gives the same list either way.
    ctx.rng.next();
    return { option: only, logProb: 0 };
  }
  // Model logits over the normalisation set (for the log-probability) …
  const { set, logits: z } = model.setLogits(level, state, teacher);
  const count = z.length;
  const scratch = model.workspace.sampler(count);
  const { candidates: cand, exps } = scratch;
  let zMax = -Infinity;
  for (let i = 0; i < count; i++) if (z[i] > zMax) zMax = z[i];
  let zSum = 0;
  for (let i = 0; i < count; i++) zSum += exps[i] = Math.exp(z[i] - zMax);
  const logZ = zMax + Math.log(zSum);
  // … and the candidates among them, with their logits, exponentials and weighted scores.
  const { logits: candidateLogits, weights: candidateWeights, candidateExps: candidateAllExps } = scratch;
  const { songScores: S, userScores: U, userWeighting: w } = ctx;
  const flowing = level === 'song' && ctx.flow > 0 && ctx.previous >= 0;
  const clusterFlowing = level !== 'song' && ctx.clusterFlow > 0 && ctx.previous >= 0;
  const penalised = (level === 'song' && ctx.repeatLogit !== 0) || flowing || clusterFlowing;
  let n = 0;
  for (let i = 0; i < count; i++) {
    const option = set ? set[i] : i;
    if (!avail.has(level, option)) continue;
    cand[n] = i;
    candidateLogits[n] = z[i];
    candidateAllExps[n] = exps[i];
    if (penalised)
      scratch.bias[n] =
        (ctx.repeatLogit !== 0 && artistRepeats(ctx, option) ? ctx.repeatLogit : 0) +
        (flowing ? ctx.flow * rowDot(ctx.songSimilarity!, ctx.previous, ctx.songSimilarity!, option) : 0) +
        (clusterFlowing ? ctx.clusterFlow * rowDot(ctx.centroids![level as 'l3'], option, ctx.songSimilarity!, ctx.previous) : 0);
    candidateWeights[n++] =
      level === 'song' ? weightedScore(U ? U[option] : 0, S[option], w) : ctx.clusterWeighted(level, option);
  }
  if (n === 0) throw new Error(`generate: no available option at ${level}`);
  const logits = candidateLogits.subarray(0, n);
  const weights = candidateWeights.subarray(0, n);
  const candidateExps = candidateAllExps.subarray(0, n);
  const temperature = level === 'song' ? 1 : ctx.temperature[LEVEL_INDEX[level]];
  const p = adjustedProbabilities(
    logits,
    weights,
    temperature,
    ctx.thresholds[LEVEL_INDEX[level]],
    scratch.probabilities,
    { values: candidateExps, shift: zMax },
    ctx.steering,
    penalised ? scratch.bias.subarray(0, n) : null,
  );
  let r = ctx.rng.next();
  let pick = -1;
  for (let j = 0; j < n && pick < 0; j++) if (p[j] > 0 && (r -= p[j]) < 0) pick = j;
  // Rounding can leave r a hair above 0 after the last option: take the last one kept.
  if (pick < 0) for (let j = n - 1; j >= 0 && pick < 0; j--) if (p[j] > 0) pick = j;
  const option = set ? set[cand[pick]] : cand[pick];
  return { option, logProb: z[cand[pick]] - logZ };
}

/**
 * Generates `length` songs after the seed (SPEC §5.2); the result starts with the seed.
 * Options must already be resolved (resolveGenerateOptions); a catalogue with fewer available
 * songs than `length` is an InputError on length.
 */
export function sampleTracklist(
  inputs: GenerationInputs,
  o: Pick<
    ResolvedGenerateOptions,
    'seedSong' | 'length' | 'temperature' | 'userWeighting' | 'thresholds' | 'rngSeed'
  > &
    Partial<Pick<ResolvedGenerateOptions, 'prefix' | 'exclude' | 'steering' | 'artistRepeatPenalty' | 'warmStart' | 'adventurousness' | 'clusterFlow'>>,
): GeneratedSong[] {
  const { model, songScores: S, userScores: U } = inputs;
  const prefix = o.prefix ?? [];
  const rng = new Random(o.rngSeed);
  const w = U ? o.userWeighting : 0;
  const avail = Availability.initial(model, inputs.blocked);
  avail.use(o.seedSong);
  for (const s of prefix) avail.use(s);
  for (const s of o.exclude ?? []) avail.use(s);
  const toChoose = o.length - prefix.length;
  if (avail.total < toChoose)
    throw new InputError(
      `length ${o.length} exceeds the ${avail.total + prefix.length} songs this model can still choose`,
      'length',
    );

  // Cluster scores over the songs available at the start, combined per option.
  const atStart = avail.song.slice();
  const clusters = new ClusterScores(model, U ? [S, U] : [S], atStart);
  const clusterWeighted = (level: 'l3' | 'l2' | 'l1', option: number): number =>
    weightedScore(U ? clusters.get(level, option, 1) : 0, clusters.get(level, option, 0), w);
  const penalty = o.artistRepeatPenalty ?? LIMITS.artistRepeatPenalty.default;
  const songArtists = penalty > 0 ? (inputs.songArtists ?? null) : null;
  if (penalty > 0 && !songArtists) throw new Error('generate: artistRepeatPenalty needs the song credits');
  const ctx: LevelContext = {
    clusterWeighted,
    songScores: S,
    userScores: U,
    userWeighting: w,
    temperature: o.temperature,
    thresholds: o.thresholds,
    steering: o.steering ?? LIMITS.steering.default,
    repeatLogit: songArtists ? Math.log(1 - penalty) : 0,
    songArtists,
    artistsPlayed: songArtists ? new Uint8Array(songArtists.cols) : null,
    flow: FLOW_AT_ZERO * (1 - (o.adventurousness ?? LIMITS.adventurousness.default)),
    clusterFlow: 0,
    centroids: null,
    songSimilarity: inputs.songSimilarity ?? null,
    previous: -1,
    rng,
  };
  if (ctx.flow > 0 && !ctx.songSimilarity) throw new Error('generate: adventurousness needs the song-similarity rows');
  ctx.clusterFlow = ctx.flow * (o.clusterFlow ?? 0);
  if (ctx.clusterFlow > 0) ctx.centroids = clusterCentroids(model, ctx.songSimilarity!);
  const played = (song: number) => {
    if (!songArtists) return;
    for (let q = songArtists.indptr[song]; q < songArtists.indptr[song + 1]; q++) ctx.artistsPlayed![songArtists.indices[q]] = 1;
  };
  const warmStart = o.warmStart ?? WARM_START;
  const entry = (song: number, logProb: GeneratedSong['logProb']): GeneratedSong => ({
    song,
    userScore: U ? U[song] : 0,
    songScore: S[song],
    logProb,
  });

  let state = model.startState(inputs.context);
  const out: GeneratedSong[] = [entry(o.seedSong, pathLogProbs(model, state, o.seedSong))];
  state = model.step(state, o.seedSong);
  played(o.seedSong);
  for (const s of prefix) {
    out.push(entry(s, pathLogProbs(model, state, s)));
    state = model.step(state, s);
    played(s);
  }
  // Warm start: one ranking by song × user^log2(1+w) serves both picks (the top 10 + 1, so the
  // second pick still has 10 to choose from after the first is taken).
  const exponent = Math.log2(1 + w);
  const warm = new TopK(WARM_TOP + Math.max(0, warmStart - 1));
  let floor = -Infinity;
  if (prefix.length < warmStart && toChoose > 0)
    for (let s = 0; s < model.songs; s++) {
      if (!avail.song[s]) continue;
      const x = U ? (exponent === 1 ? S[s] * U[s] : S[s] * Math.pow(U[s], exponent)) : S[s];
      // Indices ascend, so a score equal to the worst kept one ranks below it: only more enters.
      if (x <= floor) continue;
      warm.push(s, x);
      floor = warm.floor;
    }
  const ranked = Array.from(warm.sorted());
  for (let i = prefix.length; i < o.length; i++) {
    let song: number;
    let logProb: GeneratedSong['logProb'];
    if (i < warmStart) {
      const top = ranked.filter((s) => avail.song[s] === 1).slice(0, WARM_TOP);
      song = top[rng.int(top.length)];
      logProb = pathLogProbs(model, state, song);
    } else {
      ctx.previous = out[out.length - 1].song;
      const l3 = sampleLevel(model, 'l3', state, -1, avail, ctx);
      const l2 = sampleLevel(model, 'l2', state, l3.option, avail, ctx);
      const l1 = sampleLevel(model, 'l1', state, l2.option, avail, ctx);
      const s = sampleLevel(model, 'song', state, l1.option, avail, ctx);
      song = s.option;
      logProb = { l3: l3.logProb, l2: l2.logProb, l1: l1.logProb, song: s.logProb };
    }
    avail.use(song);
    played(song);
    out.push(entry(song, logProb));
    if (i + 1 < o.length) state = model.step(state, song);
  }
  return out;
}
