import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { blobServiceClient, readSettings } from '../shared/store/config.ts';
import { startAzurite } from '../shared/store/localServices.ts';
import { BlobModelRegistry, uploadCorpus } from '../shared/store/modelRegistry.ts';
import { CorruptingRegistry } from '../tests/store/corruptingRegistry.ts';
import { synthCommand } from '../training/commands/synth.ts';
import { jobFailure, runJob, type JobResult } from '../training/job.ts';
import { DEMO_TRAIN_ARGS } from '../functions/localStack.ts';

/**
 * `npm run bench:job [-- --profile small]`: the training job's three runs against Azurite with the
 * quality gate on, the real commands at the `npm start` demo's step caps: (1) the good corpus (the
 * first version: publishes when it beats its baselines and serves), (2) its first 40 % of sets
 * (the gate must reject it; the pointer stays), (3) the good corpus again through a transfer that
 * corrupts tensors.bin (the read-back must fail; the pointer stays). Prints each outcome, the
 * gate's lines and the times. About 6 minutes at `small` on this machine.
 */
const profileAt = process.argv.indexOf('--profile');
const profile = profileAt > 0 ? process.argv[profileAt + 1] : 'small';
const dir = mkdtempSync(join(tmpdir(), 'bench-job-'));
const azurite = await startAzurite();
const settings = readSettings({
  MODEL_STORAGE_ACCOUNT_URL: azurite.url,
  MODEL_CONTAINER: 'models',
  CORPUS_CONTAINER: 'corpus',
  CORPUS_BLOB: 'corpus.jsonl',
  TRAIN_BUDGET: 'fast',
  TRAIN_GATE: 'on',
});
const trainArgs = Object.fromEntries(
  Array.from({ length: DEMO_TRAIN_ARGS.length / 2 }, (_, i) => [
    DEMO_TRAIN_ARGS[2 * i].slice(2),
    DEMO_TRAIN_ARGS[2 * i + 1],
  ]),
);
const log = (line: string): void => void process.stderr.write(`[job] ${line}\n`);
const registry = BlobModelRegistry.fromSettings(settings);


const rows: { run: string; outcome: string; pointer: string; seconds: number }[] = [];
async function attempt(
  run: string,
  corpusText: string,
  options: Parameters<typeof runJob>[1],
): Promise<void> {
  const file = join(dir, `${run}.jsonl`);
  writeFileSync(file, corpusText);
  await uploadCorpus(settings, file);
  process.stderr.write(`\n== run ${run}\n`);
  const started = performance.now();
  let outcome: string;
  try {
    const result: JobResult = await runJob(settings, { log, trainArgs, ...options });
    outcome = `published ${result.versionId}`;
  } catch (e) {
    outcome = jobFailure(e).line;
  }
  const pointer = (await registry.latest())?.versionId ?? 'none';
  rows.push({ run, outcome, pointer, seconds: (performance.now() - started) / 1000 });
  console.log(
    `run ${run} (${((performance.now() - started) / 1000).toFixed(0)} s): pointer ${pointer}\n  ${outcome.split('\n').join('\n  ')}`,
  );
}

try {
  const corpusFile = join(dir, 'corpus.jsonl');
  await synthCommand.run({ profile, seed: '1', out: corpusFile }, { json: true, say: () => undefined });
  await uploadCorpus(settings, corpusFile.replace(/\.jsonl$/, '.truth.json'), 'corpus.truth.json');
  const corpus = readFileSync(corpusFile, 'utf8');
  const lines = corpus.trimEnd().split('\n');
  const goodWork = join(dir, 'work-good');
  await attempt('good', corpus, { workDir: goodWork });
  await attempt('truncated', lines.slice(0, Math.floor(lines.length * 0.4)).join('\n') + '\n', {
    workDir: join(dir, 'work-truncated'),
  });
  await attempt('corrupted-upload', corpus, {
    workDir: goodWork,
    registry: new CorruptingRegistry(blobServiceClient(settings), { container: settings.modelContainer }),
  });
  console.log(`\nbench:job (profile ${profile}, steps ${DEMO_TRAIN_ARGS.join(' ')})`);
  for (const r of rows)
    console.log(
      `${r.run.padEnd(17)} ${r.seconds.toFixed(0).padStart(5)} s  pointer ${r.pointer}  ${r.outcome.split('\n')[0]}`,
    );
} finally {
  await azurite.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
