/**
 * Per-set statistics of a tracklist (SPEC §6 "Generated tracklists"), the same for real held-out
 * sets and for generated ones, so they can be compared side by side and fed to the two-sample
 * classifier. A set is a list of vocabulary songs, seed first, without gaps or repeats.
 */
import { parseTrack } from '../../shared/corpus/trackString.ts';
import type { Prepared } from '../../shared/graph/prepare.ts';
import type { EmbeddingIndex } from '../../shared/model/embeddings.ts';

export const STATISTICS = [
  'adjacent',
  'near3',
  'novel',
  'sameL1',
  'sameL2',
  'sameL3',
  'sameScene',
  'sameSubgenre',
  'sameGenre',
  'artistRepeat',
  'distinctArtists',
  'meanLogPlays',
  'top1pct',
  'tastePercentile',
  'seedSim1to3',
  'seedSim4to10',
  'seedSim11plus',
] as const;
export type Statistic = (typeof STATISTICS)[number];
export type SetFeatures = Record<Statistic, number | null>;

/** What each statistic means, for the printed table. */
export const STATISTIC_TEXT: Record<Statistic, string> = {
  adjacent: 'consecutive pairs adjacent (in this order) in a training set',
  near3: 'consecutive pairs within 3 positions in a training set',
  novel: 'consecutive pairs never in one training set',
  sameL1: 'transitions within one fine (l1) cluster of the learned tree',
  sameL2: 'transitions within one mid (l2) cluster',
  sameL3: 'transitions within one broad (l3) cluster',
  sameScene: 'transitions within one planted scene',
  sameSubgenre: 'transitions within one planted subgenre',
  sameGenre: 'transitions within one planted genre',
  artistRepeat: "songs whose main artist already played in the set",
  distinctArtists: 'distinct main artists per set',
  meanLogPlays: 'mean ln(1 + plays) of the songs',
  top1pct: 'songs among the 1 % most played',
  tastePercentile: "mean percentile of the songs in the DJ's recommendation scores",
  seedSim1to3: 'cosine to the seed, positions 1-3',
  seedSim4to10: 'cosine to the seed, positions 4-10',
  seedSim11plus: 'cosine to the seed, positions 11+',
};

/** (training set, position) postings per song, to ask where two songs met in training. */
class Postings {
  private readonly start: Int32Array;
  private readonly set: Int32Array;
  private readonly position: Int32Array;

  constructor(prepared: Prepared) {
    const { sequences } = prepared;
    const songs = prepared.vocab.songs.length;
    const count = new Int32Array(songs + 1);
    const each = (f: (s: number, t: number, p: number) => void) => {
      for (let t = 0; t < sequences.split.length; t++) {
        if (sequences.split[t] !== 0) continue;
        for (let i = sequences.offsets[t]; i < sequences.offsets[t + 1]; i++) {
          const s = sequences.songs[i];
          if (s >= 0) f(s, t, i - sequences.offsets[t]);
        }
      }
    };
    each((s) => count[s + 1]++);
    for (let s = 0; s < songs; s++) count[s + 1] += count[s];
    this.start = count;
    this.set = new Int32Array(count[songs]);
    this.position = new Int32Array(count[songs]);
    const fill = count.slice(0, songs);
    each((s, t, p) => {
      this.set[fill[s]] = t;
      this.position[fill[s]++] = p;
    });
  }

  /** The smallest |position(b) − position(a)| over training sets holding both (b after a when `ordered`), or Infinity. */
  distance(a: number, b: number, ordered: boolean): number {
    let i = this.start[a];
    let j = this.start[b];
    const ie = this.start[a + 1];
    const je = this.start[b + 1];
    let best = Infinity;
    while (i < ie && j < je) {
      const ta = this.set[i];
      const tb = this.set[j];
      if (ta < tb) i++;
      else if (tb < ta) j++;
      else {
        // A song can occur more than once in a set: compare every pair of its occurrences.
        let i2 = i;
        while (i2 < ie && this.set[i2] === ta) {
          let j2 = j;
          while (j2 < je && this.set[j2] === ta) {
            const d = this.position[j2] - this.position[i2];
            if (ordered ? d > 0 && d < best : Math.abs(d) < best) best = ordered ? d : Math.abs(d);
            j2++;
          }
          i2++;
        }
        while (i < ie && this.set[i] === ta) i++;
        while (j < je && this.set[j] === ta) j++;
      }
    }
    return best;
  }
}

export interface StatisticsInputs {
  prepared: Prepared;
  /** The learned tree's labels per level, finest first (l1, l2, l3), or null without a tracklist model. */
  tree: Int32Array[] | null;
  /** Planted labels per level, finest first (scene, subgenre, genre; -1 unknown), or null. */
  planted: Int32Array[] | null;
  index: EmbeddingIndex | null;
}

export class SetStatistics {
  private readonly postings: Postings;
  private readonly mainArtist: Int32Array;
  private readonly logPlays: Float64Array;
  private readonly top1: Uint8Array;
  private readonly inputs: StatisticsInputs;
  private readonly scratch: Float32Array;
  private readonly tasteCache = new Map<number, { scores: Float32Array; sorted: Float32Array }>();

