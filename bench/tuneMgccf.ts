import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { nnz } from '../shared/graph/csr.ts';
import { clickGraphs, type Prepared } from '../shared/graph/prepare.ts';
import { loadPrepared } from '../shared/graph/preparedStore.ts';
import { readArtifact } from '../shared/model/artifact.ts';
import { EmbeddingIndex } from '../shared/model/embeddings.ts';
import { Random } from '../shared/util/random.ts';
import {
  evaluateRecommendation,
  fitBaselines,
  formatRecommendationTable,
} from '../training/eval/recommendation.ts';
import { LR_SCHEDULES, type LrSchedule, type MgccfConfig } from '../training/mgccf/config.ts';
import { mgccfConfigFromOptions } from '../training/commands/train.ts';
import { EMBEDDINGS_KIND, trainMgccf } from '../training/mgccf/train.ts';
import { innerSplit } from '../training/baselines/innerSplit.ts';

/**
 * TL-MGCCF tuning on an INNER validation split (`npm run tune:mgccf -- --prepared DIR …`): a
 * seeded share (default 20 %) of each DJ's TRAINING click songs moves to validation; the
 * prepared folder's test hold-out (clickTest, heldOutPairs) is never read. TL-MGCCF is trained
 * on the remaining clicks with the config variant given here, and scored beside the baselines
 * (popularity, item-kNN, BPR-MF) fitted on the same inner training clicks, with the evaluation
 * code `tlgen eval` uses.
 *
 * Defaults are what `tlgen train --budget full` would train on this folder (the budget sized by
 * its whole training click count); flags override them:
 *   --prepared DIR    a prepared folder (`tlgen train` writes MODEL/prepared)
 *   --budget B        fast | full (full)   --steps N   --batch N   --dim N
 *   --lr X            the (peak) learning rate; default: the budget's, moved by the square-root
 *                     rule when --batch differs from the budget's batch
 *   --schedule S      constant | cosine | linear   --warmup X  warm-up share of the steps
 *   --final X         last-step share of the peak  --passes N  averaged export passes
 *   --seed N          training seed (1)   --split-seed N  inner split seed (1)   --share X  (0.2)
 *   --work DIR        keep checkpoints and the trained embeddings there (resumable; a finished
 *                     run with the same config is re-scored, not retrained); default a temp dir
 *
 * Prints the table and the Recall@20 / NDCG@20 ratios against BPR-MF; the last stdout line is JSON.
 */
const { values } = parseArgs({
  options: {
    prepared: { type: 'string' },
    budget: { type: 'string', default: 'full' },
    steps: { type: 'string' },
    batch: { type: 'string' },
    dim: { type: 'string' },
    lr: { type: 'string' },
    schedule: { type: 'string' },
    warmup: { type: 'string' },
    final: { type: 'string' },
    passes: { type: 'string' },
    seed: { type: 'string', default: '1' },
    'split-seed': { type: 'string', default: '1' },
    share: { type: 'string', default: '0.2' },
    work: { type: 'string' },
  },
});

function num(name: keyof typeof values, fallback: number, min: number, max: number, integer = false): number {
  if (values[name] === undefined) return fallback;
  const v = Number(values[name]);
  if (!Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v)))
    throw new Error(
      `--${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got "${String(values[name])}"`,
    );
  return v;
}

if (!values.prepared || !existsSync(join(values.prepared, 'manifest.json')))
  throw new Error('--prepared DIR is required: a prepared folder (tlgen train writes MODEL/prepared)');
if (values.budget !== 'fast' && values.budget !== 'full') throw new Error('--budget must be fast or full');

const full = loadPrepared(values.prepared);
// steps, dim, batch and lr as `tlgen train` reads them (an explicit --batch rescales the rate).
const budget = mgccfConfigFromOptions(values, values.budget, nnz(full.click), num('seed', 1, 0, 2 ** 31 - 1, true));
const config: MgccfConfig = {
  ...budget,
  schedule: (values.schedule ?? budget.schedule) as LrSchedule,
  warmupShare: num('warmup', budget.warmupShare, 0, 1),
  finalLrShare: num('final', budget.finalLrShare, 0, 1),
  averagingPasses: num('passes', budget.averagingPasses, 1, 1000, true),
};
if (!LR_SCHEDULES.includes(config.schedule))
  throw new Error(`--schedule must be one of ${LR_SCHEDULES.join(', ')}`);
const splitSeed = num('split-seed', 1, 0, 2 ** 31 - 1, true);
const share = num('share', 0.2, 0.01, 0.99);

