// azd `postdeploy` hook (azure.yaml): puts a corpus into the corpus container and starts the first
// training run, so `azd up` ends with a model being trained. The posix and the windows hook both
// run `npx --no node scripts/hooks/firstTraining.ts` (the project's Node 22), from the project root,
// with the azd environment's values (the Bicep outputs) as environment variables.
//
//   TRACKLIST_CORPUS_FILE     a corpus JSONL to upload (checked line by line first; its
//                             <name>.truth.json sidecar goes too); unset = the synthetic `seed`
//                             corpus, generated once into .data/azd/, uploaded only when the corpus
//                             blob does not exist yet (a real corpus is never replaced by the seed)
//   TRACKLIST_FIRST_TRAINING  auto (default: start a run only while no model is served),
//                             always, or skip
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeSynth, type SynthProfile } from '../../shared/corpus/synth.ts';
import { readCorpus } from '../../shared/corpus/jsonl.ts';
import { blobServiceClient, readSettings, type Settings } from '../../shared/store/config.ts';
import { BlobModelRegistry, uploadCorpus } from '../../shared/store/modelRegistry.ts';
import { startRetraining, type RetrainOptions, type RetrainResult } from '../../shared/store/retrain.ts';
import { InputError } from '../../shared/util/errors.ts';

export const CORPUS_FILE_VARIABLE = 'TRACKLIST_CORPUS_FILE';
export const MODE_VARIABLE = 'TRACKLIST_FIRST_TRAINING';
const MODES = ['auto', 'always', 'skip'] as const;
type Mode = (typeof MODES)[number];
/** Bicep outputs the hook cannot do without (written by `azd provision`). */
const REQUIRED = ['MODEL_STORAGE_ACCOUNT_URL', 'TRAINING_JOB_RESOURCE_ID'] as const;

export interface FirstTrainingOptions {
  say?: (line: string) => void;
  /** Where the seed corpus is generated (default <cwd>/.data/azd/seed.jsonl). */
  seedFile?: string;
  /** Synthetic profile of the default corpus (default seed; tests use tiny). */
  profile?: SynthProfile;
  /** Passed to startRetraining (tests give ARM a stand-in fetch and credential). */
  retrain?: RetrainOptions;
  /** Tries of each storage call while it answers 403 (role assignments take minutes). */
  tries?: number;
  retryDelayMs?: number;
}

export interface FirstTrainingResult {
  corpus: 'uploaded-file' | 'uploaded-seed' | 'kept';
  /** Blobs written to the corpus container. */
  uploaded: string[];
  training: RetrainResult | null;
  /** Version already served, when that is why no run was started. */
  servedVersion: string | null;
}

type Env = Record<string, string | undefined>;

export async function firstTraining(
  env: Env,
  options: FirstTrainingOptions = {},
): Promise<FirstTrainingResult> {
  const say = options.say ?? ((line: string) => process.stdout.write(`[first-training] ${line}\n`));
  for (const name of REQUIRED)
    if (!env[name]?.trim())
      throw new InputError(`${name} is not set: run \`azd provision\` (or \`azd up\`) first`, name);
  const mode = (env[MODE_VARIABLE]?.trim() || 'auto').toLowerCase() as Mode;
  if (!MODES.includes(mode))
    throw new InputError(`${MODE_VARIABLE} must be one of ${MODES.join(', ')}, got "${mode}"`, MODE_VARIABLE);
  // The deploying user's own Entra login (azd or az), never the app's managed identity.
  const settings: Settings = { ...readSettings(env), azureClientId: undefined };
  const retry = retrying(say, options.tries ?? 20, options.retryDelayMs ?? 15_000);

  const { corpus, uploaded } = await putCorpus(env, settings, options, say, retry);

  const served = await retry('read the served model pointer', () =>
    BlobModelRegistry.fromSettings(settings).latest(),
  );
  if (mode === 'skip' || (mode === 'auto' && served)) {
    say(
      mode === 'skip'
        ? `${MODE_VARIABLE}=skip: no training run started`
        : `model ${served!.versionId} is already served: no training run started (${MODE_VARIABLE}=always starts one)`,
    );
    return { corpus, uploaded, training: null, servedVersion: served?.versionId ?? null };
  }
  const training = await startRetraining(settings, options.retrain);
  if (training.mode === 'azure') {
    say(`started training execution ${training.execution ?? '(name not returned)'} of ${training.jobId}`);
    say(
      'follow it: az containerapp job execution list -g "$AZURE_RESOURCE_GROUP" -n "$AZURE_TRAINING_JOB_NAME" -o table; ' +
        'the API serves the model within MODEL_REFRESH_SECONDS of its publication',
    );
  }
  return { corpus, uploaded, training, servedVersion: served?.versionId ?? null };
}

