import { describe, expect, it } from 'vitest';
import { CooBuilder } from '../../shared/graph/csr.ts';
import { RowAliasSampler } from '../../shared/graph/alias.ts';
import { Random } from '../../shared/util/random.ts';

describe('RowAliasSampler', () => {
  it('samples each row in proportion to its values and returns -1 for empty rows', () => {
    const coo = new CooBuilder(3, 5);
    coo.add(0, 1, 1);
    coo.add(0, 3, 3);
    coo.add(0, 4, 6);
    coo.add(2, 2, 0.5);
    const sampler = new RowAliasSampler(coo.toCsr());
    const rng = new Random(3);
    const counts = new Map<number, number>();
    const n = 100_000;
    for (let k = 0; k < n; k++) {
      const c = sampler.sample(0, rng);
      counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([1, 3, 4]);
    expect(counts.get(1)! / n).toBeCloseTo(0.1, 2);
    expect(counts.get(3)! / n).toBeCloseTo(0.3, 2);
    expect(counts.get(4)! / n).toBeCloseTo(0.6, 2);
    expect(sampler.sample(1, rng)).toBe(-1);
    expect(sampler.sample(2, rng)).toBe(2);
  });
});
