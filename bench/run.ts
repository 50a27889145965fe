import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** Runs one `tlgen` command as a child process, streaming its progress, and returns its JSON result with wall time. */
export async function runTlgen(args: string[]): Promise<Record<string, unknown> & { wallSeconds: number; peakRssMb: number }> {
  const bin = resolve(import.meta.dirname, '../bin/tlgen.js');
  const started = performance.now();
  const child = spawn(process.execPath, [bin, ...args, '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const code: number = await new Promise((done) => child.on('close', (c) => done(c ?? 1)));
  if (code !== 0) throw new Error(`tlgen ${args.join(' ')} exited ${code}`);
  const lines = stdout.trim().split('\n');
  const result = JSON.parse(lines[lines.length - 1]) as Record<string, unknown> & { peakRssMb: number };
  return { ...result, wallSeconds: (performance.now() - started) / 1000 };
}
