import type { Tracklist } from '../../shared/corpus/types.ts';
import { GAP, type Sequences } from '../../shared/graph/prepare.ts';
import { Progress } from '../../shared/util/progress.ts';
import { Random } from '../../shared/util/random.ts';
import type { NextSongContext, NextSongData, NextSongPredictor } from './predictor.ts';

/**
 * Next-song evaluation (SPEC §6). Each position p ≥ 1 of a held-out tracklist whose track is a
 * vocabulary song is one test case: the prefix is the whole set so far (gaps and OOV tracks
 * kept, so a predictor sees adjacency breaks), and every vocabulary song is ranked by the
 * predictor's probability. Ties rank by lower song index (the project-wide rule). Targets that
 * are gaps, OOV, or repeats of a song already in the prefix are skipped and counted: repeats
 * because every predictor gives played songs probability 0 by design.
 */
export interface NextSongMetrics {
  'hr@10': number;
  'hr@100': number;
  mrr: number;
  /** Mean −log2 P(target). */
  nllBits: number;
  /** Predictor diagnostics (e.g. the oracle's outOfVocabularyMass). */
  [extra: string]: number;
}

export interface NextSongSkips {
  gap: number;
  outOfVocabulary: number;
  repeat: number;
  /** Eligible positions left out by `maxPositions`. */
  subsampled: number;
}

export interface NextSongResult {
  model: NextSongMetrics | null;
  baselines: Record<string, NextSongMetrics>;
  oracle: NextSongMetrics | null;
  positions: number;
  skipped: NextSongSkips;
}

export interface NextSongPredictors {
  model?: NextSongPredictor | null;
  baselines: readonly NextSongPredictor[];
  oracle?: NextSongPredictor | null;
}

export interface EvaluateNextSongOptions {
  /** Evaluate a seeded uniform sample of at most this many eligible positions. */
  maxPositions?: number;
  seed?: number;
  /** The corpus tracklist at a sequence index (for predictors that need raw tracks: the oracle). */
  raw?: (tracklist: number) => Tracklist | undefined;
  progress?: boolean;
}

/** Eligible (tracklist, position) pairs, flattened, in corpus order. */
export interface NextSongPositions {
  pairs: Int32Array;
  skipped: NextSongSkips;
}

/** Collects every evaluable position p ≥ 1 of the given tracklists, counting the skipped ones. */
export function collectPositions(
  sequences: Sequences,
  songs: number,
  tracklists: ArrayLike<number>,
  maxPositions = Infinity,
  seed = 1,
): NextSongPositions {
  const skipped: NextSongSkips = { gap: 0, outOfVocabulary: 0, repeat: 0, subsampled: 0 };
  const pairs: number[] = [];
  const playedIn = new Int32Array(songs).fill(-1);
  for (let k = 0; k < tracklists.length; k++) {
    const t = tracklists[k];
    const start = sequences.offsets[t];
    const end = sequences.offsets[t + 1];
    for (let i = start; i < end; i++) {
      const s = sequences.songs[i];
      if (i > start) {
        if (s === GAP) skipped.gap++;
        else if (s < 0) skipped.outOfVocabulary++;
        else if (playedIn[s] === t) skipped.repeat++;
        else pairs.push(t, i - start);
      }
      if (s >= 0) playedIn[s] = t;
    }
  }
  let chosen = Int32Array.from(pairs);
  const eligible = pairs.length / 2;
  if (eligible > maxPositions) {
    const order = new Random(seed).shuffle(Array.from({ length: eligible }, (_, q) => q));
    const keep = order.slice(0, maxPositions).sort((a, b) => a - b);
    chosen = new Int32Array(2 * keep.length);
    keep.forEach((q, r) => {
      chosen[2 * r] = pairs[2 * q];
      chosen[2 * r + 1] = pairs[2 * q + 1];
    });
    skipped.subsampled = eligible - keep.length;
  }
  return { pairs: chosen, skipped };
}

/** Running sums of the metrics for one predictor. */
export class MetricSums {
  count = 0;
  hits10 = 0;
  hits100 = 0;
  reciprocalRanks = 0;
  nllBits = 0;

  /** Scores one prediction; throws when `out` is not a distribution or the target has no mass. */
  add(name: string, out: Float64Array, target: number, where: () => string): void {
    const pt = out[target];
    let sum = 0;
    let rank = 1;
    for (let j = 0; j < out.length; j++) {
      const v = out[j];
      if (!(v >= 0)) throw new Error(`${name}: probability ${v} for song ${j} at ${where()}`);
      sum += v;
      if (v > pt || (v === pt && j < target)) rank++;
    }
    if (Math.abs(sum - 1) > 1e-6) throw new Error(`${name}: probabilities sum to ${sum} at ${where()}`);
    if (!(pt > 0)) throw new Error(`${name}: probability 0 for the observed next song at ${where()}`);
    this.count++;
    if (rank <= 10) this.hits10++;
    if (rank <= 100) this.hits100++;
    this.reciprocalRanks += 1 / rank;
    this.nllBits -= Math.log2(pt);
  }

  metrics(): NextSongMetrics {
    const n = this.count || 1;
    return {
      'hr@10': this.hits10 / n,
      'hr@100': this.hits100 / n,
      mrr: this.reciprocalRanks / n,
      nllBits: this.nllBits / n,
    };
  }
}

