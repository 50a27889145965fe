import { LIMITS } from '../limits.ts';
import { InputError } from '../util/errors.ts';
import { Random } from '../util/random.ts';
import { TopK } from '../util/topK.ts';
import type { Csr } from '../graph/csr.ts';
import { RowMatrix } from './rowMatrix.ts';
import type { Like } from './coldStart.ts';
import type { Level, LstmState, SequenceContext, TracklistModel } from './tracklistInference.ts';

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

export interface GenerateOptions {
  seedSong: number;
  dj?: number;
  likes?: Like[];
  length?: number;
  temperature?: number[];
  userWeighting?: number;
  thresholds?: number[];
  rngSeed?: number;
  /**
   * Songs that follow the seed as given (fed to the model like the seed, then generation goes on):
   * re-rolling position i keeps positions 1..i-1 fixed.
   */
  prefix?: number[];
  /** Songs that must not be chosen (e.g. the rest of a list whose one position is re-rolled). */
  exclude?: number[];
  /** See LIMITS.steering. */
  steering?: number;
  /** See LIMITS.artistRepeatPenalty. */
  artistRepeatPenalty?: number;
  /** Songs after the seed drawn from the top of the seed × taste ranking before the model takes over (default 0, see the module comment; not in the public API). */
  warmStart?: number;
  /** See LIMITS.adventurousness. */
  adventurousness?: number;
  /** The flow bias at the cluster levels as a share of the song level's (default 0; not in the public API). */
  clusterFlow?: number;
}

/** The knobs training tunes per model (training/tracklist/tuneGeneration.ts). */
export const TUNED_OPTIONS = ['temperature', 'adventurousness', 'clusterFlow', 'artistRepeatPenalty'] as const;
/** A model's own defaults for the tuned knobs, stored in its tracklist artifact; a request's values win. */
export type GenerationDefaults = Partial<Pick<GenerateOptions, (typeof TUNED_OPTIONS)[number]>>;

/** The request with the model's defaults filled in where it leaves a tuned knob out. */
export function withModelDefaults(o: GenerateOptions, defaults: GenerationDefaults): GenerateOptions {
  const filled: GenerateOptions = { ...o };
  for (const key of TUNED_OPTIONS) if (filled[key] === undefined && defaults[key] !== undefined) Object.assign(filled, { [key]: defaults[key] });
  return filled;
}

/** Stored defaults checked as a request would be: an InputError names the knob that is out of range. */
export function checkGenerationDefaults(x: unknown): GenerationDefaults {
  if (x === undefined || x === null) return {};
  if (typeof x !== 'object' || Array.isArray(x)) throw new InputError('generation defaults must be an object', 'generationDefaults');
  const defaults: GenerationDefaults = {};
  for (const [key, value] of Object.entries(x)) {
    if (!(TUNED_OPTIONS as readonly string[]).includes(key)) throw new InputError(`generation defaults: unknown knob ${key}`, key);
    (defaults as Record<string, unknown>)[key] = value;
  }
  resolveGenerateOptions({ seedSong: 0, ...defaults }, { songs: 1, djs: 0 });
  return defaults;
}

export interface GeneratedSong {
  song: number;
  userScore: number;
  songScore: number;
  logProb: { l3: number; l2: number; l1: number; song: number };
}

const WARM_START = 0;
const MAX_WARM_START = 10;
const WARM_TOP = 10;
const CLUSTER_TOP = 15;
const MAX_LOGIT = Math.log(1000);
/**
 * Song-level logit bias per unit of cosine to the previous song at adventurousness 0 (it falls
 * linearly to none at 1): the ablation of bench/generation.ts put real-like scene changes near 5.
 */
const FLOW_AT_ZERO = 10;
const MAX_CLUSTER_FLOW = 4;

/** Validated options with defaults filled in. */
export interface ResolvedGenerateOptions {
  seedSong: number;
  dj: number | null;
  likes: Like[] | null;
  length: number;
  temperature: [number, number, number];
  userWeighting: number;
  thresholds: [number, number, number, number];
  rngSeed: number;
  prefix: number[];
  exclude: number[];
  steering: number;
  artistRepeatPenalty: number;
  warmStart: number;
  adventurousness: number;
  clusterFlow: number;
}

function isIndex(x: unknown, n: number): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < n;
}

