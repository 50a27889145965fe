import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CorpusLineError } from '../shared/corpus/jsonl.ts';
import { oracleLine, readTruthFile } from '../shared/corpus/truthFile.ts';
import { readArtifact } from '../shared/model/artifact.ts';
import { readSettings, type Settings } from '../shared/store/config.ts';
import { BlobModelRegistry, RegistryError, downloadCorpus } from '../shared/store/modelRegistry.ts';
import { InputError } from '../shared/util/errors.ts';
import type { Command, CommandContext } from '../shared/cli/command.ts';
import { baselineChecks, gateReport, GateRejectedError, servedChecks, type GateReport } from './gate.ts';
import { servingSmokeTest } from './servingSmokeTest.ts';

/**
 * The training job (the container's entry point; locally started by shared/store/retrain.ts):
 * corpus blob → `tlgen train` (all stages) → `tlgen eval` → `tlgen export` → quality gate
 * (training/gate.ts) → publish to the model registry, which moves models/latest.json only after
 * the uploaded version has been verified. A candidate the gate turns down goes to
 * models/rejected/<version>/ with its report. Any failure exits non-zero and leaves the pointer
 * alone; the next timer run tries again.
 *
 * Env (training-job.bicep): MODEL_STORAGE_ACCOUNT_URL, MODEL_CONTAINER, CORPUS_CONTAINER,
 * CORPUS_BLOB, TRAIN_BUDGET (fast | full, default full), TRAIN_GATE (on | off, default on),
 * TRAIN_GATE_TOLERANCE (default 0.05), AZURE_CLIENT_ID.
 */

export type JobCommand = 'train' | 'eval' | 'export';

/** The `tlgen` commands the job runs, loaded lazily like the CLI's command table. */
export const JOB_COMMANDS: Record<JobCommand, () => Promise<Command>> = {
  train: async () => (await import('./commands/train.ts')).trainCommand,
  eval: async () => (await import('./commands/eval.ts')).evalCommand,
  export: async () => (await import('./commands/export.ts')).exportCommand,
};

/** What the job needs of the registry (BlobModelRegistry). */
export type JobRegistry = Pick<BlobModelRegistry, 'publish' | 'reject' | 'latest' | 'manifest'>;

export interface JobOptions {
  /** Where the published version goes (default the BlobModelRegistry of the settings). */
  registry?: JobRegistry;
  /** Extra `tlgen train` options (e.g. step caps for a quick run). */
  trainArgs?: Record<string, string>;
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
  /** The gate's report; null with TRAIN_GATE=off. */
  gate: GateReport | null;
  seconds: {
    download: number;
    train: number;
    eval: number;
    export: number;
    gate: number;
    publish: number;
    total: number;
  };
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
    const corpusLabel = `${settings.corpusContainer}/${settings.corpusBlob}`;
    const corpusName = settings.corpusBlob
      .split('/')
      .pop()!
      .replace(/[^A-Za-z0-9._-]/g, '_');
    const corpus = join(work, 'corpus', corpusName.endsWith('.jsonl') ? corpusName : `${corpusName}.jsonl`);
    log(`downloading ${corpusLabel}`);
    await downloadCorpus(settings, corpus);
    if (statSync(corpus).size === 0)
      throw new InputError(`corpus blob ${corpusLabel} is empty`, 'CORPUS_BLOB');
    // A corpus may carry a truth file beside it (eval: planted clusters, the oracle when synthetic).
    const truthBlob = settings.corpusBlob.replace(/\.jsonl$/, '') + '.truth.json';
    const truthFile = corpus.replace(/\.jsonl$/, '') + '.truth.json';
    try {
      await downloadCorpus(settings, truthFile, truthBlob);
    } catch (e) {
      if (!(e instanceof RegistryError)) throw e;
    }
    const truthNote = truthLine(truthFile, `${settings.corpusContainer}/${truthBlob}`);
    if (truthNote) log(truthNote);
    const download = lap();

