import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSynth } from '../../shared/corpus/synth.ts';
import { prepareForModel } from '../../training/commands/train.ts';
import { minSongMassOption } from '../../training/commands/prepare.ts';
import { InputError } from '../../shared/util/errors.ts';
import { tempDir } from '../tempDirs.ts';

const quiet = (): void => {};

describe('prepareForModel', () => {
  it('reuses the prepared folder only for the same corpus, seed and song filter', async () => {
    const dir = tempDir('prepare-for-model-');
    const corpus = join(dir, 'tiny.jsonl');
    await writeSynth('tiny', 3, corpus);
    const model = join(dir, 'model');
    const first = await prepareForModel(corpus, model, 1, 10, quiet);
    expect(first.reused).toBe(false);
    expect((await prepareForModel(corpus, model, 1, 10, quiet)).reused).toBe(true);
    const looser = await prepareForModel(corpus, model, 1, 2, quiet);
    expect(looser.reused).toBe(false);
    expect(looser.summary.songs).toBeGreaterThan(first.summary.songs);
    expect((await prepareForModel(corpus, model, 1, 2, quiet)).reused).toBe(true);
  });
});

describe('--min-song-mass', () => {
  it('defaults to the prepare default and rejects a negative or non-numeric value by name', () => {
    expect(minSongMassOption({})).toBe(10);
    expect(minSongMassOption({ 'min-song-mass': '2.5' })).toBe(2.5);
    for (const bad of ['-1', 'many']) {
      expect(() => minSongMassOption({ 'min-song-mass': bad })).toThrow(InputError);
      expect(() => minSongMassOption({ 'min-song-mass': bad })).toThrow(/--min-song-mass/);
    }
  });
});