function numbers(x: unknown, count: number, field: string, lo: number, hi: number, what: string): number[] {
  if (
    !Array.isArray(x) ||
    x.length !== count ||
    !x.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi)
  )
    throw new InputError(`${field} must be ${count} numbers, ${what}`, field);
  return x as number[];
}

/** Checks every argument (InputError naming it) and fills defaults. */
export function resolveGenerateOptions(
  o: GenerateOptions,
  counts: { songs: number; djs: number },
): ResolvedGenerateOptions {
  if (o === null || typeof o !== 'object') throw new InputError('options must be an object', 'options');
  if (!isIndex(o.seedSong, counts.songs))
    throw new InputError(`seedSong must be a song index in [0, ${counts.songs})`, 'seedSong');
  if (o.dj !== undefined && !isIndex(o.dj, counts.djs))
    throw new InputError(`dj must be a DJ index in [0, ${counts.djs})`, 'dj');
  if (o.likes !== undefined) {
    if (o.dj !== undefined) throw new InputError('give either dj or likes, not both', 'likes');
    checkLikes(o.likes, counts.songs);
  }
  const { length: L, temperature: T, thresholds: H, userWeighting: W, rngSeed: R } = LIMITS;
  const length = o.length ?? L.default;
  if (!(Number.isInteger(length) && length >= L.min && length <= L.max))
    throw new InputError(`length must be an integer from ${L.min} to ${L.max}`, 'length');
  const temperature = numbers(
    o.temperature ?? T.default,
    T.count,
    'temperature',
    T.min,
    T.max,
    `one per cluster level (l3, l2, l1), each in [${T.min}, ${T.max}]`,
  );
  const thresholds = numbers(
    o.thresholds ?? H.default,
    H.count,
    'thresholds',
    H.min,
    H.below,
    `one per level (l3, l2, l1, song), each in [${H.min}, ${H.below})`,
  );
  if (thresholds.some((t) => t >= H.below))
    throw new InputError(`thresholds must each be below ${H.below}`, 'thresholds');
  const w = o.userWeighting ?? W.default;
  if (!(typeof w === 'number' && Number.isFinite(w) && w >= W.min && w <= W.max))
    throw new InputError(`userWeighting must be a number from ${W.min} to ${W.max}`, 'userWeighting');
  const rngSeed = o.rngSeed ?? Math.floor(Math.random() * 2 ** 32);
  if (!(Number.isInteger(rngSeed) && rngSeed >= R.min && rngSeed <= R.max))
    throw new InputError(`rngSeed must be an integer from ${R.min} to ${R.max}`, 'rngSeed');
  const prefix = songList(o.prefix, 'prefix', counts.songs);
  if (prefix.length > length)
    throw new InputError(`prefix holds ${prefix.length} songs, more than length ${length}`, 'prefix');
  const exclude = songList(o.exclude, 'exclude', counts.songs);
  const fixed = [o.seedSong, ...prefix];
  if (new Set(fixed).size < fixed.length)
    throw new InputError('prefix repeats a song (or the seed)', 'prefix');
  const steering = within(o.steering, LIMITS.steering, 'steering');
  const artistRepeatPenalty = within(o.artistRepeatPenalty, LIMITS.artistRepeatPenalty, 'artistRepeatPenalty');
  const adventurousness = within(o.adventurousness, LIMITS.adventurousness, 'adventurousness');
  const clusterFlow = o.clusterFlow ?? 0;
  if (!(typeof clusterFlow === 'number' && Number.isFinite(clusterFlow) && clusterFlow >= 0 && clusterFlow <= MAX_CLUSTER_FLOW))
    throw new InputError(`clusterFlow must be a number from 0 to ${MAX_CLUSTER_FLOW}`, 'clusterFlow');
  const warmStart = o.warmStart ?? WARM_START;
  if (!(Number.isInteger(warmStart) && warmStart >= 0 && warmStart <= MAX_WARM_START))
    throw new InputError(`warmStart must be an integer from 0 to ${MAX_WARM_START}`, 'warmStart');
  const excluded = new Set(exclude);
  const both = fixed.find((s) => excluded.has(s));
  if (both !== undefined) throw new InputError(`song ${both} is both in the list and excluded`, 'exclude');
  return {
    seedSong: o.seedSong,
    dj: o.dj ?? null,
    likes: o.likes ?? null,
    length,
    temperature: temperature as [number, number, number],
    userWeighting: w,
    thresholds: thresholds as [number, number, number, number],
    rngSeed,
    prefix,
    exclude,
    steering,
    artistRepeatPenalty,
    warmStart,
    adventurousness,
    clusterFlow,
  };
}

