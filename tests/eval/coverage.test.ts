import { describe, expect, it } from 'vitest';
import { parseTrack } from '../../shared/corpus/trackString.ts';
import { formatCoverage, heldOutCoverage } from '../../training/eval/coverage.ts';

const key = (s: string) => {
  const p = parseTrack(s);
  if (p.kind !== 'song') throw new Error(s);
  return p.key;
};

describe('held-out coverage (issue 18)', () => {
  it('counts identified plays and distinct songs, with merged spellings as the song', () => {
    const vocab = { songKeys: [key('A - One'), key('B - Two')], songAliases: { 1: [{ key: key('B - Two (Original Mix)'), name: 'B - Two (Original Mix)' }] } };
    const sets = [
      { id: '1', date: null, djs: ['X'], tracks: ['A - One', 'ID - ID', 'C - Three', 'A - One'] },
      { id: '2', date: null, djs: ['Y'], tracks: ['B - Two (Original Mix)', 'D - Four', 'C - Three'] },
    ];
    const c = heldOutCoverage(sets, vocab as never);
    // Plays: A, C, A, B-alias, D, C = 6 identified (the gap is not a song); in vocabulary A, A, B = 3.
    expect(c).toEqual({ plays: 6, playsInVocabulary: 3, songs: 4, songsInVocabulary: 2 });
    expect(formatCoverage(c)).toBe('coverage: 3 of 6 identified held-out plays (50.0 %) and 2 of 4 distinct played songs (50.0 %) are in the vocabulary the models score');
  });
});