async function putCorpus(
  env: Env,
  settings: Settings,
  options: FirstTrainingOptions,
  say: (line: string) => void,
  retry: Retry,
): Promise<Pick<FirstTrainingResult, 'corpus' | 'uploaded'>> {
  const target = `${settings.corpusContainer}/${settings.corpusBlob}`;
  const named = env[CORPUS_FILE_VARIABLE]?.trim();
  let file: string;
  if (named) {
    file = resolve(named);
    if (!existsSync(file) || !statSync(file).isFile())
      throw new InputError(`${CORPUS_FILE_VARIABLE}: ${file} is not a file`, CORPUS_FILE_VARIABLE);
    // Bad lines stop here (CorpusLineError names file and line), not an hour into the job.
    let tracklists = 0;
    for await (const _ of readCorpus(file)) tracklists++;
    if (tracklists === 0)
      throw new InputError(`${CORPUS_FILE_VARIABLE}: ${file} holds no tracklists`, CORPUS_FILE_VARIABLE);
    say(`${file}: ${tracklists} tracklists`);
  } else {
    const blob = blobServiceClient(settings)
      .getContainerClient(settings.corpusContainer)
      .getBlobClient(settings.corpusBlob);
    if (await retry(`check ${target}`, () => blob.exists())) {
      say(`${target} exists: kept (set ${CORPUS_FILE_VARIABLE} to upload another corpus)`);
      return { corpus: 'kept', uploaded: [] };
    }
    file = options.seedFile ?? resolve('.data', 'azd', 'seed.jsonl');
    const profile = options.profile ?? 'seed';
    if (!existsSync(file)) {
      say(`generating the synthetic ${profile} corpus into ${file}`);
      mkdirSync(dirname(file), { recursive: true });
      await writeSynth(profile, 1, file);
    }
  }
  const uploaded: string[] = [];
  say(`uploading ${file} to ${target}`);
  await retry(`upload ${target}`, () => uploadCorpus(settings, file));
  uploaded.push(settings.corpusBlob);
  // The job reads <blob>.truth.json beside the corpus (the synthetic ground truth, for eval).
  const truthFile = file.replace(/\.jsonl$/, '') + '.truth.json';
  if (existsSync(truthFile)) {
    const truthBlob = settings.corpusBlob.replace(/\.jsonl$/, '') + '.truth.json';
    await retry(`upload ${truthBlob}`, () => uploadCorpus(settings, truthFile, truthBlob));
    uploaded.push(truthBlob);
  }
  return { corpus: named ? 'uploaded-file' : 'uploaded-seed', uploaded };
}

export type Retry = <T>(what: string, call: () => Promise<T>) => Promise<T>;

/** Retries a storage call while it answers 403: a fresh role assignment takes minutes to apply. */
export function retrying(say: (line: string) => void, tries: number, delayMs: number): Retry {
  return async (what, call) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (e) {
        const status = (e as { statusCode?: unknown }).statusCode;
        if (status !== 403) throw e;
        if (attempt >= tries)
          throw new Error(
            `${what}: still 403 after ${tries} tries; your account needs Storage Blob Data Contributor on the ` +
              'storage account (azd grants it to AZURE_PRINCIPAL_ID on provisioning)',
            { cause: e },
          );
        say(`${what}: 403, waiting for the role assignment to take effect (${attempt}/${tries})`);
        await new Promise((r) => setTimeout(r, delayMs));
      }
    }
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    await firstTraining(process.env);
  } catch (e) {
    process.stderr.write(`first-training: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