  constructor(inputs: StatisticsInputs) {
    this.inputs = inputs;
    const { prepared } = inputs;
    const songs = prepared.vocab.songs.length;
    this.postings = new Postings(prepared);
    const artistIds = new Map<string, number>();
    this.mainArtist = Int32Array.from(prepared.vocab.songs, (name) => {
      const parsed = parseTrack(name);
      const main = parsed.kind === 'song' ? (parsed.artists.find((a) => a.role === 'main') ?? parsed.artists[0]) : undefined;
      const key = main?.key ?? name;
      let id = artistIds.get(key);
      if (id === undefined) artistIds.set(key, (id = artistIds.size));
      return id;
    });
    this.logPlays = Float64Array.from(prepared.songPlays, (p) => Math.log1p(p));
    const order = Array.from({ length: songs }, (_, s) => s).sort((a, b) => prepared.songPlays[b] - prepared.songPlays[a]);
    this.top1 = new Uint8Array(songs);
    for (const s of order.slice(0, Math.max(1, Math.round(songs / 100)))) this.top1[s] = 1;
    this.scratch = new Float32Array(songs);
  }

  /** The statistics of one set; `dj` is the taste the set was played (or generated) for. */
  of(set: readonly number[], dj: number | null): SetFeatures {
    const pairs = set.length - 1;
    let adjacent = 0;
    let near = 0;
    let novel = 0;
    for (let i = 0; i < pairs; i++) {
      const ordered = this.postings.distance(set[i], set[i + 1], true);
      const any = this.postings.distance(set[i], set[i + 1], false);
      if (ordered === 1) adjacent++;
      if (any <= 3) near++;
      if (any === Infinity) novel++;
    }
    const same = (labels: Int32Array | undefined): number | null => {
      if (!labels) return null;
      let n = 0;
      let k = 0;
      for (let i = 0; i < pairs; i++) {
        const a = labels[set[i]];
        const b = labels[set[i + 1]];
        if (a < 0 || b < 0) continue;
        n++;
        if (a === b) k++;
      }
      return n > 0 ? k / n : null;
    };
    const seen = new Set<number>();
    let repeats = 0;
    for (const s of set) {
      if (seen.has(this.mainArtist[s])) repeats++;
      seen.add(this.mainArtist[s]);
    }
    let logPlays = 0;
    let top = 0;
    for (const s of set) {
      logPlays += this.logPlays[s];
      top += this.top1[s];
    }
    const { tree, planted, index } = this.inputs;
    let taste: number | null = null;
    if (dj !== null && index) {
      const { scores, sorted } = this.tasteOf(dj, index);
      let sum = 0;
      for (const s of set.slice(1)) sum += percentile(sorted, scores[s]);
      taste = pairs > 0 ? sum / pairs : null;
    }
    const sims = index ? index.songCosines(set[0], this.scratch) : null;
    const simMean = (from: number, to: number): number | null => {
      if (!sims) return null;
      const part = set.slice(from, to + 1);
      return part.length > 0 ? part.reduce((sum, s) => sum + sims[s], 0) / part.length : null;
    };
    return {
      adjacent: pairs > 0 ? adjacent / pairs : null,
      near3: pairs > 0 ? near / pairs : null,
      novel: pairs > 0 ? novel / pairs : null,
      sameL1: same(tree?.[0]),
      sameL2: same(tree?.[1]),
      sameL3: same(tree?.[2]),
      sameScene: same(planted?.[0]),
      sameSubgenre: same(planted?.[1]),
      sameGenre: same(planted?.[2]),
      artistRepeat: set.length > 1 ? repeats / (set.length - 1) : null,
      distinctArtists: seen.size,
      meanLogPlays: logPlays / set.length,
      top1pct: top / set.length,
      tastePercentile: taste,
      seedSim1to3: simMean(1, 3),
      seedSim4to10: simMean(4, 10),
      seedSim11plus: simMean(11, Infinity),
    };
  }

  /** The DJ's recommendation scores, and a sorted copy for percentiles. */
  private tasteOf(dj: number, index: EmbeddingIndex): { scores: Float32Array; sorted: Float32Array } {
    let taste = this.tasteCache.get(dj);
    if (!taste) {
      const scores = index.scoreDj(dj, new Float32Array(this.scratch.length));
      taste = { scores, sorted: scores.slice().sort() };
      this.tasteCache.set(dj, taste);
    }
    return taste;
  }
}

/** Share of all songs scored below `value` (1 = the best song), from the sorted scores. */
function percentile(sorted: Float32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo / (sorted.length - 1 || 1);
}

/** Means of each statistic over the sets where it is defined (null where never defined). */
export function meanFeatures(rows: readonly SetFeatures[]): SetFeatures {
  const out = {} as SetFeatures;
  for (const key of STATISTICS) {
    let sum = 0;
    let n = 0;
    for (const r of rows) {
      const v = r[key];
      if (v !== null && Number.isFinite(v)) {
        sum += v;
        n++;
      }
    }
    out[key] = n > 0 ? sum / n : null;
  }
  return out;
}
