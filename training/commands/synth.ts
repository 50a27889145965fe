import { InputError } from '../../shared/util/errors.ts';
import { intOption, outputPath, requireOption, type Command } from '../../shared/cli/command.ts';
import { writeSynth, type SynthProfile } from '../../shared/corpus/synth.ts';

const PROFILES: readonly SynthProfile[] = ['tiny', 'small', 'medium', 'seed'];

export const synthCommand: Command = {
  summary:
    'Writes a synthetic DJ corpus (JSONL) with a planted genre > subgenre > scene hierarchy, and its ground truth beside it as <out>.truth.json.',
  usage: '--profile tiny|small|medium|seed [--seed N] --out FILE.jsonl [--json]',
  options: {
    profile: { type: 'string', value: 'P', required: true, help: `corpus size: ${PROFILES.join(', ')}` },
    seed: { type: 'string', value: 'N', default: 1, help: 'random seed of the generator (same seed, same corpus)' },
    out: {
      type: 'string',
      value: 'FILE.jsonl',
      required: true,
      help: 'corpus file to write (its folder is created); the truth goes beside it as FILE.truth.json',
    },
  },
  async run(values, ctx) {
    const profile = requireOption(values, 'profile') as SynthProfile;
    if (!PROFILES.includes(profile))
      throw new InputError(`--profile must be one of ${PROFILES.join(', ')}, got "${profile}"`, 'profile');
    const seed = intOption(values, 'seed', 1, 0, 2 ** 32 - 1);
    const out = outputPath(values, 'out');
    const result = await writeSynth(profile, seed, out);
    ctx.say(
      `wrote ${result.tracklists} tracklists (${result.plays} plays, ${result.songs} songs, ${result.artists} artists, ${result.djs} DJs) to ${out} in ${(result.ms / 1000).toFixed(1)}s`,
    );
    return { profile, seed, out, ...result };
  },
};
