import { spawnSync } from 'node:child_process';
import { writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../tempDirs.ts';

const bin = resolve(import.meta.dirname, '../../bin/tlgen.js');

function tlgen(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  const lines = r.stdout.trim().split('\n');
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, last: lines[lines.length - 1] };
}

describe('tlgen CLI', () => {
  const dir = tempDir('tlgen-');

  it('synthesises and prepares a corpus, ending stdout with one JSON object', () => {
    const corpus = join(dir, 'tiny.jsonl');
    const synth = tlgen('synth', '--profile', 'tiny', '--seed', '2', '--out', corpus, '--json');
    expect(synth.code).toBe(0);
    expect(JSON.parse(synth.last)).toMatchObject({ profile: 'tiny', seed: 2, out: corpus });
    expect(existsSync(join(dir, 'tiny.truth.json'))).toBe(true);
    const prep = tlgen('prepare', '--corpus', corpus, '--out', join(dir, 'prep'), '--json');
    expect(prep.code).toBe(0);
    const summary = JSON.parse(prep.last);
    for (const key of ['tracklists', 'songs', 'artists', 'djs', 'heldOutPairs'])
      expect(summary[key]).toBeGreaterThan(0);
    for (const key of ['songSong', 'artistArtist', 'songArtist', 'songArtistMap', 'click', 'djDj'])
      expect(summary.nnz[key]).toBeGreaterThan(0);
    expect(prep.stderr).toMatch(/prepare: reading .*\/s/); // progress with a rate
  });

  it('exits 2 naming the line of a broken corpus line', () => {
    const corpus = join(dir, 'broken.jsonl');
    writeFileSync(corpus, '{"id":"a","date":null,"djs":[],"tracks":["A - B"]}\n{"id": "b", "tracks": [\n');
    const r = tlgen('prepare', '--corpus', corpus, '--out', join(dir, 'never'), '--json');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/broken\.jsonl: line 2/);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('exits 2 with a message naming the bad argument', () => {
    expect(tlgen('prepare', '--out', dir).stderr).toMatch(/--corpus is required/);
    const bad = tlgen('synth', '--profile', 'huge', '--out', join(dir, 'x.jsonl'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--profile must be one of/);
    expect(tlgen('synth', '--bogus').code).toBe(2);
    expect(tlgen('nonsense').code).toBe(2);
  });

  it('refuses a bad train option before any stage runs, naming the field', () => {
    const corpus = join(dir, 'train-options.jsonl');
    expect(tlgen('synth', '--profile', 'tiny', '--seed', '4', '--out', corpus).code).toBe(0);
    for (const [flag, value, field] of [
      ['--cluster-scales', 'flat', 'cluster-scales'],
      ['--min-song-mass=-3', null, 'min-song-mass'],
    ] as const) {
      const out = join(dir, `never-${field}`);
      const r = tlgen('train', '--corpus', corpus, '--out', out, flag, ...(value ? [value] : []), '--json');
      expect(r.code).toBe(2);
      expect(JSON.parse(r.last).error.field).toBe(field);
      expect(r.stderr).not.toMatch(/training TL-MGCCF/);
      expect(existsSync(out)).toBe(false);
    }
  });
});
