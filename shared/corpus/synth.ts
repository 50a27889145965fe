/**
 * Synthetic DJ-tracklist corpus with planted ground truth (genre > subgenre > scene), for demos,
 * tests and benchmarks where the real corpus cannot be shipped. The catalogue (artists, songs,
 * DJs) is built here; the per-set process lives in oracle.ts so the generator and the exact
 * oracle share one definition.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { Random } from '../util/random.ts';
import { Progress } from '../util/progress.ts';
import { CorpusWriter } from './jsonl.ts';
import { GENRES, NameGen, foldKey } from './names.ts';
import { dayNumber, dayString, modelOf } from './oracle.ts';
import type { SynthDj, SynthModel, SynthParams, SynthTruth } from './oracle.ts';
import type { Tracklist } from './types.ts';

export type SynthProfile = 'tiny' | 'small' | 'medium' | 'seed';
export const SYNTH_PROFILES: readonly SynthProfile[] = ['tiny', 'small', 'medium', 'seed'];

export interface SynthResult {
  tracklists: Tracklist[];
  truth: SynthTruth;
}

interface ProfileConfig {
  genres: number;
  subgenres: [number, number];
  scenes: [number, number];
  /** Raw catalogue size; the tail is played once or never and falls to the preparation filter. */
  songs: number;
  /** Artists per catalogue song. */
  artistRatio: number;
  djs: number;
  /** Median sets per DJ (lognormal, σ = setSigma). */
  setsMedian: number;
  setSigma: number;
  progress: boolean;
}

const PROFILES: Record<SynthProfile, ProfileConfig> = {
  tiny: {
    genres: 2,
    subgenres: [2, 2],
    scenes: [2, 3],
    songs: 700,
    artistRatio: 0.4,
    djs: 30,
    setsMedian: 7,
    setSigma: 0.8,
    progress: false,
  },
  small: {
    genres: 3,
    subgenres: [2, 4],
    scenes: [3, 5],
    songs: 6500,
    artistRatio: 0.38,
    djs: 150,
    setsMedian: 8,
    setSigma: 1.0,
    progress: false,
  },
  medium: {
    genres: 5,
    subgenres: [3, 5],
    scenes: [4, 6],
    songs: 32000,
    artistRatio: 0.36,
    djs: 800,
    setsMedian: 9,
    setSigma: 1.0,
    progress: true,
  },
  // Calibrated so that after preparation (co-occurrence mass ≥ 10, DJs with > 15 repeat songs) it
  // lands near the original corpus: 31,214 songs, 10,322 artists, 1,275 DJs.
  seed: {
    genres: 7,
    subgenres: [4, 6],
    scenes: [5, 8],
    songs: 49000,
    artistRatio: 0.31,
    djs: 2400,
    setsMedian: 9,
    setSigma: 1.0,
    progress: true,
  },
};

/** Set dates span the original scrape's years; songs may be older (back catalogue). */
const FIRST_SET_DAY = dayNumber('2014-01-01');
const LAST_SET_DAY = dayNumber('2021-04-15');
const FIRST_RELEASE_DAY = dayNumber('2008-01-01');

function defaultParams(rng: Random): SynthParams {
  const lengthPmf = new Array<number>(31).fill(0);
  let z = 0;
  for (let n = 10; n <= 30; n++) z += lengthPmf[n] = Math.exp(-((n - 17) ** 2) / (2 * 36));
  for (let n = 10; n <= 30; n++) lengthPmf[n] /= z;
  return {
    pStay: 0.72,
    pSibling: 0.2,
    pJump: 0.08,
    pIdGap: 0.06,
    pArtistGap: 0.04,
    lengthPmf,
    ownBoost: 6,
    favProb: 0.03,
    favBoost: 8,
    favSalt: rng.nextUint32() | 0,
    recencyBoost: 3,
    recencyDays: 365,
    gapSiblingFactor: 0.2,
  };
}

/** Cumulative weights for repeated draws. */
class Sampler {
  readonly items: number[] = [];
  private cum: number[] = [];
  private total = 0;
  add(item: number, weight: number): void {
    if (!(weight > 0)) return;
    this.items.push(item);
    this.cum.push((this.total += weight));
  }
  get size(): number {
    return this.items.length;
  }
  draw(rng: Random): number {
    const r = rng.next() * this.total;
    let lo = 0;
    let hi = this.cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cum[mid] > r) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo];
  }
}

function lognormal(rng: Random, sigma: number): number {
  return Math.exp(sigma * rng.normal());
}

function between(rng: Random, [lo, hi]: [number, number]): number {
  return lo + rng.int(hi - lo + 1);
}

