import { TopK } from '../util/topK.ts';

/**
 * Session kNN over whole set prefixes, shared by the V-SkNN next-song baseline
 * (training/nextsong/vsknn.ts), the tracklist model's second direct connection (training) and
 * the plain-TypeScript inference (serving).
 *
 * SessionKnn is vector-multiplication session kNN (V-SkNN, Ludewig & Jannach 2018): the prefix
 * is a vector over its songs weighted by recency; a training session's similarity is the dot
 * product with its binary song vector; the k most similar of the sampled candidates vote for
 * their songs with their similarity. Gaps and OOV tracks (ids < 0) take positions but are not
 * songs. Its evidence is sparse (only songs of the voting neighbours), so a query costs what the
 * neighbours hold, never the vocabulary size.
 *
 * SessionPrior turns that evidence into the distribution the vsknn baseline predicts (its
 * MixedPredictor): P(song) ∝ score + β · pop. Two differences, both for a log-probability term:
 * played songs are not zeroed (V-SkNN gives them no votes, so they keep β · pop; the model's
 * callers remove played songs themselves), and a cluster option's probability is the sum over
 * its songs (as the transition prior does via labels).
 */

export interface SessionKnnOptions {
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

export const DEFAULT_SESSION_KNN_OPTIONS: SessionKnnOptions = {
  k: 100,
  sampleSize: 500,
  decay: 'linear',
  matchDecay: false,
  positional: 'none',
};

/** The training sessions as the scorer (and the artifact's `session.*` tensors) hold them. */
export interface SessionTable {
  /** Distinct vocabulary songs per session, in order of first play. */
  items: Int32Array;
  /** Position of each item's first play in its session. */
  itemPos: Int32Array;
  /** sessions + 1 offsets into items. */
  itemOffsets: Int32Array;
  /** Rank by recency per session: 0 = most recent (by day, then corpus order). */
  recency: Int32Array;
}

/** The part of prepared sequences a session table reads. */
export interface SessionSource {
  songs: Int32Array;
  offsets: Int32Array;
  days: Int32Array;
}

/** Sessions (training tracklists, in the given order) as a SessionTable. */
export function sessionTable(
  sequences: SessionSource,
  songs: number,
  tracklists: ArrayLike<number>,
): SessionTable {
  const nSessions = tracklists.length;
  const items: number[] = [];
  const itemPos: number[] = [];
  const itemOffsets = new Int32Array(nSessions + 1);
  const seen = new Int32Array(songs).fill(-1);
  for (let n = 0; n < nSessions; n++) {
    const t = tracklists[n];
    const start = sequences.offsets[t];
    for (let i = start; i < sequences.offsets[t + 1]; i++) {
      const s = sequences.songs[i];
      if (s < 0 || seen[s] === n) continue;
      seen[s] = n;
      items.push(s);
      itemPos.push(i - start);
    }
    itemOffsets[n + 1] = items.length;
  }
  const order = Array.from({ length: nSessions }, (_, n) => n);
  const day = (n: number) => sequences.days[tracklists[n]];
  order.sort((a, b) => day(b) - day(a) || tracklists[b] - tracklists[a]);
  const recency = new Int32Array(nSessions);
  order.forEach((n, r) => (recency[n] = r));
  return { items: Int32Array.from(items), itemPos: Int32Array.from(itemPos), itemOffsets, recency };
}

/** Sparse evidence: songs with a vote and their scores (unordered), and their sum. */
export interface SessionEvidence {
  songs: Int32Array;
  scores: Float64Array;
  total: number;
}

const EMPTY: SessionEvidence = { songs: new Int32Array(0), scores: new Float64Array(0), total: 0 };

export class SessionKnn {
  readonly options: SessionKnnOptions;
  readonly table: SessionTable;
  readonly songs: number;
  /** Sessions containing each song (CSR by song). */
  private readonly postings: Int32Array;
  private readonly postingOffsets: Int32Array;
  // Scratch, reset after every query.
  private readonly sim: Float64Array;
  private readonly lastPos: Int32Array;
  private readonly acc: Float64Array;
  private readonly voted: Uint8Array;
  /** Session by recency rank (the inverse of table.recency). */
  private readonly byRecency: Int32Array;
  /** Bounded selections of the sampled and the nearest sessions, keyed by recency rank. */
  private readonly recent: TopK;
  private readonly nearest: TopK;

