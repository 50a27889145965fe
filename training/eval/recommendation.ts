import type { Csr } from '../../shared/graph/csr.ts';
import { fitBprMf, type BprMfOptions } from '../baselines/bprMf.ts';
import { fitItemKnn, type ItemKnnOptions } from '../baselines/itemKnn.ts';
import { fitPopularity, type PopularityOptions } from '../baselines/popularity.ts';
import type { Recommender } from '../baselines/recommender.ts';
import { TopK, ndcgAtK, precisionAtK, rankOf, recallAtK } from './metrics.ts';

/**
 * Recommendation evaluation (SPEC §6): the model beside the baselines on one split.
 * - Per-DJ hold-out: each DJ's `clickTest` songs (20 % of their click songs) against a ranking of
 *   all songs minus the DJ's training songs; Recall@k, NDCG@k, Precision@k averaged over the
 *   DJs with at least one test entry.
 * - Original protocol (SPEC §3): for each held-out (DJ, song) pair, is the song within the top k
 *   of the DJ's ranking (training songs excluded)? Recall@k = hits / pairs. Training
 *   Precision@k = share of the unfiltered top k that are the DJ's training songs, averaged over
 *   DJs with training songs (how much a model just replays what it was fitted on).
 */

/** What evaluation reads; a `Prepared` dataset satisfies it. */
export interface RecommendationData {
  click: Csr;
  clickTest: Csr;
  /** [dj, song] pairs, row-major. */
  heldOutPairs: Int32Array;
  /** A prepared folder's options: whether its graphs saw the held-out plays (absent before issue 18). */
  options?: { heldOutPlays?: 'gapped' | 'kept' };
}

export interface RecommendationOptions {
  /** Cut-off of the per-DJ hold-out metrics. */
  k: number;
  /** Cut-offs of the original protocol's recall. */
  originalKs: number[];
  trainPrecisionK: number;
  /** Also run the original protocol for each baseline (cheap: the rankings exist anyway). */
  originalBaselines: boolean;
  /** Prints one line per evaluated recommender to stderr. */
  progress: boolean;
}

export const DEFAULT_RECOMMENDATION_OPTIONS: RecommendationOptions = {
  k: 20,
  originalKs: [10, 25, 50, 100, 300, 500],
  trainPrecisionK: 10,
  originalBaselines: true,
  progress: false,
};

/** Keys "recall@20", "ndcg@20", "precision@20" (for k = 20). */
export type HoldoutMetrics = Record<string, number>;
/** Keys "recall@10" … "recall@500", "trainPrecision@10". */
export type OriginalMetrics = Record<string, number>;

export interface RecommendationResult {
  model: HoldoutMetrics | null;
  baselines: Record<string, HoldoutMetrics>;
  original: OriginalMetrics | null;
  originalBaselines?: Record<string, OriginalMetrics>;
  split: { djs: number; testEntries: number; heldOutPairs: number };
  /** Of a prepared folder: leak-free, or the original (leaky) protocol (also a folder prepared before issue 18). */
  protocol?: 'leak-free' | 'original (leaky)';
}

export interface Recommenders {
  model?: Recommender | null;
  baselines: Recommender[];
}

