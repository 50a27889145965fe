/**
 * The synthetic corpus's set process, written once and used both ways: the generator samples
 * sets from it (synth.ts) and the oracle computes the exact next-song distribution under it.
 *
 * Process for one set with DJs D and date t (day number):
 *   L ~ lengthPmf (independent of content); scene_1 ~ taste(D);
 *   scene_{k+1} | scene_k: stay (pStay), a sibling scene in the same subgenre (pSibling, uniform),
 *     or a jump drawn from taste(D) (pJump);
 *   at position k: `ID - ID` (pIdGap), `Artist - ID` (pArtistGap, artist ~ gapArtists(scene_k)),
 *     else a song of scene_k ∝ weight(song | D, t), excluding songs already played in the set;
 *     if scene_k has no playable song left, the position becomes `ID - ID`.
 * The hidden state is the scene; a song reveals it, gaps are filtered through exactly (Bayes).
 */
import { InputError } from '../util/errors.ts';
import type { Random } from '../util/random.ts';
import { readTruthFile } from './truthFile.ts';
import type { RawTrack } from './types.ts';

export const ID_GAP = 'ID - ID';
const ARTIST_GAP_SUFFIX = ' - ID';

export interface SynthParams {
  pStay: number;
  pSibling: number;
  pJump: number;
  pIdGap: number;
  pArtistGap: number;
  /** P(L = n) at index n; set lengths are independent of content. */
  lengthPmf: number[];
  /** Multiplier for songs credited to one of the set's DJs. */
  ownBoost: number;
  /** Each (DJ, song) pair is a favourite with this probability (hash-decided), weight × favBoost. */
  favProb: number;
  favBoost: number;
  favSalt: number;
  /** weight × (1 + recencyBoost · exp(−age / recencyDays)), age = set day − release day. */
  recencyBoost: number;
  recencyDays: number;
  /** Gap artists of sibling scenes count with this factor in gapArtists(scene). */
  gapSiblingFactor: number;
}

export interface SynthDj {
  name: string;
  /** Index into artists when the DJ also produces, else −1. */
  artist: number;
  /** Sparse taste over scenes: [scene, weight] with weights summing to 1. */
  taste: [number, number][];
}

/** Ground truth written beside a synthetic corpus (`<corpus>.truth.json`). */
export interface SynthTruth {
  version: 1;
  profile: string;
  seed: number;
  params: SynthParams;
  genres: string[];
  /** Per subgenre: [name, genre]. */
  subgenres: [string, number][];
  /** Per scene: [name, subgenre]. */
  scenes: [string, number][];
  /** Song strings exactly as written in the corpus; index = song id. */
  songs: string[];
  songScene: number[];
  songPop: number[];
  /** Release day (days since 1970-01-01, UTC). */
  songRelease: number[];
  /** Every artist credited on the song (any role). */
  songCredits: number[][];
  artists: string[];
  /** Home scene of each artist. */
  artistScene: number[];
  /** How likely the artist is to be named in an `Artist - ID` gap of its scene. */
  artistGapWeight: number[];
  djs: SynthDj[];
  /** Song string → [scene, subgenre, genre]. */
  songCluster: Record<string, [number, number, number]>;
}

export type Emission = { kind: 'song'; song: number } | { kind: 'id' } | { kind: 'artist'; artist: number };

export function dayNumber(date: string): number {
  return Math.floor(Date.parse(date) / 86_400_000);
}

