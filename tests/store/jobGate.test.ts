import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobServiceClient, readSettings, type Settings } from '../../shared/store/config.ts';
import { startAzurite, type LocalBlobService } from '../../shared/store/localServices.ts';
import {
  BlobModelRegistry,
  GATE_REPORT_FILE,
  REJECTED_PREFIX,
  RegistryError,
  uploadCorpus,
} from '../../shared/store/modelRegistry.ts';
import { InputError } from '../../shared/util/errors.ts';
import { synthCommand } from '../../training/commands/synth.ts';
import { GateRejectedError, type GateReport } from '../../training/gate.ts';
import { jobFailure, runJob } from '../../training/job.ts';
import { tempDir } from '../tempDirs.ts';
import { TINY_TRAIN_ARGS } from '../e2e/tinyModel.ts';
import { CorruptingRegistry } from './corruptingRegistry.ts';

/*
 * The training job with the REAL train / eval / export commands on the synthetic `tiny` corpus
 * (step caps of the end-to-end tests), the real gate, and Azurite: a first deployment
 * (TRAIN_GATE=off) publishes; a truncated corpus is turned down by the gate and kept under
 * models/rejected/ with its report (its truth blob holding planted clusters only); a corrupted
 * upload fails its read-back (its truth blob malformed: logged, not fatal); bad corpus blobs stop
 * the job before training. The pointer never moves on a failure. (The tiny model trains
 * in seconds and does not beat every baseline, so the run where the gate lets a candidate through
 * is `npm run bench:job`, on `small`.)
 */

let azurite: LocalBlobService;
let work: string;
let corpusFile: string;
const trainArgs = Object.fromEntries(
  Array.from({ length: TINY_TRAIN_ARGS.length / 2 }, (_, i) => [
    TINY_TRAIN_ARGS[2 * i].slice(2),
    TINY_TRAIN_ARGS[2 * i + 1],
  ]),
);
const quiet = { log: () => undefined, trainArgs };

beforeAll(async () => {
  azurite = await startAzurite();
  work = tempDir('tracklist-job-gate-');
  corpusFile = join(work, 'corpus.jsonl');
  await synthCommand.run(
    { profile: 'tiny', seed: '1', out: corpusFile },
    { json: true, say: () => undefined },
  );
});

afterAll(async () => {
  await azurite?.stop();
});

let n = 0;
function settingsFor(env: Record<string, string> = {}): Settings {
  n++;
  return readSettings({
    MODEL_STORAGE_ACCOUNT_URL: azurite.url,
    MODEL_CONTAINER: `models-gate-${n}`,
    CORPUS_CONTAINER: `corpus-gate-${n}`,
    CORPUS_BLOB: 'corpus.jsonl',
    TRAIN_BUDGET: 'fast',
    ...env,
  });
}

async function upload(
  settings: Settings,
  text: string,
  truth = readFileSync(corpusFile.replace(/\.jsonl$/, '.truth.json'), 'utf8'),
): Promise<void> {
  const file = join(work, `upload-${n}.jsonl`);
  writeFileSync(file, text);
  await uploadCorpus(settings, file);
  const truthFile = join(work, `upload-${n}.truth.json`);
  writeFileSync(truthFile, truth);
  await uploadCorpus(settings, truthFile, 'corpus.truth.json');
}

