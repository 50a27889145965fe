import type { Sequences } from '../../shared/graph/prepare.ts';
import type { EvidenceScorer } from './mixture.ts';

export interface VsknnOptions {
  /** Neighbour sessions that vote [100]. */
  k: number;
  /** Candidates: the most recent training sessions sharing a song with the prefix [500]. */
  sampleSize: number;
  /** Weight of the prefix song at position i of L: linear (i + 1) / L, or div 1 / (L − i). */
  decay: 'linear' | 'div';
  /**
   * session-rec's `weighting_score = div`: a neighbour's vote × 1 / step, step = how many
   * positions back in the prefix its most recent shared song is (1 = the last track).
   */
  matchDecay: boolean;
  /**
   * Weight of a neighbour's song by its distance to that shared song in the neighbour (as in
   * STAN): none; symmetric 1/|j − m|; forward 1/(j − m) after it, 0 before.
   */
  positional: 'none' | 'symmetric' | 'forward';
}

export const DEFAULT_VSKNN_OPTIONS: VsknnOptions = {
  k: 100,
  sampleSize: 500,
  decay: 'linear',
  matchDecay: false,
  positional: 'none',
};

/**
 * Vector-multiplication session kNN (V-SkNN, Ludewig & Jannach 2018): the prefix is a vector
 * over its songs weighted by recency; a training session's similarity is the dot product with
 * its binary song vector; the k most similar of the sampled candidates vote for their songs
 * with their similarity. Sessions are training tracklists; gaps and OOV tracks take positions
 * but are not songs.
 */
export class VsknnScorer implements EvidenceScorer {
  readonly options: VsknnOptions;
  /** Distinct vocabulary songs per session and the position of their first play. */
  private readonly items: Int32Array;
  private readonly itemPos: Int32Array;
  private readonly itemOffsets: Int32Array;
  /** Sessions containing each song (CSR by song). */
  private readonly postings: Int32Array;
  private readonly postingOffsets: Int32Array;
  /** 0 = most recent session (by date, then corpus order). */
  private readonly recency: Int32Array;
  // Scratch, reset after every query.
  private readonly sim: Float64Array;
  private readonly lastPos: Int32Array;

  constructor(
    sequences: Sequences,
    songs: number,
    tracklists: ArrayLike<number>,
    options: Partial<VsknnOptions> = {},
  ) {
    this.options = { ...DEFAULT_VSKNN_OPTIONS, ...options };
    const { k, sampleSize } = this.options;
    if (!(k >= 1) || !(sampleSize >= 1)) throw new Error('vsknn: k and sampleSize must be ≥ 1');
    const nSessions = tracklists.length;
    const items: number[] = [];
    const itemPos: number[] = [];
    this.itemOffsets = new Int32Array(nSessions + 1);
    const seen = new Int32Array(songs).fill(-1);
    const perSong = new Int32Array(songs + 1);
    for (let n = 0; n < nSessions; n++) {
      const t = tracklists[n];
      const start = sequences.offsets[t];
      for (let i = start; i < sequences.offsets[t + 1]; i++) {
        const s = sequences.songs[i];
        if (s < 0 || seen[s] === n) continue;
        seen[s] = n;
        items.push(s);
        itemPos.push(i - start);
        perSong[s + 1]++;
      }
      this.itemOffsets[n + 1] = items.length;
    }
    this.items = Int32Array.from(items);
    this.itemPos = Int32Array.from(itemPos);
    for (let s = 0; s < songs; s++) perSong[s + 1] += perSong[s];
    this.postingOffsets = perSong;
    this.postings = new Int32Array(items.length);
    const cursor = perSong.slice(0, songs);
    for (let n = 0; n < nSessions; n++)
      for (let q = this.itemOffsets[n]; q < this.itemOffsets[n + 1]; q++)
        this.postings[cursor[this.items[q]]++] = n;
    const order = Array.from({ length: nSessions }, (_, n) => n);
    const day = (n: number) => sequences.days[tracklists[n]];
    order.sort((a, b) => day(b) - day(a) || tracklists[b] - tracklists[a]);
    this.recency = new Int32Array(nSessions);
    order.forEach((n, r) => (this.recency[n] = r));
    this.sim = new Float64Array(nSessions);
    this.lastPos = new Int32Array(songs).fill(-1);
  }

  score(prefix: Int32Array, _djs: Int32Array, scores: Float64Array): void {
    scores.fill(0);
    const { k, sampleSize, decay, matchDecay, positional } = this.options;
    const { sim, lastPos, recency, items, itemPos, itemOffsets, postings, postingOffsets } = this;
    const L = prefix.length;
    const prefixSongs: number[] = [];
    for (let i = 0; i < L; i++) {
      const s = prefix[i];
      if (s < 0) continue;
      if (lastPos[s] < 0) prefixSongs.push(s);
      lastPos[s] = i;
    }
    const touched: number[] = [];
    for (const s of prefixSongs) {
      const i = lastPos[s];
      const w = decay === 'linear' ? (i + 1) / L : 1 / (L - i);
      for (let p = postingOffsets[s]; p < postingOffsets[s + 1]; p++) {
        const n = postings[p];
        if (sim[n] === 0) touched.push(n);
        sim[n] += w;
      }
    }
    let candidates = touched;
    if (candidates.length > sampleSize) {
      candidates = touched.slice().sort((a, b) => recency[a] - recency[b]);
      candidates.length = sampleSize;
    }
    if (candidates.length > k) {
      candidates = candidates === touched ? touched.slice() : candidates;
      candidates.sort((a, b) => sim[b] - sim[a] || recency[a] - recency[b]);
      candidates.length = k;
    }
    for (const n of candidates) {
      // The neighbour's song played most recently in the prefix anchors the vote.
      let best = -1;
      let m = 0;
      for (let q = itemOffsets[n]; q < itemOffsets[n + 1]; q++) {
        const lp = lastPos[items[q]];
        if (lp > best) {
          best = lp;
          m = itemPos[q];
        }
      }
      const vote = matchDecay ? sim[n] / (L - best) : sim[n];
      for (let q = itemOffsets[n]; q < itemOffsets[n + 1]; q++) {
        const s = items[q];
        if (lastPos[s] >= 0) continue; // played: excluded from the prediction anyway
        const d = itemPos[q] - m;
        const w =
          positional === 'none' ? 1 : positional === 'symmetric' ? 1 / Math.abs(d) : d > 0 ? 1 / d : 0;
        scores[s] += vote * w;
      }
    }
    for (const n of touched) sim[n] = 0;
    for (const s of prefixSongs) lastPos[s] = -1;
  }
}
