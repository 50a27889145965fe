import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readArtifact } from '../shared/model/artifact.ts';
import { readSettings, type Settings } from '../shared/store/config.ts';
import {
  BlobModelRegistry,
  RegistryError,
  downloadCorpus,
  type ModelRegistry,
} from '../shared/store/modelRegistry.ts';
import type { Command, CommandContext } from './command.ts';

/**
 * The training job (the container's entry point; locally started by shared/store/retrain.ts):
 * corpus blob → `tlgen train` (all stages) → `tlgen eval` → `tlgen export` → publish to the model
 * registry, which moves models/latest.json only after the uploaded version has been verified.
 * Any failure exits non-zero, and a failure before the end of publish leaves the pointer alone.
 *
 * Env (training-job.bicep): MODEL_STORAGE_ACCOUNT_URL, MODEL_CONTAINER, CORPUS_CONTAINER,
 * CORPUS_BLOB, TRAIN_BUDGET (fast | full, default full), AZURE_CLIENT_ID.
 */

export type JobCommand = 'train' | 'eval' | 'export';

/** The `tlgen` commands the job runs, loaded lazily like the CLI's command table. */
export const JOB_COMMANDS: Record<JobCommand, () => Promise<Command>> = {
  train: async () => (await import('./commands/train.ts')).trainCommand,
  eval: async () => (await import('./commands/eval.ts')).evalCommand,
  export: async () => (await import('./commands/export.ts')).exportCommand,
};

export interface JobOptions {
  /** Where the published version goes (default the BlobModelRegistry of the settings). */
  registry?: ModelRegistry;
  /** Command table (default JOB_COMMANDS). */
  commands?: Record<JobCommand, () => Promise<Command>>;
  /** Working folder (default a fresh temporary folder, removed at the end). */
  workDir?: string;
  log?: (line: string) => void;
}

export interface JobResult {
  versionId: string;
  corpusBlob: string;
  budget: 'fast' | 'full';
  seconds: { download: number; train: number; eval: number; export: number; publish: number; total: number };
}

export async function runJob(settings: Settings, options: JobOptions = {}): Promise<JobResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(`[job] ${line}\n`));
  const commands = options.commands ?? JOB_COMMANDS;
  const registry = options.registry ?? BlobModelRegistry.fromSettings(settings);
  const work = options.workDir ?? mkdtempSync(join(tmpdir(), 'tracklist-job-'));
  mkdirSync(work, { recursive: true });
  const ctx: CommandContext = { json: false, say: (line) => process.stdout.write(line + '\n') };
  const started = performance.now();
  let mark = started;
  const lap = (): number => {
    const now = performance.now();
    const s = (now - mark) / 1000;
    mark = now;
    return s;
  };
  const run = async (name: JobCommand, values: Record<string, string>): Promise<Record<string, unknown>> => {
    log(
      `tlgen ${name} ${Object.entries(values)
        .map(([k, v]) => `--${k} ${v}`)
        .join(' ')}`,
    );
    const command = await commands[name]();
    return (await command.run(values, ctx)) as Record<string, unknown>;
  };
  try {
    const corpusName = settings.corpusBlob
      .split('/')
      .pop()!
      .replace(/[^A-Za-z0-9._-]/g, '_');
    const corpus = join(work, 'corpus', corpusName.endsWith('.jsonl') ? corpusName : `${corpusName}.jsonl`);
    log(`downloading ${settings.corpusContainer}/${settings.corpusBlob}`);
    await downloadCorpus(settings, corpus);
    // A synthetic corpus may carry its ground truth beside it (eval uses it for the oracle).
    const truthBlob = settings.corpusBlob.replace(/\.jsonl$/, '') + '.truth.json';
    try {
      await downloadCorpus(settings, corpus.replace(/\.jsonl$/, '') + '.truth.json', truthBlob);
      log(`found ground truth ${truthBlob}`);
    } catch (e) {
      if (!(e instanceof RegistryError)) throw e;
    }
    const download = lap();

    const modelDir = join(work, 'model');
    await run('train', { corpus, out: modelDir, stage: 'all', budget: settings.trainBudget });
    const train = lap();

    const metrics = await run('eval', { model: modelDir, corpus });
    const metricsFile = join(modelDir, 'eval.json');
    writeFileSync(metricsFile, JSON.stringify(metrics));
    const evalSeconds = lap();

    const versionDir = join(work, 'version');
    const exported = await run('export', { model: modelDir, out: versionDir, metrics: metricsFile });
    const versionId =
      typeof exported.versionId === 'string'
        ? exported.versionId
        : (readArtifact(versionDir, { verify: false }).meta as { versionId?: unknown }).versionId;
    if (typeof versionId !== 'string') throw new Error(`export wrote no version id into ${versionDir}`);
    const exportSeconds = lap();

    log(`publishing model version ${versionId}`);
    await registry.publish(versionDir, versionId);
    const publish = lap();
    log(`published ${versionId}: models/latest.json now points at it`);
    return {
      versionId,
      corpusBlob: settings.corpusBlob,
      budget: settings.trainBudget,
      seconds: {
        download,
        train,
        eval: evalSeconds,
        export: exportSeconds,
        publish,
        total: (performance.now() - started) / 1000,
      },
    };
  } finally {
    if (!options.workDir) rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  let code = 0;
  try {
    const result = await runJob(readSettings());
    process.stdout.write(JSON.stringify(result) + '\n');
  } catch (e) {
    process.stderr.write(
      `[job] FAILED, models/latest.json unchanged: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    code = 1;
  }
  // tfjs and worker pools may keep handles open; the job is over either way.
  process.exit(code);
}
