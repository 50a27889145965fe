import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { commands } from '../../training/cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SERVING = ['generate', 'recommend', 'search', 'bench generate'];
const FILES = ['generate', 'recommend', 'search', 'benchGenerate'].map((f) => `shared/cli/commands/${f}.ts`);

/** The serving commands live in shared/cli/ so that serving never needs the training workspace. */
describe('serving commands', () => {
  it('import no training code and no tfjs (whole import graph, dynamic imports included)', async () => {
    const result = await build({
      entryPoints: FILES.map((f) => join(ROOT, f)),
      bundle: true,
      write: false,
      outdir: 'out',
      platform: 'node',
      format: 'esm',
      metafile: true,
      logLevel: 'silent',
      absWorkingDir: ROOT,
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toEqual(expect.arrayContaining(FILES));
    expect(inputs.filter((p) => p.startsWith('training/') || p.includes('@tensorflow'))).toEqual([]);
  });

  it('are what the tlgen dispatcher loads', async () => {
    for (const name of SERVING) {
      const command = await commands[name]!();
      expect(command.usage, name).toContain('--model');
    }
  });
});