function within(x: number | undefined, limit: { min: number; max: number; default: number }, field: string): number {
  const v = x ?? limit.default;
  if (!(typeof v === 'number' && Number.isFinite(v) && v >= limit.min && v <= limit.max))
    throw new InputError(`${field} must be a number from ${limit.min} to ${limit.max}`, field);
  return v;
}

function songList(x: unknown, field: string, songs: number): number[] {
  if (x === undefined) return [];
  if (!Array.isArray(x) || !x.every((s) => isIndex(s, songs)))
    throw new InputError(`${field} must be an array of song indices in [0, ${songs})`, field);
  if (x.length > LIMITS.tracklistSongs)
    throw new InputError(`${field} holds more than ${LIMITS.tracklistSongs} songs`, field);
  return x as number[];
}

/** Like lists: at most LIMITS.likes entries of { song: index, score in [0, 1] }. */
export function checkLikes(likes: unknown, songs: number): asserts likes is Like[] {
  if (!Array.isArray(likes)) throw new InputError('likes must be an array of { song, score }', 'likes');
  if (likes.length > LIMITS.likes)
    throw new InputError(`likes holds ${likes.length} songs, at most ${LIMITS.likes} are allowed`, 'likes');
  likes.forEach((l: unknown, i) => {
    const like = l as Partial<Like> | null;
    if (like === null || typeof like !== 'object' || !isIndex(like.song, songs))
      throw new InputError(`likes[${i}].song must be a song index in [0, ${songs})`, 'likes');
    if (!(typeof like.score === 'number' && like.score >= 0 && like.score <= 1))
      throw new InputError(`likes[${i}].score must be a number in [0, 1]`, 'likes');
  });
}

/** Min-max scales scores into [0, 1] (all 1 when they are all equal). */
export function minMaxScale(
  x: ArrayLike<number>,
  out: Float32Array = new Float32Array(x.length),
): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
  }
  const span = hi - lo;
  if (!(span > 0)) return out.fill(1, 0, x.length);
  for (let i = 0; i < x.length; i++) out[i] = (x[i] - lo) / span;
  return out;
}

/** How cluster scores are computed: every level from one pass (large level-1 clusters) or per cluster on demand. */
export type ClusterScoreStrategy = 'eager' | 'lazy';

/** Level-1 clusters at least this large on average make one eager pass cheaper than per-cluster scans. */
const EAGER_MIN_CLUSTER = 150;

/**
 * Cluster scores for song-score vectors (the seed similarity, the taste): the mean of the top k
 * scores of the available songs of a cluster, kept for the request. A request needs every
 * level-3 cluster but only a few dozen level-2 and level-1 ones. With large level-1 clusters
 * (a trained model's DMoN leaves a few dozen) one pass over the songs fills every level-1 top
 * list and the levels above merge their children's lists; with many small ones (where most
 * songs would enter a list) one pass fills level 3 and the others scan their songs on demand.
 */
export class ClusterScores {
  private readonly model: TracklistModel;
  private readonly vectors: readonly ArrayLike<number>[];
  private readonly available: Uint8Array;
  private readonly k: number;
  private readonly strategy: ClusterScoreStrategy;
  /** Per vector, per level: the score, NaN until computed. */
  private readonly memo: Record<'l3' | 'l2' | 'l1', Float64Array>[];
  private readonly top: Float64Array;

  /** `available` is read lazily: pass a snapshot that does not change during the request. */
  constructor(
    model: TracklistModel,
    vectors: readonly ArrayLike<number>[],
    available: Uint8Array,
    k = CLUSTER_TOP,
    strategy: ClusterScoreStrategy = model.songs / model.sizes.l1 >= EAGER_MIN_CLUSTER ? 'eager' : 'lazy',
  ) {
    this.model = model;
    this.vectors = vectors;
    this.available = available;
    this.k = k;
    this.strategy = strategy;
    const { l3, l2, l1 } = model.sizes;
    this.memo = vectors.map(() => ({
      l3: new Float64Array(l3).fill(NaN),
      l2: new Float64Array(l2).fill(NaN),
      l1: new Float64Array(l1).fill(NaN),
    }));
    this.top = new Float64Array(k);
  }

