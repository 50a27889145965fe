import { describe, expect, it } from 'vitest';
import { RowMatrix } from '../../shared/model/rowMatrix.ts';
import { normalizeRowsL2, similarTo, topK } from '../../shared/model/similarity.ts';
import { Random } from '../../shared/util/random.ts';

describe('similarity search', () => {
  it('topK matches a full sort, honours exclusions and breaks ties by index', () => {
    const rng = new Random(5);
    const scores = Float32Array.from({ length: 1000 }, () => Math.round(rng.next() * 50));
    const expected = Array.from(scores, (s, i) => ({ s, i }))
      .filter(({ i }) => i % 7 !== 0)
      .sort((a, b) => b.s - a.s || a.i - b.i)
      .slice(0, 25)
      .map(({ i }) => i);
    expect(topK(scores, 25, (i) => i % 7 === 0).map((x) => x.index)).toEqual(expected);
    expect(topK([1, 2], 5).map((x) => x.index)).toEqual([1, 0]);
  });

  it('finds the nearest rows by cosine, scored 1 + cos, excluding the query', () => {
    const x = new RowMatrix(normalizeRowsL2(Float32Array.from([1, 0, 0.9, 0.1, 0, 1, -1, 0]), 2), 2);
    const sims = similarTo(x, 0, 3);
    expect(sims.map((s) => s.index)).toEqual([1, 2, 3]);
    expect(sims[0].score).toBeCloseTo(1 + 0.9 / Math.hypot(0.9, 0.1), 5);
    expect(sims[2].score).toBeCloseTo(0, 5);
  });
});
