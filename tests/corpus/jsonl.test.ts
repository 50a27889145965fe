import { writeFileSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type CorpusLineError,
  readCorpus,
  readCorpusAll,
  validateTracklist,
  writeCorpus,
} from '../../shared/corpus/jsonl.ts';
import type { Tracklist } from '../../shared/corpus/types.ts';
import { tempDir } from '../tempDirs.ts';

const good: Tracklist = {
  id: 'a',
  date: '2020-02-23',
  djs: ['DJ One'],
  tracks: ['A - B', { artist: 'C', title: 'D' }],
};

describe('corpus JSONL', () => {
  it('round-trips tracklists atomically and skips blank lines', async () => {
    const dir = tempDir('corpus-');
    const file = join(dir, 'c.jsonl');
    expect(await writeCorpus(file, [good, { ...good, id: 'b', date: null }])).toBe(2);
    expect(readdirSync(dir)).toEqual(['c.jsonl']); // no temporary file left behind
    writeFileSync(file, readFileSync(file, 'utf8') + '\n   \n');
    const back = await readCorpusAll(file);
    expect(back).toEqual([good, { ...good, id: 'b', date: null }]);
  });

  it('names the file and line of a malformed line', async () => {
    const dir = tempDir('corpus-');
    const file = join(dir, 'bad.jsonl');
    writeFileSync(file, JSON.stringify(good) + '\n{"id": "x", "djs": [\n' + JSON.stringify(good) + '\n');
    await expect(readCorpusAll(file)).rejects.toThrow(/bad\.jsonl: line 2: invalid JSON/);
    const errors: CorpusLineError[] = [];
    const kept: Tracklist[] = [];
    for await (const t of readCorpus(file, { onBadLine: (e) => errors.push(e) })) kept.push(t);
    expect(kept).toHaveLength(2);
    expect(errors.map((e) => e.line)).toEqual([2]);
    expect(existsSync(file)).toBe(true);
  });

  it('validates every field with a message naming it', () => {
    expect(validateTracklist([])).toMatch(/JSON object/);
    expect(validateTracklist({ ...good, id: '' })).toMatch(/"id"/);
    expect(validateTracklist({ ...good, date: '23/02/2020' })).toMatch(/"date"/);
    expect(validateTracklist({ ...good, djs: 'x' })).toMatch(/"djs"/);
    expect(validateTracklist({ ...good, tracks: [1] })).toMatch(/"tracks\[0\]"/);
    expect(validateTracklist({ ...good, tracks: [{ artist: 'a' }] })).toMatch(/"tracks\[0\]".*title/);
    expect(validateTracklist({ ...good, tracks: [{ artist: 'a', title: 'b', artists: { a: -1 } }] })).toMatch(
      /weights/,
    );
    expect(validateTracklist({ ...good, title: null, source: null })).toEqual(good);
  });
});
