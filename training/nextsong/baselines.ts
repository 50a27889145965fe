import { Random } from '../../shared/util/random.ts';
import { collectPositions, scorePositions } from './evaluate.ts';
import { MarkovPredictor, transitionCounts } from './markov.ts';
import { MixedPredictor, type EvidenceScorer } from './mixture.ts';
import { PopularityPredictor, smoothedPopularity, songCounts } from './popularity.ts';
import { trainingTracklists, type NextSongData, type NextSongPredictor } from './predictor.ts';
import { SequentialRulesScorer, sequentialRules } from './sr.ts';
import { DEFAULT_VSKNN_OPTIONS, VsknnScorer, type VsknnOptions } from './vsknn.ts';

export interface BaselineParams {
  popularity: { alpha: number };
  markov: { discount: number };
  sr: { steps: number; beta: number };
  vsknn: VsknnOptions & { beta: number };
}

/** Used as given when tuning is off, and as the fixed parts (k, sampleSize) when it is on. */
export const DEFAULT_BASELINE_PARAMS: BaselineParams = {
  popularity: { alpha: 0.5 },
  markov: { discount: 0.8 },
  sr: { steps: 10, beta: 1 },
  vsknn: { ...DEFAULT_VSKNN_OPTIONS, beta: 1 },
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
  log: (line: string) => void;
}

export const DEFAULT_FIT_BASELINES_OPTIONS: FitBaselinesOptions = {
  tune: true,
  tuneShare: 0.1,
  tunePositions: 2000,
  seed: 1,
  params: {},
  log: () => {},
};

export interface FittedBaselines {
  /** popularity, markov, sr, vsknn, fitted on all training (split 0) tracklists. */
  predictors: NextSongPredictor[];
  params: BaselineParams;
  /** NLL (bits) of the chosen settings on the tuning slice, or null when not tuned. */
  tuning: { tracklists: number; positions: number; nllBits: Record<string, number> } | null;
}

const ALPHAS = [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30];
const DISCOUNTS = [0.5, 0.7, 0.8, 0.9, 0.95, 1];
const SR_STEPS = [3, 5, 10, 20, 40];
/** β candidates 2^-12 … 2^16: evidence scales differ by orders of magnitude across scorers. */
const BETAS = Array.from({ length: 29 }, (_, k) => 2 ** (k - 12));

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
    const shuffled = new Random(o.seed).shuffle(Array.from(train));
    const nTune = Math.round(shuffled.length * o.tuneShare);
    const tuneSet = shuffled.slice(0, nTune).sort((a, b) => a - b);
    const fitSet = shuffled.slice(nTune).sort((a, b) => a - b);
    const { pairs } = collectPositions(data.sequences, songs, tuneSet, o.tunePositions, o.seed);
    if (pairs.length > 0 && fitSet.length > 0) {
      const nllBits = tune(data, fitSet, pairs, params, o.log);
      tuning = { tracklists: tuneSet.length, positions: pairs.length / 2, nllBits };
    } else o.log('next-song baselines: too few training sets to tune; using the given settings');
  }
  return { predictors: buildNextSongBaselines(data, train, params), params, tuning };
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
  log(`next-song baselines tuned on ${pairs.length / 2} positions: ${JSON.stringify(params)}`);
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

/**
 * Best β for a MixedPredictor in closed form per position: with played songs removed,
 * P(target) = (s_t + β·pop_t) / (S + β·Π), S and Π the free evidence and popularity mass, so
 * the scores are computed once and every β is evaluated from four numbers per position.
 */
function tuneBeta(
  data: NextSongData,
  scorer: EvidenceScorer,
  pop: Float64Array,
  pairs: Int32Array,
): { beta: number; nllBits: number } {
  const { sequences } = data;
  const positions = pairs.length / 2;
  const st = new Float64Array(positions);
  const total = new Float64Array(positions);
  const pt = new Float64Array(positions);
  const free = new Float64Array(positions);
  const buf = new Float64Array(data.vocab.songs.length);
  for (let q = 0; q < positions; q++) {
    const t = pairs[2 * q];
    const start = sequences.offsets[t];
    const prefix = sequences.songs.subarray(start, start + pairs[2 * q + 1]);
    const target = sequences.songs[start + pairs[2 * q + 1]];
    scorer.score(prefix, sequences.djs.subarray(sequences.djOffsets[t], sequences.djOffsets[t + 1]), buf);
    let s = 0;
    for (let j = 0; j < buf.length; j++) s += buf[j];
    let f = 1;
    for (const played of new Set(prefix)) {
      if (played < 0) continue;
      s -= buf[played];
      f -= pop[played];
    }
    st[q] = buf[target];
    total[q] = Math.max(s, 0);
    pt[q] = pop[target];
    free[q] = f;
  }
  let best = { beta: BETAS[0], nllBits: Infinity };
  for (const beta of BETAS) {
    let bits = 0;
    for (let q = 0; q < positions; q++)
      bits -= Math.log2((st[q] + beta * pt[q]) / (total[q] + beta * free[q]));
    bits /= positions;
    if (bits < best.nllBits) best = { beta, nllBits: bits };
  }
  return best;
}