interface Song {
  text: string;
  scene: number;
  pop: number;
  release: number;
  credits: number[];
  /** Main artists and bare title, for remixes and mashups of an original. */
  mains: number[];
  title: string;
  base: string;
}

/** Builds the catalogue and DJs (everything but the sets). */
function buildTruth(profile: SynthProfile, seed: number, cfg: ProfileConfig, rng: Random): SynthTruth {
  const names = new NameGen(rng.fork());
  const params = defaultParams(rng);

  // Taxonomy with uneven sizes: some genres, subgenres and scenes are much bigger than others.
  const genreOrder = rng.shuffle(GENRES.map((_, i) => i)).slice(0, cfg.genres);
  const genres: string[] = [];
  const subgenres: [string, number][] = [];
  const scenes: [string, number][] = [];
  const sceneWeight: number[] = [];
  for (const gi of genreOrder) {
    const g = genres.push(GENRES[gi].name) - 1;
    const gw = lognormal(rng, 0.5);
    const subs = rng.shuffle([...GENRES[gi].subgenres]).slice(0, between(rng, cfg.subgenres));
    for (const subName of subs) {
      const sub = subgenres.push([subName, g]) - 1;
      const sw = gw * lognormal(rng, 0.4);
      const n = between(rng, cfg.scenes);
      const used = new Set<string>();
      for (let i = 0; i < n; i++) {
        let place = names.place();
        while (used.has(place)) place = `${names.place()} ${i + 2}`;
        used.add(place);
        scenes.push([`${subName} · ${place}`, sub]);
        sceneWeight.push(sw * lognormal(rng, 0.4));
      }
    }
  }
  const nScenes = scenes.length;
  const sceneSub = scenes.map((s) => s[1]);
  const sceneGenre = sceneSub.map((s) => subgenres[s][1]);
  const subScenes: number[][] = subgenres.map(() => []);
  scenes.forEach((s, i) => subScenes[s[1]].push(i));
  const genreScenes: number[][] = genres.map(() => []);
  sceneGenre.forEach((g, i) => genreScenes[g].push(i));
  const sceneDraw = new Sampler();
  sceneWeight.forEach((w, s) => sceneDraw.add(s, w));
  const drawSceneIn = (pool: number[]): number => {
    const sm = new Sampler();
    for (const s of pool) sm.add(s, sceneWeight[s]);
    return sm.draw(rng);
  };

  // Artists: a home scene each; productivity and fame are long-tailed; ~8 % are vocalists.
  const nArtists = Math.round(cfg.songs * cfg.artistRatio);
  const artists: string[] = [];
  const artistScene: number[] = [];
  const productivity: number[] = [];
  const fame: number[] = [];
  const vocalist: boolean[] = [];
  const titles: Set<string>[] = [];
  for (let a = 0; a < nArtists; a++) {
    artists.push(names.artist());
    artistScene.push(sceneDraw.draw(rng));
    productivity.push(lognormal(rng, 1.1));
    fame.push(lognormal(rng, 0.6));
    vocalist.push(rng.next() < 0.08);
    titles.push(new Set());
  }
  const producersIn: Sampler[] = Array.from({ length: nScenes }, () => new Sampler());
  const vocalistsIn: Sampler[] = genres.map(() => new Sampler());
  for (let a = 0; a < nArtists; a++) {
    if (vocalist[a]) vocalistsIn[sceneGenre[artistScene[a]]].add(a, productivity[a]);
    else producersIn[artistScene[a]].add(a, productivity[a]);
  }
  for (let s = 0; s < nScenes; s++) {
    // Every scene needs a producer: borrow one from the subgenre if the draw left it empty.
    if (producersIn[s].size === 0) {
      artistScene.push(s);
      artists.push(names.artist());
      productivity.push(1);
      fame.push(1);
      vocalist.push(false);
      titles.push(new Set());
      producersIn[s].add(artists.length - 1, 1);
    }
  }
  for (let g = 0; g < genres.length; g++) {
    if (vocalistsIn[g].size === 0) {
      const s = genreScenes[g][0];
      artistScene.push(s);
      artists.push(names.artist());
      productivity.push(1);
      fame.push(1);
      vocalist.push(true);
      titles.push(new Set());
      vocalistsIn[g].add(artists.length - 1, 1);
    }
  }

  // Producer DJs are chosen before songs so mashups can be credited to them.
  const nProducerDjs = Math.round(cfg.djs * 0.45);
  const producerPick = new Sampler();
  for (let a = 0; a < artists.length; a++) if (!vocalist[a]) producerPick.add(a, fame[a] * productivity[a]);
  const djArtists: number[] = [];
  const isDjArtist = new Set<number>();
  for (let tries = 0; djArtists.length < nProducerDjs && tries < nProducerDjs * 50; tries++) {
    const a = producerPick.draw(rng);
    if (!isDjArtist.has(a)) {
      isDjArtist.add(a);
      djArtists.push(a);
    }
  }
  const djArtistsInGenre: Sampler[] = genres.map(() => new Sampler());
  for (const a of djArtists) djArtistsInGenre[sceneGenre[artistScene[a]]].add(a, fame[a]);

  const songs: Song[] = [];
  const release = (from: number): number => from + rng.int(Math.max(1, LAST_SET_DAY - 30 - from));
  const line = (mains: number[], feat: number, title: string): string =>
    `${mains.map((a) => artists[a]).join(' & ')}${feat >= 0 ? ` ft. ${artists[feat]}` : ''} - ${title}`;

  // Pass 1: originals (solo, collaborations, features, some labelled Extended Mix).
  const nOriginals = Math.round(cfg.songs * 0.64);
  const originalsIn: Sampler[] = Array.from({ length: nScenes }, () => new Sampler());
  for (let i = 0; i < nOriginals; i++) {
    const scene = sceneDraw.draw(rng);
    const a = producersIn[scene].draw(rng);
    const mains = [a];
    if (rng.next() < 0.16) {
      const s2 = rng.next() < 0.7 ? scene : drawSceneIn(subScenes[sceneSub[scene]]);
      const b = producersIn[s2].draw(rng);
      if (b !== a) mains.push(b);
    }
    const feat = rng.next() < 0.13 ? vocalistsIn[sceneGenre[scene]].draw(rng) : -1;
    const title = names.title(mains.concat(feat >= 0 ? [feat] : []).map((m) => titles[m]));
    const base = line(mains, feat, title);
    const text = rng.next() < 0.08 ? `${base} (Extended Mix)` : base;
    const pop = lognormal(rng, 1.3) * fame[a];
    const id = songs.length;
    songs.push({
      text,
      scene,
      pop,
      release: release(FIRST_RELEASE_DAY),
      credits: feat >= 0 ? [...mains, feat] : mains,
      mains,
      title,
      base,
    });
    originalsIn[scene].add(id, pop);
  }
  const subOriginals: Sampler[] = subgenres.map(() => new Sampler());
  const genreOriginals: Sampler[] = genres.map(() => new Sampler());
  const allOriginals = new Sampler();
  for (let id = 0; id < nOriginals; id++) {
    const s = songs[id].scene;
    subOriginals[sceneSub[s]].add(id, songs[id].pop);
    genreOriginals[sceneGenre[s]].add(id, songs[id].pop);
    allOriginals.add(id, songs[id].pop);
  }

  // Pass 2: remixes, edits, VIPs, bootlegs, acappellas and mashups of the originals.
  const pairs = new Set<string>();
  const nDerived = cfg.songs - nOriginals;
  for (let i = 0; i < nDerived; i++) {
    const u = rng.next();
    if (u < 0.86) {
      const scene = sceneDraw.draw(rng);
      const v = rng.next();
      const kind = v < 0.7 ? 'Remix' : v < 0.82 ? 'Edit' : v < 0.92 ? 'Bootleg' : 'VIP';
      let o: number;
      let r: number;
      if (kind === 'VIP') {
        o = originalsIn[scene].size > 0 ? originalsIn[scene].draw(rng) : allOriginals.draw(rng);
        r = songs[o].mains[0];
      } else {
        r = producersIn[scene].draw(rng);
        const w = rng.next();
        const pool =
          kind === 'Bootleg' || w > 0.92
            ? allOriginals
            : w < 0.62
              ? subOriginals[sceneSub[scene]]
              : genreOriginals[sceneGenre[scene]];
        o = pool.size > 0 ? pool.draw(rng) : allOriginals.draw(rng);
      }
      const key = `${o}:${r}`;
      if (pairs.has(key)) continue;
      pairs.add(key);
      const src = songs[o];
      const credits = src.credits.includes(r) ? src.credits : [...src.credits, r];
      songs.push({
        text: `${src.base} (${artists[r]} ${kind})`,
        scene: kind === 'VIP' ? src.scene : scene,
        pop: lognormal(rng, 1.2) * fame[r] * 0.8,
        release: Math.min(LAST_SET_DAY - 1, src.release + rng.int(900)),
        credits,
        mains: src.mains,
        title: src.title,
        base: src.base,
      });
    } else if (u < 0.93) {
      // Acappellas are vocal records whose full version is not in the catalogue.
      const g = sceneGenre[sceneDraw.draw(rng)];
      const v = vocalistsIn[g].draw(rng);
      const title = names.title([titles[v]]);
      const base = `${artists[v]} - ${title}`;
      songs.push({
        text: `${base} (Acappella)`,
        scene: artistScene[v],
        pop: lognormal(rng, 1.2) * 0.6,
        release: release(FIRST_RELEASE_DAY),
        credits: [v],
        mains: [v],
        title,
        base,
      });
    } else {
      const g = sceneGenre[sceneDraw.draw(rng)];
      if (djArtistsInGenre[g].size === 0 || genreOriginals[g].size < 3) continue;
      const c = djArtistsInGenre[g].draw(rng);
      const parts = [genreOriginals[g].draw(rng), genreOriginals[g].draw(rng)];
      if (rng.next() < 0.12) parts.push(genreOriginals[g].draw(rng));
      const mainSets = parts.map((p) => songs[p].mains);
      const flat = mainSets.flat();
      if (new Set(flat).size !== flat.length) continue;
      const key = `m${parts.join(',')}:${c}`;
      if (pairs.has(key)) continue;
      pairs.add(key);
      const text = `${mainSets.map((m) => m.map((a) => artists[a]).join(' & ')).join(' vs. ')} - ${parts.map((p) => songs[p].title).join(' vs. ')} (${artists[c]} Mashup)`;
      const credits = flat.includes(c) ? flat : [...flat, c];
      songs.push({
        text,
        scene: artistScene[c],
        pop: lognormal(rng, 1.0) * fame[c],
        release: Math.min(LAST_SET_DAY - 1, Math.max(...parts.map((p) => songs[p].release)) + rng.int(700)),
        credits,
        mains: flat,
        title: text,
        base: text,
      });
    }
  }

  // Gap artists: producers named in `Artist - ID`, more often the prolific and famous ones.
  const artistGapWeight = artists.map((_, a) => (vocalist[a] ? 0 : productivity[a] * fame[a]));

  // DJs: producer DJs keep their artist name; taste is a Dirichlet over a few nearby scenes.
  const djs: SynthDj[] = [];
  const djNames = new Set<string>();
  for (let d = 0; d < cfg.djs; d++) {
    const artist = d < djArtists.length ? djArtists[d] : -1;
    const name = artist >= 0 ? artists[artist] : names.artist();
    djNames.add(foldKey(name));
    const home = artist >= 0 ? artistScene[artist] : sceneDraw.draw(rng);
    const k = 1 + Math.min(5, Math.floor(rng.gamma(1.6)));
    const chosen = new Map<number, number>([[home, rng.gamma(0.8) + 1]]);
    for (let tries = 0; chosen.size < k && tries < 40; tries++) {
      const v = rng.next();
      const s =
        v < 0.55
          ? drawSceneIn(subScenes[sceneSub[home]])
          : v < 0.85
            ? drawSceneIn(genreScenes[sceneGenre[home]])
            : sceneDraw.draw(rng);
      if (!chosen.has(s)) chosen.set(s, rng.gamma(0.8));
    }
    let z = 0;
    for (const w of chosen.values()) z += w;
    const taste = [...chosen.entries()]
      .map(([s, w]) => [s, w / z] as [number, number])
      .sort((x, y) => x[0] - y[0]);
    djs.push({ name, artist, taste });
  }
  if (djNames.size !== djs.length) throw new Error('synth: DJ names collide');

  const songCluster: Record<string, [number, number, number]> = {};
  for (const s of songs) {
    if (songCluster[s.text]) throw new Error(`synth: duplicate song string ${s.text}`);
    songCluster[s.text] = [s.scene, sceneSub[s.scene], sceneGenre[s.scene]];
  }
  return {
    version: 1,
    profile,
    seed,
    params,
    genres,
    subgenres,
    scenes,
    songs: songs.map((s) => s.text),
    songScene: songs.map((s) => s.scene),
    songPop: songs.map((s) => s.pop),
    songRelease: songs.map((s) => s.release),
    songCredits: songs.map((s) => s.credits),
    artists,
    artistScene,
    artistGapWeight,
    djs,
    songCluster,
  };
}

