import type { Sequences } from '../../shared/graph/prepare.ts';
import {
  addSessionMatches,
  sessionPostings,
  sessionTable,
  type SessionMatches,
  type SessionTable,
} from '../../shared/model/sessionPrior.ts';
import { selectBest } from '../../shared/util/topK.ts';
import type { EvidenceScorer } from './mixture.ts';

/**
 * STAN (Garg et al. 2019) and V-STAN (Ludewig et al. 2021, core) as next-song evidence, plus a
 * DJ-aware V-STAN. Its own scorer rather than options on SessionKnn: the cosine similarity, the
 * per-query time and DJ factors and the missing recency sample would touch every line of the
 * tracklist model's session term; it shares SessionKnn's session table and postings.
 *
 * sim(prefix, n) = Σ_{s ∈ prefix ∩ n} exp((p_s + 1 − L)/λ1) / √(|prefix| · |n|)
 *                  × exp(−|day − day_n|/λ2) × (1 + δ if n shares a DJ with the set);
 * the k most similar vote: score(j) += sim · exp(−|q_j − m|/λ3) · (1 + ι · idf(j)), m the neighbour's
 * position of its song played most recently in the prefix. λ = ∞ turns a decay off. STAN has
 * ι = δ = 0, V-STAN δ = 0. Sets are split at random, not by time, so neighbours can be later
 * than the query: the time decay is on the distance |Δ days| (unknown days: no decay).
 */
export interface StanOptions {
  k: number;
  /** λ1: the prefix's position decay, in positions. */
  lambdaPosition: number;
  /** λ2: neighbour sessions' time decay, in days. */
  lambdaDays: number;
  /** λ3: position decay inside the neighbour around its matched song, in positions. */
  lambdaNeighbour: number;
  /** ι: votes × (1 + ι · idf), idf = log(N / sessions with the song), as session-rec's V-SkNN and V-STAN. */
  idf: number;
  /** δ: similarity × (1 + δ) for neighbours sharing a DJ with the set (DJ-aware V-STAN). */
  djBoost: number;
}

export const DEFAULT_STAN_OPTIONS: StanOptions = {
  k: 100,
  lambdaPosition: 4,
  lambdaDays: Infinity,
  lambdaNeighbour: 4,
  idf: 0,
  djBoost: 0,
};

/** The training sessions with what STAN reads beyond SessionKnn: days, DJs, IDF; shared across settings. */
export class StanSessions {
  readonly table: SessionTable;
  readonly songs: number;
  readonly postings: Int32Array;
  readonly postingOffsets: Int32Array;
  readonly days: Int32Array;
  readonly djs: Int32Array;
  readonly djOffsets: Int32Array;
  readonly idf: Float64Array;
  readonly maxPos: number;

  constructor(sequences: Sequences, songs: number, tracklists: ArrayLike<number>) {
    this.table = sessionTable(sequences, songs, tracklists);
    this.songs = songs;
    ({ postings: this.postings, postingOffsets: this.postingOffsets } = sessionPostings(this.table, songs));
    const n = tracklists.length;
    this.days = Int32Array.from({ length: n }, (_, i) => sequences.days[tracklists[i]]);
    this.djOffsets = new Int32Array(n + 1);
    const djs: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = tracklists[i];
      for (let d = sequences.djOffsets[t]; d < sequences.djOffsets[t + 1]; d++) djs.push(sequences.djs[d]);
      this.djOffsets[i + 1] = djs.length;
    }
    this.djs = Int32Array.from(djs);
    this.idf = Float64Array.from({ length: songs }, (_, s) => {
      const df = this.postingOffsets[s + 1] - this.postingOffsets[s];
      return df > 0 ? Math.log(n / df) : 0;
    });
    let maxPos = 0;
    for (const p of this.table.itemPos) if (p > maxPos) maxPos = p;
    this.maxPos = maxPos;
  }

  get sessions(): number {
    return this.table.itemOffsets.length - 1;
  }
}

