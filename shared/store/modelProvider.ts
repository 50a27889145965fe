import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServingModel } from '../model/serving.ts';
import type { Settings } from './config.ts';
import { BlobModelRegistry, type LatestPointer, type ModelRegistry } from './modelRegistry.ts';
import { isTransient } from './transient.ts';

/** What the provider needs of a model: its version id (ServingModel, or a test's stand-in). */
export interface VersionedModel {
  readonly versionId: string;
}

export interface ModelStatus {
  status: 'ok' | 'degraded' | 'loading';
  model: { versionId: string; publishedAt: string | null; loadedAt: string } | null;
  error?: string;
  /** When the pointer was last read (ISO), null before the first check. */
  checkedAt: string | null;
}

/** No model can be served (none published yet, or the first one failed): HTTP 503. */
export class ModelUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelUnavailableError';
  }
}

export interface ModelProviderOptions<M extends VersionedModel> {
  registry: Pick<ModelRegistry, 'latest' | 'download'>;
  /** Seconds between pointer checks (MODEL_REFRESH_SECONDS; default 60). */
  refreshSeconds?: number;
  /** Versions are downloaded to `<cacheDir>/<versionId>` (default <tmp>/tracklist-models). */
  cacheDir?: string;
  /** Loads a verified version folder (default `ServingModel.load`). */
  load?: (dir: string) => M | Promise<M>;
  /**
   * After a failed load, the first retry waits this long (default min(refresh, 10 s)); each further
   * failure of the same version doubles it, up to refreshSeconds. Until then callers without a
   * model get the same failure.
   */
  retrySeconds?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

const defaultLoad = async (dir: string): Promise<ServingModel> => {
  const { ServingModel } = await import('../model/serving.ts');
  return ServingModel.load(dir);
};

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The served model (ARCHITECTURE "Serving process"): nothing happens at import or construction;
 * the first `get()` reads `models/latest.json`, downloads that version into a local cache folder,
 * verifies and loads it. All callers share one memoised promise. Afterwards the pointer is
 * re-checked at most every `refreshSeconds` (in the background: requests keep getting the current
 * model), a new version replaces the old one in a single assignment, and a version that fails to
 * download, verify or load is never served: the old one stays and `status()` says 'degraded'.
 * A failed version is tried again (a checksum failure may have been a bad read, and a blob can be
 * repaired under the same pointer): after `retrySeconds`, doubling per failure up to
 * `refreshSeconds`.
 */
export class ModelProvider<M extends VersionedModel = ServingModel> {
  private readonly registry: Pick<ModelRegistry, 'latest' | 'download'>;
  private readonly refreshMs: number;
  private readonly retryMs: number;
  private readonly cacheDir: string;
  private readonly load: (dir: string) => M | Promise<M>;
  private readonly now: () => number;

  /** The memoised promise every get() returns. */
  private current: Promise<M> | null = null;
  private model: M | null = null;
  private info: { versionId: string; publishedAt: string | null; loadedAt: string; dir: string } | null =
    null;
  private refreshing: Promise<void> | null = null;
  private firstFailed = false;
  private lastCheck = -Infinity;
  /** No new attempt before this time (ms) after a failed check. */
  private retryAt = -Infinity;
  private checkedAt: string | null = null;
  private error: string | undefined;
  /** The version that failed its checks or its loader, and how many times in a row. */
  private rejected: {
    versionId: string;
    manifestSha256: string | undefined;
    error: string;
    failures: number;
    /** When it last failed (ms). */
    at: number;
  } | null = null;

  constructor(options: ModelProviderOptions<M>) {
    this.registry = options.registry;
    const refreshSeconds = options.refreshSeconds ?? 60;
    this.refreshMs = refreshSeconds * 1000;
    this.retryMs = (options.retrySeconds ?? Math.min(refreshSeconds, 10)) * 1000;
    this.cacheDir = options.cacheDir ?? join(tmpdir(), 'tracklist-models');
    this.load = options.load ?? (defaultLoad as unknown as (dir: string) => Promise<M>);
    this.now = options.now ?? Date.now;
  }

  /** The provider the Functions app uses: registry and refresh interval from the settings. */
  static fromSettings(settings: Settings): ModelProvider<ServingModel> {
    return new ModelProvider<ServingModel>({
      registry: BlobModelRegistry.fromSettings(settings),
      refreshSeconds: settings.modelRefreshSeconds,
      cacheDir: settings.modelCacheDir,
    });
  }

