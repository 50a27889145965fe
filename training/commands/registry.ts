import { ArtifactError } from '../../shared/model/artifact.ts';
import { readSettings } from '../../shared/store/config.ts';
import { BlobModelRegistry, RegistryError } from '../../shared/store/modelRegistry.ts';
import {
  listVersions,
  promoteVersion,
  pruneVersions,
  type VersionInfo,
} from '../../shared/store/registryVersions.ts';
import { InputError } from '../../shared/util/errors.ts';
import { intOption, requireOption, type Command } from '../../shared/cli/command.ts';

/**
 * `tlgen registry list | promote VERSION | prune --keep N`: the model registry the API serves
 * from, reached with the API's own settings (MODEL_STORAGE_ACCOUNT_URL, MODEL_CONTAINER and, in
 * Azure, your `az login` or AZURE_CLIENT_ID through DefaultAzureCredential; Azurite's development
 * account for a loopback URL).
 */
const SETTINGS_NOTE =
  " Reaches the registry with the API's settings: MODEL_STORAGE_ACCOUNT_URL (default local Azurite) and MODEL_CONTAINER (default models); in Azure signed in with `az login` or the managed identity (AZURE_CLIENT_ID).";

/** Runs a registry operation; an unreachable account or a refused version is reported, not a stack. */
async function withRegistry<T>(
  field: string,
  op: (registry: BlobModelRegistry, where: string) => Promise<T>,
): Promise<T> {
  const settings = readSettings();
  const where = `${settings.storageAccountUrl.replace(/\/$/, '')}/${settings.modelContainer}`;
  try {
    return await op(BlobModelRegistry.fromSettings(settings), where);
  } catch (e) {
    if (e instanceof RegistryError || e instanceof ArtifactError) throw new InputError(e.message, field);
    const err = e as { code?: string; statusCode?: number; message?: string };
    if (err.statusCode === 404 && /ContainerNotFound/.test(String(err.code ?? err.message)))
      throw new InputError(`${where}: the container does not exist (MODEL_CONTAINER)`, 'MODEL_CONTAINER');
    if (typeof err.code === 'string' && /^E[A-Z]+/.test(err.code))
      throw new InputError(
        `cannot reach the model registry at ${where} (${err.code}); check MODEL_STORAGE_ACCOUNT_URL`,
        'MODEL_STORAGE_ACCOUNT_URL',
      );
    throw e;
  }
}

const fixed = (x: number | null, digits: number): string => (x === null ? '—' : x.toFixed(digits));

function line(v: VersionInfo): string {
  const mark = v.served ? '*' : v.rejected ? 'x' : ' ';
  const metrics = `recall@20 ${fixed(v.metrics['recall@20'], 3)}  HR@10 ${fixed(v.metrics['hr@10'], 3)}  NLL ${fixed(v.metrics.nllBits, 2)}`;
  const counts = `${v.counts.songs ?? '—'} songs / ${v.counts.djs ?? '—'} DJs`;
  const why = v.failedChecks?.length ? `  failed: ${v.failedChecks.join(', ')}` : '';
  return `${mark} ${v.versionId.padEnd(28)} ${(v.createdAt ?? 'unknown date').padEnd(24)} ${metrics}  ${counts}  ${(v.bytes / 2 ** 20).toFixed(1)} MB${why}`;
}

export const registryListCommand: Command = {
  summary:
    'Lists the model versions in the registry, newest first: date, headline metrics, catalogue size, which one is served (*), and the candidates the quality gate rejected (x) with their failed checks.' +
    SETTINGS_NOTE,
  usage: '[--json]',
  options: {},
  async run(_values, ctx) {
    return withRegistry('MODEL_CONTAINER', async (r, where) => {
      const listing = await listVersions(r);
      ctx.say(
        `${where}: served ${listing.served ? `${listing.served.versionId} (since ${listing.served.publishedAt})` : 'nothing yet'}`,
      );
      for (const v of listing.versions) ctx.say(line(v));
      return listing;
    });
  },
};

export const registryPromoteCommand: Command = {
  summary:
    'Points models/latest.json at a published version (the rollback) after downloading it and checking every checksum; serving instances load it on their next pointer check (MODEL_REFRESH_SECONDS).' +
    SETTINGS_NOTE,
  usage: 'VERSION [--json]',
  options: {},
  positionals: [
    { name: 'version', help: 'the published version to serve (as `tlgen registry list` shows it)' },
  ],
  async run(values, ctx) {
    const versionId = requireOption(values, 'version');
    return withRegistry('version', async (r) => {
      const result = await promoteVersion(r, versionId);
      ctx.say(
        `models/latest.json: ${result.previous?.versionId ?? 'nothing'} → ${result.pointer.versionId} (checksums verified)`,
      );
      return result;
    });
  },
};

export const registryPruneCommand: Command = {
  summary:
    'Deletes all but the N newest published versions and the N newest rejected candidates; the served version and the one published before it are always kept.' +
    SETTINGS_NOTE,
  usage: '--keep N [--json]',
  options: {
    keep: {
      type: 'string',
      value: 'N',
      required: true,
      help: 'published versions (and, separately, rejected ones) to keep, newest first',
    },
  },
  async run(values, ctx) {
    requireOption(values, 'keep');
    const keep = intOption(values, 'keep', 0, 0, 10_000);
    return withRegistry('keep', async (r) => {
      const { deleted, kept } = await pruneVersions(r, keep);
      for (const v of deleted)
        ctx.say(
          `deleted ${v.rejected ? 'rejected ' : ''}${v.versionId} (${(v.bytes / 2 ** 20).toFixed(1)} MB)`,
        );
      ctx.say(`kept ${kept.length}, deleted ${deleted.length}`);
      return { deleted: deleted.map((v) => v.versionId), kept: kept.map((v) => v.versionId) };
    });
  },
};
