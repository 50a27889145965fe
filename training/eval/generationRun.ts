/**
 * Wires the generation evaluation to a model folder: the serving engine (exactly what the API
 * runs) generates for the model, the fitted next-song baselines and the embeddings drive the
 * baseline generators, and the learned tree, planted levels and oracle feed the statistics.
 */
import type { SynthTruth } from '../../shared/corpus/oracle.ts';
import type { Tracklist } from '../../shared/corpus/types.ts';
import type { Prepared } from '../../shared/graph/prepare.ts';
import type { EmbeddingIndex } from '../../shared/model/embeddings.ts';
import type { GenerateOptions } from '../../shared/model/generate.ts';
import { ensureModelVersion } from '../../shared/model/modelVersion.ts';
import { ServingModel } from '../../shared/model/serving.ts';
import type { TracklistModel } from '../../shared/model/tracklistInference.ts';
import type { NextSongPredictor } from '../nextsong/predictor.ts';
import { OraclePredictor } from '../nextsong/oracle.ts';
import { treeLabels } from '../tracklist/report.ts';
import {
  clusterPopularityGenerator,
  evaluateGeneration,
  type GenerationReport,
  type GenerationTask,
  generationTasks,
  predictorGenerator,
  radioGenerator,
  type SetGenerator,
} from './generation.ts';

/** Default number of held-out sets generated for. */
export const GENERATION_SETS = 300;

/** The model as a set generator: the serving engine with a task's seed, DJ and length, plus `options`. */
export function modelGenerator(model: ServingModel, options: Partial<GenerateOptions> = {}, name = 'model'): SetGenerator {
  return {
    name,
    generate: (task: GenerationTask) =>
      model
        .generate({ seedSong: task.seed, length: task.length, rngSeed: task.rngSeed, ...(task.dj !== null ? { dj: task.dj } : {}), ...options })
        .map((g) => g.song),
  };
}

export interface GenerationRunInputs {
  modelDir: string;
  prepared: Prepared;
  index: EmbeddingIndex | null;
  tracklist: TracklistModel | null;
  baselines: readonly NextSongPredictor[];
  truth: SynthTruth | null;
  /** The oracle already built from `truth` (eval's); without it one is built from `truth`. */
  oracle?: OraclePredictor | null;
  /** Planted labels per level, finest first, when the corpus has a truth file (synthetic or planted only). */
  planted: Int32Array[] | null;
  raw: ((t: number) => Tracklist | undefined) | null;
  sets?: number;
  /** Extra model variants to run in the same evaluation (ablations). */
  variants?: { name: string; options: Partial<GenerateOptions> }[];
  say?: (line: string) => void;
}

export function runGeneration(inputs: GenerationRunInputs): { report: GenerationReport; serving: ServingModel | null } {
  const { prepared, index, tracklist } = inputs;
  const songs = prepared.vocab.songs.length;
  const tasks = generationTasks(prepared, inputs.sets ?? GENERATION_SETS);
  const serving = tracklist ? ServingModel.load(ensureModelVersion(inputs.modelDir, inputs.say).dir) : null;
  if (serving) {
    const own = Object.keys(serving.generationDefaults).length > 0;
    inputs.say?.(`model: generates with ${own ? `its own defaults ${JSON.stringify(serving.generationDefaults)} (tuned at training time)` : 'the global defaults (not tuned)'}`);
  }
  const tree = tracklist ? treeLabels(tracklist) : null;
  const baselines: SetGenerator[] = [];
  for (const name of ['markov', 'vsknn']) {
    const p = inputs.baselines.find((b) => b.name === name);
    if (p) baselines.push(predictorGenerator(name, p, songs));
  }
  if (index) baselines.push(radioGenerator((s, k) => index.similarSongs(s, k)));
  if (tree) baselines.push(clusterPopularityGenerator(tree, prepared.songPlays));
  for (const v of inputs.variants ?? []) if (serving) baselines.push(modelGenerator(serving, v.options, v.name));
  const report = evaluateGeneration(
    {
      prepared,
      tree,
      planted: inputs.planted,
      index,
      oracle: inputs.oracle !== undefined ? inputs.oracle : inputs.truth ? new OraclePredictor(inputs.truth, prepared.vocab.songKeys) : null,
      raw: inputs.raw,
    },
    tasks,
    { model: serving ? modelGenerator(serving) : null, baselines },
    { progress: true },
  );
  return { report, serving };
}
