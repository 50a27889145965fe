import { LIMITS } from '../../limits.ts';
import { InputError } from '../../util/errors.ts';
import type { Like } from '../coldStart.ts';

/** A generation request's options (SPEC §5.2): checked, defaulted, and the model's tuned defaults. */

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

/** The tuned knobs' values for a model without its own: LIMITS' defaults, cluster flow off. */
export const GLOBAL_GENERATION_DEFAULTS: Readonly<Required<GenerationDefaults>> = {
  temperature: [...LIMITS.temperature.default],
  adventurousness: LIMITS.adventurousness.default,
  clusterFlow: 0,
  artistRepeatPenalty: LIMITS.artistRepeatPenalty.default,
};

/** The request with the model's defaults filled in where it leaves a tuned knob out. */
export function withModelDefaults(o: GenerateOptions, defaults: GenerationDefaults): GenerateOptions {
  const filled: GenerateOptions = { ...o };
  for (const key of TUNED_OPTIONS) if (filled[key] === undefined && defaults[key] !== undefined) Object.assign(filled, { [key]: defaults[key] });
  return filled;
}

/** The defaults of every knob of the public generation request. */
export interface PublicGenerationDefaults {
  length: number;
  temperature: number[];
  thresholds: number[];
  userWeighting: number;
  steering: number;
  adventurousness: number;
  artistRepeatPenalty: number;
}

/** What a request gets for every public knob it leaves out: LIMITS, with a model's tuned values in place. */
export function publicGenerationDefaults(own: GenerationDefaults): PublicGenerationDefaults {
  return {
    length: LIMITS.length.default,
    temperature: [...(own.temperature ?? GLOBAL_GENERATION_DEFAULTS.temperature)],
    thresholds: [...LIMITS.thresholds.default],
    userWeighting: LIMITS.userWeighting.default,
    steering: LIMITS.steering.default,
    adventurousness: own.adventurousness ?? GLOBAL_GENERATION_DEFAULTS.adventurousness,
    artistRepeatPenalty: own.artistRepeatPenalty ?? GLOBAL_GENERATION_DEFAULTS.artistRepeatPenalty,
  };
}

/** The public knobs a model's defaults move off LIMITS' (a tuned value equal to LIMITS' is no news). */
export function movedPublicKnobs(own: GenerationDefaults): (keyof PublicGenerationDefaults)[] {
  const mine = publicGenerationDefaults(own);
  const global = publicGenerationDefaults({});
  return (Object.keys(mine) as (keyof PublicGenerationDefaults)[]).filter((k) => JSON.stringify(mine[k]) !== JSON.stringify(global[k]));
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

export const WARM_START = 0;
const MAX_WARM_START = 10;
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
  const clusterFlow = o.clusterFlow ?? GLOBAL_GENERATION_DEFAULTS.clusterFlow;
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