interface SetPlan {
  djs: number[];
  day: number;
}

/** Who plays when: long-tailed set counts per DJ, active periods, occasional back-to-backs. */
function planSets(truth: SynthTruth, cfg: ProfileConfig, rng: Random): SetPlan[] {
  const nDjs = truth.djs.length;
  const counts = truth.djs.map(() => Math.max(1, Math.round(cfg.setsMedian * lognormal(rng, cfg.setSigma))));
  const genreOf = (d: number): number => {
    const top = truth.djs[d].taste.reduce((a, b) => (b[1] > a[1] ? b : a));
    return truth.subgenres[truth.scenes[top[0]][1]][1];
  };
  const partners: Sampler[] = truth.genres.map(() => new Sampler());
  for (let d = 0; d < nDjs; d++) partners[genreOf(d)].add(d, counts[d]);
  const span = LAST_SET_DAY - FIRST_SET_DAY;
  const plans: SetPlan[] = [];
  for (let d = 0; d < nDjs; d++) {
    const start = FIRST_SET_DAY + rng.int(Math.floor(span * 0.8));
    const length = Math.min(LAST_SET_DAY - start, Math.round(span * (0.25 + 0.75 * rng.next())));
    for (let i = 0; i < counts[d]; i++) {
      const day = start + rng.int(length + 1);
      const djs = [d];
      if (rng.next() < 0.06) {
        const p = partners[genreOf(d)].draw(rng);
        if (p !== d) djs.push(p);
      }
      plans.push({ djs, day });
    }
  }
  plans.sort((a, b) => a.day - b.day);
  return plans;
}

