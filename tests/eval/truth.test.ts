import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SynthTruth } from '../../shared/corpus/oracle.ts';
import { readTruthFile } from '../../shared/corpus/truthFile.ts';
import { songId } from '../../shared/model/ids.ts';
import { evalCommand } from '../../training/commands/eval.ts';
import type { GenerationReport } from '../../training/eval/generation.ts';
import type { TruthReport } from '../../training/eval/truth.ts';
import type { ClusteringLevel } from '../../training/tracklist/report.ts';
import { plantedLevels } from '../../training/tracklist/report.ts';
import { seedTinyDemo } from '../e2e/tinyModel.ts';
import { tempDir } from '../tempDirs.ts';

/*
 * Truth files that are not this project's synthetic-corpus truth: planted clusters only give NMI
 * and the planted-level generation rows with the oracle unavailable; a malformed one is named in
 * the output and the rest of `tlgen eval` runs. On the shared tiny trained model (REAL eval).
 */

let dir: string;
const write = (name: string, text: string): string => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

describe('readTruthFile', () => {
  beforeAll(() => {
    dir = tempDir('tracklist-truth-');
  });

  it('reads planted clusters only: string or integer labels, one level or several, song keys or ids', () => {
    const file = write(
      'planted.json',
      JSON.stringify({ songCluster: { 'A - One': ['x', 7], 'B - Two': ['y', 7], [songId('c - three')]: ['x', 'g'] } }),
    );
    const read = readTruthFile(file);
    expect(read).toMatchObject({ kind: 'planted', planted: { levels: ['scene', 'subgenre'] } });
    if (read.kind !== 'planted') return;
    // Labels become 0, 1, … per level in order of appearance.
    expect(read.planted.songCluster).toEqual({ 'A - One': [0, 0], 'B - Two': [1, 0], [songId('c - three')]: [0, 1] });
    // Aligned with a vocabulary by identity key ("a - one") or by song id; unknown songs stay -1.
    const levels = plantedLevels(read.planted, ['c - three', 'a - one', 'z - none']);
    expect(levels.map((l) => Array.from(l))).toEqual([
      [0, 0, -1],
      [1, 0, -1],
    ]);

    const single = readTruthFile(write('single.json', '{"songCluster": {"A - One": 3, "B - Two": "house"}, "levels": ["genre"]}'));
    expect(single).toMatchObject({ kind: 'planted', planted: { levels: ['genre'], songCluster: { 'A - One': [0], 'B - Two': [1] } } });
  });

  it('names the file and the reason for anything else', () => {
    const cases: [string, RegExp][] = [
      ['garbage', /not JSON/],
      ['[1, 2]', /not a JSON object/],
      ['{"not": "ours"}', /"songCluster" must be an object/],
      ['{"songCluster": {}}', /"songCluster" is empty/],
      ['{"songCluster": {"A - B": [1, 2.5]}}', /songCluster\["A - B"\]: label 2.5 is not a string or an integer/],
      ['{"songCluster": {"A - B": [1, 2], "C - D": [1]}}', /songCluster\["C - D"\]: 1 levels where the first song has 2/],
      ['{"songCluster": {"A - B": [1, 2, 3, 4]}}', /4 levels \(1 to 3, finest first\)/],
      ['{"songCluster": {"A - B": [1, 2]}, "levels": ["a"]}', /"levels" must be 2 level names/],
      ['{"version": 1, "songCluster": {"A - B": [1, 2, 3]}}', /not a whole synthetic-corpus truth file/],
    ];
    for (const [i, [text, why]] of cases.entries()) {
      const file = write(`bad-${i}.json`, text);
      const read = readTruthFile(file);
      expect(read.kind, text).toBe('unusable');
      if (read.kind === 'unusable') {
        expect(read.error, text).toMatch(why);
        expect(read.error.startsWith(`truth file ${file}: `), text).toBe(true);
      }
    }
    expect(readTruthFile(join(dir, 'missing.json'))).toMatchObject({ kind: 'unusable', error: expect.stringMatching(/unreadable/) });
  });
});