export function evaluateRecommendation(
  data: RecommendationData,
  recommenders: Recommenders,
  options: Partial<RecommendationOptions> = {},
): RecommendationResult {
  const o = { ...DEFAULT_RECOMMENDATION_OPTIONS, ...options };
  const { click, clickTest, heldOutPairs } = data;
  if (click.rows !== clickTest.rows || click.cols !== clickTest.cols)
    throw new Error(`evaluateRecommendation: click ${click.rows}×${click.cols} vs test ${clickTest.rows}×${clickTest.cols}`);
  const names = new Set<string>();
  for (const r of recommenders.baselines) {
    if (names.has(r.name)) throw new Error(`evaluateRecommendation: two baselines named "${r.name}"`);
    names.add(r.name);
  }
  const index = buildIndex(data);
  const baselines: Record<string, HoldoutMetrics> = {};
  const originalBaselines: Record<string, OriginalMetrics> = {};
  let model: HoldoutMetrics | null = null;
  let original: OriginalMetrics | null = null;
  const run = (r: Recommender, withOriginal: boolean) => {
    const started = performance.now();
    const out = evaluateOne(data, index, r, o, withOriginal);
    if (o.progress) {
      const shown = Object.entries({ ...out.holdout, ...out.original })
        .map(([k, v]) => `${k} ${v.toFixed(4)}`)
        .join(', ');
      process.stderr.write(`eval ${r.name}: ${shown} (${((performance.now() - started) / 1000).toFixed(1)}s)\n`);
    }
    return out;
  };
  if (recommenders.model) {
    const out = run(recommenders.model, true);
    model = out.holdout;
    original = out.original;
  }
  for (const r of recommenders.baselines) {
    const out = run(r, o.originalBaselines);
    baselines[r.name] = out.holdout;
    if (out.original) originalBaselines[r.name] = out.original;
  }
  return {
    model,
    baselines,
    original,
    ...(o.originalBaselines ? { originalBaselines } : {}),
    split: { djs: index.testDjs, testEntries: clickTest.indptr[clickTest.rows], heldOutPairs: heldOutPairs.length / 2 },
    ...(data.options ? { protocol: data.options.heldOutPlays === 'gapped' ? ('leak-free' as const) : ('original (leaky)' as const) } : {}),
  };
}

interface Index {
  /** Held-out songs of the original protocol, grouped by DJ. */
  pairsByDj: Map<number, number[]>;
  testDjs: number;
}

function buildIndex(data: RecommendationData): Index {
  const pairsByDj = new Map<number, number[]>();
  const p = data.heldOutPairs;
  if (p.length % 2 !== 0) throw new Error('heldOutPairs must hold [dj, song] pairs');
  for (let t = 0; t < p.length; t += 2) {
    const dj = p[t];
    const song = p[t + 1];
    if (dj < 0 || dj >= data.click.rows || song < 0 || song >= data.click.cols)
      throw new Error(`heldOutPairs: (${dj}, ${song}) outside ${data.click.rows}×${data.click.cols}`);
    let list = pairsByDj.get(dj);
    if (!list) pairsByDj.set(dj, (list = []));
    list.push(song);
  }
  let testDjs = 0;
  for (let d = 0; d < data.clickTest.rows; d++) if (data.clickTest.indptr[d + 1] > data.clickTest.indptr[d]) testDjs++;
  return { pairsByDj, testDjs };
}

