import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { readArtifact } from '../../shared/model/artifact.ts';
import { readSettings, type Settings } from '../../shared/store/config.ts';
import { startAzurite, type LocalBlobService } from '../../shared/store/localServices.ts';
import { BlobModelRegistry, RegistryError, uploadCorpus } from '../../shared/store/modelRegistry.ts';
import { startRetraining } from '../../shared/store/retrain.ts';
import type { Command } from '../../shared/cli/command.ts';
import { runJob, type JobCommand } from '../../training/job.ts';
import { writeVersion } from './fixtures.ts';
import { tempDir } from '../tempDirs.ts';

/*
 * The job's wiring (corpus download → train → eval → export → publish) with STUB commands and the
 * gate off (TRAIN_GATE=off, the first-deployment switch). What is real here: Azurite, the corpus
 * transfer, the registry and its pointer. The real commands and the gate run in
 * tests/store/jobGate.test.ts.
 */

let azurite: LocalBlobService;
let work: string;
let runs = 0;

beforeAll(async () => {
  azurite = await startAzurite();
  work = tempDir('tracklist-job-test-');
});

afterAll(async () => {
  await azurite?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function settingsFor(env: Record<string, string> = {}): Settings {
  const n = ++runs;
  return readSettings({
    MODEL_STORAGE_ACCOUNT_URL: azurite.url,
    MODEL_CONTAINER: `models-job-${n}`,
    CORPUS_CONTAINER: `corpus-job-${n}`,
    CORPUS_BLOB: 'sets/corpus.jsonl',
    TRAIN_BUDGET: 'fast',
    ...env,
  });
}

const CORPUS = '{"id":"1","date":null,"djs":["A"],"tracks":["X - Y","Z - W"]}\n';

function stubCommands(
  seen: Record<string, Record<string, unknown>>,
  failAt?: JobCommand,
): Record<JobCommand, () => Promise<Command>> {
  const stub =
    (name: JobCommand, run: (values: Record<string, string>) => object): (() => Promise<Command>) =>
    async () => ({
      summary: `stub ${name}`,
      usage: '',
      options: {},
      run: async (values) => {
        seen[name] = { ...values };
        if (failAt === name) throw new Error(`${name} failed`);
        return run(values as Record<string, string>);
      },
    });
  return {
    train: stub('train', (v) => {
      seen.corpusText = { text: readFileSync(v.corpus, 'utf8') };
      mkdirSync(v.out, { recursive: true });
      return { out: v.out };
    }),
    eval: stub('eval', () => ({ recommendation: { recall20: 0.42 } })),
    export: stub('export', (v) => {
      const metrics = JSON.parse(readFileSync(v.metrics, 'utf8')) as unknown;
      writeVersion(v.out, 'V1', 7, metrics);
      return { versionId: 'V1', dir: v.out };
    }),
  };
}

describe('training job', () => {
  it('downloads the corpus, runs train/eval/export and publishes the version unchecked with TRAIN_GATE=off', async () => {
    const settings = settingsFor({ TRAIN_GATE: 'off' });
    const corpusFile = join(work, 'corpus.jsonl');
    writeFileSync(corpusFile, CORPUS);
    await uploadCorpus(settings, corpusFile);
    const seen: Record<string, Record<string, unknown>> = {};
    const result = await runJob(settings, { commands: stubCommands(seen), log: () => undefined });
    expect(result.versionId).toBe('V1');
    expect(result.gate).toBeNull();
    expect(seen.corpusText.text).toBe(CORPUS);
    expect(seen.train).toMatchObject({ stage: 'all', budget: 'fast' });
    expect(seen.export.model).toBe(seen.train.out);

    const registry = BlobModelRegistry.fromSettings(settings);
    expect((await registry.latest())?.versionId).toBe('V1');
    const dir = await registry.download('V1', join(work, 'dl', 'V1'));
    expect(readArtifact<{ metrics: unknown }>(dir).meta.metrics).toEqual({
      recommendation: { recall20: 0.42 },
    });
    // The temporary working folder is gone.
    expect(existsSync(String(seen.train.corpus))).toBe(false);
  });

  it('fails without moving the pointer when a step fails or the corpus is missing', async () => {
    const settings = settingsFor();
    const corpusFile = join(work, 'corpus2.jsonl');
    writeFileSync(corpusFile, CORPUS);
    const registry = BlobModelRegistry.fromSettings(settings);
    writeVersion(join(work, 'V0'), 'V0', 3);
    await registry.publish(join(work, 'V0'), 'V0');

    await expect(runJob(settings, { commands: stubCommands({}), log: () => undefined })).rejects.toThrow(
      RegistryError,
    );
    await uploadCorpus(settings, corpusFile);
    await expect(
      runJob(settings, { commands: stubCommands({}, 'export'), log: () => undefined }),
    ).rejects.toThrow('export failed');
    await expect(
      runJob(settings, { commands: stubCommands({}, 'eval'), log: () => undefined }),
    ).rejects.toThrow('eval failed');
    expect((await registry.latest())?.versionId).toBe('V0');
  });
});

describe('startRetraining', () => {
  it('starts the Container Apps Job through ARM with a bearer token', async () => {
    const jobId = '/subscriptions/sub/resourceGroups/rg-x/providers/Microsoft.App/jobs/caj-train-x';
    const settings = readSettings({ TRAINING_JOB_RESOURCE_ID: jobId });
    const scopes: string[] = [];
    const credential: TokenCredential = {
      getToken: async (scope) => {
        scopes.push(String(scope));
        return { token: 'tok', expiresOnTimestamp: Date.now() + 60_000 } satisfies AccessToken;
      },
    };
    const requests: { url: string; init: RequestInit | undefined }[] = [];
    const fakeFetch = (async (url: string | URL | Request, init?: RequestInit) => {
      requests.push({ url: String(url), init });
      return new Response(
        JSON.stringify({ name: 'caj-train-x-abc', id: `${jobId}/executions/caj-train-x-abc` }),
        { status: 202 },
      );
    }) as typeof fetch;
    const result = await startRetraining(settings, { credential, fetch: fakeFetch });
    expect(result).toEqual({ mode: 'azure', status: 202, jobId, execution: 'caj-train-x-abc' });
    expect(scopes).toEqual(['https://management.azure.com/.default']);
    expect(requests).toHaveLength(1);
    expect(requests[0].url).toBe(`https://management.azure.com${jobId}/start?api-version=2024-03-01`);
    expect(requests[0].init?.method).toBe('POST');
    expect((requests[0].init?.headers as Record<string, string>).authorization).toBe('Bearer tok');

    const denied = (async () =>
      new Response('{"error":{"code":"AuthorizationFailed"}}', { status: 403 })) as typeof fetch;
    await expect(startRetraining(settings, { credential, fetch: denied })).rejects.toThrow(
      /HTTP 403 .*AuthorizationFailed/,
    );
    await expect(
      startRetraining(readSettings({ TRAINING_JOB_RESOURCE_ID: '/subscriptions/x' }), {
        credential,
        fetch: fakeFetch,
      }),
    ).rejects.toThrow(/not a Container Apps Job/);
  });

  it('locally spawns the job script with the local storage settings, one run at a time (spawn wiring, stub script)', async () => {
    const dir = join(work, 'retrain-stub');
    mkdirSync(dir, { recursive: true });
    const script = join(dir, 'job.mjs');
    // The stub waits for a "go" file, then records the settings it was started with.
    writeFileSync(
      script,
      `import { existsSync, renameSync, writeFileSync } from 'node:fs';
const here = ${JSON.stringify(dir)};
// Written aside, then renamed: the test polls for the file and must never read it half-written.
const record = () => {
  writeFileSync(here + '/env.tmp', JSON.stringify({
    url: process.env.MODEL_STORAGE_ACCOUNT_URL, models: process.env.MODEL_CONTAINER, corpus: process.env.CORPUS_CONTAINER,
    blob: process.env.CORPUS_BLOB, budget: process.env.TRAIN_BUDGET }));
  renameSync(here + '/env.tmp', here + '/env.json');
};
const wait = () => existsSync(here + '/go') ? record() : setTimeout(wait, 20);
wait();
`,
    );
    const settings = settingsFor();
    const first = await startRetraining(settings, { jobScript: script, logDir: dir });
    expect(first).toMatchObject({ mode: 'local', alreadyRunning: false });
    const second = await startRetraining(settings, { jobScript: script, logDir: dir });
    expect(second).toMatchObject({ mode: 'local', alreadyRunning: true });
    expect(second.mode === 'local' && first.mode === 'local' && second.pid === first.pid).toBe(true);
    writeFileSync(join(dir, 'go'), '');
    const envFile = join(dir, 'env.json');
    for (let i = 0; i < 500 && !existsSync(envFile); i++) await new Promise((r) => setTimeout(r, 20));
    expect(JSON.parse(readFileSync(envFile, 'utf8'))).toEqual({
      url: azurite.url,
      models: settings.modelContainer,
      corpus: settings.corpusContainer,
      blob: 'sets/corpus.jsonl',
      budget: 'fast',
    });
  });
});

describe('settings', () => {
  it('defaults to the local stand-ins and validates values', () => {
    const s = readSettings({});
    expect(s).toMatchObject({
      modelContainer: 'models',
      corpusContainer: 'corpus',
      cosmosDatabase: 'tracklist',
      modelRefreshSeconds: 60,
      trainBudget: 'full',
      authEnabled: false,
      trainingJobResourceId: undefined,
    });
    expect(new URL(s.storageAccountUrl).hostname).toBe('127.0.0.1');
    expect(readSettings({ MODEL_REFRESH_SECONDS: '300', AUTH_ENABLED: 'true' })).toMatchObject({
      modelRefreshSeconds: 300,
      authEnabled: true,
    });
    expect(() => readSettings({ MODEL_REFRESH_SECONDS: 'soon' })).toThrow(/MODEL_REFRESH_SECONDS/);
    expect(() => readSettings({ TRAIN_BUDGET: 'huge' })).toThrow(/TRAIN_BUDGET/);
    expect(s).toMatchObject({ trainGate: 'on', trainGateTolerance: 0.05 });
    expect(readSettings({ TRAIN_GATE: 'OFF', TRAIN_GATE_TOLERANCE: '0.1' })).toMatchObject({
      trainGate: 'off',
      trainGateTolerance: 0.1,
    });
    expect(() => readSettings({ TRAIN_GATE: 'maybe' })).toThrow(/TRAIN_GATE/);
    expect(() => readSettings({ TRAIN_GATE_TOLERANCE: '1.5' })).toThrow(/TRAIN_GATE_TOLERANCE/);
  });
});
