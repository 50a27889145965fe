import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GAP, OUT_OF_VOCABULARY, prepare } from '../../shared/graph/prepare.ts';
import { loadPrepared, writePrepared } from '../../shared/graph/preparedStore.ts';
import { get, nnz, rowSums, colSums, transpose, type Csr } from '../../shared/graph/csr.ts';
import type { Tracklist } from '../../shared/corpus/types.ts';
import { synthesize } from '../../shared/corpus/synth.ts';
import { tempDir } from '../tempDirs.ts';

const noSplit = { testTracklistShare: 0, clickHoldoutShare: 0, minSongMass: 0, minClickSongs: 0 };

function isSymmetric(m: Csr): boolean {
  for (let i = 0; i < m.rows; i++)
    for (let p = m.indptr[i]; p < m.indptr[i + 1]; p++)
      if (Math.abs(get(m, m.indices[p], i) - m.values[p]) > 1e-6) return false;
  return true;
}

describe('prepare (SPEC §2)', () => {
  it('weights co-occurrence by 1/distance, lets gaps break adjacency and maps songs to artists', async () => {
    const sets: Tracklist[] = [
      {
        id: 't1',
        date: '2020-01-01',
        djs: ['X'],
        tracks: ['Ann - One', 'Bob - Two', 'ID - ID', 'Cat - Three (Ann Remix)'],
      },
    ];
    const p = await prepare(sets, { ...noSplit, songSongShare: 1, window: 10 });
    const id = (display: string) => p.vocab.songs.indexOf(display);
    const [one, two, three] = ['Ann - One', 'Bob - Two', 'Cat - Three (Ann Remix)'].map(id);
    // raw C: One–Two 1, Two–Three 1/2, One–Three 1/3; log scaling ln(1+x)/ln(e/2)
    const scale = (x: number) => Math.log1p(x) / Math.log(Math.E / 2);
    expect(get(p.songSong, one, two)).toBeCloseTo(scale(1), 5);
    expect(get(p.songSong, two, three)).toBeCloseTo(scale(1 / 2), 5);
    expect(get(p.songSong, one, three)).toBeCloseTo(scale(1 / 3), 5);
    expect(p.skipped.gaps).toBe(1);
    expect(Array.from(p.sequences.songs)).toEqual([one, two, GAP, three]);
    // the remixer outweighs the original artist on "Cat - Three (Ann Remix)"
    const m = p.songArtistMap;
    const weights = new Map<string, number>();
    for (let q = m.indptr[three]; q < m.indptr[three + 1]; q++)
      weights.set(p.vocab.artists[m.indices[q]], m.values[q]);
    expect(weights.get('Ann')!).toBeGreaterThan(weights.get('Cat')!);
    for (const s of rowSums(m)) expect(s).toBeCloseTo(1, 5);
  });

  it('applies the song and DJ filters, builds symmetric normalised graphs and disjoint splits', async () => {
    const { tracklists } = synthesize('tiny', 3);
    const p = await prepare(tracklists, { seed: 9 });
    const n = p.vocab.songs.length;
    expect(n).toBeGreaterThan(50);
    for (const m of p.songMass) expect(m).toBeGreaterThanOrEqual(10);
    expect(p.songSong.rows).toBe(n);
    for (const g of [p.songSong, p.artistArtist, p.djDj, p.songSongNorm, p.artistArtistNorm, p.djDjNorm])
      expect(isSymmetric(g)).toBe(true);
    // every kept DJ had more than 15 songs played more than once (train + held out)
    const perDj = rowSums({ ...p.click, values: p.click.values.map(() => 1) });
    const testPerDj = rowSums({ ...p.clickTest, values: p.clickTest.values.map(() => 1) });
    perDj.forEach((c, d) => expect(c + testPerDj[d]).toBeGreaterThan(15));
    // held-out entries never appear in the training click matrix, and the pairs come from them
    for (let d = 0; d < p.clickTest.rows; d++)
      for (let q = p.clickTest.indptr[d]; q < p.clickTest.indptr[d + 1]; q++)
        expect(get(p.click, d, p.clickTest.indices[q])).toBe(0);
    for (let k = 0; k < p.heldOutPairs.length; k += 2)
      expect(get(p.clickTest, p.heldOutPairs[k], p.heldOutPairs[k + 1])).toBeGreaterThan(0);
    // the two scalings
    // Every DJ row and song column with a click sums to one (counted, so the loops check something).
    const nonEmpty = (sums: ArrayLike<number>) => Array.from(sums).filter((s) => s > 0).length;
    expect(nonEmpty(rowSums(p.clickByDj))).toBe(nonEmpty(rowSums(p.click)));
    expect(nonEmpty(colSums(p.clickBySong))).toBe(nonEmpty(colSums(p.click)));
    for (const s of rowSums(p.clickByDj)) if (s > 0) expect(s).toBeCloseTo(1, 4);
    for (const s of colSums(p.clickBySong)) if (s > 0) expect(s).toBeCloseTo(1, 4);
    expect(nnz(transpose(p.djArtistByArtist))).toBe(nnz(p.djArtistByDj));
    // split by tracklist, roughly 10 %
    const test = p.sequences.split.reduce((a, b) => a + b, 0);
    expect(test / p.sequences.split.length).toBeGreaterThan(0.04);
    expect(test / p.sequences.split.length).toBeLessThan(0.2);
    expect(p.sequences.songs.some((s) => s === OUT_OF_VOCABULARY)).toBe(true);
  });

  it('is deterministic in its seed and round-trips through the artifact format', async () => {
    const { tracklists } = synthesize('tiny', 4);
    const a = await prepare(tracklists, { seed: 2 });
    const b = await prepare(tracklists, { seed: 2 });
    const c = await prepare(tracklists, { seed: 3 });
    expect(Array.from(b.heldOutPairs)).toEqual(Array.from(a.heldOutPairs));
    expect(Array.from(c.sequences.split)).not.toEqual(Array.from(a.sequences.split));
    const dir = join(tempDir('prep-'), 'p');
    writePrepared(dir, a);
    const back = loadPrepared(dir);
    expect(back.vocab).toEqual(a.vocab);
    expect(Array.from(back.songSong.values)).toEqual(Array.from(a.songSong.values));
    expect(Array.from(back.sequences.offsets)).toEqual(Array.from(a.sequences.offsets));
    expect(back.skipped).toEqual(a.skipped);
  });
});
