import type { Sequences } from '../../shared/graph/prepare.ts';
import type { Artifact } from '../../shared/model/artifact.ts';
import { Random } from '../../shared/util/random.ts';

/**
 * Training windows for the tracklist model (SPEC §4): windows of 15 songs with stride 7 over each
 * training tracklist with ≥ 5 identified songs; unidentified tracks (gaps, out-of-vocabulary) are
 * replaced by the song closest to the set's DJ(s) and weigh 0.1 as targets. A window is kept when
 * it has > 7 known songs or > 4 known consecutive pairs. Inputs are [start, s1..s14] and targets
 * [s1..s15]: the original's final padding target (weight 0.001) is left out, since it has no
 * cluster for the hierarchical softmax to predict.
 */
export const WINDOW = 15;
export const STRIDE = 7;
export const MIN_IDENTIFIED = 5;
export const REPLACEMENT_WEIGHT = 0.1;

export interface Windows {
  count: number;
  /** [count, WINDOW] input tokens: song index, or `start` (= songs) for the start token. */
  inputs: Int32Array;
  /** [count, WINDOW] target songs (−1 past a short window's end). */
  targets: Int32Array;
  /** [count, WINDOW] target weights: 1 known, 0.1 replacement, 0 none. */
  weights: Float32Array;
  /** Tracklist of each window. */
  tracklist: Int32Array;
  /** Position in its tracklist of each window's first target (the whole-set prefix before it feeds the session term). */
  start: Int32Array;
}

export interface WindowOptions {
  /** Replacement song for a tracklist's unidentified tracks. */
  replacementFor: (tracklist: number) => number;
  /** Tracklists to window (e.g. the training split minus validation). */
  tracklists: ArrayLike<number>;
}

export function buildWindows(sequences: Sequences, songs: number, options: WindowOptions): Windows {
  const inputs: number[] = [];
  const targets: number[] = [];
  const weights: number[] = [];
  const owner: number[] = [];
  const starts: number[] = [];
  for (let k = 0; k < options.tracklists.length; k++) {
    const t = options.tracklists[k];
    const seq = sequences.songs.subarray(sequences.offsets[t], sequences.offsets[t + 1]);
    let identified = 0;
    for (const s of seq) if (s >= 0) identified++;
    if (identified < MIN_IDENTIFIED) continue;
    const replacement = options.replacementFor(t);
    for (let start = 0; start < seq.length; start += STRIDE) {
      const w = seq.subarray(start, Math.min(seq.length, start + WINDOW));
      let known = 0;
      let pairs = 0;
      for (let i = 0; i < w.length; i++) {
        if (w[i] >= 0) known++;
        if (i > 0 && w[i] >= 0 && w[i - 1] >= 0) pairs++;
      }
      if (known > 7 || pairs > 4) {
        for (let i = 0; i < WINDOW; i++) {
          const previous = i === 0 ? songs : i - 1 < w.length ? w[i - 1] : -1;
          inputs.push(previous === songs ? songs : previous >= 0 ? previous : replacement);
          if (i < w.length) {
            targets.push(w[i] >= 0 ? w[i] : replacement);
            weights.push(w[i] >= 0 ? 1 : REPLACEMENT_WEIGHT);
          } else {
            targets.push(-1);
            weights.push(0);
          }
        }
        owner.push(t);
        starts.push(start);
      }
      if (start + WINDOW >= seq.length) break;
    }
  }
  return {
    count: owner.length,
    inputs: Int32Array.from(inputs),
    targets: Int32Array.from(targets),
    weights: Float32Array.from(weights),
    tracklist: Int32Array.from(owner),
    start: Int32Array.from(starts),
  };
}

/** Splits tracklists into training and validation by tracklist, never by window (seeded). */
export function splitTracklists(
  tracklists: ArrayLike<number>,
  validationShare: number,
  seed: number,
): { train: Int32Array; validation: Int32Array } {
  const rng = new Random(seed);
  const train: number[] = [];
  const validation: number[] = [];
  for (let k = 0; k < tracklists.length; k++) (rng.next() < validationShare ? validation : train).push(tracklists[k]);
  return { train: Int32Array.from(train), validation: Int32Array.from(validation) };
}

/**
 * The song closest (dot product of the recommendation vectors) to the mean of the given DJs'
 * vectors: what an unidentified track in their set is replaced by.
 */
export function closestSong(
  djVectors: Float32Array,
  songVectors: Float32Array,
  width: number,
  djs: ArrayLike<number>,
): number {
  const query = djMean(djVectors, width, djs, new Float64Array(width));
  let best = 0;
  let bestScore = -Infinity;
  const songs = songVectors.length / width;
  for (let s = 0; s < songs; s++) {
    let score = 0;
    for (let c = 0; c < width; c++) score += query[c] * songVectors[s * width + c];
    if (score > bestScore) {
      bestScore = score;
      best = s;
    }
  }
  return best;
}

/**
 * The replacement for a set's unidentified tracks: the song closest to its DJs (memoised per DJ
 * list), or to the average DJ when the set has none. Training and evaluation both use this.
 */
export function replacementChooser(embeddings: Artifact): (djs: ArrayLike<number>) => number {
  const djVectors = embeddings.tensor('rec.dj') as Float32Array;
  const songVectors = embeddings.tensor('rec.song') as Float32Array;
  const width = embeddings.manifest.tensors['rec.dj'].shape[1];
  const all = Int32Array.from({ length: djVectors.length / width }, (_, j) => j);
  const cache = new Map<string, number>();
  return (djs) => {
    const key = Array.from(djs).join(',');
    let s = cache.get(key);
    if (s === undefined) cache.set(key, (s = closestSong(djVectors, songVectors, width, djs.length > 0 ? djs : all)));
    return s;
  };
}

/** Mean of the given DJs' rows of a DJ table (zeros for no DJs): a set's DJ or taste vector. */
export function djMean<T extends Float32Array | Float64Array = Float32Array>(
  table: Float32Array,
  width: number,
  djs: ArrayLike<number>,
  out: T = new Float32Array(width) as T,
): T {
  out.fill(0);
  for (let k = 0; k < djs.length; k++)
    for (let c = 0; c < width; c++) out[c] += table[djs[k] * width + c] / djs.length;
  return out;
}

/** The sequence context the tracklist model reads for a set: DJ vector (encNorm.dj) and taste vector (rec.dj). */
export function setContext(embeddings: Artifact): (djs: ArrayLike<number>) => { dj: Float32Array; taste: Float32Array } {
  const dj = embeddings.tensor('encNorm.dj') as Float32Array;
  const taste = embeddings.tensor('rec.dj') as Float32Array;
  const djWidth = embeddings.manifest.tensors['encNorm.dj'].shape[1];
  const tasteWidth = embeddings.manifest.tensors['rec.dj'].shape[1];
  return (djs) => ({ dj: djMean(dj, djWidth, djs), taste: djMean(taste, tasteWidth, djs) });
}