  constructor(table: SessionTable, songs: number, options: Partial<SessionKnnOptions> = {}) {
    this.options = { ...DEFAULT_SESSION_KNN_OPTIONS, ...options };
    const { k, sampleSize } = this.options;
    if (!(k >= 1) || !(sampleSize >= 1)) throw new Error('vsknn: k and sampleSize must be ≥ 1');
    this.table = table;
    this.songs = songs;
    const nSessions = table.itemOffsets.length - 1;
    const perSong = new Int32Array(songs + 1);
    for (const s of table.items) {
      if (!(s >= 0 && s < songs)) throw new RangeError(`session table: song ${s} outside [0, ${songs})`);
      perSong[s + 1]++;
    }
    for (let s = 0; s < songs; s++) perSong[s + 1] += perSong[s];
    this.postingOffsets = perSong;
    this.postings = new Int32Array(table.items.length);
    const cursor = perSong.slice(0, songs);
    for (let n = 0; n < nSessions; n++)
      for (let q = table.itemOffsets[n]; q < table.itemOffsets[n + 1]; q++)
        this.postings[cursor[table.items[q]]++] = n;
    this.sim = new Float64Array(nSessions);
    this.byRecency = new Int32Array(nSessions);
    for (let n = 0; n < nSessions; n++) this.byRecency[table.recency[n]] = n;
    this.recent = new TopK(this.options.sampleSize);
    this.nearest = new TopK(k);
    this.lastPos = new Int32Array(songs).fill(-1);
    this.acc = new Float64Array(songs);
    this.voted = new Uint8Array(songs);
  }

  get sessions(): number {
    return this.table.itemOffsets.length - 1;
  }

  /**
   * V-SkNN votes for the songs after `prefix` (ids < 0 are positions without a song). Played
   * songs get no vote. excludeSession (a session index, or −1) never votes: a training row's own
   * set, so the evidence comes from other sets.
   */
  evidence(prefix: ArrayLike<number>, excludeSession = -1): SessionEvidence {
    const { k, sampleSize, decay, matchDecay, positional } = this.options;
    const { sim, lastPos, acc, voted, postings, postingOffsets } = this;
    const { recency, items, itemPos, itemOffsets } = this.table;
    const L = prefix.length;
    const prefixSongs: number[] = [];
    for (let i = 0; i < L; i++) {
      const s = prefix[i];
      if (s < 0) continue;
      if (lastPos[s] < 0) prefixSongs.push(s);
      lastPos[s] = i;
    }
    if (prefixSongs.length === 0) return EMPTY;
    const touched: number[] = [];
    for (const s of prefixSongs) {
      const i = lastPos[s];
      const w = decay === 'linear' ? (i + 1) / L : 1 / (L - i);
      for (let p = postingOffsets[s]; p < postingOffsets[s + 1]; p++) {
        const n = postings[p];
        if (n === excludeSession) continue;
        if (sim[n] === 0) touched.push(n);
        sim[n] += w;
      }
    }
    // Heap selections instead of sorts, in the same order: the sampleSize most recent, then the
    // k most similar (ties to the more recent; recency ranks are unique, so the order is exact).
    let candidates: ArrayLike<number> = touched;
    if (candidates.length > sampleSize) {
      const recent = this.recent;
      recent.reset();
      for (const n of touched) recent.push(recency[n], -recency[n]);
      candidates = Array.from(recent.sorted(), (r) => this.byRecency[r]);
    }
    if (candidates.length > k) {
      const nearest = this.nearest;
      nearest.reset();
      for (let i = 0; i < candidates.length; i++) nearest.push(recency[candidates[i]], sim[candidates[i]]);
      candidates = Array.from(nearest.sorted(), (r) => this.byRecency[r]);
    }
    const out: number[] = [];
    for (let c = 0; c < candidates.length; c++) {
      const n = candidates[c];
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
        if (!voted[s]) {
          voted[s] = 1;
          out.push(s);
        }
        acc[s] += vote * w;
      }
    }
    for (const n of touched) sim[n] = 0;
    for (const s of prefixSongs) lastPos[s] = -1;
    const songs = Int32Array.from(out);
    const scores = new Float64Array(songs.length);
    let total = 0;
    for (let i = 0; i < songs.length; i++) {
      const s = songs[i];
      scores[i] = acc[s];
      total += acc[s];
      acc[s] = 0;
      voted[s] = 0;
    }
    return { songs, scores, total };
  }

