import { describe, expect, it } from 'vitest';
import { SessionKnn, SessionPrior, sessionEvidenceBuffer, sessionTable } from '../../shared/model/sessionPrior.ts';

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

/** The V-SkNN votes written plainly (sorts, maps), to check the scratch-and-heap version against. */
function referenceVotes(
  sets: number[][],
  recency: Int32Array,
  prefix: number[],
  o: { k: number; sampleSize: number; decay: 'linear' | 'div'; matchDecay: boolean; positional: 'none' | 'symmetric' | 'forward' },
  excludeSession: number,
): Map<number, number> {
  const L = prefix.length;
  const last = new Map<number, number>();
  prefix.forEach((s, i) => s >= 0 && last.set(s, i));
  const firstPos = sets.map((set) => {
    const m = new Map<number, number>();
    set.forEach((s, i) => s >= 0 && !m.has(s) && m.set(s, i));
    return m;
  });
  const sim = new Map<number, number>();
  firstPos.forEach((songs, n) => {
    if (n === excludeSession) return;
    let v = 0;
    for (const [s, i] of last) if (songs.has(s)) v += o.decay === 'linear' ? (i + 1) / L : 1 / (L - i);
    if (v > 0) sim.set(n, v);
  });
  const sampled = [...sim.keys()].sort((a, b) => recency[a] - recency[b]).slice(0, o.sampleSize);
  const nearest = sampled.sort((a, b) => sim.get(b)! - sim.get(a)! || recency[a] - recency[b]).slice(0, o.k);
  const votes = new Map<number, number>();
  for (const n of nearest) {
    let best = -1;
    let m = 0;
    for (const [s, j] of firstPos[n]) if ((last.get(s) ?? -1) > best) [best, m] = [last.get(s)!, j];
    const vote = o.matchDecay ? sim.get(n)! / (L - best) : sim.get(n)!;
    for (const [s, j] of firstPos[n]) {
      if (last.has(s)) continue;
      const d = j - m;
      const w = o.positional === 'none' ? 1 : o.positional === 'symmetric' ? 1 / Math.abs(d) : d > 0 ? 1 / d : 0;
      votes.set(s, (votes.get(s) ?? 0) + vote * w);
    }
  }
  return votes;
}

describe('session kNN selection', () => {
  it('matches a plain sort-based V-SkNN when the sample and neighbour limits bind', () => {
    // 120 random sessions over 40 songs on 10 days, so recency, sampling and k all matter.
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const songs = 40;
    const sets = Array.from({ length: 120 }, () =>
      Array.from({ length: 4 + Math.floor(rand() * 8) }, () => (rand() < 0.1 ? -1 : Math.floor(rand() * songs))),
    );
    const src = source(sets);
    src.days = Int32Array.from(sets, () => Math.floor(rand() * 10));
    const table = sessionTable(src, songs, sets.map((_, t) => t));
    let compared = 0;
    for (const decay of ['linear', 'div'] as const)
      for (const positional of ['none', 'symmetric', 'forward'] as const)
        for (const matchDecay of [false, true]) {
          const options = { k: 7, sampleSize: 15, decay, positional, matchDecay };
          const knn = new SessionKnn(table, songs, options);
          // Half the queries write into one reused buffer (the serving path), half allocate.
          const buffer = sessionEvidenceBuffer(songs);
          for (let q = 0; q < 12; q++) {
            const prefix = Array.from({ length: 1 + (q % 6) }, () => (rand() < 0.15 ? -1 : Math.floor(rand() * songs)));
            const exclude = q % 3 === 0 ? q : -1;
            const e = q % 2 === 0 ? knn.evidence(prefix, exclude, buffer) : knn.evidence(prefix, exclude);
            if (q % 2 === 0) expect(e).toBe(buffer);
            else expect(e.songs.length).toBe(e.count);
            const expected = referenceVotes(sets, table.recency, prefix, options, exclude);
            const got = new Map(Array.from(e.songs.subarray(0, e.count), (s, i) => [s, e.scores[i]]));
            expect([...got.keys()].sort((a, b) => a - b)).toEqual([...expected.keys()].sort((a, b) => a - b));
            for (const [s, v] of expected) expect(got.get(s)).toBeCloseTo(v, 10);
            expect(e.total).toBeCloseTo([...expected.values()].reduce((a, b) => a + b, 0), 10);
            compared += expected.size;
          }
        }
    expect(compared).toBeGreaterThan(500);
  });

  it('refuses a buffer too small for the vocabulary', () => {
    const knn = new SessionKnn(sessionTable(source(SETS), SONGS, [0, 1, 2, 3]), SONGS);
    expect(() => knn.evidence([1], -1, sessionEvidenceBuffer(SONGS - 1))).toThrow(/fewer than 8 songs/);
  });
});
