import { describe, expect, it } from 'vitest';
import { TopK, hitsAtK, ndcgAtK, precisionAtK, rankOf, recallAtK, topK } from '../../training/eval/metrics.ts';
import { Random } from '../../shared/util/random.ts';
import { selectBest } from '../../shared/util/topK.ts';

/** Reference ordering: full sort, score desc then index asc, NaN last. */
function fullSort(scores: ArrayLike<number>, excluded?: Uint8Array): number[] {
  const key = (j: number) => (Number.isNaN(scores[j]) ? -Infinity : scores[j]);
  return Array.from({ length: scores.length }, (_, j) => j)
    .filter((j) => !excluded || !excluded[j])
    .sort((a, b) => key(b) - key(a) || a - b);
}

describe('topK', () => {
  it('returns the best k, best first', () => {
    expect(Array.from(topK([0.1, 0.9, 0.5, 0.7, 0.3], 3))).toEqual([1, 3, 2]);
  });

  it('breaks ties by lower index, whatever order the heap saw them in', () => {
    expect(Array.from(topK([1, 2, 2, 1, 2, 0], 4))).toEqual([1, 2, 4, 0]);
    const h = new TopK(3);
    for (const j of [5, 4, 3, 2, 1, 0]) h.push(j, 1);
    expect(Array.from(h.sorted())).toEqual([0, 1, 2]);
  });

  it('skips excluded songs (a DJ’s training songs)', () => {
    const excluded = Uint8Array.from([0, 1, 0, 1, 0]);
    expect(Array.from(topK([0.1, 0.9, 0.5, 0.7, 0.3], 2, excluded))).toEqual([2, 4]);
    expect(Array.from(topK([0.1, 0.9, 0.5, 0.7, 0.3], 10, excluded))).toEqual([2, 4, 0]);
  });

  it('reports the floor an entry must beat, so a scan in index order can skip the rest', () => {
    const rng = new Random(3);
    const scores = Float32Array.from({ length: 500 }, () => rng.int(30) / 3);
    const all = new TopK(11);
    const skipping = new TopK(11);
    expect(skipping.floor).toBe(-Infinity);
    let skipped = 0;
    scores.forEach((x, j) => {
      all.push(j, x);
      if (x <= skipping.floor) skipped++;
      else skipping.push(j, x);
    });
    expect(Array.from(skipping.sorted())).toEqual(Array.from(all.sorted()));
    expect(skipped).toBeGreaterThan(400);
  });

  it('puts NaN last and handles k = 0', () => {
    expect(Array.from(topK([NaN, 1, -Infinity], 3))).toEqual([1, 0, 2]);
    expect(topK([1, 2, 3], 0)).toHaveLength(0);
  });

  it('agrees with a full sort on random scores with many ties', () => {
    const rng = new Random(7);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + rng.int(300);
      const scores = Float32Array.from({ length: n }, () => rng.int(20) / 4);
      const excluded = Uint8Array.from({ length: n }, () => (rng.next() < 0.2 ? 1 : 0));
      const k = rng.int(40);
      const want = fullSort(scores, excluded).slice(0, k);
      expect(Array.from(topK(scores, k, excluded))).toEqual(want);
      // rankOf is consistent with the same ordering.
      want.forEach((j, r) => expect(rankOf(scores, j, excluded)).toBe(r));
    }
  });
});

describe('rankOf', () => {
  it('counts better songs, ties to lower indices, excluded ignored', () => {
    const scores = [0.5, 0.9, 0.5, 0.1, 0.5];
    expect(rankOf(scores, 2)).toBe(2); // 1 (0.9) and 0 (tie, lower index)
    expect(rankOf(scores, 2, Uint8Array.from([0, 1, 0, 0, 0]))).toBe(1);
    expect(rankOf(scores, 3)).toBe(4);
  });
});

describe('recall, precision, ndcg', () => {
  const ranked = [3, 1, 4, 0];
  const relevant = [1, 0, 9];

  it('match hand-computed values', () => {
    expect(hitsAtK(ranked, relevant, 3)).toBe(1);
    expect(recallAtK(ranked, relevant, 3)).toBeCloseTo(1 / 3, 12);
    expect(precisionAtK(ranked, relevant, 3)).toBeCloseTo(1 / 3, 12);
    const idcg = 1 + 1 / Math.log2(3) + 1 / Math.log2(4);
    expect(ndcgAtK(ranked, relevant, 3)).toBeCloseTo(1 / Math.log2(3) / idcg, 12);
    expect(ndcgAtK(ranked, relevant, 4)).toBeCloseTo((1 / Math.log2(3) + 1 / Math.log2(5)) / idcg, 12);
    expect(recallAtK(ranked, new Set(relevant), 4)).toBeCloseTo(2 / 3, 12);
  });

  it('ideal DCG runs over min(k, |test|)', () => {
    // One relevant song at rank 1 is a perfect ranking whatever k is.
    expect(ndcgAtK([7, 1, 2], [7], 3)).toBe(1);
    // Two relevant, k = 1, first is relevant: perfect at k = 1.
    expect(ndcgAtK([7, 8], [7, 8], 1)).toBe(1);
    expect(ndcgAtK([1, 7], [7], 2)).toBeCloseTo(1 / Math.log2(3), 12);
  });

  it('short lists count missing slots as misses; empty relevance gives 0', () => {
    expect(precisionAtK([5], [5], 4)).toBe(0.25);
    expect(recallAtK([5], [], 4)).toBe(0);
    expect(ndcgAtK([5], [], 4)).toBe(0);
  });
});

describe('selectBest (quickselect used by session kNN)', () => {
  it('puts exactly the k best first, by key then tie, for every k', () => {
    let seed = 3;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (const n of [1, 2, 7, 50, 333]) {
      // Few distinct keys, so ties decide often.
      const key = Float64Array.from({ length: n }, () => Math.floor(rand() * 5));
      const tie = Int32Array.from({ length: n }, (_, i) => i).sort(() => rand() - 0.5);
      for (const sign of [1, -1] as const) {
        const order = Array.from({ length: n }, (_, i) => i).sort(
          (a, b) => sign * (key[b] - key[a]) || tie[a] - tie[b],
        );
        for (const k of [1, Math.ceil(n / 3), n]) {
          const ids = Int32Array.from({ length: n }, (_, i) => i).sort(() => rand() - 0.5);
          selectBest(ids, n, k, key, sign, tie);
          expect(Array.from(ids.subarray(0, k)).sort((a, b) => a - b)).toEqual(order.slice(0, k).sort((a, b) => a - b));
        }
      }
    }
  });
});
