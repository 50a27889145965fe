import { describe, expect, it } from 'vitest';
import { synthesize } from '../../shared/corpus/synth.ts';
import { parseTrack } from '../../shared/corpus/trackString.ts';
import type { Tracklist } from '../../shared/corpus/types.ts';
import type { Csr } from '../../shared/graph/csr.ts';
import { prepare, type Prepared } from '../../shared/graph/prepare.ts';

// Issue 18 point 1: the recommendation hold-out must be invisible to every training input. Only
// `prepare` is imported, so this file also runs against a checkout from before the fix (it fails).
const { tracklists } = synthesize('tiny', 3);
const p = await prepare(tracklists, { seed: 9 });

const keyOf = (raw: Tracklist['tracks'][number]) => {
  const t = parseTrack(raw);
  return t.kind === 'song' ? t.key : null;
};

/** Held-out (DJ name, song key) pairs, every spelling of the song. */
function heldOutKeys(q: Prepared): Set<string> {
  const held = new Set<string>();
  for (let d = 0; d < q.clickTest.rows; d++)
    for (let k = q.clickTest.indptr[d]; k < q.clickTest.indptr[d + 1]; k++) {
      const s = q.clickTest.indices[k];
      for (const key of [q.vocab.songKeys[s], ...(q.vocab.songAliases?.[s] ?? []).map((a) => a.key)]) held.add(`${q.vocab.djs[d]}\u0000${key}`);
    }
  return held;
}

const TRAINING_CSR = [
  'songSong', 'songSongNorm', 'artistArtist', 'artistArtistNorm', 'songArtist', 'songArtistMap', 'click', 'clickByDj',
  'clickBySong', 'djArtistByDj', 'djArtistByArtist', 'djDj', 'djDjNorm',
] as const;

/** Names of the training inputs that differ between two prepared corpora. */
function differences(a: Prepared, b: Prepared): string[] {
  const arr = (x: ArrayLike<number>) => Array.from(x).join();
  const csr = (x: Csr, y: Csr) => x.rows === y.rows && x.cols === y.cols && arr(x.indptr) === arr(y.indptr) && arr(x.indices) === arr(y.indices) && arr(x.values) === arr(y.values);
  const out: string[] = TRAINING_CSR.filter((name) => !csr(a[name], b[name]));
  for (const name of ['songPlays', 'songMass', 'songAcappella'] as const) if (arr(a[name]) !== arr(b[name])) out.push(name);
  if (JSON.stringify(a.vocab) !== JSON.stringify(b.vocab)) out.push('vocab');
  // The hold-out itself (its values, ln count, may change: one more play is one more count).
  if (arr(a.clickTest.indptr) !== arr(b.clickTest.indptr) || arr(a.clickTest.indices) !== arr(b.clickTest.indices)) out.push('clickTest');
  if (arr(a.heldOutPairs) !== arr(b.heldOutPairs)) out.push('heldOutPairs');
  return out;
}

/**
 * A held-out (DJ, song) pair of a song without other spellings, a training set of that DJ alone
 * without the song, and the song's track string: where one more held-out play can go.
 */
function extraPlay(): { set: number; track: Tracklist['tracks'][number]; key: string } {
  const held = heldOutKeys(p);
  for (const [set, t] of tracklists.entries()) {
    if (p.sequences.split[set] !== 0 || t.djs.length !== 1 || !t.tracks.includes('ID - ID')) continue;
    const keys = new Set(t.tracks.map(keyOf));
    for (const pair of held) {
      const [dj, key] = pair.split('\u0000');
      const s = p.vocab.songKeys.indexOf(key);
      if (dj !== t.djs[0].trim() || keys.has(key) || s < 0 || p.vocab.songAliases?.[s]) continue;
      const track = tracklists.flatMap((u) => u.tracks).find((r) => keyOf(r) === key)!;
      return { set, track, key };
    }
  }
  throw new Error('tiny corpus has no such pair');
}

describe('leak-free preparation (issue 18)', () => {
  const { set, track } = extraPlay();
  const appended = tracklists.map((t, i) => (i === set ? { ...t, tracks: [...t.tracks, track] } : t));
  const gapAt = tracklists[set].tracks.indexOf('ID - ID');
  const filled = tracklists.map((t, i) => (i === set ? { ...t, tracks: t.tracks.map((r, k) => (k === gapAt ? track : r)) } : t));

  it('one more play of a held-out (DJ, song) pair changes no training input', async () => {
    expect(differences(await prepare(appended, { seed: 9 }), p)).toEqual([]);
    expect(differences(await prepare(filled, { seed: 9 }), p)).toEqual([]);
  });

  it('the original protocol (held-out plays kept) does see it', async () => {
    const original = await prepare(tracklists, { seed: 9, heldOutPlays: 'kept' });
    const changed = differences(await prepare(filled, { seed: 9, heldOutPlays: 'kept' }), original);
    expect(changed).toContain('songSong');
    expect(changed).toContain('songMass');
  });

  it('gaps every held-out play of the training sets, keeps positions and the training sequences', async () => {
    const held = heldOutKeys(p);
    const slot = new Map(p.vocab.songKeys.map((k, i) => [k, i]));
    const heldPlays = new Float64Array(p.vocab.songs.length);
    const allPlays = new Float64Array(p.vocab.songs.length);
    tracklists.forEach((t, i) => {
      if (p.sequences.split[i] !== 0) return;
      for (const raw of t.tracks) {
        const s = slot.get(keyOf(raw) ?? '');
        if (s === undefined) continue;
        allPlays[s]++;
        if (t.djs.some((dj) => held.has(`${dj.trim()}\u0000${p.vocab.songKeys[s]}`))) heldPlays[s]++;
      }
    });
    const total = heldPlays.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(10);
    // Also gapped: held-out pairs of songs or DJs the later filters drop (not in clickTest).
    expect(p.skipped.heldOutPlaysGapped).toBeGreaterThanOrEqual(total);
    p.songPlays.forEach((n, s) => expect(n).toBeLessThanOrEqual(allPlays[s] - heldPlays[s]));
    const original = await prepare(tracklists, { seed: 9, heldOutPlays: 'kept' });
    expect(original.skipped.heldOutPlaysGapped).toBe(0);
    // Same hold-out under both protocols (same (DJ, song) pairs by name), sequences untouched.
    const names = (q: Prepared) => [...heldOutKeys(q)].sort();
    expect(names(p).every((n) => heldOutKeys(original).has(n))).toBe(true);
    expect(names(p).length).toBeLessThanOrEqual(names(original).length);
    expect(p.sequences.offsets).toEqual(original.sequences.offsets);
  });
});
