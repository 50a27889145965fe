import { describe, expect, it } from 'vitest';
import { SessionKnn, SessionPrior, sessionTable } from '../../shared/model/sessionPrior.ts';

/** Sessions as prepared sequences (ids < 0 are gaps), all on day 0 so recency is corpus order. */
function source(sets: number[][]) {
  const offsets = new Int32Array(sets.length + 1);
  sets.forEach((s, t) => (offsets[t + 1] = offsets[t] + s.length));
  return { songs: Int32Array.from(sets.flat()), offsets, days: new Int32Array(sets.length) };
}

const SONGS = 8;
const SETS = [
  [0, 1, 2],
  [1, -1, 3],
  [4, 5],
  [1, 6, 7],
];

describe('session kNN (shared by the vsknn baseline and the tracklist model)', () => {
  const table = sessionTable(source(SETS), SONGS, [0, 1, 2, 3]);

  it('votes with each neighbour’s similarity for its unplayed songs, sparse and dense alike', () => {
    const knn = new SessionKnn(table, SONGS);
    // Prefix [1]: sessions 0, 1 and 3 share song 1 (similarity 1); session 2 shares nothing.
    const e = knn.evidence([1]);
    const sparse = new Map(Array.from(e.songs, (s, i) => [s, e.scores[i]]));
    expect(Object.fromEntries(sparse)).toEqual({ 0: 1, 2: 1, 3: 1, 6: 1, 7: 1 });
    expect(e.total).toBe(5);
    const dense = new Float64Array(SONGS);
    knn.score([1], dense);
    expect(Array.from(dense)).toEqual([1, 0, 1, 1, 0, 0, 1, 1]);
    // Linear decay over positions (gaps count): [2, gap, 1] weighs song 1 by 3/3 and song 2 by 1/3.
    const d = new Float64Array(SONGS);
    knn.score([2, -1, 1], d);
    expect(d[0]).toBeCloseTo(4 / 3, 12); // session 0 holds both: 1/3 + 1
    expect(d[3]).toBeCloseTo(1, 12);
  });

  it('leaves the excluded session out of the neighbours', () => {
    const knn = new SessionKnn(table, SONGS);
    const e = knn.evidence([1], 0);
    expect(Array.from(e.songs).sort()).toEqual([3, 6, 7]);
    // Scratch is reset: the same query again gives the same answer.
    expect(Array.from(knn.evidence([1], 0).scores)).toEqual(Array.from(e.scores));
    expect(knn.evidence([]).songs.length).toBe(0);
  });

  it('mixes evidence with popularity into a distribution; clusters sum their songs', () => {
    const knn = new SessionKnn(table, SONGS);
    const popularity = Float32Array.from([3, 1, 1, 1, 1, 1, 1, 1], (c) => c / 10);
    const beta = 2;
    const prior = new SessionPrior(knn, popularity, beta);
    const e = prior.evidence([1, 6]);
    const all = Int32Array.from({ length: SONGS }, (_, s) => s);
    const logp = new Float64Array(SONGS);
    prior.logProbs(e, all, null, popularity, logp, 0);
    const p = Array.from(logp, Math.exp);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // P(s) = (score + β·pop) / (S + β·Σpop), played songs keep their popularity share.
    const dense = new Float64Array(SONGS);
    knn.score([1, 6], dense);
    const z = dense.reduce((a, b) => a + b, 0) + beta;
    for (let s = 0; s < SONGS; s++) expect(p[s]).toBeCloseTo((dense[s] + beta * popularity[s]) / z, 6);
    // Two clusters: even and odd songs.
    const labels = Int32Array.from(all, (s) => s % 2);
    const clusterPop = [0, 1].map((c) =>
      Array.from(popularity).reduce((a, x, s) => a + (s % 2 === c ? x : 0), 0),
    );
    const clusters = new Float64Array(2);
    prior.logProbs(e, [0, 1], labels, clusterPop, clusters, 0);
    for (const c of [0, 1])
      expect(Math.exp(clusters[c])).toBeCloseTo(
        p.reduce((a, x, s) => a + (s % 2 === c ? x : 0), 0),
        6,
      );
  });
});
