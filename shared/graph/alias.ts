import type { Csr } from './csr.ts';
import type { Random } from '../util/random.ts';

/**
 * Walker alias tables for every row of a CSR matrix at once, built over the non-zeros only
 * (never a dense row): O(1) weighted sampling of a row's neighbours, as SPEC §3 requires.
 */
export class RowAliasSampler {
  private readonly prob: Float32Array;
  private readonly alias: Int32Array; // position within the row

  readonly m: Csr;

  constructor(m: Csr) {
    this.m = m;
    const n = m.indptr[m.rows];
    this.prob = new Float32Array(n);
    this.alias = new Int32Array(n);
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < m.rows; i++) {
      const start = m.indptr[i];
      const len = m.indptr[i + 1] - start;
      if (len === 0) continue;
      let total = 0;
      for (let p = start; p < start + len; p++) total += m.values[p];
      const scaled = new Float64Array(len);
      for (let k = 0; k < len; k++) scaled[k] = total > 0 ? (m.values[start + k] * len) / total : 1;
      small.length = 0;
      large.length = 0;
      for (let k = 0; k < len; k++) (scaled[k] < 1 ? small : large).push(k);
      while (small.length && large.length) {
        const s = small.pop()!;
        const l = large[large.length - 1];
        this.prob[start + s] = scaled[s];
        this.alias[start + s] = l;
        scaled[l] -= 1 - scaled[s];
        if (scaled[l] < 1) {
          large.pop();
          small.push(l);
        }
      }
      for (const k of large) this.prob[start + k] = 1;
      for (const k of small) this.prob[start + k] = 1;
    }
  }

  degree(row: number): number {
    return this.m.indptr[row + 1] - this.m.indptr[row];
  }

  /** A column index drawn ∝ the row's values, or -1 for an empty row. */
  sample(row: number, rng: Random): number {
    const start = this.m.indptr[row];
    const len = this.m.indptr[row + 1] - start;
    if (len === 0) return -1;
    const k = rng.int(len);
    const pick = rng.next() < this.prob[start + k] ? k : this.alias[start + k];
    return this.m.indices[start + pick];
  }
}
