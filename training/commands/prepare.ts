import { existsSync } from 'node:fs';
import { readCorpus } from '../../shared/corpus/jsonl.ts';
import { prepare, summarize, DEFAULT_PREPARE_OPTIONS } from '../../shared/graph/prepare.ts';
import { writePrepared } from '../../shared/graph/preparedStore.ts';
import { InputError } from '../../shared/util/errors.ts';
import { intOption, outputPath, requireOption, type Command } from '../../shared/cli/command.ts';

export const prepareCommand: Command = {
  summary:
    'Parses a JSONL corpus, applies the SPEC §2 filters and writes vocabularies, CSR graphs, DJ click matrices and seeded splits to DIR.',
  usage: '--corpus FILE --out DIR [--seed N] [--min-song-mass X] [--json]',
  options: {
    corpus: { type: 'string', value: 'FILE', required: true, help: 'JSONL corpus (one tracklist per line)' },
    out: { type: 'string', value: 'DIR', required: true, help: 'folder to write the prepared data into (created)' },
    seed: { type: 'string', value: 'N', default: DEFAULT_PREPARE_OPTIONS.seed, help: 'seed of the held-out splits' },
    'min-song-mass': {
      type: 'string',
      value: 'X',
      default: DEFAULT_PREPARE_OPTIONS.minSongMass,
      help: 'co-occurrence mass a song needs to be kept',
    },
  },
  async run(values, ctx) {
    const corpus = requireOption(values, 'corpus');
    if (!existsSync(corpus)) throw new InputError(`--corpus: no such file ${corpus}`, 'corpus');
    const out = outputPath(values, 'out');
    const minSongMass = minSongMassOption(values);
    const started = performance.now();
    const prepared = await prepare(readCorpus(corpus), {
      seed: intOption(values, 'seed', DEFAULT_PREPARE_OPTIONS.seed, 0),
      minSongMass,
      progress: true,
    });
    writePrepared(out, prepared, { corpus });
    const summary = { ...summarize(prepared), out, seconds: (performance.now() - started) / 1000 };
    const s = summary;
    ctx.say(
      `prepared ${s.tracklists} tracklists → ${s.songs} songs, ${s.artists} artists, ${s.djs} DJs in ${out}`,
    );
    ctx.say(`  nnz: ${Object.entries(s.nnz).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    ctx.say(`  held-out pairs: ${s.heldOutPairs}; skipped: ${JSON.stringify(s.skipped)}`);
    return summary;
  },
};

/** `--min-song-mass X` (prepare and train): a number ≥ 0, the default filter when absent. */
export function minSongMassOption(values: Record<string, unknown>): number {
  const raw = values['min-song-mass'];
  const mass = raw === undefined ? DEFAULT_PREPARE_OPTIONS.minSongMass : Number(raw);
  if (!(mass >= 0)) throw new InputError('--min-song-mass must be a number ≥ 0', 'min-song-mass');
  return mass;
}