/** Deterministic in (profile, seed). */
export function synthesize(profile: SynthProfile, seed: number): SynthResult {
  const cfg = PROFILES[profile];
  if (!cfg) throw new Error(`unknown synth profile "${profile}" (expected ${SYNTH_PROFILES.join(', ')})`);
  const rng = new Random(seed);
  const truth = buildTruth(profile, seed, cfg, rng.fork());
  const plans = planSets(truth, cfg, rng.fork());
  const model: SynthModel = modelOf(truth);
  const setRng = rng.fork();
  const words = new NameGen(rng.fork());
  const progress = cfg.progress ? new Progress(`synth ${profile}`, plans.length) : null;
  const tracklists: Tracklist[] = [];
  const width = String(plans.length).length;
  for (let i = 0; i < plans.length; i++) {
    const { djs, day } = plans[i];
    const ctx = model.context(djs, day);
    const n = model.sampleLength(setRng);
    const tracks: string[] = [];
    let scene = -1;
    for (let k = 0; k < n; k++) {
      const step = model.step(setRng, ctx, scene);
      scene = step.scene;
      tracks.push(model.emissionString(step.emission));
    }
    const date = dayString(day);
    const djNames = djs.map((d) => truth.djs[d].name);
    tracklists.push({
      id: `synth-${profile}-${seed}-${String(i).padStart(width, '0')}`,
      date,
      djs: djNames,
      tracks,
      title: `${djNames.join(' b2b ')} @ ${words.venue()}, ${words.place()} ${date}`,
      source: `synth:${profile}:${seed}`,
    });
    progress?.tick();
  }
  progress?.finish();
  return { tracklists, truth };
}

