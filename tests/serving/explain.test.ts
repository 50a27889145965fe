import { describe, expect, it } from 'vitest';
import { CooBuilder } from '../../shared/graph/csr.ts';
import { clusterNames, explainTracklist } from '../../shared/model/explain.ts';
import type { GeneratedSong } from '../../shared/model/generate.ts';
import { SessionKnn, SessionPrior, sessionTable } from '../../shared/model/sessionPrior.ts';
import { TracklistModel } from '../../shared/model/tracklistInference.ts';
import { TransitionPrior } from '../../shared/model/transitionPrior.ts';
import { randomTracklistArtifact, SMALL_TRACKLIST } from './fixtures.ts';

const SONGS = 40;
const SETS = [
  [0, 1, 2, 3],
  [1, 5, 7],
  [4, 5, 6, 8, 9],
  [0, 2, 5, 7],
];
const popularity = Float32Array.from({ length: SONGS }, () => 1 / SONGS);

function model(): TracklistModel {
  const sets = { songs: Int32Array.from(SETS.flat()), offsets: Int32Array.from([0, 4, 7, 12, 16]), days: Int32Array.from([0, 1, 2, 3]) };
  const transitions = new CooBuilder(SONGS, SONGS, 8);
  [[0, 1, 3], [1, 2, 1], [1, 5, 2], [5, 7, 4], [2, 5, 2]].forEach(([a, b, c]) => transitions.add(a, b, c));
  return new TracklistModel(
    randomTracklistArtifact({
      ...SMALL_TRACKLIST,
      songs: SONGS,
      prior: { prior: new TransitionPrior(transitions.toCsr(), popularity, 0.8), weights: [0.3, 0.4, 0.5, 0.7] },
      session: { prior: new SessionPrior(new SessionKnn(sessionTable(sets, SONGS, [0, 1, 2, 3]), SONGS), popularity, 0.5), weights: [0.4, 0.6, 0.8, 1.2] },
    }),
  );
}

const generated = (songs: number[]): GeneratedSong[] =>
  songs.map((song, i) => ({ song, userScore: i / 10, songScore: 1 - i / 10, logProb: { l3: -0.1 * i, l2: -0.2, l1: 0, song: -1 } }));

describe('explanations of a generated tracklist', () => {
  const tl = model();
  const names = { l3: [] as string[], l2: [] as string[], l1: [] as string[] };
  for (const level of ['l3', 'l2', 'l1'] as const) for (let c = 0; c < tl.sizes[level]; c++) names[level].push(`${level}-${c}`);

  it('say how each song was picked, its path, and terms that add up to the model logit', () => {
    const songs = [0, 1, 5, 7, 2];
    const why = explainTracklist(tl, {}, generated(songs), { prefixLength: 1, warmStart: 2, names });
    expect(why.map((w) => w.pickedBy)).toEqual(['seed', 'prefix', 'warmStart', 'model', 'model']);
    expect(why[0].terms).toBeNull();
    why.forEach((w, i) => {
      const path = tl.path(songs[i]);
      expect(w.path.map((p) => [p.level, p.cluster, p.name])).toEqual([
        ['l3', path.l3, `l3-${path.l3}`],
        ['l2', path.l2, `l2-${path.l2}`],
        ['l1', path.l1, `l1-${path.l1}`],
      ]);
      expect(w.path[0].probability).toBeCloseTo(Math.exp(-0.1 * i), 12);
      expect(w.userScore).toBe(i / 10);
      expect(w.seedScore).toBe(1 - i / 10);
    });
    // The terms are the chosen song's share of the logit the generator sampled from.
    let state = tl.run([0]);
    for (let i = 1; i < songs.length; i++) {
      const { set, logits } = tl.setLogits('song', state, tl.path(songs[i]).l1);
      const at = set ? set.indexOf(songs[i]) : songs[i];
      const t = why[i].terms!;
      expect(t.network.logit + t.transition!.logit + t.session!.logit).toBeCloseTo(logits[at], 5);
      for (const term of [t.network, t.transition!, t.session!]) {
        expect(term.of).toBe(logits.length);
        expect(term.rank).toBeGreaterThanOrEqual(1);
        expect(term.rank).toBeLessThanOrEqual(term.of);
      }
      state = tl.step(state, songs[i]);
    }
    // How often training played each transition: 0→1 three times, 1→5 twice, 5→7 four times, 7→2 never.
    expect(why.slice(1).map((w) => w.terms!.transition!.seen)).toEqual([3, 2, 4, 0]);
    expect(why[3].terms!.transition!.rank).toBe(1);
  });

  it('name the training set that plays the song and shares most of the set', () => {
    const why = explainTracklist(tl, {}, generated([0, 1, 5, 7, 2]), { prefixLength: 0, warmStart: 0, names });
    // 7 after [0, 1, 5]: set 1 ([1, 5, 7]) shares 1 and 5, set 3 ([0, 2, 5, 7]) 0 and 5: the tie
    // goes to the more recent set 3.
    expect(why[3].terms!.session!.closestSet).toEqual({ shared: [0, 5], sharedCount: 2 });
    // 2 after [0, 1, 5, 7]: set 0 shares 0 and 1, set 3 shares 0, 5 and 7.
    expect(why[4].terms!.session!.closestSet).toEqual({ shared: [0, 5, 7], sharedCount: 3 });
    expect(why[4].terms!.session!.voteShare).toBeGreaterThan(0);
    expect(why[4].terms!.session!.voteShare).toBeLessThanOrEqual(1);
    // Song 1 after [0]: only set 0 plays both.
    expect(why[1].terms!.session!.closestSet).toEqual({ shared: [0], sharedCount: 1 });
  });

  it('name clusters by their most played artists, leaving out the ones naming their parents', () => {
    // Song s is by artist s; plays fall with the index.
    const credits = new CooBuilder(SONGS, SONGS, SONGS);
    for (let s = 0; s < SONGS; s++) credits.add(s, s, 1);
    const plays = Float32Array.from({ length: SONGS }, (_, s) => SONGS - s);
    const named = clusterNames(tl, credits.toCsr(), plays, (a) => `A${a}`);
    for (const level of ['l3', 'l2', 'l1'] as const) {
      for (let c = 0; c < tl.sizes[level]; c++) {
        const members = Array.from({ length: SONGS }, (_, s) => s).filter((s) => tl.path(s)[level] === c);
        const name = named[level][c];
        if (members.length === 0) expect(name).toBe('');
        else for (const artist of name.split(', ')) expect(members.some((s) => `A${s}` === artist)).toBe(true);
      }
    }
    // The top cluster of song 0 is named after its most played artist.
    const top = tl.path(0).l3;
    const artistPlays = new Map<string, number>();
    for (let s = 0; s < SONGS; s++) if (tl.path(s).l3 === top) artistPlays.set(`A${s}`, (artistPlays.get(`A${s}`) ?? 0) + plays[s]);
    const best = [...artistPlays.entries()].sort((x, y) => y[1] - x[1])[0][0];
    expect(named.l3[top].split(', ')[0]).toBe(best);
    // Its children list other artists than the parent's where they have any.
    const parent = new Set(named.l3[top].split(', '));
    const l2Members = Array.from({ length: SONGS }, (_, s) => s).filter((s) => tl.path(s).l2 === tl.path(0).l2);
    expect(l2Members.some((s) => !parent.has(`A${s}`))).toBe(true);
    for (const a of named.l2[tl.path(0).l2].split(', ')) expect(parent.has(a)).toBe(false);
  });
});
