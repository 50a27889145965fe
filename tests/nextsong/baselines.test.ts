import { describe, expect, it } from 'vitest';
import { GAP, OUT_OF_VOCABULARY as OOV } from '../../shared/graph/prepare.ts';
import { Random } from '../../shared/util/random.ts';
import {
  buildNextSongBaselines,
  DEFAULT_BASELINE_PARAMS,
  fitNextSongBaselines,
} from '../../training/nextsong/baselines.ts';
import { MarkovPredictor } from '../../training/nextsong/markov.ts';
import { MixedPredictor } from '../../training/nextsong/mixture.ts';
import type { PopularityPredictor } from '../../training/nextsong/popularity.ts';
import { trainingTracklists, type NextSongPredictor } from '../../training/nextsong/predictor.ts';
import { VsknnScorer, type VsknnOptions } from '../../training/nextsong/vsknn.ts';
import { makeData, rankOf, type TestSet } from './data.ts';

const NONE = new Int32Array(0);

function predict(p: NextSongPredictor, prefix: number[], songs: number): Float64Array {
  const out = new Float64Array(songs).fill(NaN);
  p.predict(Int32Array.from(prefix), NONE, out);
  return out;
}

/** Random sets over 60 songs with a skewed popularity, gaps, OOV tracks and a few repeats. */
function noisyData() {
  const rng = new Random(7);
  const sets: TestSet[] = [];
  for (let t = 0; t < 80; t++) {
    const songs: number[] = [];
    for (let i = 0; i < 15; i++) {
      const r = rng.next();
      songs.push(r < 0.08 ? GAP : r < 0.15 ? OOV : Math.floor(60 * rng.next() ** 2));
    }
    sets.push({ songs, day: 16000 + t });
  }
  return makeData(60, sets);
}

describe('next-song baselines', () => {
  const data = noisyData();
  const train = trainingTracklists(data.sequences);
  const fixed = buildNextSongBaselines(data, train, DEFAULT_BASELINE_PARAMS);
  const tuned = fitNextSongBaselines(data, { tunePositions: 300 });

  it('fits the four baselines, tuning within the grids on a training slice', () => {
    expect(fixed.map((p) => p.name)).toEqual(['popularity', 'markov', 'sr', 'vsknn']);
    expect(tuned.predictors.map((p) => p.name)).toEqual(['popularity', 'markov', 'sr', 'vsknn']);
    expect(tuned.tuning?.tracklists).toBe(8);
    expect(tuned.tuning!.positions).toBeGreaterThan(50);
    for (const v of Object.values(tuned.tuning!.nllBits)) expect(Number.isFinite(v)).toBe(true);
    expect([0.5, 0.7, 0.8, 0.9, 0.95, 1]).toContain(tuned.params.markov.discount);
  });

  const prefixes = [[], [GAP], [OOV], [3], [3, 7, GAP], [5, OOV], [1, 2, 1, 9], [0, 1, 2, 3, 4, 5, 6, 7, 8]];
  for (const [label, predictors] of [
    ['fixed', fixed],
    ['tuned', tuned.predictors],
  ] as const)
    for (const p of predictors)
      it(`${p.name} (${label}): sums to 1, zero on played songs, positive elsewhere`, () => {
        for (const prefix of prefixes) {
          const out = predict(p, prefix, 60);
          expect(out.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
          for (let j = 0; j < 60; j++) {
            if (prefix.includes(j)) expect(out[j]).toBe(0);
            else expect(out[j]).toBeGreaterThan(0);
          }
        }
      });
});

describe('markov', () => {
  // 20 copies of the chain 0 → 1 → … → 9; songs 10 and 11 are never played.
  const data = makeData(
    12,
    Array.from({ length: 20 }, () => ({ songs: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] })),
  );
  const [popularity, markov] = buildNextSongBaselines(
    data,
    trainingTracklists(data.sequences),
    DEFAULT_BASELINE_PARAMS,
  );

  it('predicts a deterministic chain: the successor first, with the discounted probability', () => {
    for (let k = 0; k < 9; k++) {
      const out = predict(
        markov,
        Array.from({ length: k + 1 }, (_, i) => i),
        12,
      );
      expect(rankOf(out, k + 1)).toBe(1);
    }
    // α = 0.5: pop = 20.5/206 for played songs, 0.5/206 otherwise; D = 0.8, c(2) = 20, one successor.
    const pop = 20.5 / 206;
    const backoff = (0.8 * 1) / 20;
    const free = 1 - 3 * backoff * pop; // songs 0, 1, 2 removed
    const out = predict(markov, [0, 1, 2], 12);
    expect(out[3]).toBeCloseTo((19.2 / 20 + backoff * pop) / free, 12);
    expect(out[10]).toBeCloseTo((backoff * 0.5) / 206 / free, 14);
  });

  it('backs off to popularity after a gap, an OOV track, or a song without successors', () => {
    for (const prefix of [[0, 1, GAP], [0, 1, OOV], [0, 1, 9], [GAP]]) {
      const m = predict(markov, prefix, 12);
      const p = predict(popularity, prefix, 12);
      for (let j = 0; j < 12; j++) expect(m[j]).toBeCloseTo(p[j], 14);
    }
    // The back-off is not the chain: after 1 then a gap, 2 is no more likely than 3.
    const out = predict(markov, [0, 1, GAP], 12);
    expect(out[2]).toBeCloseTo(out[3], 14);
  });

  it('rejects a discount that would leave unseen songs without mass', () => {
    expect(
      () => new MarkovPredictor((markov as MarkovPredictor).transitions, new Float64Array(12), 0),
    ).toThrow();
  });
});

