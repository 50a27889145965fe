import { Agent as HttpsAgent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CosmosClient } from '@azure/cosmos';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { InputError } from '../util/errors.ts';

/**
 * Settings of the serving app and the training job, read from the environment (the names are the
 * app settings / job env written by infra/modules/function-app.bicep and training-job.bicep).
 * Without them everything points at the local stand-ins (Azurite, the local Cosmos server).
 *
 * Access: in Azure every client uses the managed identity (DefaultAzureCredential with
 * AZURE_CLIENT_ID). Keys are used ONLY for endpoints on the loopback interface, i.e. the local
 * stand-ins, with their published development credentials.
 */
export interface Settings {
  /** MODEL_STORAGE_ACCOUNT_URL: blob endpoint of the storage account. */
  storageAccountUrl: string;
  /** MODEL_CONTAINER (default `models`). */
  modelContainer: string;
  /** CORPUS_CONTAINER (default `corpus`). */
  corpusContainer: string;
  /** CORPUS_BLOB: corpus blob inside the corpus container (default `corpus.jsonl`). */
  corpusBlob: string;
  /** COSMOS_ENDPOINT: Cosmos DB document endpoint. */
  cosmosEndpoint: string;
  /** COSMOS_DATABASE (default `tracklist`). */
  cosmosDatabase: string;
  /** AZURE_CLIENT_ID: client id of the user-assigned managed identity (Azure only). */
  azureClientId: string | undefined;
  /** MODEL_REFRESH_SECONDS: seconds between checks of models/latest.json (default 60). */
  modelRefreshSeconds: number;
  /** RETRAIN_SCHEDULE: NCRONTAB of the retraining timer (default Sundays 03:00 UTC). */
  retrainSchedule: string;
  /** TRAINING_JOB_RESOURCE_ID: ARM id of the Container Apps Job; unset = retrain locally. */
  trainingJobResourceId: string | undefined;
  /** AUTH_ENABLED: App Service Authentication is configured (with WEBSITE_AUTH_ENABLED=true: trust x-ms-client-principal). */
  authEnabled: boolean;
  /** TRAIN_BUDGET: `fast` or `full` (default `full`). */
  trainBudget: 'fast' | 'full';
  /** TRAIN_GATE: `on` (default) checks a candidate before it is published; `off` publishes it unchecked. */
  trainGate: 'on' | 'off';
  /** TRAIN_GATE_TOLERANCE: share by which a candidate may fall short of the served version (default 0.05). */
  trainGateTolerance: number;
  /** MODEL_CACHE_DIR: where served model versions are downloaded (default <tmp>/tracklist-models). */
  modelCacheDir: string;
  /** COSMOS_TIMEOUT_MS: deadline of one user-store operation, all its requests and retries (default 5000). */
  cosmosTimeoutMs: number;
  /** BLOB_TIMEOUT_MS: deadline of one Blob request try, and of a pointer read (default 30000). */
  blobTimeoutMs: number;
  /** GENERATE_RATE_PER_MINUTE: sustained generations per client and minute, 0 = no limit (default 120). */
  generateRatePerMinute: number;
  /** GENERATE_BURST: generations a client may make at once after being idle (default 20). */
  generateBurst: number;
  /** GENERATE_MAX_COST: largest length × max(1, likes) of one generation (default 50000). */
  generateMaxCost: number;
  /** GENERATE_CONCURRENCY: generations in flight per process before a quick 503 (default 8). */
  generateConcurrency: number;
}

/** Storage deadlines: past them a call fails as transient (HTTP 503 with Retry-After) instead of hanging. */
export const DEFAULT_COSMOS_TIMEOUT_MS = 5000;
export const DEFAULT_BLOB_TIMEOUT_MS = 30_000;

/** Azurite's published development account (documented; accepted only by the emulator). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
/** The Cosmos emulator's published key; the local Cosmos server accepts any key. */
export const LOCAL_COSMOS_KEY =
  'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';

export const DEFAULT_STORAGE_URL = `http://127.0.0.1:10000/${AZURITE_ACCOUNT}`;
export const DEFAULT_COSMOS_ENDPOINT = 'https://127.0.0.1:8081';

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, fallback: string): string {
  const v = env[name]?.trim();
  return v ? v : fallback;
}

