/**
 * 'constant': `learningRate` at every step. 'cosine' / 'linear': a linear warm-up over the first
 * `warmupShare` of the steps to `learningRate`, then a cosine / linear decay to
 * `finalLrShare × learningRate` at the last step.
 */
export type LrSchedule = 'constant' | 'cosine' | 'linear';
export const LR_SCHEDULES: readonly LrSchedule[] = ['constant', 'cosine', 'linear'];

/** TL-MGCCF hyper-parameters (SPEC §3; bracketed originals as defaults where they fit CPU training). */
export interface MgccfConfig {
  dim: number;
  /** Neighbours sampled at hop 1 and hop 2 of the Bipar-GCN [15, 10]. */
  samples: [number, number];
  dropout: number;
  batch: number;
  /** Adam's learning rate; with a schedule, its peak. */
  learningRate: number;
  /** Learning-rate schedule over the `steps` of the run (see learningRateAt). */
  schedule: LrSchedule;
  /** Share of the steps spent warming up linearly to the peak (not used by 'constant'). */
  warmupShare: number;
  /** The learning rate at the last step as a share of the peak (not used by 'constant'). */
  finalLrShare: number;
  steps: number;
  /** Weights of the factorisation terms: song–song, artist–artist, song→artist, artist→song. */
  factorWeights: { songSong: number; artistArtist: number; songArtist: number; artistSong: number };
  /** f(X) on zero entries of the factorised matrices. */
  zeroWeight: number;
  /**
   * Columns sampled per step for the zero-weighted part of each factorisation term (an unbiased
   * estimate of the sum over all songs/artists); 0 = every column, the faithful form.
   */
  factorColumns: number;
  /** The batch's songs (and artists) entering the factorisation terms, sampled; 0 = all. */
  factorRows: number;
  l2Weights: number;
  l2Output: number;
  /** Sampled passes averaged into the exported recommendation vectors. */
  averagingPasses: number;
  seed: number;
  checkpointEvery: number;
}

export const DEFAULT_MGCCF_CONFIG: MgccfConfig = {
  dim: 32,
  samples: [15, 10],
  dropout: 0.3,
  batch: 250,
  learningRate: 1e-3,
  schedule: 'constant',
  warmupShare: 0.03,
  finalLrShare: 0.1,
  steps: 3000,
  factorWeights: { songSong: 10, artistArtist: 6, songArtist: 20, artistSong: 8 },
  zeroWeight: 0.05,
  factorColumns: 4096,
  factorRows: 256,
  l2Weights: 1e-4,
  l2Output: 1e-4,
  averagingPasses: 32,
  seed: 1,
  checkpointEvery: 200,
};

/**
 * The learning rate of step `step` (0-based) of a run of `config.steps` steps: a function of the
 * step number only, so a resumed run continues on the same schedule.
 */
export function learningRateAt(config: MgccfConfig, step: number): number {
  const peak = config.learningRate;
  if (config.schedule === 'constant') return peak;
  const last = Math.max(0, config.steps - 1);
  const s = Math.min(Math.max(0, step), last);
  const warmup = Math.min(last, Math.round(config.warmupShare * config.steps));
  if (s < warmup) return (peak * (s + 1)) / (warmup + 1);
  const t = last > warmup ? (s - warmup) / (last - warmup) : 1;
  const decay = config.schedule === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * t)) : 1 - t;
  return peak * (config.finalLrShare + (1 - config.finalLrShare) * decay);
}

export type Budget = 'fast' | 'full';

/** The batch the default learning rate was measured at. */
const BASE_BATCH = 250;

/** The budgets' schedule peak over the square-root-rule rate (see mgccfConfigFor). */
const SCHEDULE_PEAK = 2;

/**
 * Adam's learning rate for a batch by the square-root rule (1e-3 at 250 triplets, 2e-3 at
 * 1,000): a larger batch averages away gradient noise, so the same number of steps can move further.
 */
