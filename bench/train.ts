import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runTlgen } from './run.ts';

/**
 * Training benchmark: synthesise a profile (default `seed`), then `tlgen train --stage
 * embeddings` in its own process; prints time per step, steps, total time and peak RSS.
 * `--steps N` stops after N steps and extrapolates the full stage from the measured step time.
 * Targets (issue 3): a step at `seed` under 1 s, the full stage under 30 minutes, RSS under 8 GB.
 */
const { values } = parseArgs({
  options: { profile: { type: 'string', default: 'seed' }, budget: { type: 'string', default: 'full' }, steps: { type: 'string' } },
});
const dir = mkdtempSync(join(tmpdir(), 'bench-train-'));
const corpus = join(dir, 'corpus.jsonl');
await runTlgen(['synth', '--profile', values.profile!, '--seed', '1', '--out', corpus]);
const args = ['train', '--corpus', corpus, '--out', join(dir, 'model'), '--stage', 'embeddings', '--budget', values.budget!];
if (values.steps) args.push('--steps-this-run', values.steps);
const r = await runTlgen(args);
const e = r.embeddings as { steps: number; plannedSteps: number; seconds: number; secondsPerStep: number; backend: string };
const full = e.secondsPerStep * e.plannedSteps;
console.log(`\nbench:train (profile ${values.profile}, budget ${values.budget}, backend ${e.backend})`);
console.log(`embeddings: ${e.steps} of ${e.plannedSteps} steps in ${e.seconds.toFixed(1)} s = ${e.secondsPerStep.toFixed(3)} s/step`);
console.log(`${e.steps < e.plannedSteps ? 'extrapolated ' : ''}full stage: ${(full / 60).toFixed(1)} min; whole command ${r.wallSeconds.toFixed(1)} s; peak RSS ${r.peakRssMb} MB`);
console.log(JSON.stringify({ profile: values.profile, backend: e.backend, steps: e.steps, plannedSteps: e.plannedSteps, secondsPerStep: e.secondsPerStep, stageMinutes: full / 60, peakRssMb: r.peakRssMb }));
rmSync(dir, { recursive: true, force: true });