describe('training job gate, real commands on tiny', () => {
  it('publishes a first deployment, rejects a truncated corpus, and refuses a corrupted upload', async () => {
    const settings = settingsFor();
    const registry = BlobModelRegistry.fromSettings(settings);
    const corpus = readFileSync(corpusFile, 'utf8');
    await upload(settings, corpus);
    const jobWork = join(work, 'job-good');

    // 1. First deployment: nothing is served yet and the tiny model is not trained long enough
    //    to beat every baseline, so it goes out unchecked (TRAIN_GATE=off).
    const first = await runJob({ ...settings, trainGate: 'off' }, { ...quiet, workDir: jobWork });
    expect(first.gate).toBeNull();
    const served = await registry.latest();
    expect(served?.versionId).toBe(first.versionId);

    // 2. A truncated upload (the first 40 % of the sets): the gate turns it down. Its truth blob
    //    holds planted clusters only (no oracle): the job runs through to the gate all the same.
    const lines = corpus.trimEnd().split('\n');
    const { songCluster } = JSON.parse(readFileSync(corpusFile.replace(/\.jsonl$/, '.truth.json'), 'utf8')) as {
      songCluster: unknown;
    };
    await upload(
      settings,
      lines.slice(0, Math.floor(lines.length * 0.4)).join('\n') + '\n',
      JSON.stringify({ songCluster }),
    );
    const logged: string[] = [];
    const rejected = await runJob(settings, {
      ...quiet,
      log: (l) => logged.push(l),
      workDir: join(work, 'job-truncated'),
    }).catch((e: unknown) => e);
    expect(logged).toContain(
      `truth blob ${settings.corpusContainer}/corpus.truth.json: planted clusters only; oracle: unavailable (truth holds planted clusters only)`,
    );
    expect(rejected).toBeInstanceOf(GateRejectedError);
    const report = (rejected as GateRejectedError).report;
    expect(report).toMatchObject({ decision: 'reject', served: first.versionId, tolerance: 0.05 });
    const failed = report.checks.filter((c) => !c.ok).map((c) => c.name);
    expect(failed).toContain('songs vs served');
    expect(failed).toContain('djs vs served');
    // The serving smoke test ran on the candidate and passed: the model is small, not broken.
    expect(report.checks.filter((c) => c.name.startsWith('serving:')).every((c) => c.ok)).toBe(true);
    // One readable line per failed check, after the headline.
    const message = (rejected as Error).message.split('\n');
    expect(message).toHaveLength(1 + failed.length);
    expect(message[1]).toMatch(/^gate: \S/);
    expect(jobFailure(rejected)).toMatchObject({ code: 3 });
    expect((await registry.latest())?.versionId).toBe(first.versionId);
    const kept = registry.container.getBlobClient(
      `${REJECTED_PREFIX}${report.versionId}/${GATE_REPORT_FILE}`,
    );
    const keptReport = JSON.parse((await kept.downloadToBuffer()).toString('utf8')) as GateReport;
    expect(keptReport.checks).toEqual(report.checks);
    const keptManifest = await registry.manifest(report.versionId, { rejected: true });
    expect(keptManifest.meta.versionId).toBe(report.versionId);

    // 3. The good corpus again, but a transfer corrupts tensors.bin: the read-back catches it.
    await upload(settings, corpus, '{"songCluster": {"A - B": [1, 2.5]}}');
    const corrupting = new CorruptingRegistry(blobServiceClient(settings), {
      container: settings.modelContainer,
    });
    // The model folder of run 1 is complete, so train only confirms it; eval and export run again.
    const warned: string[] = [];
    const failure = await runJob(
      { ...settings, trainGate: 'off' },
      { ...quiet, log: (l) => warned.push(l), workDir: jobWork, registry: corrupting },
    ).catch((e: unknown) => e);
    // The malformed truth blob is named and the job went on past eval and export to the upload.
    expect(warned).toContainEqual(
      expect.stringMatching(/^WARNING truth blob corpus-gate-\d+\/corpus.truth.json: songCluster\["A - B"\]: label 2.5/),
    );
    expect(warned).toContainEqual(expect.stringMatching(/^tlgen export /));
    expect(failure).toBeInstanceOf(RegistryError);
    expect(jobFailure(failure).line).toMatch(
      /^\[job\] FAILED, models\/latest.json unchanged: verification of \S+ failed: .*tensors.bin does not match its sha256$/,
    );
    expect((await registry.latest())?.versionId).toBe(first.versionId);
  }, 300_000);

  it('stops before training on an empty corpus or a bad corpus line', async () => {
    const settings = settingsFor();
    const registry = BlobModelRegistry.fromSettings(settings);
    const line = readFileSync(corpusFile, 'utf8').split('\n')[0];
    const attempt = async (): Promise<string> => {
      const e = await runJob(settings, quiet).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(InputError);
      const { line: out, code } = jobFailure(e);
      expect(code).toBe(2);
      expect(out.split('\n')).toHaveLength(1);
      return out;
    };
    await upload(settings, '');
    expect(await attempt()).toMatch(/corpus blob corpus-gate-\d+\/corpus.jsonl is empty/);
    await upload(settings, `${line}\n${line.replace('"tracks"', '"trax"')}\n`);
    expect(await attempt()).toMatch(
      /corpus blob corpus-gate-\d+\/corpus.jsonl: line 2: "tracks" must be an array/,
    );
    expect(await registry.latest()).toBeNull();
  });
});