/** Runs predictors over positions, sharing the prefix views and the raw-tracklist lookups. */
export function scorePositions(
  data: NextSongData,
  predictors: readonly NextSongPredictor[],
  pairs: Int32Array,
  options: Pick<EvaluateNextSongOptions, 'raw' | 'progress'> = {},
): MetricSums[] {
  const { sequences } = data;
  const songs = data.vocab.songs.length;
  const needsRaw = predictors.filter((p) => p.needsRaw);
  if (needsRaw.length > 0 && !options.raw)
    throw new Error(
      `next-song evaluation: ${needsRaw.map((p) => p.name).join(', ')} needs the corpus tracklists`,
    );
  const sums = predictors.map(() => new MetricSums());
  const out = new Float64Array(songs);
  const positions = pairs.length / 2;
  const progress = options.progress ? new Progress('next-song evaluation', positions) : null;
  let context: NextSongContext = { tracklist: -1, day: -1, raw: null };
  for (let q = 0; q < positions; q++) {
    const t = pairs[2 * q];
    const p = pairs[2 * q + 1];
    const start = sequences.offsets[t];
    if (context.tracklist !== t) context = { tracklist: t, day: sequences.days[t], raw: rawOf(t) };
    const prefix = sequences.songs.subarray(start, start + p);
    const djs = sequences.djs.subarray(sequences.djOffsets[t], sequences.djOffsets[t + 1]);
    const target = sequences.songs[start + p];
    const where = () => `tracklist ${sequences.ids[t]} position ${p}`;
    predictors.forEach((predictor, k) => {
      predictor.predict(prefix, djs, out, context);
      sums[k].add(predictor.name, out, target, where);
    });
    progress?.tick();
  }
  progress?.finish();
  return sums;

  function rawOf(t: number): Tracklist | null {
    if (!options.raw) return null;
    const raw = options.raw(t);
    if (!raw) {
      if (needsRaw.length > 0)
        throw new Error(`next-song evaluation: no corpus tracklist for ${sequences.ids[t]}`);
      return null;
    }
    const length = sequences.offsets[t + 1] - sequences.offsets[t];
    if (raw.id !== sequences.ids[t] || raw.tracks.length !== length)
      throw new Error(
        `next-song evaluation: corpus tracklist ${raw.id} (${raw.tracks.length} tracks) does not match ` +
          `prepared ${sequences.ids[t]} (${length}); was the dataset prepared from this corpus?`,
      );
    return raw;
  }
}

/** Evaluates predictors on every held-out (split 1) tracklist; see the module comment. */
export function evaluateNextSong(
  data: NextSongData,
  predictors: NextSongPredictors,
  options: EvaluateNextSongOptions = {},
): NextSongResult {
  const { sequences } = data;
  const test: number[] = [];
  for (let t = 0; t < sequences.split.length; t++) if (sequences.split[t] === 1) test.push(t);
  const { pairs, skipped } = collectPositions(
    sequences,
    data.vocab.songs.length,
    test,
    options.maxPositions ?? Infinity,
    options.seed ?? 1,
  );
  const all = [
    ...(predictors.model ? [predictors.model] : []),
    ...predictors.baselines,
    ...(predictors.oracle ? [predictors.oracle] : []),
  ];
  const names = new Set(predictors.baselines.map((p) => p.name));
  if (names.size !== predictors.baselines.length)
    throw new Error('next-song evaluation: duplicate baseline names');
  const sums = scorePositions(data, all, pairs, options);
  const row = (k: number): NextSongMetrics => ({ ...sums[k].metrics(), ...(all[k].diagnostics?.() ?? {}) });
  const first = predictors.model ? 1 : 0;
  return {
    model: predictors.model ? row(0) : null,
    baselines: Object.fromEntries(predictors.baselines.map((p, k) => [p.name, row(first + k)])),
    oracle: predictors.oracle ? row(all.length - 1) : null,
    positions: pairs.length / 2,
    skipped,
  };
}

/** A readable table of a result: one row per predictor, then the position counts. */
export function formatNextSongTable(result: NextSongResult): string {
  const rows: [string, NextSongMetrics][] = [];
  if (result.model) rows.push(['model', result.model]);
  for (const [name, m] of Object.entries(result.baselines)) rows.push([name, m]);
  if (result.oracle) rows.push(['oracle', result.oracle]);
  const width = Math.max(10, ...rows.map(([name]) => name.length));
  const cell = (s: string) => s.padStart(9);
  const lines = [
    ['predictor'.padEnd(width), cell('HR@10'), cell('HR@100'), cell('MRR'), cell('NLL bits')].join(' '),
  ];
  for (const [name, m] of rows)
    lines.push(
      [
        name.padEnd(width),
        cell(m['hr@10'].toFixed(4)),
        cell(m['hr@100'].toFixed(4)),
        cell(m.mrr.toFixed(4)),
        cell(m.nllBits.toFixed(3)),
      ].join(' '),
    );
  for (const [name, m] of rows) {
    const extra = Object.entries(m).filter(([key]) => !['hr@10', 'hr@100', 'mrr', 'nllBits'].includes(key));
    if (extra.length > 0) lines.push(`${name}: ${extra.map(([key, v]) => `${key} ${round(v)}`).join(', ')}`);
  }
  const s = result.skipped;
  lines.push(
    `${result.positions} positions; skipped: ${s.gap} gap, ${s.outOfVocabulary} out of vocabulary, ` +
      `${s.repeat} repeat, ${s.subsampled} subsampled`,
  );
  return lines.join('\n');
}

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(4);
}