function optional(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

function nonNegative(env: Env, name: string, fallback: number): number {
  const v = optional(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new InputError(`setting ${name} must be a non-negative number, got "${v}"`, name);
  return n;
}

function positive(env: Env, name: string, fallback: number): number {
  const n = nonNegative(env, name, fallback);
  if (n === 0) throw new InputError(`setting ${name} must be above 0`, name);
  return n;
}

function integer(env: Env, name: string, fallback: number, min: number): number {
  const n = nonNegative(env, name, fallback);
  if (!Number.isInteger(n) || n < min)
    throw new InputError(`setting ${name} must be an integer of at least ${min}, got "${env[name]}"`, name);
  return n;
}

function url(env: Env, name: string, fallback: string): string {
  const v = str(env, name, fallback);
  try {
    new URL(v);
  } catch {
    throw new InputError(`setting ${name} must be a URL, got "${v}"`, name);
  }
  return v;
}

export function readSettings(env: Env = process.env): Settings {
  const budget = str(env, 'TRAIN_BUDGET', 'full');
  if (budget !== 'fast' && budget !== 'full')
    throw new InputError(`setting TRAIN_BUDGET must be fast or full, got "${budget}"`, 'TRAIN_BUDGET');
  const gate = str(env, 'TRAIN_GATE', 'on').toLowerCase();
  if (gate !== 'on' && gate !== 'off')
    throw new InputError(`setting TRAIN_GATE must be on or off, got "${gate}"`, 'TRAIN_GATE');
  const tolerance = nonNegative(env, 'TRAIN_GATE_TOLERANCE', 0.05);
  if (tolerance >= 1)
    throw new InputError(
      `setting TRAIN_GATE_TOLERANCE must be below 1, got "${tolerance}"`,
      'TRAIN_GATE_TOLERANCE',
    );
  const auth = str(env, 'AUTH_ENABLED', 'false').toLowerCase();
  if (auth !== 'true' && auth !== 'false')
    throw new InputError(`setting AUTH_ENABLED must be true or false, got "${auth}"`, 'AUTH_ENABLED');
  return {
    storageAccountUrl: url(env, 'MODEL_STORAGE_ACCOUNT_URL', DEFAULT_STORAGE_URL),
    modelContainer: str(env, 'MODEL_CONTAINER', 'models'),
    corpusContainer: str(env, 'CORPUS_CONTAINER', 'corpus'),
    corpusBlob: str(env, 'CORPUS_BLOB', 'corpus.jsonl'),
    cosmosEndpoint: url(env, 'COSMOS_ENDPOINT', DEFAULT_COSMOS_ENDPOINT),
    cosmosDatabase: str(env, 'COSMOS_DATABASE', 'tracklist'),
    azureClientId: optional(env, 'AZURE_CLIENT_ID'),
    modelRefreshSeconds: nonNegative(env, 'MODEL_REFRESH_SECONDS', 60),
    retrainSchedule: str(env, 'RETRAIN_SCHEDULE', '0 0 3 * * 0'),
    trainingJobResourceId: optional(env, 'TRAINING_JOB_RESOURCE_ID'),
    authEnabled: auth === 'true',
    trainBudget: budget,
    trainGate: gate,
    trainGateTolerance: tolerance,
    modelCacheDir: str(env, 'MODEL_CACHE_DIR', join(tmpdir(), 'tracklist-models')),
    cosmosTimeoutMs: positive(env, 'COSMOS_TIMEOUT_MS', DEFAULT_COSMOS_TIMEOUT_MS),
    blobTimeoutMs: positive(env, 'BLOB_TIMEOUT_MS', DEFAULT_BLOB_TIMEOUT_MS),
    generateRatePerMinute: integer(env, 'GENERATE_RATE_PER_MINUTE', 120, 0),
    generateBurst: integer(env, 'GENERATE_BURST', 20, 1),
    // Length 50 with 1,000 likes, or 100 with 500.
    generateMaxCost: integer(env, 'GENERATE_MAX_COST', 50_000, 1),
    generateConcurrency: integer(env, 'GENERATE_CONCURRENCY', 8, 1),
  };
}

/** True for endpoints on the loopback interface: the only ones that get development keys. */
export function isLocalEndpoint(endpoint: string): boolean {
  const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

const credentials = new Map<string, TokenCredential>();

/** One DefaultAzureCredential per managed-identity client id (token caching lives in it). */
export function azureCredential(settings: Pick<Settings, 'azureClientId'>): TokenCredential {
  const key = settings.azureClientId ?? '';
  let credential = credentials.get(key);
  if (!credential) {
    credential = new DefaultAzureCredential(
      settings.azureClientId ? { managedIdentityClientId: settings.azureClientId } : {},
    );
    credentials.set(key, credential);
  }
  return credential;
}

/** Blob client: Azurite's development account locally, the managed identity otherwise. */
export function blobServiceClient(
  settings: Pick<Settings, 'storageAccountUrl' | 'azureClientId'> & { blobTimeoutMs?: number },
): BlobServiceClient {
  const endpoint = settings.storageAccountUrl;
  // Every try has a deadline (the SDK's default is none: a hung server hangs the call).
  const options = {
    retryOptions: {
      tryTimeoutInMs: settings.blobTimeoutMs ?? DEFAULT_BLOB_TIMEOUT_MS,
      maxTries: 3,
      retryDelayInMs: 500,
      maxRetryDelayInMs: 2000,
    },
  };
  if (isLocalEndpoint(endpoint))
    return new BlobServiceClient(
      endpoint,
      new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
      options,
    );
  return new BlobServiceClient(endpoint, azureCredential(settings), options);
}

/**
 * Cosmos client: the local server's key (and, for that loopback endpoint only, an agent that
 * accepts its self-signed certificate) locally; Entra ID with the managed identity otherwise.
 */
export function cosmosClient(
  settings: Pick<Settings, 'cosmosEndpoint' | 'azureClientId'> & { cosmosTimeoutMs?: number },
): CosmosClient {
  const endpoint = settings.cosmosEndpoint;
  const timeout = settings.cosmosTimeoutMs ?? DEFAULT_COSMOS_TIMEOUT_MS;
  // The SDK waits 60 s per request and up to 30 s on throttling by default; the store also passes
  // an abort signal with the same deadline for the whole operation.
  const policy = {
    requestTimeout: timeout,
    retryOptions: {
      maxRetryAttemptCount: 3,
      maxWaitTimeInSeconds: Math.max(1, Math.ceil(timeout / 1000)),
      fixedRetryIntervalInMilliseconds: 0,
    },
  };
  if (isLocalEndpoint(endpoint)) {
    return new CosmosClient({
      endpoint,
      key: LOCAL_COSMOS_KEY,
      connectionPolicy: { enableEndpointDiscovery: false, ...policy },
      ...(endpoint.startsWith('https:')
        ? { agent: new HttpsAgent({ rejectUnauthorized: false, keepAlive: true }) }
        : {}),
    });
  }
  return new CosmosClient({ endpoint, aadCredentials: azureCredential(settings), connectionPolicy: policy });
}
