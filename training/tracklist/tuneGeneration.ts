/**
 * Generation defaults tuned per model (issue 20). Synthetic corpora change scene far less often
 * than real DJ sets, so one set of defaults cannot make both read like their real sets. After the
 * network is fitted and calibrated, training generates for its own validation sets (training sets
 * the network never fitted, with direct connections built without them) and picks the knobs whose
 * sets the two-sample classifier tells least from the real validation sets. The test hold-out is
 * never read. Serving uses the result wherever a request leaves a knob out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Prepared } from '../../shared/graph/prepare.ts';
import { EmbeddingIndex } from '../../shared/model/embeddings.ts';
import { GLOBAL_GENERATION_DEFAULTS, type GenerationDefaults, TUNED_OPTIONS } from '../../shared/model/engine/generateOptions.ts';
import { exportModelVersion, readModelVersion, versionEmbeddings, versionTracklist } from '../../shared/model/modelVersion.ts';
import { ServingModel } from '../../shared/model/serving.ts';
import { TracklistModel } from '../../shared/model/tracklistInference.ts';
import { evaluateGeneration, generationTasks } from '../eval/generation.ts';
import { SetStatistics } from '../eval/setStatistics.ts';
import { modelGenerator } from '../eval/generationRun.ts';
import { treeLabels } from './report.ts';

/** Fewer validation sets than this give an AUC too noisy to choose by: the global defaults stay. */
export const MIN_TUNING_SETS = 30;
/** Validation sets generated for, at most (each candidate costs one generation per set). */
const MAX_TUNING_SETS = 300;
/** Rounds of the coordinate search (it stops early when a round changes nothing). */
const ROUNDS = 2;
/** A candidate replaces the best only when its AUC is lower by this much: smaller gains are noise at a few hundred sets. */
const MIN_GAIN = 0.01;
/** Each candidate's AUC is the mean over this many task draws (RNG seeds, and samples when sets are many): one is too noisy to choose by. */
const DRAWS = 3;

/** The values tried per knob; temperatures are the global default scaled (higher sharpens). */
export const TUNING_GRID: { [K in (typeof TUNED_OPTIONS)[number]]: NonNullable<GenerationDefaults[K]>[] } = {
  temperature: [0.75, 1, 1.25, 1.5, 2].map((f) => GLOBAL_GENERATION_DEFAULTS.temperature.map((t) => Math.round(t * f * 100) / 100)),
  adventurousness: [0.2, 0.4, 0.6, 0.8, 1],
  clusterFlow: [0, 0.25, 0.5, 1, 2],
  artistRepeatPenalty: [0, 0.3, 0.6],
};

export interface GenerationTuning {
  /** Every tuned knob's chosen value. */
  defaults: Required<GenerationDefaults>;
  /** Two-sample AUC on the validation sets: at the global defaults, and at the chosen ones. */
  aucGlobalDefaults: number;
  auc: number;
  sets: number;
  candidates: number;
  seconds: number;
}

/**
 * The prepared data as the tuning sees it: `validation` are the held-out sets (split 1), the other
 * training sets the training sets (0), and the test hold-out is neither (2), so no statistic reads it.
 */
export function validationView(prepared: Prepared, validation: ArrayLike<number>): Prepared {
  const split = Uint8Array.from(prepared.sequences.split, (s) => (s === 0 ? 0 : 2));
  for (const t of Array.from(validation)) {
    if (split[t] !== 0) throw new Error(`generation tuning: tracklist ${t} is not a training set`);
    split[t] = 1;
  }
  return { ...prepared, sequences: { ...prepared.sequences, split } };
}

/**
 * Tunes the knobs on `validation` with the model folder as it is now (its tracklist/ must not index
 * the validation sets). Returns null when there are too few validation sets to choose by.
 */
export function tuneGeneration(
  modelDir: string,
  prepared: Prepared,
  validation: ArrayLike<number>,
  log: (line: string) => void,
  seed = 1,
): GenerationTuning | null {
  const view = validationView(prepared, validation);
  const draws = Array.from({ length: DRAWS }, (_, d) => generationTasks(view, MAX_TUNING_SETS, seed + d));
  const tasks = draws[0];
  if (tasks.length < MIN_TUNING_SETS) {
    log(`generation tuning: ${tasks.length} usable validation sets (< ${MIN_TUNING_SETS}); the global defaults stay`);
    return null;
  }
  const started = performance.now();
  const scratch = mkdtempSync(join(modelDir, '.generation-tuning-'));
  try {
    const versionDir = join(scratch, 'version');
    exportModelVersion(modelDir, versionDir);
    // Read once: the statistics' embeddings and tree are views of the version the engine serves.
    const version = readModelVersion(versionDir);
    const serving = new ServingModel(version);
    const index = new EmbeddingIndex(versionEmbeddings(version));
    const tree = treeLabels(new TracklistModel(versionTracklist(version)!));
    const base = { prepared: view, tree, planted: null, index };
    const inputs = { ...base, oracle: null, raw: null, statistics: new SetStatistics(base) };
    const scored = new Map<string, number>();
    const budget = ROUNDS * Object.values(TUNING_GRID).reduce((n, values) => n + values.length, 0);
    const aucOf = (options: Required<GenerationDefaults>): number => {
      const key = JSON.stringify(options);
      const known = scored.get(key);
      if (known !== undefined) return known;
      const generator = { model: modelGenerator(serving, options), baselines: [] };
      const auc = draws.reduce((sum, t) => sum + evaluateGeneration(inputs, t, generator).model!.auc!, 0) / draws.length;
      scored.set(key, auc);
      const each = (performance.now() - started) / 1000 / scored.size;
      log(
        `generation tuning ${scored.size} (at most ${budget}): ${key} AUC ${auc.toFixed(3)}; ${each.toFixed(1)} s each, ETA ≤ ${Math.round(each * (budget - scored.size))} s`,
      );
      return auc;
    };
    const globalDefaults: Required<GenerationDefaults> = { ...GLOBAL_GENERATION_DEFAULTS };
    let best = { options: globalDefaults, auc: aucOf(globalDefaults) };
    const aucGlobalDefaults = best.auc;
    for (let round = 0; round < ROUNDS; round++) {
      const before = best.auc;
      for (const key of TUNED_OPTIONS)
        for (const value of TUNING_GRID[key]) {
          const options = { ...best.options, [key]: value };
          const auc = aucOf(options);
          if (auc <= best.auc - MIN_GAIN) best = { options, auc };
        }
      if (best.auc === before) break;
    }
    const seconds = (performance.now() - started) / 1000;
    log(
      `generation tuning: ${JSON.stringify(best.options)} on ${tasks.length} validation sets × ${DRAWS} draws, AUC ${aucGlobalDefaults.toFixed(3)} at the global defaults → ${best.auc.toFixed(3)}, ${scored.size} candidates in ${seconds.toFixed(0)} s`,
    );
    return { defaults: best.options, aucGlobalDefaults, auc: best.auc, sets: tasks.length, candidates: scored.size, seconds };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