  /** The current model. Rejects with ModelUnavailableError only when no model has ever loaded. */
  get(): Promise<M> {
    if (this.model) {
      if (this.now() - this.lastCheck >= this.refreshMs) void this.refresh();
      return this.current!;
    }
    if (!this.current || (this.firstFailed && this.now() >= this.retryAt)) {
      this.firstFailed = false;
      const first = this.refresh().then(() => {
        if (this.model) return this.model;
        this.firstFailed = true;
        throw new ModelUnavailableError(this.error ?? 'no model is available');
      });
      first.catch(() => undefined); // callers see the rejection; the memo itself must not be "unhandled"
      this.current = first;
    }
    return this.current;
  }

  /** Checks the pointer now (one check at a time) and swaps in a newer version; never throws. */
  refresh(): Promise<void> {
    this.refreshing ??= this.check()
      .catch((e: unknown) => {
        this.error = `model refresh failed: ${message(e)}`;
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  /** Resolves when no pointer check is in flight (tests, graceful shutdown). */
  async settled(): Promise<void> {
    while (this.refreshing) await this.refreshing;
  }

  status(): ModelStatus {
    const model = this.info
      ? { versionId: this.info.versionId, publishedAt: this.info.publishedAt, loadedAt: this.info.loadedAt }
      : null;
    const base = {
      model,
      checkedAt: this.checkedAt,
      ...(this.error !== undefined ? { error: this.error } : {}),
    };
    if (this.model) return { status: this.error === undefined ? 'ok' : 'degraded', ...base };
    if (this.checkedAt === null || (this.refreshing && this.error === undefined))
      return { status: 'loading', ...base };
    return { status: 'degraded', ...base };
  }

  /** Wait before the next attempt at a version that failed `failures` times in a row. */
  private backoff(failures: number): number {
    return Math.min(this.retryMs * 2 ** (failures - 1), Math.max(this.refreshMs, this.retryMs));
  }

  private async check(): Promise<void> {
    this.lastCheck = this.now();
    // Until this check succeeds or says otherwise, a failure is retried after retryMs.
    this.retryAt = this.lastCheck + this.retryMs;
    this.checkedAt = new Date().toISOString();
    let pointer: LatestPointer | null;
    try {
      pointer = await this.registry.latest();
    } catch (e) {
      this.error = `cannot read the model pointer: ${message(e)}`;
      return;
    }
    if (!pointer) {
      this.error = this.model
        ? `models/latest.json has disappeared; still serving ${this.info!.versionId}`
        : 'no model version has been published yet (models/latest.json is missing)';
      return;
    }
    if (this.info && pointer.versionId === this.info.versionId) {
      this.error = undefined;
      return;
    }
    const rejected =
      this.rejected?.versionId === pointer.versionId &&
      this.rejected.manifestSha256 === pointer.manifestSha256
        ? this.rejected
        : null;
    if (rejected && this.lastCheck < rejected.at + this.backoff(rejected.failures)) {
      this.error = rejected.error;
      this.retryAt = rejected.at + this.backoff(rejected.failures);
      return;
    }
    const dir = join(this.cacheDir, pointer.versionId);
    try {
      await this.registry.download(
        pointer.versionId,
        dir,
        pointer.manifestSha256 !== undefined ? { manifestSha256: pointer.manifestSha256 } : {},
      );
      const model = await this.load(dir);
      if (model.versionId !== pointer.versionId)
        throw new Error(`the folder of version ${pointer.versionId} holds model ${model.versionId}`);
      const previous = this.info;
      // The swap: one assignment of each field, no await in between.
      this.model = model;
      this.current = Promise.resolve(model);
      this.info = {
        versionId: pointer.versionId,
        publishedAt: pointer.publishedAt,
        loadedAt: new Date().toISOString(),
        dir,
      };
      this.error = undefined;
      this.rejected = null;
      // The old model lives in memory; its downloaded files are no longer needed.
      if (previous && previous.dir !== dir) rmSync(previous.dir, { recursive: true, force: true });
    } catch (e) {
      const error = `model version ${pointer.versionId} was not loaded${this.info ? ` (still serving ${this.info.versionId})` : ''}: ${message(e)}`;
      this.error = error;
      // A transient failure is retried after retryMs; a failed check backs off per failure.
      if (!isTransient(e)) {
        const failures = (rejected?.failures ?? 0) + 1;
        this.rejected = {
          versionId: pointer.versionId,
          manifestSha256: pointer.manifestSha256,
          error,
          failures,
          at: this.lastCheck,
        };
        this.retryAt = this.lastCheck + this.backoff(failures);
      }
    }
  }
}
