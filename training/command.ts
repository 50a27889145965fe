import type { ParseArgsConfig } from 'node:util';
import { InputError } from '../shared/util/errors.ts';

export interface CommandContext {
  json: boolean;
  /** Human-readable output (suppressed to stderr in --json mode so stdout ends with the JSON). */
  say: (line: string) => void;
}

export interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run: (values: Record<string, string | boolean | undefined>, ctx: CommandContext) => Promise<object>;
}

/** Reads a required string option or fails with a message naming it. */
export function requireOption(values: Record<string, string | boolean | undefined>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new InputError(`--${name} is required`, name);
  return v;
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

