import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseImport } from '../../shared/formats/playlistImport.ts';
import { main } from '../../training/cli.ts';
import { buildServingFixture, type ServingFixture } from './fixtures.ts';

const bin = resolve(import.meta.dirname, '../../bin/tlgen.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  json: () => Record<string, unknown> & { items: { index: number }[]; tracklist: Record<string, unknown>[] };
}

function result(code: number | null, stdout: string, stderr: string): Run {
  const lines = stdout.trim().split('\n');
  return { code, stdout, stderr, json: () => JSON.parse(lines[lines.length - 1]) };
}

/** The CLI as a separate process (end to end: bin wrapper, exit code, stdout). */
function spawned(...args: string[]): Run {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return result(r.status, r.stdout, r.stderr);
}

/** The same `main` in this process: much faster for the many argument checks. */
async function tlgen(...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    return result(await main(args), stdout, stderr);
  } finally {
    vi.restoreAllMocks();
  }
}

describe('tlgen serving commands', () => {
  let f: ServingFixture;
  let seedName: string;
  let djName: string;

  afterEach(() => vi.restoreAllMocks());

  beforeAll(async () => {
    f = await buildServingFixture();
    seedName = f.model.song(4).name;
    djName = f.model.dj(1).name;
  }, 120_000);

  it('exports a model folder into a model version', async () => {
    const out = join(f.modelDir, 'cli-version');
    const metrics = join(f.modelDir, 'eval-test.json');
    writeFileSync(metrics, JSON.stringify({ recommendation: { recall: 0.5 } }));
    const r = await tlgen(
      'export',
      '--model',
      f.modelDir,
      '--out',
      out,
      '--metrics',
      metrics,
      '--version-id',
      'cli-1',
      '--json',
    );
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ versionId: 'cli-1', dir: out, tracklist: true, counts: f.model.counts });
    expect(r.json().bytes).toBeGreaterThan(0);
    expect(existsSync(join(out, 'manifest.json'))).toBe(true);
    expect((await tlgen('export', '--model', out, '--out', join(f.modelDir, 'x'))).code).toBe(2);
    const noMetrics = await tlgen(
      'export',
      '--model',
      f.modelDir,
      '--out',
      out,
      '--metrics',
      join(f.modelDir, 'none.json'),
    );
    expect(noMetrics.stderr).toMatch(/--metrics/);
  });

  it('generates a tracklist from a model folder (end to end) and from a version, reproducibly', async () => {
    const args = ['--seed-song', seedName, '--dj', djName, '--length', '6', '--rng-seed', '7', '--json'];
    const fromFolder = spawned('generate', '--model', f.modelDir, ...args);
    expect(fromFolder.code).toBe(0);
    const out = fromFolder.json();
    expect(out.tracklist).toHaveLength(7);
    expect(out.tracklist[0]).toMatchObject({ song: seedName, index: 4 });
    for (const t of out.tracklist) {
      expect(Object.keys(t.logProb as object).sort()).toEqual(['l1', 'l2', 'l3', 'song']);
      expect(typeof t.userScore).toBe('number');
      expect(typeof t.songScore).toBe('number');
    }
    const fromVersion = await tlgen('generate', '--model', f.versionDir, ...args);
    expect(fromVersion.json().tracklist).toEqual(out.tracklist);
    expect(out.tracklist.map((t) => t.index)).toEqual(
      f.model.generate({ seedSong: 4, dj: 1, length: 6, rngSeed: 7 }).map((t) => t.song),
    );
  });

  it('explains each song with --explain, and takes the steering knobs', async () => {
    const args = ['--model', f.versionDir, '--seed-song', seedName, '--dj', djName, '--length', '4', '--rng-seed', '3'];
    const knobs = ['--steering', '0.5', '--adventurousness', '0.2', '--artist-repeat-penalty', '0.5'];
    const explained = await tlgen('generate', ...args, ...knobs, '--explain', '--json');
    expect(explained.code).toBe(0);
    const tracklist = explained.json().tracklist as { index: number; explanation: { pickedBy: string; path: unknown[] } }[];
    expect(tracklist.map((t) => t.explanation.pickedBy)).toEqual(['seed', 'model', 'model', 'model', 'model']);
    expect(tracklist.map((t) => t.index)).toEqual(
      f.model.generate({ seedSong: 4, dj: 1, length: 4, rngSeed: 3, steering: 0.5, adventurousness: 0.2, artistRepeatPenalty: 0.5 }).map((t) => t.song),
    );
    const readable = await tlgen('generate', ...args, '--explain');
    expect(readable.stdout).toMatch(/picked by model: .+ › .+ › .+/);
    expect(readable.stdout).toMatch(/network rank \d+\/\d+/);
  });

  it('generates from a likes file and reports unknown songs', async () => {
    const likes = join(f.modelDir, 'likes.json');
    writeFileSync(
      likes,
      JSON.stringify([
        { song: f.model.song(10).name, score: 1 },
        { song: f.model.song(11).id },
        { song: 'Nobody - Nothing' },
      ]),
    );
    const r = await tlgen(
      'generate',
      '--model',
      f.versionDir,
      '--seed-song',
      seedName,
      '--likes',
      likes,
      '--rng-seed',
      '1',
      '--json',
    );
    expect(r.code).toBe(0);
    expect(r.json().taste).toEqual({ likes: 2, unknownLikes: ['Nobody - Nothing'] });
    expect(r.json().tracklist).toHaveLength(16);
    writeFileSync(likes, JSON.stringify([{ song: seedName, score: 3 }]));
    expect(
      (await tlgen('generate', '--model', f.versionDir, '--seed-song', seedName, '--likes', likes)).stderr,
    ).toMatch(/--likes: entry 0/);
  });

  it('writes the tracklist as a file with --format and --out, or to stdout without --out', async () => {
    const folder = join(f.modelDir, 'exports');
    mkdirSync(folder, { recursive: true });
    const file = join(folder, 'set.csv');
    const args = [
      'generate',
      '--model',
      f.versionDir,
      '--seed-song',
      seedName,
      '--dj',
      djName,
      '--length',
      '5',
    ];
    const r = await tlgen(...args, '--rng-seed', '3', '--format', 'csv', '--out', file, '--json');
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ format: 'csv', out: file });
    const rows = readFileSync(file, 'utf8').split('\r\n');
    expect(rows[0]).toBe('position,artist,title,song_id,user_score,seed_score,p_l3,p_l2,p_l1,p_song');
    expect(rows.at(-1)).toBe('');
    expect(rows.slice(1, -1)).toHaveLength(6);
    expect(rows[1].startsWith('1,')).toBe(true);
    expect(rows[1]).toContain(`,${f.model.song(4).id},`);
    // The rename leaves no temp file behind.
    expect(readdirSync(folder)).toEqual(['set.csv']);

    const stdout = await tlgen(...args, '--rng-seed', '3', '--format', 'm3u8');
    expect(stdout.code).toBe(0);
    const names = r.json().tracklist.map((t) => t.song as string);
    expect(stdout.stdout.startsWith(`#EXTM3U\n#PLAYLIST:${seedName} (${djName})\n`)).toBe(true);
    expect(parseImport(stdout.stdout, { fileName: 'x.m3u8' }).entries.map((e) => e.text)).toEqual(names);
  });

  it('exits 2 naming --format or --out for a bad export request', async () => {
    const base = ['generate', '--model', f.versionDir, '--seed-song', seedName];
    const bogus = await tlgen(...base, '--format', 'bogus');
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toMatch(/--format must be one of m3u8, csv, txt, json, got "bogus"/);
    const noFormat = await tlgen(...base, '--out', join(f.modelDir, 'x.csv'));
    expect(noFormat.code).toBe(2);
    expect(noFormat.stderr).toMatch(/--out needs --format/);
    // A missing folder is created (issue 16); one under a file cannot be, and --out is named.
    const newFolder = await tlgen(...base, '--format', 'txt', '--out', join(f.modelDir, 'missing', 'x.txt'));
    expect(newFolder.code).toBe(0);
    expect(existsSync(join(f.modelDir, 'missing', 'x.txt'))).toBe(true);
    const underFile = await tlgen(...base, '--format', 'txt', '--out', join(f.modelDir, 'missing', 'x.txt', 'y.txt'));
    expect(underFile.code).toBe(2);
    expect(underFile.stderr).toMatch(/--out: cannot create the folder/);
  });

  it('exits 2 naming the argument for bad input', async () => {
    const base = ['generate', '--model', f.versionDir, '--seed-song', seedName];
    const cases: [string[], RegExp][] = [
      [['--length', '0'], /--length/],
      [['--length', '101'], /--length/],
      [['--user-weighting=-1'], /--user-weighting/],
      [['--temperature', '1,1'], /--temperature/],
      [['--thresholds', '0.1,0.1,0.1'], /--thresholds/],
      [['--rng-seed', 'x'], /--rng-seed/],
      [['--steering', '2'], /--steering/],
      [['--adventurousness=-0.5'], /--adventurousness/],
      [['--artist-repeat-penalty', '1'], /--artist-repeat-penalty/],
      [['--dj', 'Nobody At All'], /--dj: unknown DJ/],
      [['--dj', djName, '--likes', 'x.json'], /--likes/],
    ];
    for (const [extra, message] of cases) {
      const r = await tlgen(...base, ...extra);
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.stderr, extra.join(' ')).toMatch(message);
    }
    const unknown = await tlgen('generate', '--model', f.versionDir, '--seed-song', seedName.slice(0, -1));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--seed-song: unknown song .*closest: /);
    expect(
      (await tlgen('generate', '--model', join(f.modelDir, 'nowhere'), '--seed-song', seedName)).stderr,
    ).toMatch(/--model/);
  });

  it('recommends, finds similar items and searches', async () => {
    const forDj = await tlgen('recommend', '--model', f.versionDir, '--dj', djName, '--k', '5', '--json');
    expect(forDj.code).toBe(0);
    expect(forDj.json().items.map((x) => x.index)).toEqual(f.model.recommendForDj(1, 5).map((x) => x.index));
    for (const x of forDj.json().items)
      expect(Object.keys(x).sort()).toEqual(['id', 'index', 'name', 'score']);
    const similar = (await tlgen('recommend', '--model', f.versionDir, '--song', seedName, '--json')).json();
    expect(similar.items).toHaveLength(20);
    expect(similar.items.map((x) => x.index)).toEqual(f.model.similarSongs(4, 20).map((x) => x.index));
    const likes = join(f.modelDir, 'likes2.json');
    writeFileSync(likes, JSON.stringify([{ song: seedName, score: 0.9 }]));
    const cold = (
      await tlgen('recommend', '--model', f.versionDir, '--likes', likes, '--k', '3', '--json')
    ).json();
    expect(cold.items.map((x) => x.index)).toEqual(
      f.model.recommendForLikes([{ song: 4, score: 0.9 }], 3).map((x) => x.index),
    );
    expect((await tlgen('recommend', '--model', f.versionDir)).code).toBe(2);
    expect((await tlgen('recommend', '--model', f.versionDir, '--dj', djName, '--song', seedName)).code).toBe(
      2,
    );

    const search = (
      await tlgen('search', '--model', f.versionDir, '--q', seedName, '--json')
    ).json() as Record<string, unknown[]>;
    expect(search.songs[0]).toMatchObject({ index: 4, name: seedName });
    expect(Array.isArray(search.artists) && Array.isArray(search.djs)).toBe(true);
    expect((await tlgen('search', '--model', f.versionDir, '--q', 'a', '--kind', 'tracks')).code).toBe(2);
  });

  it('benchmarks serving and prints the figures', () => {
    const r = spawned('bench', 'generate', '--model', f.versionDir, '--runs', '20', '--json');
    expect(r.code).toBe(0);
    const b = r.json() as Record<string, number>;
    for (const key of ['p50Ms', 'p99Ms', 'loadMs', 'rssMb', 'coldStartP50Ms', 'artifactBytes'])
      expect(b[key], key).toBeGreaterThan(0);
    expect(b.p99Ms).toBeGreaterThanOrEqual(b.p50Ms);
  });
});
