import { describe, expect, it } from 'vitest';
import {
  CooBuilder,
  type Csr,
  gcnNormalize,
  get,
  multiply,
  multiplyDense,
  normalizeCols,
  normalizeRows,
  plusTranspose,
  sparsifyRowsByMass,
  subMatrix,
  symmetrizeMax,
  topKPerRow,
  transpose,
} from '../../shared/graph/csr.ts';
import { Random } from '../../shared/util/random.ts';

function randomSparse(rng: Random, rows: number, cols: number, density: number): number[][] {
  return Array.from({ length: rows }, () =>
    Array.from({ length: cols }, () => (rng.next() < density ? Math.round(rng.next() * 9 + 1) : 0)),
  );
}

function fromDense(d: number[][]): Csr {
  const coo = new CooBuilder(d.length, d[0].length);
  d.forEach((row, i) => row.forEach((v, j) => v !== 0 && coo.add(i, j, v)));
  return coo.toCsr();
}

function toDense(m: Csr): number[][] {
  const d = Array.from({ length: m.rows }, () => new Array<number>(m.cols).fill(0));
  for (let i = 0; i < m.rows; i++) for (let p = m.indptr[i]; p < m.indptr[i + 1]; p++) d[i][m.indices[p]] = m.values[p];
  return d;
}

function denseMul(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
}

describe('CSR', () => {
  const rng = new Random(7);
  const a = randomSparse(rng, 13, 9, 0.3);
  const b = randomSparse(rng, 9, 11, 0.3);

  it('sums duplicates, sorts columns and drops zeros when built from coordinates', () => {
    const coo = new CooBuilder(2, 4, 2);
    coo.add(1, 3, 1);
    coo.add(0, 2, 2);
    coo.add(1, 0, 5);
    coo.add(1, 3, 2);
    coo.add(0, 1, 1);
    coo.add(0, 1, -1);
    const m = coo.toCsr();
    expect(Array.from(m.indptr)).toEqual([0, 1, 3]);
    expect(Array.from(m.indices)).toEqual([2, 0, 3]);
    expect(Array.from(m.values)).toEqual([2, 5, 3]);
    expect(get(m, 1, 3)).toBe(3);
    expect(get(m, 0, 1)).toBe(0);
  });

  it('transposes and multiplies like dense matrices', () => {
    expect(toDense(transpose(fromDense(a)))).toEqual(a[0].map((_, j) => a.map((row) => row[j])));
    expect(toDense(multiply(fromDense(a), fromDense(b)))).toEqual(denseMul(a, b));
    const x = Float32Array.from({ length: 9 * 3 }, (_, k) => (k % 5) - 2);
    const xd = Array.from({ length: 9 }, (_, i) => [0, 1, 2].map((c) => x[i * 3 + c]));
    expect(Array.from(multiplyDense(fromDense(a), x, 3))).toEqual(denseMul(a, xd).flat());
  });

  it('normalises rows and columns to sum to one', () => {
    const r = toDense(normalizeRows(fromDense(a)));
    const rowSums = r.map((row) => row.reduce((x, y) => x + y, 0));
    // Every row with an entry sums to one; empty rows stay empty.
    expect(rowSums.filter((s) => s > 0)).toHaveLength(a.filter((row) => row.some((v) => v !== 0)).length);
    for (const s of rowSums) if (s > 0) expect(s).toBeCloseTo(1, 5);
    const c = toDense(normalizeCols(fromDense(a)));
    const colSums = a[0].map((_, j) => c.reduce((x, row) => x + row[j], 0));
    expect(colSums.filter((s) => s > 0)).toHaveLength(a[0].filter((_, j) => a.some((row) => row[j] !== 0)).length);
    for (const s of colSums) if (s > 0) expect(s).toBeCloseTo(1, 5);
  });

  it('keeps the strongest entries that first cover the share of row mass', () => {
    const m = fromDense([[5, 1, 3, 1, 0]]);
    // total 10: 5 (50 %) then 3 reaches 80 % ≥ 60 %
    expect(toDense(sparsifyRowsByMass(m, 0.6))).toEqual([[5, 0, 3, 0, 0]]);
    expect(toDense(sparsifyRowsByMass(m, 0.5))).toEqual([[5, 0, 0, 0, 0]]);
    expect(toDense(topKPerRow(m, 2))).toEqual([[5, 0, 3, 0, 0]]);
  });

  it('symmetrises by maximum and by sum', () => {
    const m = fromDense([
      [0, 2, 0],
      [3, 0, 1],
      [0, 0, 0],
    ]);
    expect(toDense(symmetrizeMax(m))).toEqual([
      [0, 3, 0],
      [3, 0, 1],
      [0, 1, 0],
    ]);
    expect(toDense(plusTranspose(m))).toEqual([
      [0, 5, 0],
      [5, 0, 1],
      [0, 1, 0],
    ]);
  });

  it('applies the GCN normalisation D^-1/2 (A + I) D^-1/2', () => {
    const n = toDense(gcnNormalize(fromDense([[0, 1], [1, 0]])));
    // A + I = all ones, degrees 2 → every entry 1/2
    for (const row of n) for (const v of row) expect(v).toBeCloseTo(0.5, 6);
    const iso = toDense(gcnNormalize(fromDense([[0, 0], [0, 0]])));
    expect(iso).toEqual([[1, 0], [0, 1]]);
  });

  it('extracts sub-matrices by index lists', () => {
    const s = toDense(subMatrix(fromDense(a), [4, 0], [8, 2]));
    expect(s).toEqual([
      [a[4][8], a[4][2]],
      [a[0][8], a[0][2]],
    ]);
  });
});
