import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { writeSynth } from '../../shared/corpus/synth.ts';
import { blobServiceClient, readSettings } from '../../shared/store/config.ts';
import { startAzurite, type LocalBlobService } from '../../shared/store/localServices.ts';
import { LATEST_BLOB } from '../../shared/store/modelRegistry.ts';
import {
  CORPUS_FILE_VARIABLE,
  MODE_VARIABLE,
  firstTraining,
  retrying,
} from '../../scripts/hooks/firstTraining.ts';
import { InputError } from '../../shared/util/errors.ts';
import { tempDir } from '../tempDirs.ts';

/*
 * The azd postdeploy hook against a real Azurite: the corpus upload, the served-model check and the
 * ARM request that starts the job. ARM itself is the one stand-in (a fetch that records the call):
 * no Azure subscription is reachable from here.
 */

const JOB_ID =
  '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-t/providers/Microsoft.App/jobs/caj-train-t';
const credential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({
    token: 'user-token',
    expiresOnTimestamp: Date.now() + 3_600_000,
  }),
};

let azurite: LocalBlobService;
let work: string;
let tinyCorpus: string;
let runs = 0;

beforeAll(async () => {
  azurite = await startAzurite();
  work = tempDir('tracklist-first-training-');
  tinyCorpus = join(work, 'mine', 'sets.jsonl');
  mkdirSync(join(work, 'mine'));
  await writeSynth('tiny', 3, tinyCorpus);
});

afterAll(async () => {
  await azurite?.stop();
});

/** A fresh pair of containers per test, with the variables azd hands the hook. */
function envFor(extra: Record<string, string> = {}): Record<string, string> {
  const n = ++runs;
  return {
    MODEL_STORAGE_ACCOUNT_URL: azurite.url,
    MODEL_CONTAINER: `models-hook-${n}`,
    CORPUS_CONTAINER: `corpus-hook-${n}`,
    CORPUS_BLOB: 'corpus.jsonl',
    TRAINING_JOB_RESOURCE_ID: JOB_ID,
    ...extra,
  };
}

function arm(
  status = 202,
  body = '{"name":"caj-train-t-abc12"}',
): { calls: { url: string; init: RequestInit }[]; fetch: typeof fetch } {
  const calls: { url: string; init: RequestInit }[] = [];
  const stub = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    return new Response(body, { status });
  }) as typeof fetch;
  return { calls, fetch: stub };
}

async function blobText(
  env: Record<string, string>,
  container: string,
  name: string,
): Promise<string | null> {
  const blob = blobServiceClient(readSettings(env)).getContainerClient(container).getBlobClient(name);
  if (!(await blob.exists())) return null;
  return (await blob.downloadToBuffer()).toString('utf8');
}

const quiet = (): void => {};

