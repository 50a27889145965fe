import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { InputError } from '../shared/util/errors.ts';
import { COMMON_OPTIONS, helpText, type Command, type CommandContext } from '../shared/cli/command.ts';

/**
 * The `tlgen` command line. Every command returns one result object: with --json it is printed
 * as the last stdout line, otherwise as a readable summary. Bad input exits 2, bugs exit 1; with
 * --json either failure still ends stdout with `{"error": {"message", "field"}}`.
 */
export const commands: Record<string, () => Promise<Command>> = {
  synth: async () => (await import('./commands/synth.ts')).synthCommand,
  prepare: async () => (await import('./commands/prepare.ts')).prepareCommand,
  train: async () => (await import('./commands/train.ts')).trainCommand,
  eval: async () => (await import('./commands/eval.ts')).evalCommand,
  demo: async () => (await import('./commands/demo.ts')).demoCommand,
  export: async () => (await import('./commands/export.ts')).exportCommand,
  generate: async () => (await import('../shared/cli/commands/generate.ts')).generateCommand,
  recommend: async () => (await import('../shared/cli/commands/recommend.ts')).recommendCommand,
  search: async () => (await import('../shared/cli/commands/search.ts')).searchCommand,
  'bench generate': async () => (await import('../shared/cli/commands/benchGenerate.ts')).benchGenerateCommand,
  'registry list': async () => (await import('./commands/registry.ts')).registryListCommand,
  'registry promote': async () => (await import('./commands/registry.ts')).registryPromoteCommand,
  'registry prune': async () => (await import('./commands/registry.ts')).registryPruneCommand,
};

const DESCRIPTIONS: Record<string, string> = {
  synth: 'generate a synthetic corpus with ground truth',
  prepare: 'build vocabularies, graphs, click matrices and splits from a corpus',
  train: 'prepare a corpus and train the models into a model folder',
  eval: 'evaluate a model folder beside the baselines on its held-out split',
  demo: 'train the small demo embeddings into .data/demo and print sample answers (npm start runs the whole local stack)',
  export: 'export a model folder into a model version (what is published and served)',
  generate: 'generate a tracklist from a seed song and a DJ or a like list',
  recommend: 'songs for a DJ or a like list; similar songs, artists or DJs',
  search: 'search songs, artists and DJs by name',
  'bench generate': 'serving latency, load time and memory on a model',
  'registry list': 'model versions in the registry: dates, metrics, the served one, rejected ones',
  'registry promote': 'verify a version and point the served pointer at it (the rollback)',
  'registry prune': 'delete old versions, keeping the N newest, the served one and the one before it',
};

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** The command list; with `group` ("registry") only that group's subcommands. */
function usage(group?: string): string {
  const names = Object.keys(commands).filter((n) => !group || n.startsWith(`${group} `));
  const width = Math.max(...names.map((n) => n.length));
  return [
    `usage: tlgen ${group ?? '<command>'}${group ? ' <subcommand>' : ''} [options] [--json]`,
    '',
    'commands:',
    ...names.map((n) => `  ${n.padEnd(width)}  ${DESCRIPTIONS[n]}`),
    '',
    `Run \`tlgen ${group ? `${group} <subcommand>` : '<command>'} --help\` for its options and their defaults; \`tlgen --version\` prints the version.`,
  ].join('\n');
}

/** The option a parseArgs error is about, e.g. "Unknown option '--bogus'" → "bogus". */
function parseErrorField(message: string): string | undefined {
  return /'(?:-[a-zA-Z], )?--([\w-]+)/.exec(message)?.[1];
}

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  // Everything reaches stdout through here or ctx.say, so --json's last line is always an object.
  const fail = (
    code: number,
    label: string,
    message: string,
    field: string | null,
    detail?: string,
  ): number => {
    process.stderr.write(`${label}: ${detail ?? message}\n`);
    if (json) process.stdout.write(JSON.stringify({ error: { message, field } }) + '\n');
    return code;
  };
  const first = argv[0];
  if (first === '--version' || first === '-V') {
    process.stdout.write(json ? JSON.stringify({ version: version() }) + '\n' : `tlgen ${version()}\n`);
    return 0;
  }
  // Two-word commands ("registry list") take their second word from the arguments.
  const twoWord = argv.length > 1 && `${argv[0]} ${argv[1]}` in commands;
  const name = twoWord ? `${argv[0]} ${argv[1]}` : first;
  const rest = argv.slice(twoWord ? 2 : 1);
  const isGroup = !twoWord && Object.keys(commands).some((n) => n.startsWith(`${first} `));
  if (!name || name === '--help' || name === '-h' || name === '--json') {
    if (name === '--help' || name === '-h') {
      process.stdout.write(usage() + '\n');
      return 0;
    }
    return fail(
      2,
      'tlgen',
      'a command is required (tlgen --help lists them)',
      'command',
      `a command is required\n\n${usage()}`,
    );
  }
  if (isGroup) {
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(usage(first) + '\n');
      return 0;
    }
    const sub = rest.find((a) => !a.startsWith('-'));
    const message = sub ? `unknown subcommand "${first} ${sub}"` : `tlgen ${first} needs a subcommand`;
    return fail(2, 'tlgen', message, 'command', `${message}\n\n${usage(first)}`);
  }
  const load = commands[name];
  if (!load) {
    const message = `unknown command "${name}"`;
    return fail(2, 'tlgen', message, 'command', `${message}\n\n${usage()}`);
  }
  const command = await load();
  try {
    const specs = { ...command.options, ...COMMON_OPTIONS };
    const { values, positionals } = parseArgs({
      args: rest,
      options: Object.fromEntries(
        Object.entries(specs).map(([k, o]) => [
          k,
          o.short ? { type: o.type, short: o.short } : { type: o.type },
        ]),
      ),
      strict: true,
      allowPositionals: true,
    });
    if (values.help) {
      process.stdout.write(helpText(name, command) + '\n');
      return 0;
    }
    const wanted = command.positionals ?? [];
    if (positionals.length > wanted.length)
      throw new InputError(
        `unexpected argument "${positionals[wanted.length]}" (usage: tlgen ${name} ${command.usage})`,
        'arguments',
      );
    const args: Record<string, string | boolean | undefined> = { ...values };
    wanted.forEach((p, i) => {
      if (positionals[i] === undefined || positionals[i] === '')
        throw new InputError(
          `${p.name.toUpperCase()} is required (usage: tlgen ${name} ${command.usage})`,
          p.name,
        );
      args[p.name] = positionals[i];
    });
    const ctx: CommandContext = {
      json,
      say: (line) => (json ? process.stderr : process.stdout).write(line + '\n'),
    };
    const result = await command.run(args, ctx);
    // Peak RSS (KiB from the kernel) lets benchmarks read each command's memory high-water mark.
    const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    if (json) process.stdout.write(JSON.stringify({ ...result, peakRssMb }) + '\n');
    return 0;
  } catch (e) {
    const err = e as Error & { code?: string };
    if (e instanceof InputError) return fail(2, `tlgen ${name}`, e.message, e.field ?? null);
    if (err.code?.startsWith('ERR_PARSE_ARGS'))
      return fail(2, `tlgen ${name}`, err.message, parseErrorField(err.message) ?? null);
    // A bug: the stack goes to stderr for the report.
    return fail(1, `tlgen ${name}: internal error`, err.message ?? String(e), null, err.stack ?? String(e));
  }
}

// Allows `node training/cli.ts …` (what npm scripts run) besides the bin wrapper.
if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
