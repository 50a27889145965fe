/**
 * Bounded top-k selection shared by evaluation and serving. Ranking runs over every song, so a
 * heap (O(n log k)) replaces a full sort. One ordering rule everywhere: higher score first, ties
 * to the lower index, NaN treated as −∞, so results are deterministic.
 */
/** Bounded selection of the k best (index, score) pairs; the heap root is the worst kept. */
export class TopK {
  readonly k: number;
  private readonly idx: Int32Array;
  private readonly sc: Float64Array;
  private n = 0;

  constructor(k: number) {
    if (!(k >= 0) || !Number.isInteger(k)) throw new Error(`TopK: k must be an integer ≥ 0, got ${k}`);
    this.k = k;
    this.idx = new Int32Array(k);
    this.sc = new Float64Array(k);
  }

  get size(): number {
    return this.n;
  }

  /** The worst kept score once k are kept (an entry needs more, or as much with a lower index), else −∞. */
  get floor(): number {
    return this.n < this.k ? -Infinity : this.sc[0];
  }

  reset(): void {
    this.n = 0;
  }

  push(index: number, score: number): void {
    const s = score === score ? score : -Infinity;
    const { idx, sc } = this;
    if (this.n < this.k) {
      // Sift up: a parent must be no better than its children.
      let c = this.n++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (!worse(s, index, sc[p], idx[p])) break;
        sc[c] = sc[p];
        idx[c] = idx[p];
        c = p;
      }
      sc[c] = s;
      idx[c] = index;
      return;
    }
    if (this.k === 0 || !worse(sc[0], idx[0], s, index)) return;
    // Replace the root and sift down.
    const n = this.n;
    let p = 0;
    for (;;) {
      const l = 2 * p + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && worse(sc[r], idx[r], sc[l], idx[l]) ? r : l;
      if (!worse(sc[c], idx[c], s, index)) break;
      sc[p] = sc[c];
      idx[p] = idx[c];
      p = c;
    }
    sc[p] = s;
    idx[p] = index;
  }

  /** Kept indices, best first. */
  sorted(): Int32Array {
    const order = Array.from({ length: this.n }, (_, t) => t);
    const { idx, sc } = this;
    order.sort((a, b) => sc[b] - sc[a] || idx[a] - idx[b]);
    return Int32Array.from(order, (t) => idx[t]);
  }
}

/** True when (sa, ia) ranks below (sb, ib). */
function worse(sa: number, ia: number, sb: number, ib: number): boolean {
  return sa < sb || (sa === sb && ia > ib);
}

/**
 * Reorders ids[0, n) so that ids[0, k) hold the k best (any order), best meaning a higher
 * sign · key[id], ties to the lower tie[id]: quickselect, O(n) on average, no allocation.
 * A total order (unique ties) makes the selected set exact.
 */
export function selectBest(
  ids: Int32Array,
  n: number,
  k: number,
  key: ArrayLike<number>,
  sign: 1 | -1,
  tie: ArrayLike<number>,
): void {
  const better = (a: number, b: number): boolean => {
    const ka = sign * key[a];
    const kb = sign * key[b];
    return ka > kb || (ka === kb && tie[a] < tie[b]);
  };
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    // Median of three as the pivot, then a Hoare partition: better ones to the left.
    const mid = (lo + hi) >> 1;
    if (better(ids[mid], ids[lo])) swap(ids, mid, lo);
    if (better(ids[hi], ids[lo])) swap(ids, hi, lo);
    if (better(ids[hi], ids[mid])) swap(ids, hi, mid);
    const pivot = ids[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (better(ids[i], pivot)) i++;
      while (better(pivot, ids[j])) j--;
      if (i <= j) swap(ids, i++, j--);
    }
    // ids[lo, j] are no worse than the pivot, ids[i, hi] no better; between them equal ones.
    if (k - 1 <= j) hi = j;
    else if (k - 1 >= i) lo = i;
    else return;
  }
}

function swap(a: Int32Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}
