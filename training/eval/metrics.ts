/**
 * Ranking metrics for recommendation evaluation. Ranking runs for every DJ over every song, so
 * top-k uses a bounded heap (O(n log k)) rather than a full sort. One ordering rule everywhere:
 * higher score first, ties broken by lower song index, NaN treated as −∞, so results are
 * deterministic and `rankOf` agrees with `topK`.
 */
import { TopK } from '../../shared/util/topK.ts';

export { TopK };

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
