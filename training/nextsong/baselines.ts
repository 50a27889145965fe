import { Random } from '../../shared/util/random.ts';
import { collectPositions, scorePositions } from './evaluate.ts';
import { MarkovPredictor, transitionCounts } from './markov.ts';
import { MixedPredictor } from './mixture.ts';
import { PopularityPredictor, smoothedPopularity, songCounts } from './popularity.ts';
import { trainingTracklists, type NextSongData, type NextSongPredictor } from './predictor.ts';
import { SequentialRulesScorer, sequentialRules } from './sr.ts';
import { buildStanBaselines, DEFAULT_STAN_PARAMS, tuneStan, type StanParams } from './stanTuning.ts';
import { tuneBeta } from './tuneBeta.ts';
import { DEFAULT_VSKNN_OPTIONS, VsknnScorer, type VsknnOptions } from './vsknn.ts';

export interface BaselineParams {
  popularity: { alpha: number };
  markov: { discount: number };
  sr: { steps: number; beta: number };
  vsknn: VsknnOptions & { beta: number };
  /** STAN, V-STAN, DJ-aware V-STAN (fitted only with FitBaselinesOptions.stan). */
  stan: StanParams;
}

/** Used as given when tuning is off, and as the fixed parts (k, sampleSize) when it is on. */
export const DEFAULT_BASELINE_PARAMS: BaselineParams = {
  popularity: { alpha: 0.5 },
  markov: { discount: 0.8 },
  sr: { steps: 10, beta: 1 },
  vsknn: { ...DEFAULT_VSKNN_OPTIONS, beta: 1 },
  stan: DEFAULT_STAN_PARAMS,
};

export interface FitBaselinesOptions {
  /** Choose smoothing and structure by NLL on a held-back slice of the training sets. */
  tune: boolean;
  /** Share of training tracklists held back for tuning (models are refitted on all afterwards). */
  tuneShare: number;
  /** At most this many tuning positions (seeded sample). */
  tunePositions: number;
  seed: number;
  /** Settings used as given without tuning; with tuning only vsknn's k and sampleSize are kept. */
  params: Partial<BaselineParams>;
  /** Also fit (and tune) STAN, V-STAN and the DJ-aware V-STAN into FittedBaselines.stan. */
  stan: boolean;
  log: (line: string) => void;
}

export const DEFAULT_FIT_BASELINES_OPTIONS: FitBaselinesOptions = {
  tune: true,
  tuneShare: 0.1,
  tunePositions: 2000,
  seed: 1,
  params: {},
  stan: false,
  log: () => {},
};

export interface FittedBaselines {
  /** popularity, markov, sr, vsknn, fitted on all training (split 0) tracklists. */
  predictors: NextSongPredictor[];
  /** stan, vstan, vstan-dj on all training tracklists, when asked for (else empty). */
  stan: NextSongPredictor[];
  params: BaselineParams;
  /** NLL (bits) of the chosen settings on the tuning slice, or null when not tuned. */
  tuning: { tracklists: number; positions: number; nllBits: Record<string, number> } | null;
}

/** The tuning slice: a seeded share of the training tracklists; the rest is what is fitted on while tuning. */
export function tuningSplit(
  train: ArrayLike<number>,
  share: number,
  seed: number,
): { tuneSet: number[]; fitSet: number[] } {
  const shuffled = new Random(seed).shuffle(Array.from(train));
  const nTune = Math.round(shuffled.length * share);
  return {
    tuneSet: shuffled.slice(0, nTune).sort((a, b) => a - b),
    fitSet: shuffled.slice(nTune).sort((a, b) => a - b),
  };
}

const ALPHAS = [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30];
const DISCOUNTS = [0.5, 0.7, 0.8, 0.9, 0.95, 1];
const SR_STEPS = [3, 5, 10, 20, 40];

/** Fits the four next-song baselines on training tracklists, tuning them on a training slice. */
export function fitNextSongBaselines(
  data: NextSongData,
  options: Partial<FitBaselinesOptions> = {},
): FittedBaselines {
  const o = { ...DEFAULT_FIT_BASELINES_OPTIONS, ...options };
  const params: BaselineParams = { ...DEFAULT_BASELINE_PARAMS, ...o.params };
  const songs = data.vocab.songs.length;
  const train = trainingTracklists(data.sequences);
  let tuning: FittedBaselines['tuning'] = null;
  if (o.tune) {
    const { tuneSet, fitSet } = tuningSplit(train, o.tuneShare, o.seed);
    const { pairs } = collectPositions(data.sequences, songs, tuneSet, o.tunePositions, o.seed);
    if (pairs.length > 0 && fitSet.length > 0) {
      const nllBits = tune(data, fitSet, pairs, params, o.log);
      if (o.stan) {
        const pop = smoothedPopularity(songCounts(data.sequences, songs, fitSet), params.popularity.alpha);
        const stan = tuneStan(data, fitSet, pairs, pop);
        params.stan = stan.params;
        Object.assign(nllBits, stan.nllBits);
        o.log(`stan baselines tuned on ${pairs.length / 2} positions: ${JSON.stringify(stan.params)}`);
      }
      tuning = { tracklists: tuneSet.length, positions: pairs.length / 2, nllBits };
    } else o.log('next-song baselines: too few training sets to tune; using the given settings');
  }
  const predictors = buildNextSongBaselines(data, train, params);
  const pop = (predictors[0] as PopularityPredictor).probs;
  const stan = o.stan ? buildStanBaselines(data.sequences, songs, train, pop, params.stan) : [];
  return { predictors, stan, params, tuning };
}