    const modelDir = join(work, 'model');
    try {
      await run('train', {
        corpus,
        out: modelDir,
        stage: 'all',
        budget: settings.trainBudget,
        ...options.trainArgs,
      });
    } catch (e) {
      // The corpus line is named in the blob, not in this job's temporary copy.
      if (e instanceof CorpusLineError)
        throw new InputError(e.message.replace(e.file, `corpus blob ${corpusLabel}`), 'CORPUS_BLOB');
      throw e;
    }
    const train = lap();

    const metrics = await run('eval', { model: modelDir, corpus });
    const metricsFile = join(modelDir, 'eval.json');
    writeFileSync(metricsFile, JSON.stringify(metrics));
    const evalSeconds = lap();

    const versionDir = join(work, 'version');
    const exported = await run('export', { model: modelDir, out: versionDir, metrics: metricsFile });
    const meta = readArtifact(versionDir, { verify: false }).meta as {
      versionId?: unknown;
      counts?: unknown;
    };
    const versionId = typeof exported.versionId === 'string' ? exported.versionId : meta.versionId;
    if (typeof versionId !== 'string') throw new Error(`export wrote no version id into ${versionDir}`);
    const exportSeconds = lap();

    let gate: GateReport | null = null;
    if (settings.trainGate === 'off') log('quality gate off (TRAIN_GATE=off): publishing unchecked');
    else {
      const served = await registry.latest();
      const checks = baselineChecks(metrics);
      if (served) {
        const manifest = await registry.manifest(served.versionId);
        checks.push(
          ...servedChecks(
            { metrics, counts: meta.counts },
            { metrics: manifest.meta.metrics, counts: manifest.meta.counts },
            served.versionId,
            settings.trainGateTolerance,
          ),
        );
      }
      checks.push(...servingSmokeTest(versionDir));
      gate = gateReport(versionId, served?.versionId ?? null, settings.trainGateTolerance, checks);
      for (const c of checks) log(`gate ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
      if (gate.decision === 'reject') {
        await registry.reject(versionDir, versionId, gate);
        throw new GateRejectedError(gate);
      }
    }
    const gateSeconds = lap();

    log(`publishing model version ${versionId}`);
    await registry.publish(versionDir, versionId);
    const publish = lap();
    log(`published ${versionId}: models/latest.json now points at it`);
    return {
      versionId,
      corpusBlob: settings.corpusBlob,
      budget: settings.trainBudget,
      gate,
      seconds: {
        download,
        train,
        eval: evalSeconds,
        export: exportSeconds,
        gate: gateSeconds,
        publish,
        total: (performance.now() - started) / 1000,
      },
    };
  } finally {
    if (!options.workDir) rmSync(work, { recursive: true, force: true });
  }
}

/**
 * What the truth sidecar gives eval. An unusable one never stops the job: the gate needs no
 * truth, so the line names it and eval (which records the error in eval.json) goes on without it.
 */
function truthLine(file: string, label: string): string | null {
  if (!existsSync(file)) return null; // no sidecar: a real corpus
  const read = readTruthFile(file);
  const blob = `truth blob ${label}`;
  if (read.kind === 'unusable') return `WARNING ${read.error.replace(`truth file ${file}`, blob)}; evaluating without it`;
  const what = read.kind === 'synthetic' ? 'synthetic-corpus truth' : 'planted clusters only';
  return `${blob}: ${what}; ${oracleLine(read)}`;
}

/** Bad input, a registry refusal and a rejected candidate are reported in their own words; bugs with a stack. */
export function jobFailure(e: unknown): { line: string; code: number } {
  const known = e instanceof InputError || e instanceof RegistryError || e instanceof GateRejectedError;
  const text = known ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e);
  return {
    line: `[job] FAILED, models/latest.json unchanged: ${text}`,
    code: e instanceof GateRejectedError ? 3 : known ? 2 : 1,
  };
}

if (import.meta.main) {
  let code = 0;
  try {
    const result = await runJob(readSettings());
    process.stdout.write(JSON.stringify(result) + '\n');
  } catch (e) {
    const failure = jobFailure(e);
    process.stderr.write(failure.line + '\n');
    code = failure.code;
  }
  // tfjs and worker pools may keep handles open; the job is over either way.
  process.exit(code);
}