export function learningRateForBatch(batch: number): number {
  return DEFAULT_MGCCF_CONFIG.learningRate * Math.sqrt(batch / BASE_BATCH);
}

/**
 * Budgets scale batch and steps to the data. Measured on `small` (400 steps): dim 32 reached
 * Recall@20 0.350 against 0.361 for dim 64 at 56 % of the step time, and at `seed` a step takes
 * ~1.1 s at dim 32 against ~2.0 s at dim 64, so 32 is the default.
 *
 * A budget is a number of epochs (passes over the training click entries) within a step cap.
 * When the cap binds, the batch grows (up to the 1,000 triplets `seed` uses) so the epochs still
 * fit: most of a step is fixed work — the graph encodings of every node and the factorisation
 * terms — so 1,000 triplets take only ~1.6× the time of 319 on `medium`. The learning rate follows
 * the batch by the square-root rule for Adam (1e-3 at 250 triplets, 2e-3 at 1,000): a larger
 * batch averages away gradient noise, so the same number of steps can move further.
 *
 * Measured on an inner validation split of `medium`'s training clicks (20 % of each DJ's
 * training songs held out; the real hold-out unseen), 1,500 steps each, Recall@20 against
 * BPR-MF 0.200: 255 triplets at 1e-3 (the old rule: 25 of the 80 epochs) 0.204; 1,000 at
 * 1e-3 0.218; 1,000 at 2e-3 0.233. Corpora whose epochs fit the cap at 250 triplets (`small`,
 * the real sets) are unchanged; `seed` keeps 1,000 triplets per step and gets 2e-3.
 *
 * Schedule: a linear warm-up over the first 3 % of the steps to twice the square-root-rule rate
 * (4e-3 at 1,000 triplets, 2e-3 at 250), then a cosine decay to 10 % of that peak at the last
 * step. Measured with `npm run tune:mgccf` on another inner split of `medium` (split seed 1: 15,296
 * training / 3,843 validation entries), 1,500 steps of 1,000 triplets, Recall@20 / NDCG@20
 * against BPR-MF 0.1843 / 0.1565: constant 2e-3 (the previous default) 0.2071 / 0.1667
 * (1.12× / 1.06×); cosine, peak 2e-3 0.2048 / 0.1681; constant 4e-3 0.1946 / 0.1664; cosine,
 * peak 4e-3 0.2114 / 0.1759 (1.15× / 1.12×) — the higher peak only helps because the decay
 * follows it. On the real medium hold-out (`--budget full`) this took Recall@20 from 0.2483 to
 * 0.2507 and NDCG@20 from 0.2548 to 0.2577 (BPR-MF 0.2279 / 0.2194: 1.100× / 1.175×). Inner
 * splits at 250 triplets, the full budget's steps, previous default (constant 1e-3) → this one:
 * `small` 0.3134 / 0.2275 → 0.3255 / 0.2416 (BPR-MF 0.2510 / 0.1815); the real set 0.1463 /
 * 0.2455 → 0.1629 / 0.2609 (BPR-MF 0.0813 / 0.1214). `fast` budgets and `seed` are unmeasured.
 */
export function mgccfConfigFor(budget: Budget, clickEntries: number, seed: number): MgccfConfig {
  // `full` is sized so the `seed` stage stays under 30 minutes (see the README's benchmarks).
  const epochs = budget === 'fast' ? 30 : 80;
  const cap = budget === 'fast' ? 600 : 1500;
  const batch = Math.min(
    1000,
    Math.max(BASE_BATCH, Math.round(clickEntries / 60), Math.ceil((epochs * clickEntries) / cap)),
  );
  const steps = Math.max(200, Math.min(cap, Math.ceil((epochs * clickEntries) / batch)));
  return {
    ...DEFAULT_MGCCF_CONFIG,
    batch,
    steps,
    learningRate: SCHEDULE_PEAK * learningRateForBatch(batch),
    schedule: 'cosine',
    warmupShare: 0.03,
    finalLrShare: 0.1,
    averagingPasses: budget === 'fast' ? 8 : 32,
    seed,
  };
}
