import { describe, expect, it } from 'vitest';
import { synthesize } from '../../shared/corpus/synth.ts';
import { ID_GAP, dayNumber, modelOf, oracleNext } from '../../shared/corpus/oracle.ts';
import type {
  Emission,
  SetContext,
  SynthModel,
  SynthParams,
  SynthTruth,
} from '../../shared/corpus/oracle.ts';
import { Random } from '../../shared/util/random.ts';

const { tracklists, truth } = synthesize('tiny', 21);
const DATE = '2018-06-01';
const DAY = dayNumber(DATE);

/** The same catalogue under other process parameters (a new object, so a new model). */
function variant(patch: Partial<SynthParams>, release?: number[], djs?: SynthTruth['djs']): SynthTruth {
  return {
    ...truth,
    params: { ...truth.params, ...patch },
    songRelease: release ?? truth.songRelease,
    djs: djs ?? truth.djs,
  };
}

function same(a: Emission, b: Emission): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'song') return a.song === (b as { song: number }).song;
  if (a.kind === 'artist') return a.artist === (b as { artist: number }).artist;
  return true;
}

/**
 * One draw of the next identified song from the generator's own sampling functions, conditioned
 * by rejection on the prefix: L ≥ k, then the positions after the known state must emit `rest`.
 * Returns −1 when rejected or when the set ends first.
 */
function simulate(
  model: SynthModel,
  rng: Random,
  ctx: SetContext,
  start: number,
  rest: Emission[],
  k: number,
  immediate = false,
): number {
  let length = model.sampleLength(rng);
  while (length < k) length = model.sampleLength(rng);
  let scene = start;
  for (const want of rest) {
    scene = model.sampleScene(rng, ctx, scene);
    if (!same(model.sampleEmission(rng, ctx, scene), want)) return -1;
  }
  for (let pos = k; pos < length; pos++) {
    scene = model.sampleScene(rng, ctx, scene);
    const e = model.sampleEmission(rng, ctx, scene);
    if (e.kind === 'song') return e.song;
    if (immediate) return -1;
  }
  return -1;
}

function monteCarlo(draw: () => number, accepted: number, maxTries: number): Map<number, number> {
  const counts = new Map<number, number>();
  let n = 0;
  for (let t = 0; t < maxTries && n < accepted; t++) {
    const s = draw();
    if (s < 0) continue;
    counts.set(s, (counts.get(s) ?? 0) + 1);
    n++;
  }
  return counts;
}

/**
 * Pearson chi-square of counts against probs: every song expected ≥ 5 times is its own bin, the rest
 * one bin. A sampled song with probability 0 is an immediate failure (Infinity).
 */
function chiSquare(
  counts: Map<number, number>,
  probs: Float64Array,
): { stat: number; df: number; n: number } {
  let n = 0;
  for (const c of counts.values()) n += c;
  for (const s of counts.keys()) if (!(probs[s] > 0)) return { stat: Infinity, df: 1, n };

  let stat = 0;
  let bins = 0;
  let restExpected = 0;
  let restObserved = 0;
  for (let s = 0; s < probs.length; s++) {
    const e = n * probs[s];
    const o = counts.get(s) ?? 0;
    if (e >= 5) {
      stat += (o - e) ** 2 / e;
      bins++;
    } else {
      restExpected += e;
      restObserved += o;
    }
  }
  if (restExpected > 0) {
    stat += (restObserved - restExpected) ** 2 / restExpected;
    bins++;
  }
  return { stat, df: bins - 1, n };
}

/** Upper 1e-4 quantile of chi-square(df) (Wilson–Hilferty). */
function critical(df: number): number {
  const z = 3.719;
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}

/** True when the counts are a plausible sample of probs (chi-square test at p = 1e-4). */
function fits(counts: Map<number, number>, probs: Float64Array): boolean {
  const chi = chiSquare(counts, probs);
  return chi.stat < critical(chi.df);
}

function sum(a: Float64Array): number {
  let s = 0;
  for (const x of a) s += x;
  return s;
}

