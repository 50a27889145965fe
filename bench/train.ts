import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runTlgen } from './run.ts';

/**
 * Training benchmark: synthesise a profile (default `seed`), then train both stages, each
 * `tlgen train` in its own process (so each has its own peak RSS): TL-MGCCF embeddings, then the
 * tracklist model (clustering + LSTM). Prints time per step, steps, stage times and peak RSS.
 * `--steps N` trains the embeddings for N steps only and extrapolates that stage to the budget's
 * step count from the measured step time (the tracklist stage always runs its whole budget).
 * Targets: embeddings step < 1 s and stage < 30 min (issue 3); both stages < 60 min and peak RSS
 * < 8 GB (issue 4). `--out DIR` keeps the corpus and the trained model folder there (for
 * `tlgen eval`, `tlgen export` and the serving benchmarks); by default they are deleted.
 */
const { values } = parseArgs({
  options: {
    profile: { type: 'string', default: 'seed' },
    budget: { type: 'string', default: 'full' },
    steps: { type: 'string' },
    stage: { type: 'string', default: 'all' },
    out: { type: 'string' },
  },
});
const keep = values.out !== undefined;
if (keep) mkdirSync(values.out!, { recursive: true });
const dir = keep ? values.out! : mkdtempSync(join(tmpdir(), 'bench-train-'));
const corpus = join(dir, 'corpus.jsonl');
const model = join(dir, 'model');
await runTlgen(['synth', '--profile', values.profile!, '--seed', '1', '--out', corpus]);
const base = ['train', '--corpus', corpus, '--out', model, '--budget', values.budget!];
const summary: Record<string, unknown> = { profile: values.profile, budget: values.budget };

const emb = await runTlgen([...base, '--stage', 'embeddings', ...(values.steps ? ['--steps', values.steps] : [])]);
const e = emb.embeddings as { steps: number; budgetSteps: number; seconds: number; secondsPerStep: number; backend: string };
const embeddingMinutes = (e.secondsPerStep * e.budgetSteps) / 60;
console.log(`\nbench:train (profile ${values.profile}, budget ${values.budget}, backend ${e.backend})`);
console.log(`embeddings: ${e.steps} steps in ${e.seconds.toFixed(1)} s = ${e.secondsPerStep.toFixed(3)} s/step; budget ${e.budgetSteps} steps`);
console.log(
  `${e.steps < e.budgetSteps ? 'extrapolated ' : ''}embeddings stage: ${embeddingMinutes.toFixed(1)} min; this command ${emb.wallSeconds.toFixed(1)} s; peak RSS ${emb.peakRssMb} MB`,
);
Object.assign(summary, {
  backend: e.backend,
  embeddings: { steps: e.steps, budgetSteps: e.budgetSteps, secondsPerStep: e.secondsPerStep, stageMinutes: embeddingMinutes, peakRssMb: emb.peakRssMb },
});

if (values.stage === 'all') {
  const tl = await runTlgen([...base, '--stage', 'tracklist']);
  const t = tl.tracklist as {
    clustering: { seconds: number; sizes: number[]; requested: number[] };
    steps: number;
    epochs: number;
    stepSeconds: number;
    seconds: number;
    windows: { train: number };
    calibration: { positions: number; bitsBefore: number; bitsAfter: number } | null;
  };
  const minutes = tl.wallSeconds / 60;
  console.log(
    `tracklist: clustering ${t.clustering.requested.join('/')} requested → ${t.clustering.sizes.join('/')} active in ${t.clustering.seconds.toFixed(1)} s; ` +
      `LSTM ${t.steps} steps (${t.epochs} epochs over ${t.windows.train} windows) at ${t.stepSeconds.toFixed(3)} s/step; stage ${minutes.toFixed(1)} min; peak RSS ${tl.peakRssMb} MB`,
  );
  if (t.calibration)
    console.log(`calibration: validation ${t.calibration.bitsBefore.toFixed(3)} → ${t.calibration.bitsAfter.toFixed(3)} bits per song on ${t.calibration.positions} positions`);
  console.log(`both stages: ${(embeddingMinutes + minutes).toFixed(1)} min${e.steps < e.budgetSteps ? ' (embeddings extrapolated)' : ''}`);
  Object.assign(summary, {
    tracklist: {
      clusteringSeconds: t.clustering.seconds,
      clusters: t.clustering.sizes,
      steps: t.steps,
      secondsPerStep: t.stepSeconds,
      stageMinutes: minutes,
      peakRssMb: tl.peakRssMb,
      calibration: t.calibration,
    },
    totalMinutes: embeddingMinutes + minutes,
  });
}
console.log(JSON.stringify(summary));
if (keep) console.log(`kept: corpus ${corpus}, model ${model}`);
else rmSync(dir, { recursive: true, force: true });