function evaluateOne(
  data: RecommendationData,
  index: Index,
  r: Recommender,
  o: RecommendationOptions,
  withOriginal: boolean,
): { holdout: HoldoutMetrics; original: OriginalMetrics | null } {
  const { click, clickTest } = data;
  const scores = new Float32Array(click.cols);
  const training = new Uint8Array(click.cols);
  const heap = new TopK(o.k);
  const trainHeap = new TopK(o.trainPrecisionK);
  let recall = 0;
  let ndcg = 0;
  let precision = 0;
  let testDjs = 0;
  const hits = new Float64Array(o.originalKs.length);
  let pairs = 0;
  let trainPrecision = 0;
  let trainDjs = 0;
  for (let d = 0; d < click.rows; d++) {
    const ts = clickTest.indptr[d];
    const te = clickTest.indptr[d + 1];
    const cs = click.indptr[d];
    const ce = click.indptr[d + 1];
    const djPairs = withOriginal ? index.pairsByDj.get(d) : undefined;
    const needOriginal = withOriginal && (djPairs !== undefined || ce > cs);
    if (te === ts && !needOriginal) continue;
    r.scoreDj(d, scores);
    for (let p = cs; p < ce; p++) training[click.indices[p]] = 1;
    if (te > ts) {
      const relevant = new Set(clickTest.indices.subarray(ts, te));
      heap.reset();
      for (let j = 0; j < scores.length; j++) if (training[j] === 0) heap.push(j, scores[j]);
      const ranked = heap.sorted();
      recall += recallAtK(ranked, relevant, o.k);
      ndcg += ndcgAtK(ranked, relevant, o.k);
      precision += precisionAtK(ranked, relevant, o.k);
      testDjs++;
    }
    if (withOriginal && djPairs) {
      for (const song of djPairs) {
        const rank = rankOf(scores, song, training);
        o.originalKs.forEach((k, t) => (hits[t] += rank < k ? 1 : 0));
        pairs++;
      }
    }
    if (withOriginal && ce > cs) {
      trainHeap.reset();
      for (let j = 0; j < scores.length; j++) trainHeap.push(j, scores[j]);
      const top = trainHeap.sorted();
      let inTraining = 0;
      for (let t = 0; t < top.length; t++) inTraining += training[top[t]];
      trainPrecision += o.trainPrecisionK > 0 ? inTraining / o.trainPrecisionK : 0;
      trainDjs++;
    }
    for (let p = cs; p < ce; p++) training[click.indices[p]] = 0;
  }
  const mean = (sum: number, n: number) => (n > 0 ? sum / n : 0);
  const holdout: HoldoutMetrics = {
    [`recall@${o.k}`]: mean(recall, testDjs),
    [`ndcg@${o.k}`]: mean(ndcg, testDjs),
    [`precision@${o.k}`]: mean(precision, testDjs),
  };
  if (!withOriginal) return { holdout, original: null };
  const original: OriginalMetrics = {};
  o.originalKs.forEach((k, t) => (original[`recall@${k}`] = mean(hits[t], pairs)));
  original[`trainPrecision@${o.trainPrecisionK}`] = mean(trainPrecision, trainDjs);
  return { holdout, original };
}

export interface BaselineOptions {
  popularity: Partial<PopularityOptions>;
  itemknn: Partial<ItemKnnOptions>;
  bprmf: Partial<BprMfOptions>;
}

/** The three SPEC §6 baselines, fitted on the training click matrix only. */
export function fitBaselines(click: Csr, options: Partial<BaselineOptions> = {}): Recommender[] {
  return [
    fitPopularity(click, options.popularity),
    fitItemKnn(click, options.itemknn),
    fitBprMf(click, options.bprmf),
  ];
}

/** An aligned plain-text table: one row per recommender, one column per metric. */
export function formatRecommendationTable(result: RecommendationResult): string {
  const rows: { name: string; metrics: Record<string, number> }[] = [];
  if (result.model) rows.push({ name: 'model', metrics: { ...result.model, ...(result.original ?? {}) } });
  for (const [name, m] of Object.entries(result.baselines))
    rows.push({ name, metrics: { ...m, ...(result.originalBaselines?.[name] ?? {}) } });
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row.metrics)) if (!columns.includes(key)) columns.push(key);
  const cells = [
    ['', ...columns],
    ...rows.map((row) => [row.name, ...columns.map((c) => (c in row.metrics ? row.metrics[c].toFixed(4) : '–'))]),
  ];
  const widths = cells[0].map((_, c) => Math.max(...cells.map((line) => line[c].length)));
  const lines = cells.map((line) =>
    line.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '),
  );
  const s = result.split;
  lines.push(`(${s.djs} DJs with test entries, ${s.testEntries} test entries, ${s.heldOutPairs} held-out pairs)`);
  if (result.protocol === 'leak-free')
    lines.push('protocol: leak-free (the held-out plays are gaps in every set the song, artist and DJ tables are built from); songgraph-leaky: the original (leaky) protocol');
  else if (result.protocol) lines.push('protocol: original (leaky): the held-out plays are still in the sets the song and artist graphs are built from');
  return lines.join('\n');
}