export class StanScorer implements EvidenceScorer, SessionMatches {
  readonly options: StanOptions;
  readonly sessions: StanSessions;
  /** exp(−|d|/λ3) at d + maxPos. */
  private readonly neighbourWeight: Float64Array;
  /** 1 + ι · idf per song. */
  private readonly songWeight: Float64Array;
  readonly sim: Float64Array;
  readonly anchorPrefixPos: Int32Array;
  readonly anchorPos: Int32Array;
  readonly touched: Int32Array;
  private readonly lastPos: Int32Array;
  private readonly inPrefix: Uint8Array;

  constructor(sessions: StanSessions, options: Partial<StanOptions> = {}) {
    this.options = { ...DEFAULT_STAN_OPTIONS, ...options };
    const { k, lambdaPosition, lambdaDays, lambdaNeighbour, djBoost } = this.options;
    if (!(k >= 1)) throw new Error('stan: k must be ≥ 1');
    if (!(lambdaPosition > 0 && lambdaDays > 0 && lambdaNeighbour > 0)) throw new Error('stan: decays must be > 0');
    if (!(djBoost >= 0)) throw new Error('stan: djBoost must be ≥ 0');
    this.sessions = sessions;
    const { maxPos, idf } = sessions;
    this.neighbourWeight = Float64Array.from({ length: 2 * maxPos + 1 }, (_, i) => Math.exp(-Math.abs(i - maxPos) / lambdaNeighbour));
    this.songWeight = idf.map((v) => 1 + this.options.idf * v);
    const n = sessions.sessions;
    this.sim = new Float64Array(n);
    this.anchorPrefixPos = new Int32Array(n);
    this.anchorPos = new Int32Array(n);
    this.touched = new Int32Array(n);
    this.lastPos = new Int32Array(sessions.songs);
    this.inPrefix = new Uint8Array(sessions.songs);
  }

  score(prefix: Int32Array, djs: Int32Array, scores: Float64Array, day = -1): void {
    const { k, lambdaPosition, lambdaDays, djBoost } = this.options;
    const { sim, anchorPos, touched, lastPos, inPrefix, neighbourWeight, songWeight } = this;
    const { postings, postingOffsets, table, days, maxPos } = this.sessions;
    scores.fill(0);
    const L = prefix.length;
    const distinct: number[] = [];
    for (let i = 0; i < L; i++) {
      const s = prefix[i];
      if (s < 0) continue;
      if (!inPrefix[s]) distinct.push(s);
      inPrefix[s] = 1;
      lastPos[s] = i;
    }
    let nTouched = 0;
    for (const s of distinct) {
      const i = lastPos[s];
      // Floored above 0: sim = 0 marks an untouched session.
      const w = Math.max(Math.exp((i + 1 - L) / lambdaPosition), 1e-300);
      nTouched = addSessionMatches(postings, postingOffsets[s], postingOffsets[s + 1], i, w, -1, this, nTouched);
    }
    const { itemOffsets, items, itemPos, recency } = table;
    for (let c = 0; c < nTouched; c++) {
      const n = touched[c];
      let f = 1 / Math.sqrt(distinct.length * (itemOffsets[n + 1] - itemOffsets[n]));
      if (day >= 0 && days[n] >= 0) f *= Math.exp(-Math.abs(day - days[n]) / lambdaDays);
      if (djBoost > 0 && sharesDj(this.sessions, n, djs)) f *= 1 + djBoost;
      sim[n] *= f;
    }
    const nVoting = Math.min(nTouched, k);
    if (nTouched > k) selectBest(touched, nTouched, k, sim, 1, recency);
    for (let c = 0; c < nVoting; c++) {
      const n = touched[c];
      const m = anchorPos[n];
      for (let q = itemOffsets[n]; q < itemOffsets[n + 1]; q++) {
        const s = items[q];
        if (inPrefix[s]) continue;
        scores[s] += sim[n] * neighbourWeight[itemPos[q] - m + maxPos] * songWeight[s];
      }
    }
    for (let c = 0; c < nTouched; c++) sim[touched[c]] = 0;
    for (const s of distinct) inPrefix[s] = 0;
  }
}

function sharesDj(sessions: StanSessions, n: number, djs: Int32Array): boolean {
  for (let d = sessions.djOffsets[n]; d < sessions.djOffsets[n + 1]; d++)
    for (let j = 0; j < djs.length; j++) if (djs[j] === sessions.djs[d]) return true;
  return false;
}
