/**
 * One tiny trained demo model per test run, shared by the end-to-end files: the first file to
 * ask trains it (synth + `tlgen train`, in child processes) under a lock, the others wait for it,
 * and each copies the folder into its own data dir, where startLocalStack only exports and
 * publishes it. The folder is keyed by the run (tests/globalSetup.ts) and removed after it.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TLGEN = join(import.meta.dirname, '..', '..', 'bin', 'tlgen.js');
export const TINY_TRAIN_ARGS = ['--steps', '60', '--tracklist-steps', '40'];
const WAIT_MS = 300_000;

export function tinyModelRoot(): string {
  return join(tmpdir(), `tracklist-e2e-model-${process.env.TRACKLIST_TEST_RUN ?? process.ppid}`);
}

function tlgen(args: string[]): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [TLGEN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.once('error', fail);
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`tlgen ${args[0]} failed (${code}): ${err}`))));
  });
}

async function trained(): Promise<string> {
  const root = tinyModelRoot();
  const demo = join(root, 'demo');
  const ready = join(root, 'ready');
  try {
    mkdirSync(root); // the lock: exactly one caller creates it
  } catch {
    const until = Date.now() + WAIT_MS;
    while (!existsSync(ready)) {
      if (Date.now() > until) throw new Error(`timed out waiting for the shared tiny model in ${root}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    return demo;
  }
  mkdirSync(demo);
  const corpus = join(demo, 'corpus.jsonl');
  await tlgen(['synth', '--profile', 'tiny', '--seed', '1', '--out', corpus]);
  await tlgen(['train', '--corpus', corpus, '--out', join(demo, 'model'), '--stage', 'all', '--budget', 'fast', ...TINY_TRAIN_ARGS]);
  writeFileSync(ready, '');
  return demo;
}

/** Puts a trained tiny demo folder at `<dataDir>/demo`. */
export async function seedTinyDemo(dataDir: string): Promise<void> {
  cpSync(await trained(), join(dataDir, 'demo'), { recursive: true });
}
