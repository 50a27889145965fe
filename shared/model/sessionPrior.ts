import { selectBest } from '../util/topK.ts';
import { OptionMass } from './transitionPrior.ts';

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

/**
 * Sparse evidence: the songs with a vote and their scores (unordered) in [0, count), and their
 * sum. The arrays can be longer than count when the evidence was written into a reused buffer.
 */
export interface SessionEvidence {
  songs: Int32Array;
  scores: Float64Array;
  count: number;
  total: number;
}

/** A buffer for SessionKnn.evidence to write into (no allocation per query). */
export function sessionEvidenceBuffer(songs: number): SessionEvidence {
  return { songs: new Int32Array(songs), scores: new Float64Array(songs), count: 0, total: 0 };
}

/**
 * Per song (CSR by song): the sessions containing it and its position in each, interleaved
 * (session, position) in postings[2·postingOffsets[s], 2·postingOffsets[s + 1]).
 */
export function sessionPostings(table: SessionTable, songs: number): { postings: Int32Array; postingOffsets: Int32Array } {
  const nSessions = table.itemOffsets.length - 1;
  const perSong = new Int32Array(songs + 1);
  for (const s of table.items) {
    if (!(s >= 0 && s < songs)) throw new RangeError(`session table: song ${s} outside [0, ${songs})`);
    perSong[s + 1]++;
  }
  for (let s = 0; s < songs; s++) perSong[s + 1] += perSong[s];
  const postings = new Int32Array(2 * table.items.length);
  const cursor = perSong.slice(0, songs);
  for (let n = 0; n < nSessions; n++)
    for (let q = table.itemOffsets[n]; q < table.itemOffsets[n + 1]; q++) {
      const p = cursor[table.items[q]]++;
      postings[2 * p] = n;
      postings[2 * p + 1] = table.itemPos[q];
    }
  return { postings, postingOffsets: perSong };
}

/** Per-query scratch over sessions for addSessionMatches; sim is 0 on untouched sessions. */
export interface SessionMatches {
  readonly sim: Float64Array;
  readonly touched: Int32Array;
  /** Per touched session: prefix position of its most recent shared song, and that song's position in it. */
  readonly anchorPrefixPos: Int32Array;
  readonly anchorPos: Int32Array;
}

/**
 * Adds w (> 0) to the similarity of every session in postings[2·from, 2·to) (one prefix song's,
 * at prefix position i) but excludeSession, listing newly touched ones in m.touched; the
 * neighbour's song played most recently in the prefix anchors its vote. Returns the touched count.
 */
export function addSessionMatches(
  postings: Int32Array,
  from: number,
  to: number,
  i: number,
  w: number,
  excludeSession: number,
  m: SessionMatches,
  nTouched: number,
): number {
  const { sim, touched, anchorPrefixPos, anchorPos } = m;
  for (let p = 2 * from; p < 2 * to; p += 2) {
    const n = postings[p];
    if (n === excludeSession) continue;
    if (sim[n] === 0) {
      touched[nTouched++] = n;
      anchorPrefixPos[n] = -1;
    }
    if (i > anchorPrefixPos[n]) {
      anchorPrefixPos[n] = i;
      anchorPos[n] = postings[p + 1];
    }
    sim[n] += w;
  }
  return nTouched;
}

