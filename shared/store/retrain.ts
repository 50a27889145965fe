import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TokenCredential } from '@azure/identity';
import { azureCredential, type Settings } from './config.ts';

/**
 * Starts a retraining run. In Azure: one execution of the Container Apps Job through ARM
 * (`jobs/{name}/start`, the single action the identity's custom role allows). Locally (no
 * TRAINING_JOB_RESOURCE_ID): `node training/job.ts` as a child process against the same local
 * storage, at most one at a time.
 */
export type RetrainResult =
  | { mode: 'azure'; status: number; jobId: string; execution: string | null }
  | { mode: 'local'; pid: number; log: string; alreadyRunning: boolean };

export interface RetrainOptions {
  /** Token source for ARM (default DefaultAzureCredential with AZURE_CLIENT_ID). */
  credential?: TokenCredential;
  /** HTTP client (default global fetch). */
  fetch?: typeof fetch;
  /** Local only: the script to run (default training/job.ts). */
  jobScript?: string;
  /** Local only: folder for the job's log (default <tmp>/tracklist-retrain). */
  logDir?: string;
}

export const ARM_ENDPOINT = 'https://management.azure.com';
export const JOBS_API_VERSION = '2024-03-01';
const JOB_SCRIPT = fileURLToPath(new URL('../../training/job.ts', import.meta.url));
const JOB_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.App\/jobs\/[^/]+$/i;

let localRun: { child: ChildProcess; log: string } | null = null;

export async function startRetraining(
  settings: Settings,
  options: RetrainOptions = {},
): Promise<RetrainResult> {
  if (settings.trainingJobResourceId) return startAzureJob(settings, settings.trainingJobResourceId, options);
  return startLocalJob(settings, options);
}

async function startAzureJob(
  settings: Settings,
  jobId: string,
  options: RetrainOptions,
): Promise<RetrainResult> {
  if (!JOB_ID.test(jobId))
    throw new Error(`TRAINING_JOB_RESOURCE_ID is not a Container Apps Job resource id: ${jobId}`);
  const credential = options.credential ?? azureCredential(settings);
  const token = await credential.getToken(`${ARM_ENDPOINT}/.default`);
  if (!token) throw new Error('no token for Azure Resource Manager');
  const response = await (options.fetch ?? fetch)(
    `${ARM_ENDPOINT}${jobId}/start?api-version=${JOBS_API_VERSION}`,
    {
      method: 'POST',
      headers: { authorization: `Bearer ${token.token}`, 'content-type': 'application/json' },
      body: '{}',
    },
  );
  const text = await response.text();
  if (!response.ok)
    throw new Error(`starting the training job failed: HTTP ${response.status} ${text.slice(0, 500)}`);
  let execution: string | null = null;
  try {
    const body = JSON.parse(text) as { name?: unknown };
    if (typeof body.name === 'string') execution = body.name;
  } catch {
    // 202 Accepted may come without a body.
  }
  return { mode: 'azure', status: response.status, jobId, execution };
}

function startLocalJob(settings: Settings, options: RetrainOptions): RetrainResult {
  if (localRun && localRun.child.exitCode === null && localRun.child.signalCode === null)
    return { mode: 'local', pid: localRun.child.pid!, log: localRun.log, alreadyRunning: true };
  const logDir = options.logDir ?? join(tmpdir(), 'tracklist-retrain');
  mkdirSync(logDir, { recursive: true });
  const log = join(logDir, `job-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
  const fd = openSync(log, 'a');
  try {
    const child = spawn(process.execPath, [options.jobScript ?? JOB_SCRIPT], {
      stdio: ['ignore', fd, fd],
      env: {
        ...process.env,
        MODEL_STORAGE_ACCOUNT_URL: settings.storageAccountUrl,
        MODEL_CONTAINER: settings.modelContainer,
        CORPUS_CONTAINER: settings.corpusContainer,
        CORPUS_BLOB: settings.corpusBlob,
        TRAIN_BUDGET: settings.trainBudget,
      },
    });
    child.on('error', () => undefined); // reported through exitCode / the log
    localRun = { child, log };
    return { mode: 'local', pid: child.pid ?? -1, log, alreadyRunning: false };
  } finally {
    closeSync(fd);
  }
}
