import { main } from '../../training/cli.ts';

export interface TlgenRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The last stdout line parsed as JSON (null when it is not JSON). */
  last: unknown;
}

/**
 * Runs the tlgen dispatcher in this process (what bin/tlgen.js calls), with extra environment
 * settings and stdout/stderr captured: the CLI as an operator runs it, without a Node start-up
 * per call.
 */
export async function runTlgen(env: Record<string, string>, ...args: string[]): Promise<TlgenRun> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  const out = { stdout: '', stderr: '' };
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  const capture = (key: 'stdout' | 'stderr') =>
    ((chunk: string | Uint8Array) => {
      out[key] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = capture('stdout');
  process.stderr.write = capture('stderr');
  let code: number;
  try {
    code = await main(args);
  } finally {
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const lines = out.stdout.trim().split('\n');
  let last: unknown = null;
  try {
    last = JSON.parse(lines[lines.length - 1]);
  } catch {
    // not JSON: the caller's expectation says what was wanted
  }
  return { code, ...out, last };
}
