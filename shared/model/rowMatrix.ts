import { KERNELS_WASM_BASE64 } from './kernelsBinary.ts';
import { dotAll } from './similarity.ts';

/**
 * Row-major float32 matrices with the two products inference needs: `dot` (every row · a query)
 * and `accumulate` (z += x · rows). Each matrix is copied into its own WebAssembly memory and run
 * by the SIMD kernels of kernels.wat (four f32 lanes; `tlgen bench generate` times both);
 * the plain-TypeScript loops below are the reference and the fallback (no WebAssembly SIMD, a
 * width that is not a multiple of 4, or TRACKLIST_KERNELS=ts). Both accumulate in float32 order
 * as tfjs does, within ~1e-6 relative of each other.
 */

export type KernelMode = 'wasm' | 'ts';

interface KernelExports {
  dotRows(rows: number, n: number, width: number, query: number, out: number): void;
  accumulateRows(w: number, n: number, cols: number, x: number, z: number): void;
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled kernels, or null where WebAssembly SIMD is unavailable. */
function kernelsModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    const bytes = Buffer.from(KERNELS_WASM_BASE64, 'base64');
    compiled = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return compiled;
}

let requested: KernelMode | null = null;

/** Chooses the kernels for matrices made from now on (benchmarks compare both in one run). */
export function setKernelMode(mode: KernelMode | null): void {
  requested = mode;
}

/** The kernels new matrices use: the requested mode, else TRACKLIST_KERNELS, else wasm when available. */
export function kernelMode(): KernelMode {
  const mode = requested ?? (process.env.TRACKLIST_KERNELS === 'ts' ? 'ts' : 'wasm');
  return mode === 'wasm' && kernelsModule() ? 'wasm' : 'ts';
}

/** z += x · W[rowOffset .. rowOffset + x.length) for row-major W of width `cols` (scalar reference). */
export function accumulateRows(
  z: Float64Array,
  x: ArrayLike<number>,
  w: Float32Array,
  rowOffset: number,
  cols: number,
): void {
  const rows = x.length;
  let i = 0;
  // Eight rows per pass over z: four times fewer loads and stores of z than one row at a time.
  for (; i + 7 < rows; i += 8) {
    const v0 = x[i],
      v1 = x[i + 1],
      v2 = x[i + 2],
      v3 = x[i + 3];
    const v4 = x[i + 4],
      v5 = x[i + 5],
      v6 = x[i + 6],
      v7 = x[i + 7];
    const o = (rowOffset + i) * cols;
    for (let j = 0; j < cols; j++) {
      const p = o + j;
      z[j] +=
        v0 * w[p] +
        v1 * w[p + cols] +
        v2 * w[p + 2 * cols] +
        v3 * w[p + 3 * cols] +
        v4 * w[p + 4 * cols] +
        v5 * w[p + 5 * cols] +
        v6 * w[p + 6 * cols] +
        v7 * w[p + 7 * cols];
    }
  }
  for (; i < rows; i++) {
    const v = x[i];
    const o = (rowOffset + i) * cols;
    for (let j = 0; j < cols; j++) z[j] += v * w[o + j];
  }
}

const PAGE = 65536;

export class RowMatrix {
  readonly rows: number;
  readonly width: number;
  /** The values: a view into the kernels' memory when they run, else the array given. */
  readonly data: Float32Array;
  readonly mode: KernelMode;
  private readonly kernels: KernelExports | null;
  /** Scratch views for the vector argument and the result, and their byte offsets. */
  private readonly input: Float32Array;
  private readonly output: Float32Array;
  private readonly inputAt: number;
  private readonly outputAt: number;

  /**
   * A [rows, width] matrix whose values `fill` writes straight into its storage: no intermediate
   * array, so a large derived table costs its memory once (fresh memory is slow to touch in a VM).
   */
  static build(rows: number, width: number, fill: (data: Float32Array) => void, mode: KernelMode = kernelMode()): RowMatrix {
    const m = new RowMatrix(rows * width, width, mode);
    fill(m.data);
    return m;
  }

  /** Wraps (and, for the SIMD kernels, copies) a row-major [rows, width] matrix; a length makes a zero one. */
  constructor(values: Float32Array | number, width: number, mode: KernelMode = kernelMode()) {
    const length = typeof values === 'number' ? values : values.length;
    if (!(Number.isInteger(width) && width > 0 && length % width === 0))
      throw new RangeError(`RowMatrix: ${length} values do not make rows of width ${width}`);
    const data = typeof values === 'number' ? null : values;
    this.rows = length / width;
    this.width = width;
    const module = mode === 'wasm' && width % 4 === 0 ? kernelsModule() : null;
    if (!module) {
      this.mode = 'ts';
      this.data = data ?? new Float32Array(length);
      this.kernels = null;
      this.input = this.output = new Float32Array(0);
      this.inputAt = this.outputAt = 0;
      return;
    }
    // Layout: the matrix, then one scratch vector long enough for any argument or result.
    const scratch = Math.max(this.rows, width);
    this.inputAt = length * 4;
    this.outputAt = this.inputAt + scratch * 4;
    const memory = new WebAssembly.Memory({ initial: Math.ceil((this.outputAt + scratch * 4) / PAGE) || 1 });
    this.kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
    this.mode = 'wasm';
    this.data = new Float32Array(memory.buffer, 0, length);
    if (data) this.data.set(data);
    this.input = new Float32Array(memory.buffer, this.inputAt, scratch);
    this.output = new Float32Array(memory.buffer, this.outputAt, scratch);
  }

  /** out[r] = row r · query for every row. */
  dot(query: ArrayLike<number>, out: Float32Array = new Float32Array(this.rows)): Float32Array {
    return this.dotRange(query, 0, this.rows, out);
  }

  /** out[i] = row (first + i) · query for i < count. */
  dotRange<T extends Float32Array | Float64Array>(query: ArrayLike<number>, first: number, count: number, out: T): T {
    if (query.length !== this.width) throw new RangeError(`RowMatrix.dot: query of ${query.length}, rows of ${this.width}`);
    if (first < 0 || count < 0 || first + count > this.rows || out.length < count)
      throw new RangeError(`RowMatrix.dotRange: rows [${first}, ${first + count}) of ${this.rows}`);
    if (!this.kernels) {
      const rows = this.data.subarray(first * this.width, (first + count) * this.width);
      return dotAll(rows, this.width, query, out);
    }
    this.input.set(query);
    this.kernels.dotRows(first * this.width * 4, count, this.width, this.inputAt, this.outputAt);
    const result = this.output;
    if (out instanceof Float32Array) out.set(result.subarray(0, count));
    else for (let i = 0; i < count; i++) out[i] = result[i];
    return out;
  }

  /** z += x · rows[rowOffset .. rowOffset + x.length). */
  accumulate(z: Float64Array, x: ArrayLike<number>, rowOffset = 0): void {
    if (z.length !== this.width || rowOffset < 0 || rowOffset + x.length > this.rows)
      throw new RangeError('RowMatrix.accumulate: argument shapes do not match the matrix');
    if (!this.kernels) {
      accumulateRows(z, x, this.data, rowOffset, this.width);
      return;
    }
    const n = x.length;
    this.input.set(x);
    const out = this.output;
    out.fill(0, 0, this.width);
    this.kernels.accumulateRows(rowOffset * this.width * 4, n, this.width, this.inputAt, this.outputAt);
    for (let j = 0; j < this.width; j++) z[j] += out[j];
  }
}
