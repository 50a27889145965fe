import { describe, expect, it } from 'vitest';
import { CooBuilder, type Csr } from '../../shared/graph/csr.ts';
import { Random } from '../../shared/util/random.ts';
import {
  activeClusters,
  compactLabels,
  conductance,
  meanConductance,
  modularity,
  nmi,
} from '../../training/dmon/metrics.ts';

function undirected(n: number, edges: [number, number, number?][]): Csr {
  const coo = new CooBuilder(n, n);
  for (const [i, j, w = 1] of edges) {
    coo.add(i, j, w);
    if (i !== j) coo.add(j, i, w);
  }
  return coo.toCsr();
}

// Two triangles joined by one edge: m = 7, each side has 3 internal edges and volume 7.
const barbell = undirected(6, [
  [0, 1],
  [1, 2],
  [0, 2],
  [3, 4],
  [4, 5],
  [3, 5],
  [2, 3],
]);

/** Q = 1/2m Σ_ij (A_ij − d_i d_j / 2m) δ(c_i, c_j), straight from the definition. */
function bruteModularity(dense: number[][], labels: number[]): number {
  const d = dense.map((row) => row.reduce((a, b) => a + b, 0));
  const twoM = d.reduce((a, b) => a + b, 0);
  let q = 0;
  for (let i = 0; i < dense.length; i++)
    for (let j = 0; j < dense.length; j++)
      if (labels[i] === labels[j]) q += dense[i][j] - (d[i] * d[j]) / twoM;
  return q / twoM;
}

describe('modularity', () => {
  it('matches hand-computed values on two joined triangles', () => {
    expect(modularity(barbell, [0, 0, 0, 1, 1, 1])).toBeCloseTo(5 / 14, 12);
    expect(modularity(barbell, [7, 7, 7, 7, 7, 7])).toBeCloseTo(0, 12);
    // Singletons: −Σ (d_i / 2m)² with degrees 2,2,3,3,2,2 and 2m = 14.
    expect(modularity(barbell, [0, 1, 2, 3, 4, 5])).toBeCloseTo(-(4 * 4 + 2 * 9) / 196, 12);
    // Labels are arbitrary integers.
    expect(modularity(barbell, [-3, -3, -3, 40, 40, 40])).toBeCloseTo(5 / 14, 12);
  });

  it('uses edge weights', () => {
    // Path 0 –3– 1 –1– 2: 2m = 8; {0,1} holds 6 internal, volume 7; {2} volume 1.
    const path = undirected(3, [
      [0, 1, 3],
      [1, 2, 1],
    ]);
    expect(modularity(path, [0, 0, 1])).toBeCloseTo(6 / 8 - (7 / 8) ** 2 - (1 / 8) ** 2, 12);
  });

  it('agrees with the definition on a random weighted graph', () => {
    const rng = new Random(5);
    const n = 30;
    const dense = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    const edges: [number, number, number][] = [];
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++)
        if (rng.next() < 0.2) {
          const w = 1 + rng.int(5);
          dense[i][j] = dense[j][i] = w;
          edges.push([i, j, w]);
        }
    const labels = Array.from({ length: n }, () => rng.int(4));
    expect(modularity(undirected(n, edges), labels)).toBeCloseTo(bruteModularity(dense, labels), 10);
  });
});

describe('conductance', () => {
  it('DMoN paper form is the share of weight crossing clusters', () => {
    expect(conductance(barbell, [0, 0, 0, 1, 1, 1])).toBeCloseTo(2 / 14, 12);
    expect(conductance(barbell, [0, 0, 0, 0, 0, 0])).toBe(0);
    expect(conductance(barbell, [0, 1, 2, 3, 4, 5])).toBeCloseTo(1, 12);
  });

  it('mean form averages cut / min(vol, 2m − vol) over clusters', () => {
    expect(meanConductance(barbell, [0, 0, 0, 1, 1, 1])).toBeCloseTo(1 / 7, 12);
    // {0,1}: cut 2 (edges 0–2, 1–2), vol 4 → 1/2; {2,3,4,5}: cut 2, vol 10, 2m − vol 4 → 1/2.
    expect(meanConductance(barbell, [0, 0, 1, 1, 1, 1])).toBeCloseTo(0.5, 12);
    const path = undirected(3, [
      [0, 1, 3],
      [1, 2, 1],
    ]);
    expect(meanConductance(path, [0, 0, 1])).toBeCloseTo(1, 12);
    expect(conductance(path, [0, 0, 1])).toBeCloseTo(2 / 8, 12);
  });
});

describe('nmi (arithmetic normalisation, as scikit-learn)', () => {
  it('is 1 for the same partition under any relabelling and 0 for independent ones', () => {
    expect(nmi([0, 0, 1, 1, 2, 2], [5, 5, 9, 9, 1, 1])).toBeCloseTo(1, 12);
    expect(nmi([0, 0, 1, 1], [0, 1, 0, 1])).toBe(0);
    expect(nmi([3, 3, 3], [1, 1, 1])).toBe(1);
    expect(nmi([0, 0, 0, 0], [0, 1, 0, 1])).toBe(0);
  });

  it('matches a hand-computed value', () => {
    // MI = (2/3) ln 2, H = ln 2 and ln 3: NMI = (4/3) ln 2 / ln 6 ≈ 0.5158037 (sklearn's value).
    const expected = ((4 / 3) * Math.log(2)) / Math.log(6);
    expect(nmi([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2])).toBeCloseTo(expected, 12);
    expect(expected).toBeCloseTo(0.5158037429793889, 12);
    expect(nmi([0, 0, 1, 1, 2, 2], [0, 0, 0, 1, 1, 1])).toBeCloseTo(expected, 12);
  });
});

describe('cluster counts', () => {
  it('counts distinct labels', () => {
    expect(activeClusters([4, 4, 9, 0, 9])).toBe(3);
    expect(compactLabels([4, 4, 9, 0]).ids).toEqual(Int32Array.from([0, 0, 1, 2]));
  });
});
