import { describe, expect, it } from 'vitest';
import { synthesize } from '../../shared/corpus/synth.ts';
import { parseTrack } from '../../shared/corpus/trackString.ts';
import type { Tracklist } from '../../shared/corpus/types.ts';
import type { Csr } from '../../shared/graph/csr.ts';
import { prepare } from '../../shared/graph/prepare.ts';
import { leakFreeSongGraphs, withoutHeldOutPlays } from '../../training/baselines/leakFree.ts';
import { fitLeakFreeSongGraph } from '../../training/baselines/strong.ts';

const { tracklists } = synthesize('tiny', 3);
const p = await prepare(tracklists, { seed: 9 });

const keyOf = (raw: Tracklist['tracks'][number]) => {
  const t = parseTrack(raw);
  return t.kind === 'song' ? t.key : null;
};

/** (set index, track index) of every play of a held-out (DJ, song) pair. */
function heldOutPlays(corpus: Tracklist[]): [number, number][] {
  const held = new Set<string>();
  for (let d = 0; d < p.clickTest.rows; d++)
    for (let q = p.clickTest.indptr[d]; q < p.clickTest.indptr[d + 1]; q++)
      held.add(`${p.vocab.djs[d]}\u0000${p.vocab.songKeys[p.clickTest.indices[q]]}`);
  const out: [number, number][] = [];
  corpus.forEach((t, i) =>
    t.tracks.forEach((raw, k) => {
      const key = keyOf(raw);
      if (key !== null && t.djs.some((dj) => held.has(`${dj.trim()}\u0000${key}`))) out.push([i, k]);
    }),
  );
  return out;
}

const same = (a: Csr, b: Csr) =>
  Array.from(a.indptr).join() === Array.from(b.indptr).join() &&
  Array.from(a.indices).join() === Array.from(b.indices).join() &&
  Array.from(a.values).join() === Array.from(b.values).join();

describe('leak-free song graph', () => {
  it('replaces every held-out play by a gap and nothing else', () => {
    const plays = heldOutPlays(tracklists);
    expect(plays.length).toBeGreaterThan(10);
    const { corpus, gapped } = withoutHeldOutPlays(tracklists, p.vocab, p.clickTest);
    expect(gapped).toBe(plays.length);
    expect(heldOutPlays(corpus)).toEqual([]);
    const removed = new Set(plays.map(([i, k]) => `${i},${k}`));
    corpus.forEach((t, i) => {
      expect(t.tracks).toHaveLength(tracklists[i].tracks.length);
      t.tracks.forEach((raw, k) => {
        if (removed.has(`${i},${k}`)) expect(parseTrack(raw).kind).toBe('gap');
        else expect(raw).toBe(tracklists[i].tracks[k]);
      });
    });
  });

  it('a held-out play changes none of its input, while it does change the prepared graph', async () => {
    const [[set, track]] = heldOutPlays(tracklists);
    const dropped = tracklists.map((t, i) => (i === set ? { ...t, tracks: t.tracks.map((r, k) => (k === track ? 'ID - ID' : r)) } : t));
    const doubled = tracklists.map((t, i) => (i === set ? { ...t, tracks: [...t.tracks, t.tracks[track]] } : t));
    const base = await leakFreeSongGraphs(tracklists, p, p.clickTest);
    for (const variant of [dropped, doubled]) {
      const g = await leakFreeSongGraphs(variant, p, p.clickTest);
      expect(same(g.songSong, base.songSong)).toBe(true);
      expect(same(g.songSongNorm, base.songSongNorm)).toBe(true);
    }
    // The original protocol's input does see it (the leak this removes).
    expect(same((await prepare(dropped, { seed: 9 })).songSong, p.songSong)).toBe(false);
  });

  it('is tuned on an inner split whose validation plays are also out of its graph', async () => {
    const lines: string[] = [];
    const { recommender, params } = await fitLeakFreeSongGraph(tracklists, p, (l) => lines.push(l));
    expect(recommender.name).toBe('songgraph-leakfree');
    expect(params.validationNdcg).toBeGreaterThan(0);
    expect(lines[0]).toMatch(/^songgraph-leakfree: \d+ held-out plays removed/);
  });
});