describe('first-training hook (azd postdeploy)', () => {
  it('uploads the named corpus and its truth, then starts one job execution through ARM', async () => {
    const env = envFor({ [CORPUS_FILE_VARIABLE]: tinyCorpus });
    const { calls, fetch } = arm();
    const lines: string[] = [];
    const result = await firstTraining(env, { say: (l) => lines.push(l), retrain: { credential, fetch } });
    expect(result.corpus).toBe('uploaded-file');
    expect(result.uploaded).toEqual(['corpus.jsonl', 'corpus.truth.json']);
    expect(await blobText(env, env.CORPUS_CONTAINER, 'corpus.jsonl')).toBe(readFileSync(tinyCorpus, 'utf8'));
    expect(await blobText(env, env.CORPUS_CONTAINER, 'corpus.truth.json')).toBe(
      readFileSync(tinyCorpus.replace(/\.jsonl$/, '.truth.json'), 'utf8'),
    );
    expect(calls).toHaveLength(1);
    expect(calls[0].url).toBe(`https://management.azure.com${JOB_ID}/start?api-version=2024-03-01`);
    expect(calls[0].init.method).toBe('POST');
    expect((calls[0].init.headers as Record<string, string>).authorization).toBe('Bearer user-token');
    expect(result.training).toMatchObject({ mode: 'azure', execution: 'caj-train-t-abc12' });
    expect(lines.some((l) => l.includes('started training execution caj-train-t-abc12'))).toBe(true);
  });

  it('without a named file: generates the synthetic corpus once, uploads it, keeps an existing corpus', async () => {
    const env = envFor();
    const seedFile = join(work, 'seed', 'seed.jsonl');
    const first = await firstTraining(env, {
      say: quiet,
      seedFile,
      profile: 'tiny',
      retrain: { credential, fetch: arm().fetch },
    });
    expect(first.corpus).toBe('uploaded-seed');
    expect(first.uploaded).toEqual(['corpus.jsonl', 'corpus.truth.json']);
    expect(await blobText(env, env.CORPUS_CONTAINER, 'corpus.jsonl')).toBe(readFileSync(seedFile, 'utf8'));

    // A real corpus uploaded since is never replaced by the synthetic one.
    const real = '{"dj":"x"}\n';
    await blobServiceClient(readSettings(env))
      .getContainerClient(env.CORPUS_CONTAINER)
      .getBlockBlobClient('corpus.jsonl')
      .upload(real, real.length);
    const again = await firstTraining(env, {
      say: quiet,
      seedFile,
      profile: 'tiny',
      retrain: { credential, fetch: arm().fetch },
    });
    expect(again.corpus).toBe('kept');
    expect(again.uploaded).toEqual([]);
    expect(await blobText(env, env.CORPUS_CONTAINER, 'corpus.jsonl')).toBe(real);
  });

  it('starts no run while a model is served (auto), one with always, none with skip', async () => {
    const env = envFor({ [CORPUS_FILE_VARIABLE]: tinyCorpus });
    const pointer = JSON.stringify({ versionId: 'v20261201-0300', publishedAt: '2026-12-01T03:00:00Z' });
    const models = blobServiceClient(readSettings(env)).getContainerClient(env.MODEL_CONTAINER);
    await models.createIfNotExists();
    await models.getBlockBlobClient(LATEST_BLOB).upload(pointer, pointer.length);

    const auto = arm();
    const served = await firstTraining(env, { say: quiet, retrain: { credential, fetch: auto.fetch } });
    expect(served.training).toBeNull();
    expect(served.servedVersion).toBe('v20261201-0300');
    expect(auto.calls).toHaveLength(0);

    const always = arm();
    const forced = await firstTraining(
      { ...env, [MODE_VARIABLE]: 'always' },
      { say: quiet, retrain: { credential, fetch: always.fetch } },
    );
    expect(forced.training).not.toBeNull();
    expect(always.calls).toHaveLength(1);

    const skip = arm();
    const skipped = await firstTraining(
      { ...env, [MODE_VARIABLE]: 'Skip' },
      { say: quiet, retrain: { credential, fetch: skip.fetch } },
    );
    expect(skipped.training).toBeNull();
    expect(skip.calls).toHaveLength(0);
  });

  it('stops on bad input with one line naming the variable or the corpus line, uploading nothing', async () => {
    const bad = join(work, 'bad.jsonl');
    const lines = readFileSync(tinyCorpus, 'utf8').split('\n');
    writeFileSync(bad, `${lines[0]}\n{"dj": 3}\n`);
    const env = envFor({ [CORPUS_FILE_VARIABLE]: bad });
    const { calls, fetch } = arm();
    await expect(firstTraining(env, { say: quiet, retrain: { credential, fetch } })).rejects.toThrow(
      new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: line 2: `),
    );
    expect(await blobText(env, env.CORPUS_CONTAINER, 'corpus.jsonl')).toBeNull();
    expect(calls).toHaveLength(0);

    const empty = join(work, 'empty.jsonl');
    writeFileSync(empty, '\n');
    for (const [extra, field] of [
      [{ [CORPUS_FILE_VARIABLE]: join(work, 'missing.jsonl') }, CORPUS_FILE_VARIABLE],
      [{ [CORPUS_FILE_VARIABLE]: empty }, CORPUS_FILE_VARIABLE],
      [{ [MODE_VARIABLE]: 'sometimes' }, MODE_VARIABLE],
      [{ TRAINING_JOB_RESOURCE_ID: '' }, 'TRAINING_JOB_RESOURCE_ID'],
    ] as const) {
      const error = await firstTraining(envFor(extra), { say: quiet, retrain: { credential, fetch } }).catch(
        (e: unknown) => e,
      );
      expect(error, field).toBeInstanceOf(InputError);
      expect((error as InputError).field).toBe(field);
    }
    expect(calls).toHaveLength(0);
  });

  it('reports a refused job start (ARM 403) and leaves the uploaded corpus in place', async () => {
    const env = envFor({ [CORPUS_FILE_VARIABLE]: tinyCorpus });
    const { fetch } = arm(403, '{"error":{"code":"AuthorizationFailed"}}');
    await expect(firstTraining(env, { say: quiet, retrain: { credential, fetch } })).rejects.toThrow(
      /starting the training job failed: HTTP 403 .*AuthorizationFailed/,
    );
    expect(await blobText(env, env.CORPUS_CONTAINER, 'corpus.jsonl')).not.toBeNull();
  });
});

describe('first-training hook: storage 403 while the role assignment propagates', () => {
  const forbidden = Object.assign(new Error('This request is not authorized'), { statusCode: 403 });

  it('retries a 403 until the call succeeds, saying so each time', async () => {
    const lines: string[] = [];
    let calls = 0;
    const value = await retrying(
      (l) => lines.push(l),
      5,
      0,
    )('upload corpus/corpus.jsonl', async () => {
      if (++calls < 3) throw forbidden;
      return 'done';
    });
    expect(value).toBe('done');
    expect(calls).toBe(3);
    expect(lines).toEqual([
      'upload corpus/corpus.jsonl: 403, waiting for the role assignment to take effect (1/5)',
      'upload corpus/corpus.jsonl: 403, waiting for the role assignment to take effect (2/5)',
    ]);
  });

  it('gives up after the last try naming the role, and does not retry other errors', async () => {
    let calls = 0;
    await expect(
      retrying(
        quiet,
        3,
        0,
      )('check corpus/corpus.jsonl', async () => {
        calls++;
        throw forbidden;
      }),
    ).rejects.toThrow(
      /^check corpus\/corpus\.jsonl: still 403 after 3 tries; .*Storage Blob Data Contributor/,
    );
    expect(calls).toBe(3);
    calls = 0;
    const notFound = Object.assign(new Error('gone'), { statusCode: 404 });
    await expect(
      retrying(
        quiet,
        3,
        0,
      )('x', async () => {
        calls++;
        throw notFound;
      }),
    ).rejects.toBe(notFound);
    expect(calls).toBe(1);
  });
});
