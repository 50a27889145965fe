import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '../command.ts';
import { synthCommand } from './synth.ts';
import { prepareCommand } from './prepare.ts';

/**
 * What `npm start` runs at this stage: synthesise the `small` corpus into .data/demo, prepare it
 * and print a summary. Later stages grow it into the full local stack.
 */
export const demoCommand: Command = {
  summary: 'Synthesises the small demo corpus into .data/demo and prepares it.',
  usage: '[--dir DIR] [--json]',
  options: { dir: { type: 'string' } },
  async run(values, ctx) {
    const dir = typeof values.dir === 'string' ? values.dir : join('.data', 'demo');
    mkdirSync(dir, { recursive: true });
    const corpus = join(dir, 'corpus.jsonl');
    const synth = await synthCommand.run({ profile: 'small', seed: '1', out: corpus }, ctx);
    const prepared = await prepareCommand.run({ corpus, out: join(dir, 'prepared') }, ctx);
    return { synth, prepared };
  },
};
