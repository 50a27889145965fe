import { InputError } from '../../shared/util/errors.ts';
import { intOption, requireOption, type Command } from '../command.ts';
import { writeSynth, type SynthProfile } from '../../shared/corpus/synth.ts';

const PROFILES: readonly SynthProfile[] = ['tiny', 'small', 'medium', 'seed'];

export const synthCommand: Command = {
  summary:
    'Writes a synthetic DJ corpus (JSONL) with a planted genre > subgenre > scene hierarchy, and its ground truth beside it as <out>.truth.json.',
  usage: '--profile tiny|small|medium|seed [--seed N] --out FILE.jsonl [--json]',
  options: {
    profile: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
  },
  async run(values, ctx) {
    const profile = requireOption(values, 'profile') as SynthProfile;
    if (!PROFILES.includes(profile))
      throw new InputError(`--profile must be one of ${PROFILES.join(', ')}, got "${profile}"`, 'profile');
    const out = requireOption(values, 'out');
    const seed = intOption(values, 'seed', 1, 0, 2 ** 32 - 1);
    const result = await writeSynth(profile, seed, out);
    ctx.say(
      `wrote ${result.tracklists} tracklists (${result.plays} plays, ${result.songs} songs, ${result.artists} artists, ${result.djs} DJs) to ${out} in ${(result.ms / 1000).toFixed(1)}s`,
    );
    return { profile, seed, out, ...result };
  },
};