export class SessionKnn implements SessionMatches {
  readonly options: SessionKnnOptions;
  readonly table: SessionTable;
  readonly songs: number;
  /** Per song (CSR by song): the sessions containing it and its position in each, interleaved. */
  private readonly postings: Int32Array;
  private readonly postingOffsets: Int32Array;
  /** Per touched session: prefix position of its most recent shared song, and that song's position in it. */
  readonly anchorPrefixPos: Int32Array;
  readonly anchorPos: Int32Array;
  // Scratch: sim is reset after every query; lastPos and acc are read only where mark says so.
  readonly sim: Float64Array;
  private readonly lastPos: Int32Array;
  private readonly acc: Float64Array;
  private readonly mark: Int32Array;
  private callId = 0;
  /** The evidence of a query without a caller's buffer, before it is copied out. */
  private readonly votedSongs: Int32Array;
  private readonly voteScores: Float64Array;
  readonly touched: Int32Array;
  private prefixSongs = new Int32Array(32);
  /**
   * The positional weight of a neighbour's song by d = its position − the anchor's, at d + maxPos
   * (a table instead of a division and branches per vote).
   */
  private readonly positionalWeight: Float64Array;
  private readonly maxPos: number;
  /** items and itemPos interleaved: a neighbour's votes read one run of memory, not two. */
  private readonly itemsAndPos: Int32Array;

  constructor(table: SessionTable, songs: number, options: Partial<SessionKnnOptions> = {}) {
    this.options = { ...DEFAULT_SESSION_KNN_OPTIONS, ...options };
    const { k, sampleSize } = this.options;
    if (!(k >= 1) || !(sampleSize >= 1)) throw new Error('vsknn: k and sampleSize must be ≥ 1');
    this.table = table;
    this.songs = songs;
    const nSessions = table.itemOffsets.length - 1;
    ({ postings: this.postings, postingOffsets: this.postingOffsets } = sessionPostings(table, songs));
    this.anchorPrefixPos = new Int32Array(nSessions);
    this.anchorPos = new Int32Array(nSessions);
    this.sim = new Float64Array(nSessions);
    this.lastPos = new Int32Array(songs);
    this.acc = new Float64Array(songs);
    this.mark = new Int32Array(songs);
    this.votedSongs = new Int32Array(songs);
    this.voteScores = new Float64Array(songs);
    this.touched = new Int32Array(nSessions);
    this.itemsAndPos = new Int32Array(2 * table.items.length);
    for (let q = 0; q < table.items.length; q++) {
      this.itemsAndPos[2 * q] = table.items[q];
      this.itemsAndPos[2 * q + 1] = table.itemPos[q];
    }
    let maxPos = 0;
    for (const p of table.itemPos) if (p > maxPos) maxPos = p;
    this.maxPos = maxPos;
    const positional = this.options.positional;
    this.positionalWeight = Float64Array.from({ length: 2 * maxPos + 1 }, (_, i) => {
      const d = i - maxPos;
      return positional === 'none' ? 1 : positional === 'symmetric' ? 1 / Math.abs(d) : d > 0 ? 1 / d : 0;
    });
  }

  get sessions(): number {
    return this.table.itemOffsets.length - 1;
  }

