import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError } from '../util/errors.ts';

export interface CommandContext {
  json: boolean;
  /** Human-readable output (suppressed to stderr in --json mode so stdout ends with the JSON). */
  say: (line: string) => void;
}

/** One `--name` option: what parseArgs needs plus the line `--help` prints for it. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder of the value in help (FILE, N, DIR); string options only. */
  value?: string;
  /** One line saying what the option does. */
  help: string;
  /** What applies when the option is not given (shown as "[default: …]"). */
  default?: string | number;
  required?: boolean;
}

/** A bare argument (`tlgen registry promote VERSION`), stored in the values under `name`. */
export interface PositionalSpec {
  name: string;
  help: string;
}

export interface Command {
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  positionals?: PositionalSpec[];
  run: (values: Record<string, string | boolean | undefined>, ctx: CommandContext) => Promise<object>;
}

/** Options every command takes; cli.ts handles them. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  json: {
    type: 'boolean',
    help: 'print the result as one JSON object on the last stdout line (progress goes to stderr)',
  },
  help: { type: 'boolean', short: 'h', help: 'print this help' },
};

/** `--help` of one command: usage, summary, then every argument and option with its default. */
export function helpText(name: string, command: Command): string {
  const rows: [string, string][] = [];
  for (const p of command.positionals ?? []) rows.push([p.name.toUpperCase(), `${p.help} [required]`]);
  for (const [key, o] of Object.entries({ ...command.options, ...COMMON_OPTIONS })) {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${key}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    const note = o.required ? ' [required]' : o.default !== undefined ? ` [default: ${o.default}]` : '';
    rows.push([flag, o.help + note]);
  }
  const width = Math.max(...rows.map(([f]) => f.length));
  return [
    `usage: tlgen ${name} ${command.usage}`,
    '',
    command.summary,
    '',
    'options:',
    ...rows.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`),
  ].join('\n');
}

/** Reads a required string option or fails with a message naming it. */
export function requireOption(values: Record<string, string | boolean | undefined>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new InputError(`--${name} is required`, name);
  return v;
}

/**
 * A required output path (file or folder) whose parent folder is created when missing
 * (`--out /new/dir/x.jsonl`); one that cannot be created is reported naming the option.
 */
export function outputPath(values: Record<string, string | boolean | undefined>, name: string): string {
  const path = requireOption(values, name);
  const folder = dirname(resolve(path));
  try {
    mkdirSync(folder, { recursive: true });
  } catch (e) {
    throw new InputError(
      `--${name}: cannot create the folder ${folder} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      name,
    );
  }
  return path;
}

/** Parses an integer option within bounds, naming the option in the error. */
export function intOption(
  values: Record<string, string | boolean | undefined>,
  name: string,
  fallback: number,
  min = -Infinity,
  max = Infinity,
): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isInteger(n) || n < min || n > max)
    throw new InputError(`--${name} must be an integer between ${min} and ${max}, got "${String(v)}"`, name);
  return n;
}
