/**
 * Ranking metrics for recommendation evaluation. Ranking runs for every DJ over every song, so
 * top-k uses a bounded heap (O(n log k)) rather than a full sort. One ordering rule everywhere:
 * higher score first, ties broken by lower song index, NaN treated as −∞, so results are
 * deterministic and `rankOf` agrees with `topK`.
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
 * Indices of the k best scores, best first. `excluded[j] !== 0` removes song j (a DJ's training
 * songs). Fewer than k are returned only when fewer than k songs remain.
 */
export function topK(scores: ArrayLike<number>, k: number, excluded?: Uint8Array | null, heap?: TopK): Int32Array {
  const h = heap && heap.k === k ? heap : new TopK(k);
  h.reset();
  const n = scores.length;
  if (excluded) {
    for (let j = 0; j < n; j++) if (excluded[j] === 0) h.push(j, scores[j]);
  } else {
    for (let j = 0; j < n; j++) h.push(j, scores[j]);
  }
  return h.sorted();
}

/**
 * 0-based rank of `item` among the non-excluded songs under the same ordering as `topK`
 * (item is within the top k iff rankOf < k). Linear: cheaper than a sort for one item.
 */
export function rankOf(scores: ArrayLike<number>, item: number, excluded?: Uint8Array | null): number {
  const raw = scores[item];
  const s = raw === raw ? raw : -Infinity;
  let rank = 0;
  const n = scores.length;
  for (let j = 0; j < n; j++) {
    if (j === item || (excluded && excluded[j] !== 0)) continue;
    const v = scores[j] === scores[j] ? scores[j] : -Infinity;
    if (v > s || (v === s && j < item)) rank++;
  }
  return rank;
}

export type Relevant = ReadonlySet<number> | ArrayLike<number>;

function asSet(relevant: Relevant): ReadonlySet<number> {
  return relevant instanceof Set ? relevant : new Set(Array.from(relevant as ArrayLike<number>));
}

/** Number of the first k ranked items that are relevant. */
export function hitsAtK(ranked: ArrayLike<number>, relevant: Relevant, k: number): number {
  const set = asSet(relevant);
  let hits = 0;
  const n = Math.min(k, ranked.length);
  for (let r = 0; r < n; r++) if (set.has(ranked[r])) hits++;
  return hits;
}

/** hits@k / |relevant| (the usual definition; 0 when nothing is relevant). */
export function recallAtK(ranked: ArrayLike<number>, relevant: Relevant, k: number): number {
  const set = asSet(relevant);
  return set.size === 0 ? 0 : hitsAtK(ranked, set, k) / set.size;
}

/** hits@k / k: a short list counts its missing slots as misses. */
export function precisionAtK(ranked: ArrayLike<number>, relevant: Relevant, k: number): number {
  return k === 0 ? 0 : hitsAtK(ranked, relevant, k) / k;
}

/** Binary-relevance NDCG: DCG over the top k, ideal DCG over min(k, |relevant|) hits. */
export function ndcgAtK(ranked: ArrayLike<number>, relevant: Relevant, k: number): number {
  const set = asSet(relevant);
  const ideal = Math.min(k, set.size);
  if (ideal === 0) return 0;
  let dcg = 0;
  const n = Math.min(k, ranked.length);
  for (let r = 0; r < n; r++) if (set.has(ranked[r])) dcg += 1 / Math.log2(r + 2);
  let idcg = 0;
  for (let r = 0; r < ideal; r++) idcg += 1 / Math.log2(r + 2);
  return dcg / idcg;
}