  /**
   * V-SkNN votes for the songs after `prefix` (ids < 0 are positions without a song). Played
   * songs get no vote. excludeSession (a session index, or −1) never votes: a training row's own
   * set, so the evidence comes from other sets. With `into` (a sessionEvidenceBuffer) the result
   * is written there and returned, valid until the buffer's next use; otherwise it is new arrays.
   */
  evidence(prefix: ArrayLike<number>, excludeSession = -1, into?: SessionEvidence): SessionEvidence {
    const { k, sampleSize, decay, matchDecay } = this.options;
    const { sim, anchorPrefixPos, anchorPos, lastPos, acc, mark, postings, postingOffsets, touched } = this;
    const { positionalWeight, maxPos, itemsAndPos } = this;
    const { itemOffsets, recency } = this.table;
    const L = prefix.length;
    if (this.prefixSongs.length < L) this.prefixSongs = new Int32Array(L);
    const prefixSongs = this.prefixSongs;
    // mark[s] = +id: s has a vote in this call; −id: s is in the prefix (played, no vote).
    if (this.callId === 0x3fffffff) {
      mark.fill(0);
      this.callId = 0;
    }
    const id = ++this.callId;
    let nPrefix = 0;
    for (let i = 0; i < L; i++) {
      const s = prefix[i];
      if (s < 0) continue;
      if (mark[s] !== -id) {
        mark[s] = -id;
        prefixSongs[nPrefix++] = s;
      }
      lastPos[s] = i;
    }
    const out = into ?? { songs: this.votedSongs, scores: this.voteScores, count: 0, total: 0 };
    if (out.songs.length < this.songs || out.scores.length < this.songs)
      throw new RangeError(`session evidence buffer holds fewer than ${this.songs} songs`);
    const votedSongs = out.songs;
    let nTouched = 0;
    for (let j = 0; j < nPrefix; j++) {
      const s = prefixSongs[j];
      const i = lastPos[s];
      const w = decay === 'linear' ? (i + 1) / L : 1 / (L - i);
      nTouched = addSessionMatches(postings, postingOffsets[s], postingOffsets[s + 1], i, w, excludeSession, this, nTouched);
    }
    // Partial selections (the votes do not depend on the neighbours' order): the sampleSize most
    // recent, then the k most similar, ties to the more recent (recency ranks are unique, so the
    // selected set is exact).
    const nSampled = Math.min(nTouched, sampleSize);
    if (nTouched > sampleSize) selectBest(touched, nTouched, sampleSize, recency, -1, recency);
    const nCandidates = Math.min(nSampled, k);
    if (nSampled > k) selectBest(touched, nSampled, k, sim, 1, recency);
    let nVoted = 0;
    for (let c = 0; c < nCandidates; c++) {
      const n = touched[c];
      const m = anchorPos[n];
      const vote = matchDecay ? sim[n] / (L - anchorPrefixPos[n]) : sim[n];
      for (let q = 2 * itemOffsets[n]; q < 2 * itemOffsets[n + 1]; q += 2) {
        const s = itemsAndPos[q];
        const state = mark[s];
        if (state === -id) continue; // played: excluded from the prediction anyway
        const w = positionalWeight[itemsAndPos[q + 1] - m + maxPos];
        if (state !== id) {
          mark[s] = id;
          votedSongs[nVoted++] = s;
          acc[s] = vote * w;
        } else acc[s] += vote * w;
      }
    }
    for (let c = 0; c < nTouched; c++) sim[touched[c]] = 0;
    const scores = out.scores;
    let total = 0;
    for (let i = 0; i < nVoted; i++) {
      const v = acc[votedSongs[i]];
      scores[i] = v;
      total += v;
    }
    out.count = nVoted;
    out.total = total;
    return into ? out : { songs: votedSongs.slice(0, nVoted), scores: scores.slice(0, nVoted), count: nVoted, total };
  }

  /** The sessions that play a song (each once: items are distinct per session). */
  sessionsOf(song: number): number[] {
    const out: number[] = [];
    for (let p = 2 * this.postingOffsets[song]; p < 2 * this.postingOffsets[song + 1]; p += 2) out.push(this.postings[p]);
    return out;
  }

  /** The evidence as a dense score per song (the baselines' EvidenceScorer form). */
  score(prefix: ArrayLike<number>, scores: Float64Array): void {
    scores.fill(0);
    const e = this.evidence(prefix);
    for (let i = 0; i < e.count; i++) scores[e.songs[i]] = e.scores[i];
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
  private readonly mass: OptionMass;

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
    this.mass = new OptionMass(knn.songs);
  }

  /** The kNN votes after a prefix (see SessionKnn.evidence). */
  evidence(prefix: ArrayLike<number>, excludeSession = -1, into?: SessionEvidence): SessionEvidence {
    return this.knn.evidence(prefix, excludeSession, into);
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
    this.mass.ensure(optionPopularity.length);
    for (let i = 0; i < e.count; i++) this.mass.add(labels ? labels[e.songs[i]] : e.songs[i], e.scores[i]);
    const mass = this.mass.values;
    for (let i = 0; i < candidates.length; i++) {
      const o = candidates[i];
      out[offset + i] = Math.log(mass[o] + beta * optionPopularity[o]) - logZ;
    }
    this.mass.clear();
  }
}