describe('oracleNext', () => {
  const model = modelOf(truth);

  it('is normalised, gives the actual next song positive probability, and zero to played or unreleased songs', () => {
    let checked = 0;
    let logOracle = 0;
    let logUnigram = 0;
    const plays = new Float64Array(truth.songs.length).fill(0.5);
    for (const t of tracklists)
      for (const x of t.tracks) {
        const s = model.song(x as string);
        if (s !== undefined) plays[s]++;
      }
    const unigramTotal = sum(plays);
    for (const t of tracklists.slice(0, 40)) {
      const day = dayNumber(t.date!);
      for (let j = 0; j < t.tracks.length; j++) {
        const next = model.song(t.tracks[j] as string);
        if (next === undefined) continue;
        const prefix = t.tracks.slice(0, j);
        const { songs, probs } = oracleNext(truth, { djs: t.djs, date: t.date, prefix });
        expect(songs).toBe(truth.songs);
        expect(Math.abs(sum(probs) - 1)).toBeLessThan(1e-9);
        expect(probs[next]).toBeGreaterThan(0);
        for (const x of prefix) {
          const s = model.song(x as string);
          if (s !== undefined) expect(probs[s]).toBe(0);
        }
        for (let s = 0; s < probs.length; s++) {
          if (truth.songRelease[s] > day && probs[s] !== 0) throw new Error(`unreleased song ${s} has mass`);
          if (!(probs[s] >= 0)) throw new Error(`bad probability at ${s}`);
        }
        logOracle += Math.log(probs[next]);
        logUnigram += Math.log(plays[next] / unigramTotal);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(400);
    // The oracle knows the process: it must beat global popularity by a wide margin (nats per song).
    expect((logOracle - logUnigram) / checked).toBeGreaterThan(1);
  });

  it('rejects contexts the process cannot produce', () => {
    expect(() => oracleNext(truth, { djs: ['Nobody At All'], date: DATE, prefix: [] })).toThrow(/unknown DJ/);
    const dj = truth.djs[0].name;
    expect(() => oracleNext(truth, { djs: [dj], date: DATE, prefix: ['Not - A Song Here'] })).toThrow(
      /not a track/,
    );
    const tooLong = Array.from({ length: 31 }, () => ID_GAP);
    expect(() => oracleNext(truth, { djs: [dj], date: DATE, prefix: tooLong })).toThrow(/tracks long/);
  });

  it('matches the generator for the first song of a back-to-back set (Monte Carlo)', () => {
    const djs = [0, 1];
    const names = djs.map((d) => truth.djs[d].name);
    const { probs } = oracleNext(truth, { djs: names, date: DATE, prefix: [] });
    const ctx = model.context(djs, DAY);
    const rng = new Random(99);
    const counts = monteCarlo(() => simulate(model, rng, ctx, -1, [], 0), 60_000, 200_000);
    const chi = chiSquare(counts, probs);
    expect(chi.n).toBe(60_000);
    expect(chi.df).toBeGreaterThan(20);
    expect(chi.stat).toBeLessThan(critical(chi.df));
    // Power: either DJ alone, or another date, is a different distribution and is rejected.
    expect(fits(counts, oracleNext(truth, { djs: [names[0]], date: DATE, prefix: [] }).probs)).toBe(false);
    expect(fits(counts, oracleNext(truth, { djs: names, date: '2018-03-01', prefix: [] }).probs)).toBe(false);
    // Same support, other weights: without the favourite boost the fit must fail too.
    expect(
      fits(counts, oracleNext(variant({ favBoost: 1 }), { djs: names, date: DATE, prefix: [] }).probs),
    ).toBe(false);
  });

  it('filters the scene through ID and Artist-ID gaps and conditions on the set going on (Monte Carlo)', () => {
    // Frequent gaps and short sets make the filtering and the length conditioning matter.
    const lengthPmf = [0, 0, 0, 0, 0.5, 0.3, 0.2];
    const t2 = variant({ pIdGap: 0.3, pArtistGap: 0.4, lengthPmf });
    const m2 = modelOf(t2);
    const d = truth.djs.findIndex((dj) => dj.taste.length >= 2);
    const ctxOf = (): SetContext => m2.context([d], DAY);
    // x: a released song of the DJ's favourite scene; a: the strongest gap artist of a sibling scene.
    const scene = [...truth.djs[d].taste].sort((p, q) => q[1] - p[1])[0][0];
    const x = [...m2.sceneSongs[scene]].find((s) => truth.songRelease[s] <= DAY)!;
    const siblings = m2.subScenes[m2.sceneSub[scene]].filter((s) => s !== scene);
    expect(siblings.length).toBeGreaterThan(0);
    let a = -1;
    for (let i = 0; i < truth.artists.length; i++)
      if (
        siblings.includes(truth.artistScene[i]) &&
        (a < 0 || truth.artistGapWeight[i] > truth.artistGapWeight[a])
      )
        a = i;
    const prefix = [truth.songs[x], ID_GAP, `${truth.artists[a]} - ID`];
    const rest: Emission[] = [{ kind: 'id' }, { kind: 'artist', artist: a }];
    const ctx = ctxOf();
    ctx.markPlayed(x);
    const rng = new Random(7);
    const counts = monteCarlo(() => simulate(m2, rng, ctx, scene, rest, 3), 20_000, 6_000_000);
    const { probs } = oracleNext(t2, { djs: [truth.djs[d].name], date: DATE, prefix });
    const chi = chiSquare(counts, probs);
    expect(chi.n).toBe(20_000);
    expect(chi.df).toBeGreaterThan(10);
    expect(chi.stat).toBeLessThan(critical(chi.df));
    // Power: ignoring the artist's evidence, or the lookahead past further gaps, is detected.
    const noArtist = oracleNext(t2, {
      djs: [truth.djs[d].name],
      date: DATE,
      prefix: [prefix[0], ID_GAP, ID_GAP],
    });
    expect(fits(counts, noArtist.probs)).toBe(false);
    const immediate = oracleNext(t2, { djs: [truth.djs[d].name], date: DATE, prefix }, { immediate: true });
    expect(fits(counts, immediate.probs)).toBe(false);

    // The immediate form matches the generator too.
    const countsNow = monteCarlo(() => simulate(m2, rng, ctx, scene, rest, 3, true), 10_000, 6_000_000);
    const chiNow = chiSquare(countsNow, immediate.probs);
    expect(chiNow.n).toBe(10_000);
    expect(chiNow.stat).toBeLessThan(critical(chiNow.df));
  });

  it('handles an exhausted scene: an ID there is likelier, and its songs get no mass (Monte Carlo)', () => {
    // Only x and y of scene S are released by the date, so after them S can only emit gaps; z is
    // from a sibling scene, so an ID right after z is evidence that the set moved to S.
    // S sits in a subgenre of three or more scenes, so leaving S is not the same as staying in z's scene.
    const base = modelOf(truth);
    const d = 0;
    const sub = base.subScenes.find((scenes) => scenes.length >= 3)!;
    const [scene, sibling] = sub;
    const elsewhere = base.subScenes.find((scenes) => scenes !== sub)![0];
    const djs = truth.djs.map((dj, i) =>
      i === d
        ? {
            ...dj,
            taste: [
              [scene, 0.4],
              [sibling, 0.3],
              [elsewhere, 0.3],
            ] as [number, number][],
          }
        : dj,
    );
    const members = [...base.sceneSongs[scene]];
    const [x, y] = members;
    const z = [...base.sceneSongs[sibling]].find((s) => truth.songRelease[s] <= DAY)!;
    const release = truth.songRelease.map((r, s) =>
      members.includes(s) ? (s === x || s === y ? Math.min(r, DAY) : DAY + 1) : r,
    );
    const t3 = variant({ pIdGap: 0.1 }, release, djs);
    const m3 = modelOf(t3);
    const names = [truth.djs[d].name];
    const prefix = [truth.songs[x], truth.songs[y], truth.songs[z], ID_GAP];
    const { probs } = oracleNext(t3, { djs: names, date: DATE, prefix });
    for (const s of members) expect(probs[s]).toBe(0);
    expect(Math.abs(sum(probs) - 1)).toBeLessThan(1e-9);
    const ctx = m3.context([d], DAY);
    for (const s of [x, y, z]) ctx.markPlayed(s);
    expect(ctx.exhausted(scene)).toBe(true);
    const rng = new Random(5);
    const counts = monteCarlo(() => simulate(m3, rng, ctx, sibling, [{ kind: 'id' }], 4), 40_000, 1_000_000);
    const chi = chiSquare(counts, probs);
    expect(chi.n).toBe(40_000);
    expect(chi.stat).toBeLessThan(critical(chi.df));
    // Power: an oracle that forgets S is exhausted reads the ID as uninformative, and fails.
    const live = variant(
      { pIdGap: 0.1 },
      release.map((r, s) => (s === members[2] ? DAY : r)),
      djs,
    );
    const naive = oracleNext(live, { djs: names, date: DATE, prefix }).probs;
    naive[members[2]] = 0;
    const z2 = sum(naive);
    for (let i = 0; i < naive.length; i++) naive[i] /= z2;
    expect(fits(counts, naive)).toBe(false);
  });
});