/** Path of the truth sidecar for a corpus file. */
export function truthPath(corpusFile: string): string {
  return corpusFile.replace(/\.jsonl$/, '') + '.truth.json';
}

export interface SynthStats {
  tracklists: number;
  /** Identified song plays (gaps excluded). */
  plays: number;
  /** Distinct songs, credited artists and DJs that occur in the corpus. */
  songs: number;
  artists: number;
  djs: number;
  ms: number;
}

/** Writes the corpus (JSONL, atomic) and its truth sidecar. */
export async function writeSynth(profile: SynthProfile, seed: number, outFile: string): Promise<SynthStats> {
  const started = performance.now();
  const { tracklists, truth } = synthesize(profile, seed);
  const model = modelOf(truth);
  const songs = new Set<number>();
  const djs = new Set<string>();
  let plays = 0;
  const writer = new CorpusWriter(outFile);
  try {
    for (const t of tracklists) {
      for (const d of t.djs) djs.add(d);
      for (const track of t.tracks) {
        const id = model.song(track as string);
        if (id !== undefined) {
          plays++;
          songs.add(id);
        }
      }
      await writer.write(t);
    }
  } catch (e) {
    await writer.abort();
    throw e;
  }
  const sidecar = truthPath(outFile);
  const tmp = `${sidecar}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(truth));
  renameSync(tmp, sidecar);
  await writer.close();
  const artists = new Set<number>();
  for (const s of songs) for (const a of truth.songCredits[s]) artists.add(a);
  return {
    tracklists: tracklists.length,
    plays,
    songs: songs.size,
    artists: artists.size,
    djs: djs.size,
    ms: Math.round(performance.now() - started),
  };
}
