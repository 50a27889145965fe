import { describe, expect, it } from 'vitest';
import { Random } from '../../shared/util/random.ts';
import { fitNextSongBaselines, tuningSplit } from '../../training/nextsong/baselines.ts';
import { MixedPredictor } from '../../training/nextsong/mixture.ts';
import { trainingTracklists } from '../../training/nextsong/predictor.ts';
import { StanScorer, StanSessions, type StanOptions } from '../../training/nextsong/stan.ts';
import { DEFAULT_STAN_PARAMS, formatStanParams } from '../../training/nextsong/stanTuning.ts';
import { makeData, type TestSet } from './data.ts';

const SONGS = 12;
/** No decay anywhere: each test turns on the one it checks. */
const FLAT: Partial<StanOptions> = { lambdaPosition: Infinity, lambdaDays: Infinity, lambdaNeighbour: Infinity };

function scores(sets: TestSet[], options: Partial<StanOptions>, prefix: number[], djs: number[] = [], day = -1): Float64Array {
  const data = makeData(SONGS, sets);
  const scorer = new StanScorer(new StanSessions(data.sequences, SONGS, trainingTracklists(data.sequences)), options);
  const out = new Float64Array(SONGS).fill(NaN);
  scorer.score(Int32Array.from(prefix), Int32Array.from(djs), out, day);
  return out;
}

describe('STAN scorer', () => {
  it('position decay: a neighbour matching an earlier prefix song weighs exp(−Δp/λ1) less', () => {
    const sets = [{ songs: [0, 7] }, { songs: [4, 8] }, { songs: [9, 10] }];
    const decayed = scores(sets, { ...FLAT, lambdaPosition: 2 }, [0, 4]);
    expect(decayed[7] / decayed[8]).toBeCloseTo(Math.exp(-1 / 2), 12);
    const flat = scores(sets, FLAT, [0, 4]);
    expect(flat[7]).toBe(flat[8]);
    expect(flat[9]).toBe(0);
    expect(flat[0]).toBe(0); // played songs get no vote
  });

  it('time decay: a neighbour Δ days from the set weighs exp(−Δ/λ2); unknown days do not decay', () => {
    const sets = [{ songs: [0, 7], day: 100 }, { songs: [0, 8], day: 130 }, { songs: [0, 9] }];
    const out = scores(sets, { ...FLAT, lambdaDays: 30 }, [0], [], 100);
    expect(out[8] / out[7]).toBeCloseTo(Math.exp(-1), 12);
    expect(out[9]).toBe(out[7]);
    const unknown = scores(sets, { ...FLAT, lambdaDays: 30 }, [0], [], -1);
    expect(unknown[8]).toBe(unknown[7]);
  });

  it('neighbour position decay: songs further from the matched song weigh exp(−|q − m|/λ3) less', () => {
    // The match is the prefix's most recent shared song (5, at position 2 of the first set).
    const sets = [{ songs: [7, 0, 5, 8, 9] }, { songs: [10, 11] }, { songs: [3, 4] }];
    const out = scores(sets, { ...FLAT, lambdaNeighbour: 2 }, [0, 5]);
    expect(out[8] / out[9]).toBeCloseTo(Math.exp(1 / 2), 12);
    expect(out[7] / out[8]).toBeCloseTo(Math.exp(-1 / 2), 12);
    expect(out[10]).toBe(0);
  });

  it('IDF: a song in more sessions gets fewer votes, × (1 + ι · idf)', () => {
    const sets = [{ songs: [0, 7] }, { songs: [0, 8] }, { songs: [8, 9] }];
    const plain = scores(sets, FLAT, [0]);
    expect(plain[7]).toBe(plain[8]);
    const idf = scores(sets, { ...FLAT, idf: 2 }, [0]);
    expect(idf[7] / idf[8]).toBeCloseTo((1 + 2 * Math.log(3)) / (1 + 2 * Math.log(1.5)), 12);
  });

  it('DJ boost: a neighbour by the set’s DJ weighs 1 + δ more', () => {
    const sets = [{ songs: [0, 7], djs: [5] }, { songs: [0, 8], djs: [6] }, { songs: [9, 10], djs: [5] }];
    const out = scores(sets, { ...FLAT, djBoost: 3 }, [0], [5]);
    expect(out[7] / out[8]).toBeCloseTo(4, 12);
    expect(out[9]).toBe(0);
  });

  it('k: only the k most similar neighbours vote', () => {
    const sets = [{ songs: [0, 1, 7] }, { songs: [0, 8] }, { songs: [1, 9] }];
    const out = scores(sets, { ...FLAT, k: 1 }, [0, 1]);
    expect(out[7]).toBeGreaterThan(0);
    expect(out[8] + out[9]).toBe(0);
  });

  it('the DJ-aware V-STAN with δ = 0 is V-STAN exactly', () => {
    const rng = new Random(3);
    const sets: TestSet[] = Array.from({ length: 40 }, () => ({
      songs: Array.from({ length: 8 }, () => Math.floor(SONGS * rng.next() ** 2)),
      djs: [Math.floor(4 * rng.next())],
      day: 16000 + Math.floor(400 * rng.next()),
    }));
    const data = makeData(SONGS, sets);
    const sessions = new StanSessions(data.sequences, SONGS, trainingTracklists(data.sequences));
    const pop = new Float64Array(SONGS).fill(1 / SONGS);
    const options = { k: 10, lambdaPosition: 2, lambdaDays: 90, lambdaNeighbour: 3, idf: 1 };
    const vstan = new MixedPredictor('vstan', new StanScorer(sessions, options), pop, 0.5);
    const dj = new MixedPredictor('vstan-dj', new StanScorer(sessions, { ...options, djBoost: 0 }), pop, 0.5);
    const boosted = new MixedPredictor('boosted', new StanScorer(sessions, { ...options, djBoost: 2 }), pop, 0.5);
    const [a, b, c] = [vstan, dj, boosted].map(() => new Float64Array(SONGS));
    let differs = false;
    for (let t = 0; t < 10; t++) {
      const prefix = data.sequences.songs.subarray(8 * t, 8 * t + 4);
      const djs = data.sequences.djs.subarray(t, t + 1);
      const context = { tracklist: t, day: data.sequences.days[t], raw: null };
      vstan.predict(prefix, djs, a, context);
      dj.predict(prefix, djs, b, context);
      boosted.predict(prefix, djs, c, context);
      expect(Array.from(b)).toEqual(Array.from(a));
      differs ||= c.some((v, j) => v !== a[j]);
    }
    expect(differs).toBe(true);
  });
});

