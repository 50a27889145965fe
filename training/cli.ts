import { parseArgs } from 'node:util';
import { InputError } from '../shared/util/errors.ts';
import type { Command, CommandContext } from './command.ts';

/**
 * The `tlgen` command line. Every command returns one result object: with --json it is printed
 * as the last stdout line, otherwise as a readable summary. Bad input exits 2, bugs exit 1.
 */
const commands: Record<string, () => Promise<Command>> = {
  synth: async () => (await import('./commands/synth.ts')).synthCommand,
  prepare: async () => (await import('./commands/prepare.ts')).prepareCommand,
  train: async () => (await import('./commands/train.ts')).trainCommand,
  eval: async () => (await import('./commands/eval.ts')).evalCommand,
  demo: async () => (await import('./commands/demo.ts')).demoCommand,
  export: async () => (await import('./commands/export.ts')).exportCommand,
  generate: async () => (await import('./commands/generate.ts')).generateCommand,
  recommend: async () => (await import('./commands/recommend.ts')).recommendCommand,
  search: async () => (await import('./commands/search.ts')).searchCommand,
  'bench generate': async () => (await import('./commands/benchGenerate.ts')).benchGenerateCommand,
};

function usage(): string {
  return [
    'usage: tlgen <command> [options] [--json]',
    '',
    'commands:',
    '  synth     generate a synthetic corpus with ground truth',
    '  prepare   build vocabularies, graphs, click matrices and splits from a corpus',
    '  train     prepare a corpus and train the models into a model folder',
    '  eval      evaluate a model folder beside the baselines on its held-out split',
    '  demo      train the small demo embeddings into .data/demo and print sample answers (npm start runs the whole local stack)',
    '  export    export a model folder into a model version (what is published and served)',
    '  generate  generate a tracklist from a seed song and a DJ or a like list',
    '  recommend songs for a DJ or a like list; similar songs, artists or DJs',
    '  search    search songs, artists and DJs by name',
    '  bench generate  serving latency, load time and memory on a model',
    '',
    'Run `tlgen <command> --help` for its options.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  // Two-word commands ("bench generate") take their second word from the arguments.
  const twoWord = argv.length > 1 && `${argv[0]} ${argv[1]}` in commands;
  const name = twoWord ? `${argv[0]} ${argv[1]}` : argv[0];
  const rest = argv.slice(twoWord ? 2 : 1);
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`tlgen: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  const command = await load();
  try {
    const { values } = parseArgs({
      args: rest,
      options: { ...command.options, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      process.stdout.write(`usage: tlgen ${name} ${command.usage}\n\n${command.summary}\n`);
      return 0;
    }
    const json = Boolean(values.json);
    const ctx: CommandContext = {
      json,
      say: (line) => (json ? process.stderr : process.stdout).write(line + '\n'),
    };
    const result = await command.run(values as Record<string, string | boolean | undefined>, ctx);
    // Peak RSS (KiB from the kernel) lets benchmarks read each command's memory high-water mark.
    const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    if (json) process.stdout.write(JSON.stringify({ ...result, peakRssMb }) + '\n');
    return 0;
  } catch (e) {
    if (e instanceof InputError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`tlgen ${name}: ${(e as Error).message}\n`);
      return 2;
    }
    throw e;
  }
}

// Allows `node training/cli.ts …` (what npm scripts run) besides the bin wrapper.
if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
