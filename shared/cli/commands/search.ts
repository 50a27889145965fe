import { InputError } from '../../util/errors.ts';
import type { SearchKind } from '../../model/serving.ts';
import { intOption, requireOption, type Command } from '../command.ts';
import { LIMITS } from '../../limits.ts';
import { loadServingModel, MODEL_OPTION } from './generate.ts';

const KINDS: readonly SearchKind[] = ['songs', 'artists', 'djs'];

/** `tlgen search`: catalogue name search (shared/model/search.ts) over a model version. */
export const searchCommand: Command = {
  summary:
    'Searches the catalogue of a model by name: songs, artists and DJs (exact, prefix, word-prefix, then substring matches; popular first).',
  usage: '--model DIR --q TEXT [--kind songs|artists|djs] [--limit 10] [--json]',
  options: {
    model: MODEL_OPTION,
    q: { type: 'string', value: 'TEXT', required: true, help: 'the name or part of it' },
    kind: { type: 'string', value: KINDS.join('|'), default: 'all three', help: 'what to search' },
    limit: { type: 'string', value: 'N', default: LIMITS.searchLimit.default, help: 'results per kind (1-1000)' },
  },
  async run(values, ctx) {
    const q = requireOption(values, 'q');
    const kind = values.kind;
    if (kind !== undefined && !KINDS.includes(kind as SearchKind))
      throw new InputError(`--kind must be one of ${KINDS.join(', ')}`, 'kind');
    const limit = intOption(values, 'limit', LIMITS.searchLimit.default, 1, 1000);
    const { model, dir } = loadServingModel(values, ctx);
    const result: Record<string, unknown> = { versionId: model.versionId, model: dir, query: q };
    for (const k of kind ? [kind as SearchKind] : KINDS) {
      const hits = model.search(k, q, limit);
      result[k] = hits;
      ctx.say(`${k}:`);
      for (const h of hits) ctx.say(`  ${h.name}  (${h.id}, ${h.score.toFixed(3)})`);
    }
    return result;
  },
};