describe('STAN tuning', () => {
  /** 60 sets, the last 10 held out (split 1). */
  function corpus(heldOutSeed: number): TestSet[] {
    const rng = new Random(11);
    const held = new Random(heldOutSeed);
    return Array.from({ length: 60 }, (_, t) => {
      const test = t >= 50;
      const r = test ? held : rng;
      return {
        songs: Array.from({ length: 10 }, () => Math.floor(SONGS * r.next() ** 2)),
        djs: [Math.floor(4 * r.next())],
        day: 16000 + Math.floor(300 * r.next()),
        split: test ? 1 : 0,
      };
    });
  }

  it('tunes on training sets only: tuning positions are split 0, and the hold-out changes nothing', () => {
    const data = makeData(SONGS, corpus(1));
    const train = trainingTracklists(data.sequences);
    const { tuneSet, fitSet } = tuningSplit(train, 0.2, 1);
    for (const t of [...tuneSet, ...fitSet]) expect(data.sequences.split[t]).toBe(0);
    expect(new Set([...tuneSet, ...fitSet]).size).toBe(train.length);

    const fit = (seed: number) => fitNextSongBaselines(makeData(SONGS, corpus(seed)), { stan: true, tuneShare: 0.2, tunePositions: 200 });
    const a = fit(1);
    const b = fit(2); // other held-out songs, DJs and days
    expect(a.stan.map((p) => p.name)).toEqual(['stan', 'vstan', 'vstan-dj']);
    expect(b.params).toEqual(a.params);
    expect(b.tuning).toEqual(a.tuning);
    for (const name of ['stan', 'vstan', 'vstan-dj']) expect(Number.isFinite(a.tuning!.nllBits[name])).toBe(true);
    // Each stage starts from the one before, so its tuning NLL is no worse.
    expect(a.tuning!.nllBits.vstan).toBeLessThanOrEqual(a.tuning!.nllBits.stan);
    expect(a.tuning!.nllBits['vstan-dj']).toBeLessThanOrEqual(a.tuning!.nllBits.vstan);
  });
});

describe('formatStanParams', () => {
  it('names every STAN-family row and writes an off decay as ∞', () => {
    const line = formatStanParams(DEFAULT_STAN_PARAMS, null);
    expect(line).toMatch(/^given settings \(not tuned\): stan k 100 λ1 4 λ2 ∞ d λ3 4 idf 0 δ 0 β 1; vstan .*; vstan-dj .*δ 1 β 1$/);
    expect(formatStanParams(DEFAULT_STAN_PARAMS, 200)).toContain('on 200 positions');
  });
});
