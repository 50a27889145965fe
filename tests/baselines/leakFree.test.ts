import { describe, expect, it } from 'vitest';
import { synthesize } from '../../shared/corpus/synth.ts';
import { CooBuilder, type Csr } from '../../shared/graph/csr.ts';
import { prepare } from '../../shared/graph/prepare.ts';
import { innerSplit } from '../../training/baselines/innerSplit.ts';
import { originalProtocolSongGraphs, songGraphsWithout } from '../../training/baselines/leakFree.ts';
import { fitOriginalProtocolSongGraph, fitStrongBaselines } from '../../training/baselines/strong.ts';
import { evaluateRecommendation, formatRecommendationTable } from '../../training/eval/recommendation.ts';

const { tracklists } = synthesize('tiny', 3);
const p = await prepare(tracklists, { seed: 9 });

const same = (a: Csr, b: Csr) =>
  Array.from(a.indptr).join() === Array.from(b.indptr).join() &&
  Array.from(a.indices).join() === Array.from(b.indices).join() &&
  Array.from(a.values).join() === Array.from(b.values).join();

describe('original (leaky) protocol song graph beside a leak-free prepared folder', () => {
  it('is the song graph with the held-out plays, on the prepared vocabulary', async () => {
    const g = await originalProtocolSongGraphs(tracklists, p);
    expect(g.songSong.rows).toBe(p.vocab.songs.length);
    // Every prepared song is in the leaky vocabulary (its mass only grows with the plays back).
    expect(g.songsKept).toBe(p.vocab.songs.length);
    expect(same(g.songSong, p.songSong)).toBe(false);
    let leaky = 0;
    let clean = 0;
    for (let q = 0; q < g.songSong.values.length; q++) leaky += g.songSong.values[q];
    for (let q = 0; q < p.songSong.values.length; q++) clean += p.songSong.values[q];
    expect(leaky).toBeGreaterThan(clean);
  });

  it('is a tuned baseline row, absent for folders prepared before the fix', async () => {
    const lines: string[] = [];
    const fitted = await fitOriginalProtocolSongGraph(tracklists, p, (l) => lines.push(l));
    expect(fitted?.recommender.name).toBe('songgraph-leaky');
    expect(fitted?.params.validationNdcg).toBeGreaterThan(0);
    expect(lines[0]).toMatch(/^songgraph-leaky: original \(leaky\) protocol graph/);
    const { heldOutPlays: _, ...before } = p.options;
    expect(await fitOriginalProtocolSongGraph(tracklists, { ...p, options: before as typeof p.options })).toBeNull();
  });

  it('the table names the protocol', () => {
    const table = (heldOutPlays?: 'gapped' | 'kept') =>
      formatRecommendationTable(evaluateRecommendation({ ...p, options: { heldOutPlays } }, { baselines: [] }));
    expect(table('gapped')).toMatch(/protocol: leak-free/);
    expect(table('kept')).toMatch(/protocol: original \(leaky\)/);
    expect(table()).toMatch(/protocol: original \(leaky\)/);
  });
});

describe('songgraph tuning graph without the inner validation plays', () => {
  const total = (g: Csr) => g.values.reduce((a, b) => a + b, 0);

  it('rebuilt from the training sequences with no extra pairs, it is the prepared graph', () => {
    const g = songGraphsWithout(p, new CooBuilder(p.click.rows, p.click.cols).toCsr());
    expect(g.songsKept).toBe(p.vocab.songs.length);
    expect(same(g.songSong, p.songSong)).toBe(true);
    expect(same(g.songSongNorm, p.songSongNorm)).toBe(true);
  });

  it('with the inner validation pairs gapped it is lighter, and fitStrongBaselines tunes on it', () => {
    const g = songGraphsWithout(p, innerSplit(p.click).validation);
    expect(total(g.songSong)).toBeLessThan(total(p.songSong));
    const lines: string[] = [];
    const { params } = fitStrongBaselines(p, { log: (l) => lines.push(l) });
    expect(params.songgraph.validationNdcg).toBeGreaterThan(0);
    expect(lines.some((l) => l.startsWith('songgraph: tuned'))).toBe(true);
  });
});
