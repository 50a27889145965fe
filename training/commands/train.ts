import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCorpus } from '../../shared/corpus/jsonl.ts';
import { DEFAULT_PREPARE_OPTIONS, prepare, summarize, type PreparedSummary } from '../../shared/graph/prepare.ts';
import { minSongMassOption } from './prepare.ts';
import { loadPrepared, writePrepared } from '../../shared/graph/preparedStore.ts';
import { InputError } from '../../shared/util/errors.ts';
import { intOption, outputPath, requireOption, type Command } from '../../shared/cli/command.ts';
import { mgccfConfigFor, type Budget, type MgccfConfig } from '../mgccf/config.ts';
import { trainMgccf } from '../mgccf/train.ts';
import { nnz } from '../../shared/graph/csr.ts';
import { readArtifact } from '../../shared/model/artifact.ts';
import { EMBEDDINGS_KIND } from '../../shared/model/embeddings.ts';
import type { SoftmaxForm } from '../tracklist/model.ts';
import { tracklistConfigFor, trainTracklist } from '../tracklist/train.ts';
import { tuneGeneration } from '../tracklist/tuneGeneration.ts';

const STAGES = ['embeddings', 'tracklist', 'all'] as const;
type Stage = (typeof STAGES)[number];

export async function fileDigest(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Prepares the corpus into <model>/prepared unless it already holds this corpus (by digest) and
 * seed: the splits recorded there are what `eval` later scores.
 */
export async function prepareForModel(
  corpus: string,
  modelDir: string,
  seed: number,
  minSongMass: number,
  say: (line: string) => void,
): Promise<{ dir: string; summary: PreparedSummary; digest: string; reused: boolean }> {
  const dir = join(modelDir, 'prepared');
  const digest = await fileDigest(corpus);
  const manifest = join(dir, 'manifest.json');
  if (existsSync(manifest)) {
    const meta = JSON.parse(readFileSync(manifest, 'utf8')).meta as {
      corpusDigest?: string;
      options: { seed: number; minSongMass?: number };
      summary: PreparedSummary;
    };
    const mass = meta.options.minSongMass ?? DEFAULT_PREPARE_OPTIONS.minSongMass;
    if (meta.corpusDigest === digest && meta.options.seed === seed && mass === minSongMass) {
      say(`prepared data for this corpus already in ${dir}`);
      return { dir, summary: meta.summary, digest, reused: true };
    }
  }
  const prepared = await prepare(readCorpus(corpus), { seed, minSongMass, progress: true });
  writePrepared(dir, prepared, { corpus, corpusDigest: digest });
  return { dir, summary: summarize(prepared), digest, reused: false };
}

/**
 * The TL-MGCCF configuration of a `train` run: the budget's, then the explicit flags. An explicit
 * `--batch` moves the learning rate (the schedule's peak) by the budget's square-root rule unless
 * `--lr` is also given.
 */
export function mgccfConfigFromOptions(
  values: Record<string, string | boolean | undefined>,
  budget: Budget,
  clickEntries: number,
  seed: number,
): MgccfConfig {
  const budgetConfig = mgccfConfigFor(budget, clickEntries, seed);
  const config = { ...budgetConfig };
  config.steps = intOption(values, 'steps', config.steps, 1);
  config.dim = intOption(values, 'dim', config.dim, 2, 1024);
  config.batch = intOption(values, 'batch', config.batch, 1, 100_000);
  if (values.lr !== undefined) {
    const lr = Number(values.lr);
    if (typeof values.lr !== 'string' || values.lr.trim() === '' || !Number.isFinite(lr) || lr <= 0 || lr > 1)
      throw new InputError(`--lr must be a number in (0, 1], got "${String(values.lr)}"`, 'lr');
    config.learningRate = lr;
  } else if (values.batch !== undefined)
    config.learningRate = budgetConfig.learningRate * Math.sqrt(config.batch / budgetConfig.batch);
  return config;
}

export const trainCommand: Command = {
  summary:
    'Prepares the corpus (seeded splits recorded in the model folder) and trains the models: TL-MGCCF embeddings, then the tracklist model.',
  usage:
    '--corpus FILE --out DIR [--stage embeddings|tracklist|all] [--budget fast|full] [--seed N] [--steps N] [--steps-this-run N] [--dim N] [--batch N] [--lr X] [--softmax factorised|full] [--tracklist-steps N] [--no-session-prior] [--min-song-mass X] [--cluster-scales natural|scaled] [--json]',
  options: {
    corpus: { type: 'string', value: 'FILE', required: true, help: 'JSONL corpus to train on' },
    out: {
      type: 'string',
      value: 'DIR',
      required: true,
      help: 'model folder (created; run the same command again to resume from its checkpoints)',
    },
    stage: { type: 'string', value: STAGES.join('|'), default: 'all', help: 'which models to train' },
    budget: { type: 'string', value: 'fast|full', default: 'fast', help: 'epochs and step caps of both stages' },
    seed: { type: 'string', value: 'N', default: 1, help: 'seed of the splits and of training' },
    steps: { type: 'string', value: 'N', default: "the budget's", help: 'TL-MGCCF training steps' },
    'steps-this-run': { type: 'string', value: 'N', default: 'no limit', help: 'stop TL-MGCCF after N steps this run (resume later)' },
    dim: { type: 'string', value: 'N', default: "the budget's", help: 'embedding width' },
    batch: {
      type: 'string',
      value: 'N',
      default: "the budget's",
      help: 'triplets per TL-MGCCF step (moves the learning rate by the square-root rule unless --lr is given)',
    },
    lr: { type: 'string', value: 'X', default: "the budget's", help: 'peak learning rate of TL-MGCCF, in (0, 1]' },
    softmax: { type: 'string', value: 'factorised|full', default: 'factorised', help: 'form of the tracklist model\'s softmax' },
    'tracklist-steps': {
      type: 'string',
      value: 'N',
      default: "the budget's, within its time allowance",
      help: 'tracklist-model steps, without a time allowance (reproducible)',
    },
    'no-session-prior': { type: 'boolean', help: 'leave out the session-kNN term of the tracklist model' },
    'min-song-mass': {
      type: 'string',
      value: 'X',
      default: String(DEFAULT_PREPARE_OPTIONS.minSongMass),
      help: 'co-occurrence mass a song needs to be kept (as tlgen prepare)',
    },
    'cluster-scales': {
      type: 'string',
      value: 'natural|scaled',
      default: 'natural',
      help: "cluster counts of the song tree: the song graph's natural scales (a resolution sweep), or the original's counts scaled to the catalogue",
    },
    'no-generation-tuning': {
      type: 'boolean',
      help: "keep the global generation defaults instead of tuning temperature, adventurousness, cluster flow and artist-repeat penalty on the validation sets",
    },
  },
  async run(values, ctx) {
    const corpus = requireOption(values, 'corpus');
    if (!existsSync(corpus)) throw new InputError(`--corpus: no such file ${corpus}`, 'corpus');
    const out = outputPath(values, 'out');
    const stage = (values.stage ?? 'all') as Stage;
    if (!STAGES.includes(stage)) throw new InputError(`--stage must be one of ${STAGES.join(', ')}`, 'stage');
    const budget = (values.budget ?? 'fast') as Budget;
    if (budget !== 'fast' && budget !== 'full') throw new InputError('--budget must be fast or full', 'budget');
    const seed = intOption(values, 'seed', 1, 0, 2 ** 31 - 1);
    // Checked before any stage runs, so a typo costs no training.
    const scales = values['cluster-scales'] ?? 'natural';
    if (scales !== 'natural' && scales !== 'scaled') throw new InputError('--cluster-scales must be natural or scaled', 'cluster-scales');
    const minSongMass = minSongMassOption(values);
    mkdirSync(out, { recursive: true });
    const started = performance.now();
    const prep = await prepareForModel(corpus, out, seed, minSongMass, ctx.say);
    const prepared = loadPrepared(prep.dir);
    const result: Record<string, unknown> = { out, corpusDigest: prep.digest, prepared: prep.summary };
    if (stage === 'embeddings' || stage === 'all') {
      const budgetSteps = mgccfConfigFor(budget, nnz(prepared.click), seed).steps;
      const config = mgccfConfigFromOptions(values, budget, nnz(prepared.click), seed);
      ctx.say(
        `training TL-MGCCF: ${config.steps} steps of ${config.batch} triplets, learning rate ${config.learningRate.toExponential(2)} ${config.schedule} (${budget} budget)`,
      );
      const r = await trainMgccf(prepared, config, {
        out: join(out, 'embeddings'),
        checkpointDir: join(out, 'checkpoints', 'mgccf'),
        log: (line) => process.stderr.write(line + '\n'),
        ...(values['steps-this-run'] !== undefined
          ? { maxStepsThisRun: intOption(values, 'steps-this-run', 1, 1) }
          : {}),
      });
      result.embeddings = { ...r, plannedSteps: config.steps, budgetSteps, history: r.history.slice(-1) };
      result.backend = r.backend;
    }
    if (stage === 'tracklist' || stage === 'all') {
      const embeddingsDir = join(out, 'embeddings');
      if (!existsSync(join(embeddingsDir, 'manifest.json')))
        throw new InputError(`--stage tracklist needs trained embeddings in ${embeddingsDir} (run --stage embeddings first)`, 'stage');
      const form = (values.softmax ?? 'factorised') as SoftmaxForm;
      if (form !== 'factorised' && form !== 'full') throw new InputError('--softmax must be factorised or full', 'softmax');
      const config = tracklistConfigFor(budget, seed, form);
      if (values['no-session-prior'] === true) config.sessionPrior = false;
      config.clustering.scales = scales;
      if (values['tracklist-steps'] !== undefined) {
        // Explicit steps: reproducible, no wall-clock cap.
        config.maxSteps = intOption(values, 'tracklist-steps', config.maxSteps, 1);
        config.seconds = 0;
      }
      ctx.say(`training the tracklist model (${form} softmax, ${budget} budget, up to ${config.maxSteps} steps)`);
      const r = await trainTracklist(prepared, readArtifact(embeddingsDir, { kind: EMBEDDINGS_KIND }), config, {
        out: join(out, 'tracklist'),
        log: (line) => process.stderr.write(line + '\n'),
        ...(values['no-generation-tuning'] === true
          ? {}
          : { tuneGeneration: (validation) => tuneGeneration(out, prepared, validation, (line) => process.stderr.write(line + '\n'), seed) }),
      });
      result.tracklist = r;
      result.backend ??= r.backend;
    }
    result.seconds = (performance.now() - started) / 1000;
    ctx.say(`trained in ${(result.seconds as number).toFixed(1)}s → ${out}`);
    return result;
  },
};
