import { existsSync, readFileSync } from 'node:fs';
import {
  exportModelVersion,
  modelFolderKind,
  type ModelVersionMeta,
} from '../../shared/model/modelVersion.ts';
import { readArtifact } from '../../shared/model/artifact.ts';
import { InputError } from '../../shared/util/errors.ts';
import { outputPath, requireOption, type Command } from '../../shared/cli/command.ts';

/**
 * `tlgen export`: a model folder (prepared/ + embeddings/ [+ tracklist/]) → one model version
 * folder (contract C), the unit that is published and served.
 */
export const exportCommand: Command = {
  summary:
    'Exports a trained model folder into a model version folder (manifest + tensors, checksummed): what the model registry publishes and serving loads. Metrics default to DIR/eval.json when present.',
  usage: '--model DIR --out VERSIONDIR [--metrics FILE] [--version-id ID] [--json]',
  options: {
    model: { type: 'string', value: 'DIR', required: true, help: 'model folder from tlgen train' },
    out: { type: 'string', value: 'VERSIONDIR', required: true, help: 'model version folder to write (parents created)' },
    metrics: { type: 'string', value: 'FILE', default: 'DIR/eval.json when present', help: 'tlgen eval result to embed' },
    'version-id': {
      type: 'string',
      value: 'ID',
      default: 'UTC time + the corpus digest',
      help: 'name of the version (letters, digits, . _ -)',
    },
  },
  async run(values, ctx) {
    const model = requireOption(values, 'model');
    const out = requireOption(values, 'out');
    if (modelFolderKind(model) !== 'model')
      throw new InputError(
        `--model: ${model} is not a model folder (prepared/ + embeddings/ from tlgen train)`,
        'model',
      );
    let metrics: unknown;
    if (typeof values.metrics === 'string') {
      if (!existsSync(values.metrics))
        throw new InputError(`--metrics: no such file ${values.metrics}`, 'metrics');
      try {
        metrics = JSON.parse(readFileSync(values.metrics, 'utf8'));
      } catch (e) {
        throw new InputError(`--metrics: ${values.metrics} is not JSON (${(e as Error).message})`, 'metrics');
      }
    }
    const versionId = typeof values['version-id'] === 'string' ? values['version-id'] : undefined;
    const started = performance.now();
    let result;
    try {
      result = exportModelVersion(model, outputPath(values, 'out'), { versionId, metrics });
    } catch (e) {
      if (e instanceof InputError && e.field === 'versionId')
        throw new InputError(`--version-id: ${e.message}`, 'version-id');
      throw e;
    }
    const meta = readArtifact<ModelVersionMeta>(out, { verify: false }).meta;
    const seconds = (performance.now() - started) / 1000;
    ctx.say(
      `model version ${result.versionId} → ${out} (${(result.bytes / 2 ** 20).toFixed(1)} MB, ${
        meta.config.tracklist ? 'with' : 'without'
      } a tracklist model) in ${seconds.toFixed(1)}s`,
    );
    return { ...result, tracklist: meta.config.tracklist !== null, counts: meta.counts, seconds };
  },
};