  /** The score of a cluster for vector `which` (its index in the constructor's list). */
  get(level: 'l3' | 'l2' | 'l1', cluster: number, which = 0): number {
    const memo = this.memo[which][level];
    if (memo[cluster] === memo[cluster]) return memo[cluster];
    if (this.strategy === 'eager') {
      this.fillAll();
      return memo[cluster];
    }
    if (level === 'l3') {
      this.fillLevel3();
      return memo[cluster];
    }
    const { start, items } = this.model.songsIn[level];
    const { available, top, k } = this;
    const scores = this.vectors[which];
    let size = 0;
    for (let p = start[cluster]; p < start[cluster + 1]; p++) {
      const s = items[p];
      // Once full, most songs fail the first comparison.
      if (available[s] === 0 || (size === k && scores[s] <= top[k - 1])) continue;
      size = insertDescending(top, 0, size, k, scores[s]);
    }
    return (memo[cluster] = meanOf(top, 0, size));
  }

  /**
   * Top-k lists per cluster of one level for every vector, from one pass over the songs in index
   * order (clusterOf: the song's cluster at that level).
   */
  private topLists(clusterOf: Int32Array, clusters: number): { top: Float64Array; size: Int32Array }[] {
    const { available, k } = this;
    return this.vectors.map((scores) => {
      const top = new Float64Array(clusters * k);
      const size = new Int32Array(clusters);
      // The smallest kept score per full cluster, so most songs fail one comparison.
      const floor = new Float64Array(clusters).fill(-Infinity);
      for (let s = 0; s < available.length; s++) {
        const x = scores[s];
        const c = clusterOf[s];
        if (x <= floor[c] || available[s] === 0) continue;
        size[c] = insertDescending(top, c * k, size[c], k, x);
        if (size[c] === k) floor[c] = top[c * k + k - 1];
      }
      return { top, size };
    });
  }

  /** Every level-3 cluster at once (a request needs them all). */
  private fillLevel3(): void {
    const clusters = this.model.sizes.l3;
    this.topLists(this.model.l3OfSong, clusters).forEach(({ top, size }, v) => {
      const memo = this.memo[v].l3;
      for (let c = 0; c < clusters; c++) memo[c] = meanOf(top, c * this.k, size[c]);
    });
  }

  /** Every cluster of every level: level-1 lists from one pass, each level above merging its children's. */
  private fillAll(): void {
    const { model, k } = this;
    this.topLists(model.parent.song, model.sizes.l1).forEach((lists, v) => {
      let below = lists;
      for (const [level, parentOf] of [['l1', null], ['l2', model.parent.l1], ['l3', model.parent.l2]] as const) {
        const clusters = model.sizes[level];
        if (parentOf) {
          const merged = { top: new Float64Array(clusters * k), size: new Int32Array(clusters) };
          for (let c = 0; c < parentOf.length; c++) {
            const p = parentOf[c];
            for (let i = 0; i < below.size[c]; i++) {
              const x = below.top[c * k + i];
              // Children's lists are descending: the rest cannot enter a full list either.
              if (merged.size[p] === k && x <= merged.top[p * k + k - 1]) break;
              merged.size[p] = insertDescending(merged.top, p * k, merged.size[p], k, x);
            }
          }
          below = merged;
        }
        const memo = this.memo[v][level];
        for (let c = 0; c < clusters; c++) memo[c] = meanOf(below.top, c * k, below.size[c]);
      }
    });
  }
}

/**
 * Inserts v into the descending list top[o, o + size) capped at k entries (the smallest falls
 * off when full); returns the new size.
 */
function insertDescending(top: Float64Array, o: number, size: number, k: number, v: number): number {
  let j = size < k ? size++ : k - 1;
  while (j > 0 && top[o + j - 1] < v) {
    top[o + j] = top[o + j - 1];
    j--;
  }
  top[o + j] = v;
  return size;
}

function meanOf(values: Float64Array, o: number, size: number): number {
  let sum = 0;
  for (let i = 0; i < size; i++) sum += values[o + i];
  return size > 0 ? sum / size : 0;
}