/** The prepared data with `share` of each DJ's training clicks moved to validation (clickTest). */
function innerSplitPrepared(p: Prepared): Prepared {
  const rng = new Random(splitSeed);
  const { train: click, validation: clickTest } = innerSplit(p.click, share, rng);
  // The original protocol's pairs: up to as many as the prepared split drew, from validation.
  const pairs: number[] = [];
  for (let d = 0; d < clickTest.rows; d++)
    for (let q = clickTest.indptr[d]; q < clickTest.indptr[d + 1]; q++) pairs.push(d, clickTest.indices[q]);
  const order = rng
    .shuffle(Array.from({ length: pairs.length / 2 }, (_, k) => k))
    .slice(0, p.options.heldOutPairs);
  const heldOutPairs = Int32Array.from(order.flatMap((k) => [pairs[2 * k], pairs[2 * k + 1]]));
  return { ...p, ...clickGraphs(click, p.songArtistMap, p.options.djNeighbours), clickTest, heldOutPairs };
}

const started = performance.now();
const inner = innerSplitPrepared(full);
console.log(
  `tune:mgccf on ${values.prepared}: inner split (seed ${splitSeed}, ${(100 * share).toFixed(0)} % of each DJ's training clicks): ` +
    `${nnz(inner.click)} training / ${nnz(inner.clickTest)} validation entries of ${nnz(full.click)}; the test hold-out is not used`,
);
console.log(
  `TL-MGCCF: ${config.steps} steps of ${config.batch} triplets, dim ${config.dim}, lr ${config.learningRate.toExponential(2)} ${config.schedule}` +
    (config.schedule === 'constant'
      ? ''
      : ` (warm-up ${config.warmupShare}, final ${config.finalLrShare} of the peak)`) +
    `, seed ${config.seed}, ${config.averagingPasses} export passes`,
);

const work = values.work ?? mkdtempSync(join(tmpdir(), 'tune-mgccf-'));
const out = join(work, 'embeddings');
const manifest = join(out, 'manifest.json');
const trained =
  existsSync(manifest) &&
  JSON.stringify(JSON.parse(readFileSync(manifest, 'utf8')).meta.config) === JSON.stringify(config);
let training: { seconds: number; secondsPerStep: number; backend: string; lastLoss: number | null } | null =
  null;
if (trained) console.log(`re-scoring the finished run in ${out}`);
else {
  rmSync(out, { recursive: true, force: true });
  const r = await trainMgccf(inner, config, {
    out,
    checkpointDir: join(work, 'checkpoints'),
    log: (line) => process.stderr.write(line + '\n'),
  });
  training = {
    seconds: r.seconds,
    secondsPerStep: r.secondsPerStep,
    backend: r.backend,
    lastLoss: r.history.at(-1)?.total ?? null,
  };
  console.log(
    `trained ${r.steps} steps (resumed from ${r.resumedFrom}) in ${r.seconds.toFixed(0)} s = ${r.secondsPerStep.toFixed(3)} s/step (${r.backend})`,
  );
}
const index = new EmbeddingIndex(readArtifact(out, { kind: EMBEDDINGS_KIND }));
const result = evaluateRecommendation(
  inner,
  { model: { name: 'model', scoreDj: (d, o) => index.scoreDj(d, o) }, baselines: fitBaselines(inner.click) },
  { progress: true },
);
console.log(formatRecommendationTable(result));
const m = result.model!;
const b = result.baselines.bprmf;
const ratios = { recall: m['recall@20'] / b['recall@20'], ndcg: m['ndcg@20'] / b['ndcg@20'] };
console.log(
  `inner split: TL-MGCCF Recall@20 ${m['recall@20'].toFixed(4)} NDCG@20 ${m['ndcg@20'].toFixed(4)}; ` +
    `BPR-MF ${b['recall@20'].toFixed(4)} / ${b['ndcg@20'].toFixed(4)}; ratio ${ratios.recall.toFixed(3)}x / ${ratios.ndcg.toFixed(3)}x ` +
    `(${((performance.now() - started) / 1000).toFixed(0)} s)`,
);
if (!values.work) rmSync(work, { recursive: true, force: true });
console.log(
  JSON.stringify({
    prepared: values.prepared,
    split: { seed: splitSeed, share, ...result.split },
    config: {
      steps: config.steps,
      batch: config.batch,
      dim: config.dim,
      learningRate: config.learningRate,
      schedule: config.schedule,
      warmupShare: config.warmupShare,
      finalLrShare: config.finalLrShare,
      seed: config.seed,
    },
    training,
    model: m,
    baselines: result.baselines,
    ratioToBprmf: ratios,
  }),
);
