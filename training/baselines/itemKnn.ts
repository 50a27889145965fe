import { type Csr, transpose } from '../../shared/graph/csr.ts';
import { Progress } from '../../shared/util/progress.ts';
import { TopK } from '../eval/metrics.ts';
import type { Recommender } from './recommender.ts';

/**
 * Item-kNN on the training click matrix (Deshpande & Karypis style). Similarity of songs i and
 * j = cosine of their click columns (ln play-count values), sim = x_i·x_j / (‖x_i‖‖x_j‖ + shrink);
 * each song keeps its `neighbours` most similar songs. A DJ's score for song j = Σ over the
 * DJ's training songs i of x_di · sim(i, j) for j among i's neighbours. X ᵀX is computed one
 * row at a time with a dense accumulator and cut to top-k at once, so the full song × song
 * product (dense for popular songs) is never materialised.
 *
 * Shrink matters: plain cosine rates two songs sharing a single DJ as near-identical. On an inner
 * split of the seed-profile synthetic corpus NDCG@20 went 0.079 → 0.178 from shrink 0 to 50,
 * flat from 20 to 300; 100 vs 1,000 neighbours differed by ~2 %.
 */
export interface ItemKnnOptions {
  neighbours: number;
  /** Added to the cosine denominator; damps similarities resting on one or two shared DJs. */
  shrink: number;
  progress: boolean;
}

export const DEFAULT_ITEMKNN_OPTIONS: ItemKnnOptions = { neighbours: 100, shrink: 50, progress: false };

export interface ItemKnnRecommender extends Recommender {
  /** Songs × songs, row i = i's kept neighbours with their cosine similarity. */
  readonly similarity: Csr;
}

export function itemSimilarity(click: Csr, options: Partial<ItemKnnOptions> = {}): Csr {
  const { neighbours, shrink, progress } = { ...DEFAULT_ITEMKNN_OPTIONS, ...options };
  const songs = click.cols;
  const byItem = transpose(click);
  const norm = new Float64Array(songs);
  for (let i = 0; i < songs; i++) {
    let s = 0;
    for (let p = byItem.indptr[i]; p < byItem.indptr[i + 1]; p++) s += byItem.values[p] * byItem.values[p];
    norm[i] = Math.sqrt(s);
  }
  const acc = new Float64Array(songs);
  const touched = new Int32Array(songs);
  const marked = new Uint8Array(songs);
  const heap = new TopK(neighbours);
  const indptr = new Int32Array(songs + 1);
  const indices = new Int32Array(songs * neighbours);
  const values = new Float32Array(songs * neighbours);
  const bar = progress ? new Progress('itemknn: similarities', songs) : null;
  let out = 0;
  for (let i = 0; i < songs; i++) {
    let nt = 0;
    for (let p = byItem.indptr[i]; p < byItem.indptr[i + 1]; p++) {
      const d = byItem.indices[p];
      const xi = byItem.values[p];
      for (let q = click.indptr[d]; q < click.indptr[d + 1]; q++) {
        const j = click.indices[q];
        if (!marked[j]) {
          marked[j] = 1;
          touched[nt++] = j;
        }
        acc[j] += xi * click.values[q];
      }
    }
    heap.reset();
    const denom = norm[i];
    for (let t = 0; t < nt; t++) {
      const j = touched[t];
      if (j !== i) heap.push(j, acc[j] / (denom * norm[j] + shrink));
    }
    // Neighbours stored by ascending song index, as CSR rows are everywhere else.
    const kept = heap.sorted().sort();
    for (let t = 0; t < kept.length; t++) {
      const j = kept[t];
      indices[out] = j;
      values[out] = acc[j] / (denom * norm[j] + shrink);
      out++;
    }
    for (let t = 0; t < nt; t++) {
      acc[touched[t]] = 0;
      marked[touched[t]] = 0;
    }
    indptr[i + 1] = out;
    bar?.tick();
  }
  bar?.finish(`${out} neighbour entries`);
  return { rows: songs, cols: songs, indptr, indices: indices.slice(0, out), values: values.slice(0, out) };
}

export function fitItemKnn(click: Csr, options: Partial<ItemKnnOptions> = {}): ItemKnnRecommender {
  const similarity = itemSimilarity(click, options);
  return {
    name: 'itemknn',
    similarity,
    scoreDj(dj: number, out: Float32Array): void {
      out.fill(0);
      for (let p = click.indptr[dj]; p < click.indptr[dj + 1]; p++) {
        const i = click.indices[p];
        const x = click.values[p];
        for (let q = similarity.indptr[i]; q < similarity.indptr[i + 1]; q++)
          out[similarity.indices[q]] += x * similarity.values[q];
      }
    },
  };
}