export function dayString(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

/** Deterministic uniform in [0, 1) for a (DJ, song) pair: favourites need no stored table. */
export function pairHash(dj: number, song: number, salt: number): number {
  let h = Math.imul(dj + 1, 0x9e3779b1) ^ Math.imul(song + 1, 0x85ebca77) ^ salt;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Index of the first cumulative value > r (cum is non-decreasing). */
function searchCum(cum: Float64Array, r: number): number {
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid] > r) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Indexes over a truth shared by all sets: scene members, siblings, gap artists, DJ credits. */
export class SynthModel {
  readonly truth: SynthTruth;
  readonly params: SynthParams;
  readonly nScenes: number;
  /** Songs of each scene, ordered by release day (so the released ones form a prefix). */
  readonly sceneSongs: Int32Array[];
  /** Release days aligned with sceneSongs, and each song's index in its scene's list. */
  readonly sceneRelease: Int32Array[];
  readonly songPos: Int32Array;
  /** Scenes of each subgenre. */
  readonly subScenes: number[][];
  readonly sceneSub: Int32Array;
  /** Gap artists per scene with cumulative weights, and the per-artist probability q(a | scene). */
  readonly gapArtists: Int32Array[];
  readonly gapCum: Float64Array[];
  private readonly gapProb: Map<number, number>[];
  /** Songs crediting each DJ's artist. */
  readonly djOwn: Set<number>[];
  private readonly songIndex = new Map<string, number>();
  private readonly artistIndex = new Map<string, number>();
  private readonly djIndex = new Map<string, number>();
  /** P(L ≥ n). */
  readonly lengthSurvival: Float64Array;

  constructor(truth: SynthTruth) {
    this.truth = truth;
    this.params = truth.params;
    const p = truth.params;
    const total = p.pStay + p.pSibling + p.pJump;
    if (Math.abs(total - 1) > 1e-9)
      throw new InputError(`synth truth: pStay + pSibling + pJump = ${total}, not 1`);
    const nScenes = (this.nScenes = truth.scenes.length);
    this.sceneSub = Int32Array.from(truth.scenes, (s) => s[1]);
    this.subScenes = truth.subgenres.map(() => []);
    for (let s = 0; s < nScenes; s++) this.subScenes[this.sceneSub[s]].push(s);

    const members: number[][] = Array.from({ length: nScenes }, () => []);
    for (let i = 0; i < truth.songs.length; i++) {
      members[truth.songScene[i]].push(i);
      this.songIndex.set(truth.songs[i], i);
    }
    const rel = truth.songRelease;
    this.songPos = new Int32Array(truth.songs.length);
    this.sceneSongs = members.map((m) => Int32Array.from(m.sort((a, b) => rel[a] - rel[b] || a - b)));
    this.sceneRelease = this.sceneSongs.map((m) => Int32Array.from(m, (i) => rel[i]));
    for (const m of this.sceneSongs) m.forEach((song, i) => (this.songPos[song] = i));
    truth.artists.forEach((a, i) => this.artistIndex.set(a, i));
    truth.djs.forEach((d, i) => this.djIndex.set(d.name, i));

    // Gap artists of scene s: its own artists, plus its siblings' artists at a reduced weight.
    const home: number[][] = Array.from({ length: nScenes }, () => []);
    truth.artistScene.forEach((s, a) => {
      if (truth.artistGapWeight[a] > 0) home[s].push(a);
    });
    this.gapArtists = [];
    this.gapCum = [];
    this.gapProb = [];
    for (let s = 0; s < nScenes; s++) {
      const members: number[] = [];
      const weights: number[] = [];
      for (const t of this.subScenes[this.sceneSub[s]]) {
        const f = t === s ? 1 : p.gapSiblingFactor;
        if (f <= 0) continue;
        for (const a of home[t]) {
          members.push(a);
          weights.push(f * truth.artistGapWeight[a]);
        }
      }
      const cum = new Float64Array(weights.length);
      let acc = 0;
      for (let i = 0; i < weights.length; i++) cum[i] = acc += weights[i];
      const prob = new Map<number, number>();
      for (let i = 0; i < members.length; i++) prob.set(members[i], weights[i] / acc);
      this.gapArtists.push(Int32Array.from(members));
      this.gapCum.push(cum);
      this.gapProb.push(prob);
    }

    this.djOwn = truth.djs.map(() => new Set<number>());
    const artistDj = new Map<number, number>();
    truth.djs.forEach((d, i) => {
      if (d.artist >= 0) artistDj.set(d.artist, i);
    });
    truth.songCredits.forEach((credits, song) => {
      for (const a of credits) {
        const d = artistDj.get(a);
        if (d !== undefined) this.djOwn[d].add(song);
      }
    });

    const pmf = p.lengthPmf;
    this.lengthSurvival = new Float64Array(pmf.length + 1);
    for (let n = pmf.length - 1; n >= 0; n--) this.lengthSurvival[n] = this.lengthSurvival[n + 1] + pmf[n];
  }

  song(name: string): number | undefined {
    return this.songIndex.get(name);
  }

  dj(name: string): number {
    const d = this.djIndex.get(name);
    if (d === undefined) throw new InputError(`synth oracle: unknown DJ "${name}"`);
    return d;
  }

  /** The context of one set: DJs and date fix every song weight. */
  context(djs: readonly number[], day: number | null): SetContext {
    return new SetContext(this, djs, day);
  }

  private cacheKey = '';
  private cache: SceneWeightCache | null = null;

  /**
   * Scene weights depend only on DJs and date, so successive oracle calls for one set share them
   * (one entry: the oracle is usually asked about every prefix of a set in turn).
   */
  weightCache(djs: readonly number[], day: number | null): SceneWeightCache {
    const key = `${djs.join(',')}|${day}`;
    if (key !== this.cacheKey || !this.cache) {
      this.cacheKey = key;
      this.cache = { weights: new Array(this.nScenes), cums: new Array(this.nScenes) };
    }
    return this.cache;
  }

  /** q(artist | scene) for an `Artist - ID` gap. */
  gapArtistProb(scene: number, artist: number): number {
    return this.gapProb[scene].get(artist) ?? 0;
  }

  // ---- sampling (generator side) ----

  sampleLength(rng: Random): number {
    return rng.weighted(this.params.lengthPmf);
  }

  /** First scene (prev < 0) from the set's taste, else one Markov step. */
  sampleScene(rng: Random, ctx: SetContext, prev: number): number {
    if (prev >= 0) {
      const p = this.params;
      const u = rng.next();
      if (u < p.pStay) return prev;
      if (u < p.pStay + p.pSibling) {
        const sib = this.subScenes[this.sceneSub[prev]];
        // A subgenre with one scene has no sibling: the move is a stay.
        if (sib.length === 1) return prev;
        const j = rng.int(sib.length - 1);
        return j < sib.indexOf(prev) ? sib[j] : sib[j + 1];
      }
    }
    const r = rng.next();
    let acc = 0;
    for (const [s, w] of ctx.taste) if (r < (acc += w)) return s;
    return ctx.taste[ctx.taste.length - 1][0];
  }

  sampleEmission(rng: Random, ctx: SetContext, scene: number): Emission {
    const p = this.params;
    const u = rng.next();
    if (u < p.pIdGap) return { kind: 'id' };
    if (u < p.pIdGap + p.pArtistGap) {
      const cum = this.gapCum[scene];
      if (cum.length === 0) return { kind: 'id' };
      return {
        kind: 'artist',
        artist: this.gapArtists[scene][searchCum(cum, rng.next() * cum[cum.length - 1])],
      };
    }
    const song = ctx.sampleSong(rng, scene);
    return song < 0 ? { kind: 'id' } : { kind: 'song', song };
  }

  /** Emits one position: the scene step and what is heard there; marks a played song. */
  step(rng: Random, ctx: SetContext, prevScene: number): { scene: number; emission: Emission } {
    const scene = this.sampleScene(rng, ctx, prevScene);
    const emission = this.sampleEmission(rng, ctx, scene);
    if (emission.kind === 'song') ctx.markPlayed(emission.song);
    return { scene, emission };
  }

  emissionString(e: Emission): string {
    if (e.kind === 'song') return this.truth.songs[e.song];
    if (e.kind === 'artist') return this.truth.artists[e.artist] + ARTIST_GAP_SUFFIX;
    return ID_GAP;
  }

  /** Reads a prefix track back into an emission; anything the process cannot emit is an error. */
  parseEmission(track: RawTrack): Emission {
    const text = typeof track === 'string' ? track : `${track.artist} - ${track.title}`;
    const song = this.songIndex.get(text);
    if (song !== undefined) return { kind: 'song', song };
    if (text === ID_GAP) return { kind: 'id' };
    if (text.endsWith(ARTIST_GAP_SUFFIX)) {
      const artist = this.artistIndex.get(text.slice(0, -ARTIST_GAP_SUFFIX.length));
      if (artist !== undefined) return { kind: 'artist', artist };
    }
    throw new InputError(`synth oracle: "${text}" is not a track of this synthetic corpus`);
  }

  // ---- exact probabilities (oracle side) ----

  /** Row vector × transition matrix: stay, uniform sibling move, or jump by taste. */
  transition(alpha: Float64Array, ctx: SetContext): Float64Array {
    const p = this.params;
    const out = new Float64Array(this.nScenes);
    let mass = 0;
    for (let s = 0; s < this.nScenes; s++) mass += alpha[s];
    for (const sib of this.subScenes) {
      if (sib.length === 1) {
        out[sib[0]] += (p.pStay + p.pSibling) * alpha[sib[0]];
        continue;
      }
      let subMass = 0;
      for (const s of sib) subMass += alpha[s];
      const share = p.pSibling / (sib.length - 1);
      for (const s of sib) out[s] += p.pStay * alpha[s] + share * (subMass - alpha[s]);
    }
    for (const [s, w] of ctx.taste) out[s] += p.pJump * w * mass;
    return out;
  }

  /** P(emission | scene) for every scene, given the set's played songs so far. */
  emissionLikelihood(e: Emission, ctx: SetContext): Float64Array {
    const p = this.params;
    const like = new Float64Array(this.nScenes);
    if (e.kind === 'song') {
      // Only the song's own scene can emit it; the constant factor cancels in the filter.
      like[this.truth.songScene[e.song]] = 1;
    } else if (e.kind === 'artist') {
      for (let s = 0; s < this.nScenes; s++) like[s] = p.pArtistGap * this.gapArtistProb(s, e.artist);
    } else {
      const pSong = 1 - p.pIdGap - p.pArtistGap;
      for (let s = 0; s < this.nScenes; s++) {
        const emptyArtists = this.gapCum[s].length === 0 ? p.pArtistGap : 0;
        like[s] = p.pIdGap + emptyArtists + (ctx.exhausted(s) ? pSong : 0);
      }
    }
    return like;
  }

  /** P(position is any gap | scene) with the played set fixed (no song is drawn during gaps). */
  gapProbability(ctx: SetContext): Float64Array {
    const p = this.params;
    const pSong = 1 - p.pIdGap - p.pArtistGap;
    const g = new Float64Array(this.nScenes);
    for (let s = 0; s < this.nScenes; s++) g[s] = p.pIdGap + p.pArtistGap + (ctx.exhausted(s) ? pSong : 0);
    return g;
  }
}

interface SceneWeightCache {
  weights: (Float64Array | undefined)[];
  cums: (Float64Array | undefined)[];
}

/** One set's DJs and date: the taste mixture and lazily built song weights per scene. */
export class SetContext {
  readonly model: SynthModel;
  readonly djs: readonly number[];
  readonly day: number | null;
  /** Mean of the DJs' tastes, sparse [scene, weight]. */
  readonly taste: [number, number][];
  private readonly weights: (Float64Array | undefined)[];
  private readonly cums: (Float64Array | undefined)[];
  /** Released songs per scene (−1 until needed) and how many of them this set has played. */
  private readonly released: Int32Array;
  private readonly playedIn: Int32Array;
  private readonly played = new Set<number>();

  constructor(model: SynthModel, djs: readonly number[], day: number | null, cache?: SceneWeightCache) {
    this.model = model;
    this.djs = djs;
    this.day = day;
    if (djs.length === 0) throw new InputError('synth oracle: a set needs at least one DJ');
    const mix = new Map<number, number>();
    for (const d of djs)
      for (const [s, w] of model.truth.djs[d].taste) mix.set(s, (mix.get(s) ?? 0) + w / djs.length);
    this.taste = [...mix.entries()].sort((a, b) => a[0] - b[0]);
    this.weights = cache?.weights ?? new Array(model.nScenes);
    this.cums = cache?.cums ?? new Array(model.nScenes);
    this.released = new Int32Array(model.nScenes).fill(-1);
    this.playedIn = new Int32Array(model.nScenes);
  }

  /**
   * weight(song) = popularity × mean over DJs of (favourite? favBoost : 1) × (own? ownBoost : 1)
   * × recency; 0 before release. A null date means no release filter and no recency.
   */
  songWeight(song: number): number {
    const m = this.model;
    const p = m.params;
    if (this.day !== null && m.truth.songRelease[song] > this.day) return 0;
    const recency =
      this.day === null
        ? 1
        : 1 + p.recencyBoost * Math.exp((m.truth.songRelease[song] - this.day) / p.recencyDays);
    let aff = 0;
    for (const d of this.djs) {
      let a = pairHash(d, song, p.favSalt) < p.favProb ? p.favBoost : 1;
      const own = m.djOwn[d];
      if (own.size > 0 && own.has(song)) a *= p.ownBoost;
      aff += a;
    }
    return (m.truth.songPop[song] * aff * recency) / this.djs.length;
  }

  /** Number of the scene's songs released by the set's date: a prefix of sceneSongs. */
  releasedCount(scene: number): number {
    let n = this.released[scene];
    if (n < 0) {
      const m = this.model;
      n = this.released[scene] =
        this.day === null ? m.sceneSongs[scene].length : upperBound(m.sceneRelease[scene], this.day);
    }
    return n;
  }

  /** Base weights of a scene's songs, aligned with sceneSongs (played songs not removed). */
  sceneWeights(scene: number): Float64Array {
    let w = this.weights[scene];
    if (!w) {
      const songs = this.model.sceneSongs[scene];
      const released = this.releasedCount(scene);
      w = new Float64Array(songs.length);
      const cum = new Float64Array(released);
      let acc = 0;
      for (let i = 0; i < released; i++) cum[i] = acc += w[i] = this.songWeight(songs[i]);
      this.weights[scene] = w;
      this.cums[scene] = cum;
    }
    return w;
  }

  isPlayed(song: number): boolean {
    return this.played.has(song);
  }

  markPlayed(song: number): void {
    if (this.played.has(song)) return;
    this.played.add(song);
    const m = this.model;
    const scene = m.truth.songScene[song];
    if (m.songPos[song] < this.releasedCount(scene)) this.playedIn[scene]++;
  }

  /** True when the scene has no released, unplayed song left (every released song has weight > 0). */
  exhausted(scene: number): boolean {
    return this.releasedCount(scene) === this.playedIn[scene];
  }

  /** A song of the scene ∝ weight among unplayed ones, or −1 if none is left. */
  sampleSong(rng: Random, scene: number): number {
    if (this.exhausted(scene)) return -1;
    const w = this.sceneWeights(scene);
    const songs = this.model.sceneSongs[scene];
    const cum = this.cums[scene]!;
    const total = cum[cum.length - 1];
    // Rejection on played songs is exact; fall back to a scan when most mass is played.
    for (let tries = 0; tries < 16; tries++) {
      const i = searchCum(cum, rng.next() * total);
      if (!this.played.has(songs[i])) return songs[i];
    }
    let r = rng.next() * this.freeMass(scene);
    let last = -1;
    for (let i = 0; i < cum.length; i++) {
      if (this.played.has(songs[i])) continue;
      last = songs[i];
      if ((r -= w[i]) < 0) return songs[i];
    }
    return last;
  }

  /** Σ weight of unplayed songs in the scene. */
  freeMass(scene: number): number {
    const w = this.sceneWeights(scene);
    const songs = this.model.sceneSongs[scene];
    let free = 0;
    for (let i = 0; i < this.cums[scene]!.length; i++) if (!this.played.has(songs[i])) free += w[i];
    return free;
  }
}

/** Number of entries ≤ x in an ascending array. */
function upperBound(a: Int32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---- public oracle API ----

export interface OracleContext {
  djs: string[];
  date: string | null;
  /** The set so far, gaps included, in order. */
  prefix: RawTrack[];
}

export interface OracleOptions {
  /**
   * true: P(the track at the next position is song x | it is a song). Default false:
   * P(next identified song = x | a further identified song exists), gaps in between marginalised.
   */
  immediate?: boolean;
}

const models = new WeakMap<SynthTruth, SynthModel>();

export function modelOf(truth: SynthTruth): SynthModel {
  let m = models.get(truth);
  if (!m) models.set(truth, (m = new SynthModel(truth)));
  return m;
}

export function loadTruth(file: string): SynthTruth {
  const read = readTruthFile(file);
  if (read.kind === 'synthetic') return read.truth;
  throw new InputError(read.kind === 'unusable' ? read.error : `truth file ${file}: planted clusters only, not a synthetic-corpus truth file`);
}

/**
 * Filtered scene distribution for the next position and the context after the prefix
 * (the forward algorithm of the hidden scene chain).
 */
export function filterPrefix(
  model: SynthModel,
  ctx: OracleContext,
): { alpha: Float64Array; set: SetContext } {
  const djs = ctx.djs.map((d) => model.dj(d));
  const day = ctx.date === null ? null : dayNumber(ctx.date);
  if (day !== null && !Number.isFinite(day)) throw new InputError(`synth oracle: bad date "${ctx.date}"`);
  const set = new SetContext(model, djs, day, model.weightCache(djs, day));
  let alpha: Float64Array = new Float64Array(model.nScenes);
  for (const [s, w] of set.taste) alpha[s] = w;
  for (let k = 0; k < ctx.prefix.length; k++) {
    const e = model.parseEmission(ctx.prefix[k]);
    // Likelihood uses the played set before this position: exhaustion is judged then.
    const like = model.emissionLikelihood(e, set);
    let z = 0;
    for (let s = 0; s < model.nScenes; s++) z += alpha[s] *= like[s];
    if (!(z > 0))
      throw new InputError(
        `synth oracle: prefix track ${k} ("${model.emissionString(e)}") is impossible here`,
      );
    for (let s = 0; s < model.nScenes; s++) alpha[s] /= z;
    if (e.kind === 'song') set.markPlayed(e.song);
    alpha = model.transition(alpha, set);
  }
  return { alpha, set };
}

/**
 * Exact P(next identified song = songs[i] | prefix, DJs, date) under the generator's process.
 * `songs` is the truth's full song list (same array on every call); probs sum to 1.
 */
export function oracleNext(
  truth: SynthTruth,
  ctx: OracleContext,
  options: OracleOptions = {},
): { songs: readonly string[]; probs: Float64Array } {
  const model = modelOf(truth);
  const { alpha, set } = filterPrefix(model, ctx);
  const n = model.nScenes;
  const k = ctx.prefix.length;
  const surv = model.lengthSurvival;
  const atK = k < surv.length ? surv[k] : 0;
  if (!(atK > 0)) throw new InputError(`synth oracle: no set of this corpus is ${k} tracks long`);
  // B(s) = Σ_g P(L > k+g | L ≥ k) · P(g gaps, then scene s at position k+g).
  const sceneMass = new Float64Array(n);
  const gap = model.gapProbability(set);
  let beta = alpha;
  for (let g = 0; k + g + 1 < surv.length; g++) {
    const c = surv[k + g + 1] / atK;
    if (c <= 0) break;
    for (let s = 0; s < n; s++) sceneMass[s] += c * beta[s];
    if (options.immediate) break;
    const next = new Float64Array(n);
    for (let s = 0; s < n; s++) next[s] = beta[s] * gap[s];
    beta = model.transition(next, set);
  }
  const probs = new Float64Array(truth.songs.length);
  let total = 0;
  for (let s = 0; s < n; s++) {
    if (!(sceneMass[s] > 0) || set.exhausted(s)) continue;
    const free = set.freeMass(s);
    const w = set.sceneWeights(s);
    const songs = model.sceneSongs[s];
    const f = sceneMass[s] / free;
    for (let i = 0; i < songs.length; i++) {
      if (w[i] <= 0 || set.isPlayed(songs[i])) continue;
      const p = f * w[i];
      probs[songs[i]] = p;
      total += p;
    }
  }
  if (!(total > 0)) throw new InputError('synth oracle: no identified song can follow this prefix');
  for (let i = 0; i < probs.length; i++) probs[i] /= total;
  return { songs: truth.songs, probs };
}