/** Every cluster's score at each level (ClusterScores evaluated everywhere). */
export function clusterScores(
  model: TracklistModel,
  scores: ArrayLike<number>,
  available: Uint8Array,
  k = CLUSTER_TOP,
  strategy?: ClusterScoreStrategy,
): Record<'l3' | 'l2' | 'l1', Float64Array> {
  const c = new ClusterScores(model, [scores], available, k, strategy);
  const all = (level: 'l3' | 'l2' | 'l1') =>
    Float64Array.from({ length: model.sizes[level] }, (_, i) => c.get(level, i));
  return { l3: all('l3'), l2: all('l2'), l1: all('l1') };
}

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

/** Availability of songs and of clusters (count of available songs below each). */
class Availability {
  readonly song: Uint8Array;
  readonly count: Record<'l3' | 'l2' | 'l1', Int32Array>;
  total: number;
  private readonly model: TracklistModel;

  /** A copy of the state with only `blocked` unavailable (counted once per model and blocked set). */
  static initial(model: TracklistModel, blocked: Uint8Array): Availability {
    let perModel = initialAvailability.get(model);
    if (!perModel) initialAvailability.set(model, (perModel = new WeakMap()));
    let base = perModel.get(blocked);
    if (!base) perModel.set(blocked, (base = new Availability(model, blocked)));
    return new Availability(model, base);
  }

  private constructor(model: TracklistModel, from: Uint8Array | Availability) {
    this.model = model;
    if (from instanceof Availability) {
      this.song = from.song.slice();
      this.count = { l3: from.count.l3.slice(), l2: from.count.l2.slice(), l1: from.count.l1.slice() };
      this.total = from.total;
      return;
    }
    const blocked = from;
    const { song: l1Of, l1: l2Of, l2: l3Of } = model.parent;
    this.song = new Uint8Array(model.songs);
    this.total = 0;
    const c1 = new Int32Array(model.sizes.l1);
    for (let s = 0; s < model.songs; s++) {
      if (blocked[s]) continue;
      this.song[s] = 1;
      this.total++;
      c1[l1Of[s]]++;
    }
    const c2 = new Int32Array(model.sizes.l2);
    for (let c = 0; c < c1.length; c++) c2[l2Of[c]] += c1[c];
    const c3 = new Int32Array(model.sizes.l3);
    for (let c = 0; c < c2.length; c++) c3[l3Of[c]] += c2[c];
    this.count = { l3: c3, l2: c2, l1: c1 };
  }

  use(s: number): void {
    if (!this.song[s]) return;
    this.song[s] = 0;
    this.total--;
    const { song: l1Of, l1: l2Of, l2: l3Of } = this.model.parent;
    const l1 = l1Of[s];
    this.count.l1[l1]--;
    this.count.l2[l2Of[l1]]--;
    this.count.l3[l3Of[l2Of[l1]]]--;
  }

  has(level: Level, option: number): boolean {
    return level === 'song' ? this.song[option] === 1 : this.count[level][option] > 0;
  }
}

/** Availability before a request, per model and blocked set (the serving model's is fixed). */
const initialAvailability = new WeakMap<TracklistModel, WeakMap<Uint8Array, Availability>>();

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

/** exp(logit − shift) for each option, as the caller's softmax normaliser already computed them. */
export interface ExpLogits {
  values: ArrayLike<number>;
  shift: number;
}

/**
 * The sampling distribution at one level (SPEC §5.2 step 4) over the candidate options, from the
 * model's logits and the options' weighted scores (w·user³ + song³)/(1 + w): logits × temperature,
 * shifted so the largest is ln 1000, each multiplied by its min-max-scaled score f (or by
 * 1 − steering + steering·f) but never increased (min(x, x·f)), softmax, options at or below the
 * threshold zeroed (the most likely always stays), renormalised.
 */
