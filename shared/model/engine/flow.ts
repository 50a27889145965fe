import { RowMatrix } from '../rowMatrix.ts';
import type { TracklistModel } from '../tracklistInference.ts';

/** The flow bias's geometry: cosines between songs' similarity rows and clusters' mean directions. */

/** Row a of m · row b of n (same width): a cosine for unit rows. */
export function rowDot(m: RowMatrix, a: number, n: RowMatrix, b: number): number {
  const w = m.width;
  const p = m.data;
  const q = n.data;
  let dot = 0;
  for (let k = 0, x = a * w, y = b * w; k < w; k++) dot += p[x + k] * q[y + k];
  return dot;
}

const centroidCache = new WeakMap<RowMatrix, { model: TracklistModel; centroids: Record<'l3' | 'l2' | 'l1', RowMatrix> }>();

/** Each cluster's unit mean direction of its songs' similarity rows, per level (cached per model). */
export function clusterCentroids(model: TracklistModel, sim: RowMatrix): Record<'l3' | 'l2' | 'l1', RowMatrix> {
  const hit = centroidCache.get(sim);
  if (hit && hit.model === model) return hit.centroids;
  const w = sim.width;
  const centroids = {} as Record<'l3' | 'l2' | 'l1', RowMatrix>;
  for (const level of ['l3', 'l2', 'l1'] as const) {
    const c = new Float32Array(model.sizes[level] * w);
    for (let s = 0; s < model.songs; s++) {
      const o = model.path(s)[level] * w;
      for (let k = 0; k < w; k++) c[o + k] += sim.data[s * w + k];
    }
    for (let o = 0; o < model.sizes[level]; o++) {
      let norm = 0;
      for (let k = 0; k < w; k++) norm += c[o * w + k] ** 2;
      const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let k = 0; k < w; k++) c[o * w + k] *= scale;
    }
    centroids[level] = new RowMatrix(c, w, 'ts');
  }
  centroidCache.set(sim, { model, centroids });
  return centroids;
}
