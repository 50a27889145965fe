import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeDirAtomically } from '../../shared/util/atomicDir.ts';
import { tempDir } from '../tempDirs.ts';

function folderWith(parent: string, files: Record<string, string>): string {
  const dir = join(parent, 'out');
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('writeDirAtomically', () => {
  it('creates the folder (and its parent) from what fill wrote, returning its result', () => {
    const dir = join(tempDir('atomic-'), 'a', 'b');
    const r = writeDirAtomically(dir, (staging) => {
      expect(existsSync(dir)).toBe(false);
      writeFileSync(join(staging, 'x.txt'), 'new');
      return 7;
    });
    expect(r).toBe(7);
    expect(readdirSync(dir)).toEqual(['x.txt']);
    // Nothing but the folder is left beside it.
    expect(readdirSync(join(dir, '..'))).toEqual(['b']);
  });

  it('replaces an existing folder whole: old files do not survive, nothing is left beside it', () => {
    const parent = tempDir('atomic-');
    const dir = folderWith(parent, { 'old.txt': 'old', 'x.txt': 'old' });
    writeDirAtomically(dir, (staging) => {
      // The old contents stay readable until the swap.
      expect(readFileSync(join(dir, 'x.txt'), 'utf8')).toBe('old');
      writeFileSync(join(staging, 'x.txt'), 'new');
    });
    expect(readdirSync(dir)).toEqual(['x.txt']);
    expect(readFileSync(join(dir, 'x.txt'), 'utf8')).toBe('new');
    expect(readdirSync(parent)).toEqual(['out']);
  });

  it('a throwing fill leaves the old folder as it was and removes the staging folder', () => {
    const parent = tempDir('atomic-');
    const dir = folderWith(parent, { 'x.txt': 'old' });
    expect(() =>
      writeDirAtomically(dir, (staging) => {
        writeFileSync(join(staging, 'x.txt'), 'half');
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    expect(readFileSync(join(dir, 'x.txt'), 'utf8')).toBe('old');
    expect(readdirSync(parent)).toEqual(['out']);
  });

  it('an async fill swaps after its promise resolves, and a rejection changes nothing', async () => {
    const parent = tempDir('atomic-');
    const dir = folderWith(parent, { 'x.txt': 'old' });
    const pending = writeDirAtomically(dir, async (staging) => {
      await new Promise((r) => setImmediate(r));
      writeFileSync(join(staging, 'x.txt'), 'new');
      return 'done';
    });
    expect(readFileSync(join(dir, 'x.txt'), 'utf8')).toBe('old');
    await expect(pending).resolves.toBe('done');
    expect(readFileSync(join(dir, 'x.txt'), 'utf8')).toBe('new');

    await expect(
      writeDirAtomically(dir, async (staging) => {
        writeFileSync(join(staging, 'x.txt'), 'half');
        await new Promise((r) => setImmediate(r));
        throw new Error('checksum differs');
      }),
    ).rejects.toThrow('checksum differs');
    expect(readFileSync(join(dir, 'x.txt'), 'utf8')).toBe('new');
    expect(readdirSync(parent)).toEqual(['out']);
  });
});