export function adjustedProbabilities(
  logits: ArrayLike<number>,
  weighted: ArrayLike<number>,
  temperature: number,
  threshold: number,
  out?: Float64Array,
  expLogits?: ExpLogits,
  steering = 1,
  bias?: ArrayLike<number> | null,
): Float64Array {
  const n = logits.length;
  let xMax = -Infinity;
  let fLo = Infinity;
  let fHi = -Infinity;
  for (let j = 0; j < n; j++) {
    xMax = Math.max(xMax, logits[j] * temperature);
    fLo = Math.min(fLo, weighted[j]);
    fHi = Math.max(fHi, weighted[j]);
  }
  const p = out ? out.subarray(0, n) : new Float64Array(n);
  let aMax = -Infinity;
  for (let j = 0; j < n; j++) {
    const x = logits[j] * temperature - (xMax - MAX_LOGIT);
    // steering < 1 moves the factor towards 1: the model's own preference counts more.
    const f = 1 - steering + steering * (fHi > fLo ? (weighted[j] - fLo) / (fHi - fLo) : 1);
    // A bias (the artist-repeat penalty) multiplies the option's final odds, whatever f is.
    p[j] = Math.min(x, x * f) + (bias ? bias[j] : 0);
    aMax = Math.max(aMax, p[j]);
  }
  // An option whose adjusted value is its shifted logit (x ≤ 0 or f = 1: most of a large set)
  // reuses exp(logit − shift) from the caller's normaliser, times one common factor.
  const shift = xMax - MAX_LOGIT;
  const factor = expLogits && temperature === 1 ? Math.exp(expLogits.shift - shift - aMax) : NaN;
  // Outside this range the reused values could have under- or overflowed where a direct exp does not.
  const reuse = factor > 1e-100 && factor < 1e100;
  let sum = 0;
  let best = 0;
  for (let j = 0; j < n; j++) {
    sum += p[j] = reuse && p[j] === logits[j] - shift ? expLogits!.values[j] * factor : Math.exp(p[j] - aMax);
    if (p[j] > p[best]) best = j;
  }
  let kept = 0;
  for (let j = 0; j < n; j++) {
    if (j !== best && p[j] / sum <= threshold) p[j] = 0;
    kept += p[j];
  }
  for (let j = 0; j < n; j++) p[j] /= kept;
  return p;
}

/** An option's weighted score from its user and song scores: (w·user³ + song³)/(1 + w). */
function weightedScore(user: number, song: number, w: number): number {
  return (w * user * user * user + song * song * song) / (1 + w);
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

/** Scratch for a level's candidates. */
interface LevelScratch {
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

/**
 * Level scratch per model, kept across requests: generation is synchronous, so one request uses
 * it at a time, and a request no longer allocates six set-sized arrays.
 */
const levelScratches = new WeakMap<TracklistModel, LevelScratch>();

/** The model's level scratch, grown to hold `size` options. */
function levelScratchFor(model: TracklistModel, size: number): LevelScratch {
  let scratch = levelScratches.get(model);
  if (!scratch || scratch.candidates.length < size) levelScratches.set(model, (scratch = levelScratch(Math.max(size, 64))));
  return scratch;
}

function levelScratch(size: number): LevelScratch {
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

/** Row a of m · row b of n (same width): a cosine for unit rows. */
function rowDot(m: RowMatrix, a: number, n: RowMatrix, b: number): number {
  const w = m.width;
  const p = m.data;
  const q = n.data;
  let dot = 0;
  for (let k = 0, x = a * w, y = b * w; k < w; k++) dot += p[x + k] * q[y + k];
  return dot;
}

const centroidCache = new WeakMap<RowMatrix, { model: TracklistModel; centroids: Record<'l3' | 'l2' | 'l1', RowMatrix> }>();

/** Each cluster's unit mean direction of its songs' similarity rows, per level (cached per model). */
function clusterCentroids(model: TracklistModel, sim: RowMatrix): Record<'l3' | 'l2' | 'l1', RowMatrix> {
  const hit = centroidCache.get(sim);
  if (hit && hit.model === model) return hit.centroids;
  const w = sim.width;
  const centroids = {} as Record<'l3' | 'l2' | 'l1', RowMatrix>;
  for (const level of ['l3', 'l2', 'l1'] as const) {
    const c = new Float32Array(model.sizes[level] * w);
    for (let s = 0; s < model.songs; s++) {
      const o = model.path(s)[level] * w;
      for (let k = 0; k < w; k++) c[o + k] += sim.data[s * w + k];
    }
    for (let o = 0; o < model.sizes[level]; o++) {
      let norm = 0;
      for (let k = 0; k < w; k++) norm += c[o * w + k] ** 2;
      const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let k = 0; k < w; k++) c[o * w + k] *= scale;
    }
    centroids[level] = new RowMatrix(c, w, 'ts');
  }
  centroidCache.set(sim, { model, centroids });
  return centroids;
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
  const scratch = levelScratchFor(model, count);
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