interface EvalResult {
  truth: TruthReport | null;
  clustering: { levels: ClusteringLevel[] } | null;
  nextSong: { oracle: unknown } | null;
  generation: GenerationReport | null;
}

describe('tlgen eval with a truth file that is not ours (tiny model)', () => {
  let corpus: string;
  let model: string;
  let synthTruth: SynthTruth;
  const run = async (truth: string | null, only: string): Promise<{ result: EvalResult; lines: string[] }> => {
    const lines: string[] = [];
    const values: Record<string, string> = { model, corpus, only, 'generation-sets': '10', ...(truth ? { truth } : {}) };
    const result = (await evalCommand.run(values, { json: true, say: (l) => lines.push(l) })) as unknown as EvalResult;
    return { result, lines };
  };

  beforeAll(async () => {
    dir = tempDir('tracklist-truth-eval-');
    await seedTinyDemo(dir);
    corpus = join(dir, 'demo', 'corpus.jsonl');
    model = join(dir, 'demo', 'model');
    synthTruth = JSON.parse(readFileSync(join(dir, 'demo', 'corpus.truth.json'), 'utf8')) as SynthTruth;
  });

  it('a planted-clusters-only sidecar gives NMI and the planted-level rows, the oracle unavailable', async () => {
    const reference = await run(null, 'clustering');
    expect(reference.result.truth?.kind).toBe('synthetic');
    // The same planted clusters with named labels and nothing else, as the sidecar itself.
    const { scenes, subgenres, genres } = synthTruth;
    const songCluster = Object.fromEntries(
      Object.entries(synthTruth.songCluster).map(([song, [sc, sub, g]]) => [song, [scenes[sc][0], subgenres[sub][0], genres[g]]]),
    );
    writeFileSync(join(dir, 'demo', 'corpus.truth.json'), JSON.stringify({ songCluster }));

    const { result, lines } = await run(null, 'next-song,clustering,generation');
    expect(result.truth).toMatchObject({ kind: 'planted', oracle: false, levels: ['scene', 'subgenre', 'genre'], error: null });
    expect(result.truth!.matchedSongs).toBeGreaterThan(100);
    expect(lines).toContain('oracle: unavailable (truth holds planted clusters only)');
    const nmi = result.clustering!.levels.map((l) => l.nmi);
    expect(nmi.every((x) => x !== null && x > 0)).toBe(true);
    expect(nmi).toEqual(reference.result.clustering!.levels.map((l) => l.nmi));
    expect(result.nextSong!.oracle).toBeNull();
    const g = result.generation!;
    for (const report of [g.real, g.model!]) {
      for (const row of ['sameScene', 'sameSubgenre', 'sameGenre'] as const) expect(report.statistics[row], row).toBeTypeOf('number');
      expect(report.oracle).toBeNull();
    }
    expect(g.real.statistics.sameScene).toBeGreaterThan(0.3); // planted scenes are real structure
  }, 120_000);

  it('a malformed truth file is named in the output and the rest of eval runs', async () => {
    const bad = write('bad.truth.json', '{"songCluster": {"A - B": [1, 2.5]}}');
    const { result, lines } = await run(bad, 'clustering,generation');
    expect(result.truth).toMatchObject({ kind: 'unusable', oracle: false, file: bad });
    expect(result.truth!.error).toContain(bad);
    expect(lines[0]).toMatch(new RegExp(`^truth: ERROR truth file ${bad}: songCluster\\["A - B"\\]`));
    expect(result.clustering!.levels).toHaveLength(3);
    expect(result.clustering!.levels.every((l) => l.nmi === null && l.modularity > 0)).toBe(true);
    expect(result.generation!.real.statistics.sameScene).toBeNull();
    expect(result.generation!.model!.statistics.sameL1).toBeTypeOf('number');
  }, 120_000);
});
