import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileKernels, kernelsModuleText } from '../../scripts/buildKernels.ts';
import { accumulateRows, kernelMode, RowMatrix } from '../../shared/model/rowMatrix.ts';
import { dotAll } from '../../shared/model/similarity.ts';
import { Random } from '../../shared/util/random.ts';

function randomMatrix(rng: Random, rows: number, width: number): Float32Array {
  return Float32Array.from({ length: rows * width }, () => rng.next() * 2 - 1);
}

function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}

describe('RowMatrix kernels', () => {
  it('the committed wasm binary is kernels.wat compiled', async () => {
    const committed = readFileSync(new URL('../../shared/model/kernelsBinary.ts', import.meta.url), 'utf8');
    expect(committed).toBe(kernelsModuleText(await compileKernels()));
  });

  it('runs the SIMD kernels on this Node', () => {
    expect(kernelMode()).toBe('wasm');
    expect(new RowMatrix(new Float32Array(8), 4).mode).toBe('wasm');
  });

  it('dot matches the scalar reference for widths and row counts that are not block multiples', () => {
    const rng = new Random(3);
    for (const [rows, width] of [
      [1, 4],
      [37, 8],
      [1001, 32],
      [513, 64],
    ]) {
      const data = randomMatrix(rng, rows, width);
      const query = Float64Array.from({ length: width }, () => rng.next() - 0.5);
      const wasm = new RowMatrix(data, width, 'wasm');
      const scalar = new RowMatrix(data, width, 'ts');
      expect(wasm.mode).toBe('wasm');
      expect(scalar.mode).toBe('ts');
      const expected = dotAll(data, width, query, new Float32Array(rows));
      expect(maxRelativeError(wasm.dot(query), expected)).toBeLessThan(1e-5);
      expect(Array.from(scalar.dot(query))).toEqual(Array.from(expected));
    }
  });

  it('accumulate adds x · rows[offset ..] into z, as the scalar reference does', () => {
    const rng = new Random(4);
    for (const [rows, cols, offset, n] of [
      [160, 640, 0, 160],
      [81, 640, 0, 81],
      [1360, 64, 0, 160],
      [50, 12, 7, 13],
    ]) {
      const data = randomMatrix(rng, rows, cols);
      const x = Float64Array.from({ length: n }, () => rng.next() - 0.5);
      const start = Float64Array.from({ length: cols }, () => rng.next());
      const expected = start.slice();
      accumulateRows(expected, x, data, offset, cols);
      const z = start.slice();
      new RowMatrix(data, cols, 'wasm').accumulate(z, x, offset);
      expect(maxRelativeError(z, expected)).toBeLessThan(1e-5);
      // The product itself changed z (the test would pass vacuously on a no-op otherwise).
      expect(maxRelativeError(z, start)).toBeGreaterThan(1e-2);
    }
  });

  it('falls back to the scalar loops when the width is not a multiple of 4', () => {
    const m = new RowMatrix(Float32Array.from([1, 2, 3, 4, 5, 6]), 3, 'wasm');
    expect(m.mode).toBe('ts');
    expect(Array.from(m.dot([1, 0, 1]))).toEqual([4, 10]);
  });

  it('rejects shapes that do not fit', () => {
    expect(() => new RowMatrix(new Float32Array(7), 4)).toThrow(/width 4/);
    const m = new RowMatrix(new Float32Array(16), 4);
    expect(() => m.dot([1, 2, 3])).toThrow(/query of 3/);
    expect(() => m.accumulate(new Float64Array(4), [1, 2, 3], 2)).toThrow(/shapes/);
  });
});

describe('RowMatrix.build and dotRange', () => {
  it('fills in place and ranges over any run of rows, in both kernel modes', () => {
    const rng = new Random(5);
    const [rows, width] = [101, 12];
    const data = randomMatrix(rng, rows, width);
    const query = Float64Array.from({ length: width }, () => rng.next() - 0.5);
    for (const mode of ['wasm', 'ts'] as const) {
      const built = RowMatrix.build(rows, width, (d) => d.set(data), mode);
      expect(built.mode).toBe(mode);
      expect(Array.from(built.data)).toEqual(Array.from(data));
      const all = built.dot(query);
      const part = built.dotRange(query, 37, 20, new Float32Array(20));
      expect(Array.from(part)).toEqual(Array.from(all.subarray(37, 57)));
      expect(() => built.dotRange(query, 90, 20, new Float32Array(20))).toThrow(RangeError);
    }
  });
});