describe('sr and vsknn rank the planted continuation first', () => {
  const rng = new Random(11);
  const noise = (count: number, exclude: number[]) => {
    const out: number[] = [];
    while (out.length < count) {
      const s = 1 + rng.int(39);
      if (!exclude.includes(s) && !out.includes(s)) out.push(s);
    }
    return out;
  };
  const planted = [5, 7, 20, 21, 22, 23];
  const sets: TestSet[] = [];
  // Song 0 opens every noise set, so popularity alone would put it first.
  for (let t = 0; t < 40; t++) sets.push({ songs: [0, ...noise(9, planted)], day: t });
  // SR: 5 is followed by 7 in six sets, by a different song in six others.
  for (let t = 0; t < 6; t++)
    sets.push({ songs: [...noise(3, planted), 5, 7, ...noise(3, planted)], day: t });
  for (let t = 0; t < 6; t++) sets.push({ songs: [...noise(3, planted), 5, ...noise(4, planted)], day: t });
  // vsknn: sets with 20, 21, 22 also hold 23, three tracks on; 20 alone recurs with other songs.
  for (let t = 0; t < 8; t++)
    sets.push({ songs: [20, 21, 22, ...noise(2, planted), 23, ...noise(2, planted)], day: t });
  for (let t = 0; t < 3; t++) sets.push({ songs: [0, 20, ...noise(6, planted)], day: t });
  const data = makeData(40, sets);
  const train = trainingTracklists(data.sequences);
  const [popularity, , sr, vsknn] = buildNextSongBaselines(data, train, DEFAULT_BASELINE_PARAMS);

  it('popularity alone ranks song 0 first (the test can fail)', () => {
    expect(rankOf(predict(popularity, [3, 5], 40), 0)).toBe(1);
  });

  it('sr: 7 after 5, also across a gap', () => {
    expect(rankOf(predict(sr, [3, 5], 40), 7)).toBe(1);
    expect(rankOf(predict(sr, [3, 5, GAP], 40), 7)).toBe(1);
    // An OOV last track gives no rule: popularity decides.
    expect(rankOf(predict(sr, [5, OOV], 40), 0)).toBe(1);
  });

  const variants: Partial<VsknnOptions>[] = [
    {},
    { decay: 'div' },
    { matchDecay: true, positional: 'symmetric' },
    { positional: 'forward' },
    { k: 5, sampleSize: 10 },
  ];
  for (const v of variants)
    it(`vsknn ${JSON.stringify(v)}: 23 after 20, 21, 22`, () => {
      const p =
        Object.keys(v).length === 0
          ? vsknn
          : new MixedPredictor(
              'vsknn',
              new VsknnScorer(data.sequences, 40, train, v),
              (popularity as PopularityPredictor).probs,
              1,
            );
      expect(rankOf(predict(p, [21, 20, 22], 40), 23)).toBe(1);
      expect(rankOf(predict(p, [20, GAP, 21, 22], 40), 23)).toBe(1);
    });
});
