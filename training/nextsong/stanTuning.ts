import type { Sequences } from '../../shared/graph/prepare.ts';
import { MixedPredictor } from './mixture.ts';
import type { NextSongData, NextSongPredictor } from './predictor.ts';
import { DEFAULT_STAN_OPTIONS, StanScorer, StanSessions, type StanOptions } from './stan.ts';
import { tuneBeta } from './tuneBeta.ts';

/** The three STAN-family baselines, by evaluation name. */
export const STAN_NAMES = ['stan', 'vstan', 'vstan-dj'] as const;
export type StanName = (typeof STAN_NAMES)[number];
export type StanParams = Record<StanName, StanOptions & { beta: number }>;

/** Grids per setting (coordinate descent: the product would be thousands of passes). */
const GRIDS: Record<keyof StanOptions, number[]> = {
  k: [50, 100, 200, 500, 1000, 2000],
  lambdaPosition: [1, 2, 4, 8, 16, 32, Infinity],
  lambdaDays: [7, 30, 90, 365, 1825, 3650, Infinity],
  lambdaNeighbour: [1, 2, 4, 8, 16, 32, Infinity],
  idf: [0, 0.5, 1, 2, 5, 10],
  djBoost: [0, 0.25, 0.5, 1, 2, 4, 8, 16],
};
const STAN_AXES: (keyof StanOptions)[] = ['lambdaPosition', 'lambdaDays', 'lambdaNeighbour', 'k'];

/** Used as given when tuning is off. */
export const DEFAULT_STAN_PARAMS: StanParams = {
  stan: { ...DEFAULT_STAN_OPTIONS, beta: 1 },
  vstan: { ...DEFAULT_STAN_OPTIONS, idf: 1, beta: 1 },
  'vstan-dj': { ...DEFAULT_STAN_OPTIONS, idf: 1, djBoost: 1, beta: 1 },
};

/**
 * Tunes STAN, then V-STAN from STAN's settings (IDF added), then the DJ-aware V-STAN from
 * V-STAN's (δ added), each by NLL (β in closed form) on `pairs`, positions of tuning sets, with
 * sessions from fitSet only: the caller keeps both inside the training sets.
 */
export function tuneStan(
  data: NextSongData,
  fitSet: ArrayLike<number>,
  pairs: Int32Array,
  pop: Float64Array,
): { params: StanParams; nllBits: Record<StanName, number> } {
  const sessions = new StanSessions(data.sequences, data.vocab.songs.length, fitSet);
  const evaluate = (o: StanOptions) => tuneBeta(data, new StanScorer(sessions, o), pop, pairs);
  const stan = descend(evaluate, { ...DEFAULT_STAN_OPTIONS }, STAN_AXES, 2);
  const vstan = descend(evaluate, stan.params, ['idf', ...STAN_AXES], 1, stan);
  const dj = descend(evaluate, vstan.params, ['djBoost', 'lambdaDays', 'k'], 1, vstan);
  return {
    params: { stan: stan.params, vstan: vstan.params, 'vstan-dj': dj.params },
    nllBits: { stan: stan.nllBits, vstan: vstan.nllBits, 'vstan-dj': dj.nllBits },
  };
}

interface Tuned {
  params: StanOptions & { beta: number };
  nllBits: number;
}

/** Coordinate descent over the axes' grids, `rounds` sweeps; `start` is the known result at `from`. */
function descend(
  evaluate: (o: StanOptions) => { beta: number; nllBits: number },
  from: StanOptions,
  axes: (keyof StanOptions)[],
  rounds: number,
  start?: Tuned,
): Tuned {
  let best: Tuned;
  if (start) best = { params: { ...start.params }, nllBits: start.nllBits };
  else {
    const { beta, nllBits } = evaluate(from);
    best = { params: { ...from, beta }, nllBits };
  }
  for (let r = 0; r < rounds; r++)
    for (const axis of axes)
      for (const value of GRIDS[axis]) {
        if (best.params[axis] === value) continue;
        const { beta: _b, ...current } = best.params;
        const o = { ...current, [axis]: value };
        const { beta, nllBits } = evaluate(o);
        if (nllBits < best.nllBits) best = { params: { ...o, beta }, nllBits };
      }
  return best;
}

/** The three STAN-family predictors with fixed settings, sessions from the given tracklists. */
export function buildStanBaselines(
  sequences: Sequences,
  songs: number,
  tracklists: ArrayLike<number>,
  pop: Float64Array,
  params: StanParams,
): NextSongPredictor[] {
  const sessions = new StanSessions(sequences, songs, tracklists);
  return STAN_NAMES.map((name) => {
    const { beta, ...options } = params[name];
    return new MixedPredictor(name, new StanScorer(sessions, options), pop, beta);
  });
}

/** One line for under the next-song table: the STAN family's tuned settings (∞: decay off). */
export function formatStanParams(params: StanParams, positions: number | null): string {
  const show = (v: number) => (v === Infinity ? '∞' : String(v));
  const rows = STAN_NAMES.map((name) => {
    const p = params[name];
    return `${name} k ${p.k} λ1 ${show(p.lambdaPosition)} λ2 ${show(p.lambdaDays)} d λ3 ${show(p.lambdaNeighbour)} idf ${p.idf} δ ${p.djBoost} β ${p.beta}`;
  });
  const how = positions === null ? 'given settings (not tuned)' : `tuned by NLL on ${positions} positions of an inner split of the training sets`;
  return `${how}: ${rows.join('; ')}`;
}