  /** The evidence as a dense score per song (the baselines' EvidenceScorer form). */
  score(prefix: ArrayLike<number>, scores: Float64Array): void {
    scores.fill(0);
    const e = this.evidence(prefix);
    for (let i = 0; i < e.songs.length; i++) scores[e.songs[i]] = e.scores[i];
  }
}

/**
 * The tracklist model's session term: log P_session(option | whole prefix), with
 * P_session(song) = (score + β · pop) / (S + β · Π) (S = Σ score, Π = Σ pop) and a cluster's
 * probability the sum over its songs.
 */
export class SessionPrior {
  readonly knn: SessionKnn;
  readonly popularity: Float32Array;
  readonly beta: number;
  private readonly popularityTotal: number;
  private scratch: Float64Array;
  private readonly touched: number[] = [];

  constructor(knn: SessionKnn, popularity: Float32Array, beta: number) {
    if (!(beta > 0)) throw new Error(`session prior: beta must be > 0, got ${beta}`);
    if (popularity.length !== knn.songs)
      throw new RangeError(`session prior: ${popularity.length} popularities for ${knn.songs} songs`);
    this.knn = knn;
    this.popularity = popularity;
    this.beta = beta;
    let total = 0;
    for (const p of popularity) total += p;
    this.popularityTotal = total;
    this.scratch = new Float64Array(knn.songs);
  }

  /** The kNN votes after a prefix (see SessionKnn.evidence). */
  evidence(prefix: ArrayLike<number>, excludeSession = -1): SessionEvidence {
    return this.knn.evidence(prefix, excludeSession);
  }

  /** log of the normaliser S + β · Π for some evidence. */
  logNormaliser(e: SessionEvidence): number {
    return Math.log(e.total + this.beta * this.popularityTotal);
  }

  /**
   * log P_session(option) for each candidate option, written to out[offset…]. labels maps a song
   * to its option (null: options are songs); optionPopularity is pop summed per option.
   */
  logProbs(
    e: SessionEvidence,
    candidates: ArrayLike<number>,
    labels: Int32Array | null,
    optionPopularity: ArrayLike<number>,
    out: Float32Array | Float64Array,
    offset: number,
  ): void {
    const beta = this.beta;
    const logZ = this.logNormaliser(e);
    if (this.scratch.length < optionPopularity.length)
      this.scratch = new Float64Array(optionPopularity.length);
    const mass = this.scratch;
    for (let i = 0; i < e.songs.length; i++) {
      const option = labels ? labels[e.songs[i]] : e.songs[i];
      if (mass[option] === 0) this.touched.push(option);
      mass[option] += e.scores[i];
    }
    for (let i = 0; i < candidates.length; i++) {
      const o = candidates[i];
      out[offset + i] = Math.log(mass[o] + beta * optionPopularity[o]) - logZ;
    }
    for (const o of this.touched) mass[o] = 0;
    this.touched.length = 0;
  }
}