/** The four baselines with fixed settings, fitted on the given tracklists. */
export function buildNextSongBaselines(
  data: NextSongData,
  tracklists: ArrayLike<number>,
  params: BaselineParams,
): NextSongPredictor[] {
  const { sequences } = data;
  const songs = data.vocab.songs.length;
  const pop = smoothedPopularity(songCounts(sequences, songs, tracklists), params.popularity.alpha);
  const { beta: vsknnBeta, ...vsknnOptions } = params.vsknn;
  return [
    new PopularityPredictor(pop),
    new MarkovPredictor(transitionCounts(sequences, songs, tracklists), pop, params.markov.discount),
    new MixedPredictor(
      'sr',
      new SequentialRulesScorer(
        sequentialRules(sequences, songs, tracklists, params.sr.steps),
        params.sr.steps,
      ),
      pop,
      params.sr.beta,
    ),
    new MixedPredictor('vsknn', new VsknnScorer(sequences, songs, tracklists, vsknnOptions), pop, vsknnBeta),
  ];
}

/** Grid search by NLL on the tuning positions; writes the winners into params. */
function tune(
  data: NextSongData,
  fitSet: number[],
  pairs: Int32Array,
  params: BaselineParams,
  log: (line: string) => void,
): Record<string, number> {
  const { sequences } = data;
  const songs = data.vocab.songs.length;
  const nll = (predictor: NextSongPredictor) => scorePositions(data, [predictor], pairs)[0].metrics().nllBits;
  const counts = songCounts(sequences, songs, fitSet);
  const best: Record<string, number> = {};

  best.popularity = Infinity;
  for (const alpha of ALPHAS) {
    const v = nll(new PopularityPredictor(smoothedPopularity(counts, alpha)));
    if (v < best.popularity) [best.popularity, params.popularity] = [v, { alpha }];
  }
  const pop = smoothedPopularity(counts, params.popularity.alpha);

  const transitions = transitionCounts(sequences, songs, fitSet);
  best.markov = Infinity;
  for (const discount of DISCOUNTS) {
    const v = nll(new MarkovPredictor(transitions, pop, discount));
    if (v < best.markov) [best.markov, params.markov] = [v, { discount }];
  }

  best.sr = Infinity;
  for (const steps of SR_STEPS) {
    const scorer = new SequentialRulesScorer(sequentialRules(sequences, songs, fitSet, steps), steps);
    const { beta, nllBits } = tuneBeta(data, scorer, pop, pairs);
    if (nllBits < best.sr) [best.sr, params.sr] = [nllBits, { steps, beta }];
  }

  const vsknn = tuneVsknn(data, fitSet, pairs, pop, params.vsknn);
  best.vsknn = vsknn.nllBits;
  params.vsknn = vsknn.params;
  const { stan: _stan, ...tuned } = params;
  log(`next-song baselines tuned on ${pairs.length / 2} positions: ${JSON.stringify(tuned)}`);
  return best;
}

/**
 * V-SkNN's structure (decay, match decay, positional weights; k and sampleSize as given) and
 * mixing weight β by NLL on the tuning positions, fitted on fitSet: the vsknn baseline's tuning,
 * also used for the tracklist model's session term.
 */
export function tuneVsknn(
  data: NextSongData,
  fitSet: ArrayLike<number>,
  pairs: Int32Array,
  pop: Float64Array,
  given: Pick<VsknnOptions, 'k' | 'sampleSize'>,
): { params: VsknnOptions & { beta: number }; nllBits: number } {
  const songs = data.vocab.songs.length;
  const { k, sampleSize } = given;
  let best: { params: VsknnOptions & { beta: number }; nllBits: number } = {
    params: { ...DEFAULT_VSKNN_OPTIONS, k, sampleSize, beta: 1 },
    nllBits: Infinity,
  };
  for (const decay of ['linear', 'div'] as const)
    for (const matchDecay of [false, true])
      for (const positional of ['none', 'symmetric', 'forward'] as const) {
        const structure: VsknnOptions = { k, sampleSize, decay, matchDecay, positional };
        const { beta, nllBits } = tuneBeta(data, new VsknnScorer(data.sequences, songs, fitSet, structure), pop, pairs);
        if (nllBits < best.nllBits) best = { params: { ...structure, beta }, nllBits };
      }
  return best;
}
