/**
 * The `generation` section of `tlgen eval` (SPEC §6 "Generated tracklists"): for held-out
 * tracklists, generate a set from the real set's first song as seed, for its DJ, as long as the
 * real set (capped at 30 songs after the seed), and compare generated and real sets on the
 * statistics of setStatistics.ts; the same for baseline generators in the same run; the exact
 * oracle's log-probability of each transition on synthetic corpora; and a two-sample classifier's
 * cross-validated AUC per generator (0.5 = indistinguishable from the real sets).
 */
import type { Tracklist } from '../../shared/corpus/types.ts';
import type { Prepared } from '../../shared/graph/prepare.ts';
import { Progress } from '../../shared/util/progress.ts';
import { Random } from '../../shared/util/random.ts';
import type { NextSongPredictor } from '../nextsong/predictor.ts';
import type { OraclePredictor } from '../nextsong/oracle.ts';
import { meanFeatures, type SetFeatures, SetStatistics, STATISTICS, STATISTIC_TEXT, type StatisticsInputs } from './setStatistics.ts';
import { twoSampleAuc } from './twoSample.ts';

/** Songs generated after the seed, at most (the real set is cut to the same length). */
export const MAX_GENERATED = 30;
/** Held-out sets need this many distinct vocabulary songs to be compared. */
const MIN_SET_SONGS = 4;

export interface GenerationTask {
  /** Index of the held-out tracklist in the prepared sequences. */
  tracklist: number;
  /** The real set: its distinct vocabulary songs in order, seed first, cut to the generated length. */
  real: number[];
  seed: number;
  /** The set's first kept DJ (the taste), or null. */
  dj: number | null;
  djs: Int32Array;
  /** Songs to generate after the seed. */
  length: number;
  rngSeed: number;
  /** Position of the seed in the held-out tracklist (gaps and unknown tracks may come first). */
  seedPosition: number;
}

/** Something that writes a set for a task: the model, or a baseline generator. */
export interface SetGenerator {
  readonly name: string;
  /** The set, seed first, `task.length` songs after it, no repeats. */
  generate(task: GenerationTask): number[];
}

/** Up to `count` held-out tracklists with enough songs, a seeded sample in corpus order. */
export function generationTasks(prepared: Prepared, count: number, seed = 1): GenerationTask[] {
  const { sequences } = prepared;
  const candidates: GenerationTask[] = [];
  for (let t = 0; t < sequences.split.length; t++) {
    if (sequences.split[t] !== 1) continue;
    const songs: number[] = [];
    const seen = new Set<number>();
    let seedPosition = -1;
    for (let i = sequences.offsets[t]; i < sequences.offsets[t + 1]; i++) {
      const s = sequences.songs[i];
      if (s >= 0 && !seen.has(s)) {
        if (seedPosition < 0) seedPosition = i - sequences.offsets[t];
        seen.add(s);
        songs.push(s);
      }
    }
    if (songs.length < MIN_SET_SONGS) continue;
    const real = songs.slice(0, MAX_GENERATED + 1);
    const djs = sequences.djs.slice(sequences.djOffsets[t], sequences.djOffsets[t + 1]);
    candidates.push({ tracklist: t, real, seed: real[0], dj: djs.length > 0 ? djs[0] : null, djs, length: real.length - 1, rngSeed: 0, seedPosition });
  }
  const rng = new Random(seed);
  const chosen = candidates.length > count ? rng.shuffle(candidates.slice()).slice(0, count).sort((a, b) => a.tracklist - b.tracklist) : candidates;
  return chosen.map((task, k) => ({ ...task, rngSeed: (seed * 7919 + k * 104729) >>> 0 }));
}

/** Samples each next song from a next-song predictor's distribution (Markov walk, V-SkNN). */
export function predictorGenerator(name: string, predictor: NextSongPredictor, songs: number): SetGenerator {
  const out = new Float64Array(songs);
  return {
    name,
    generate(task) {
      const rng = new Random(task.rngSeed);
      const set = [task.seed];
      for (let i = 0; i < task.length; i++) {
        predictor.predict(Int32Array.from(set), task.djs, out);
        set.push(rng.weighted(out));
      }
      return set;
    },
  };
}

/** "Similar-songs radio": the seed's nearest songs, most similar first. */
export function radioGenerator(similar: (song: number, k: number) => { index: number }[]): SetGenerator {
  return {
    name: 'radio',
    generate: (task) => [task.seed, ...similar(task.seed, task.length).map((x) => x.index)],
  };
}

/**
 * The most played songs of the seed's level-1 cluster, then of its level-2 and level-3 cluster,
 * then of the whole catalogue, until the set is full.
 */
export function clusterPopularityGenerator(tree: Int32Array[], plays: ArrayLike<number>): SetGenerator {
  const byPlays = Array.from({ length: plays.length }, (_, s) => s).sort((a, b) => plays[b] - plays[a] || a - b);
  return {
    name: 'cluster-popularity',
    generate(task) {
      const set = [task.seed];
      const used = new Set(set);
      for (const labels of [...tree, null]) {
        for (const s of byPlays) {
          if (set.length > task.length) return set;
          if (used.has(s) || (labels && labels[s] !== labels[task.seed])) continue;
          used.add(s);
          set.push(s);
        }
      }
      return set;
    },
  };
}

/** ln P given to a transition the true process cannot make (the oracle says 0). */
const IMPOSSIBLE_LOG_PROB = Math.log(1e-6);

/**
 * The exact oracle's ln P(song | set so far, the set's DJs and date) per transition, with the
 * real tracklist's opening up to its seed as the context (the process cannot start every set at
 * every song). A song the process gives probability 0 scores IMPOSSIBLE_LOG_PROB and stays in the
 * prefix as an unidentified track, so the oracle can go on conditioning on the rest.
 */
function oracleLogProbs(oracle: OraclePredictor, raw: Tracklist, task: GenerationTask, set: readonly number[], names: readonly string[], out: Float64Array) {
  const opening = raw.tracks.slice(0, task.seedPosition);
  const tracks: Tracklist['tracks'] = [...opening, ...set.map((s) => names[s])];
  const ids = [...opening.map(() => -1), ...set];
  const logs: number[] = [];
  let zero = 0;
  for (let p = 1; p < set.length; p++) {
    const at = opening.length + p;
    oracle.predict(Int32Array.from(ids.slice(0, at)), new Int32Array(0), out, { tracklist: -1, day: -1, raw: { ...raw, tracks } });
    const q = out[set[p]];
    if (q > 0) logs.push(Math.log(q));
    else {
      zero++;
      logs.push(IMPOSSIBLE_LOG_PROB);
      tracks[at] = 'ID - ID';
      ids[at] = -1;
    }
  }
  return { logs, zero };
}

export interface GeneratorReport {
  /** Mean of each statistic over the sets. */
  statistics: SetFeatures;
  /** Cross-validated AUC of telling this generator's sets from the real ones (null for the real sets). */
  auc: number | null;
  /** Mean ln P per transition under the oracle (synthetic corpora); transitions it gives probability 0 count ln 1e-6. */
  oracle: { logProb: number; zeroProbability: number; transitions: number } | null;
  sets: number;
  /** Wall time per generated set. */
  msPerSet: number;
}

export interface GenerationReport {
  tasks: number;
  real: GeneratorReport;
  model: GeneratorReport | null;
  baselines: Record<string, GeneratorReport>;
}

export interface GenerationOptions {
  /** Held-out sets the oracle scores (it is slow), at most. */
  oracleSets?: number;
  progress?: boolean;
}

const featureVector = (f: SetFeatures): number[] => STATISTICS.map((k) => f[k] ?? Number.NaN);

/** Runs every generator on the tasks and reports them beside the real sets. */
export function evaluateGeneration(
  inputs: StatisticsInputs & {
    oracle: OraclePredictor | null;
    raw: ((t: number) => Tracklist | undefined) | null;
    /** Statistics built from these inputs once, for callers that evaluate many times (tuning). */
    statistics?: SetStatistics;
  },
  tasks: readonly GenerationTask[],
  generators: { model: SetGenerator | null; baselines: readonly SetGenerator[] },
  options: GenerationOptions = {},
): GenerationReport {
  const stats = inputs.statistics ?? new SetStatistics(inputs);
  const names = inputs.prepared.vocab.songs;
  const out = new Float64Array(names.length);
  const oracleSets = Math.min(tasks.length, options.oracleSets ?? 100);
  const all = [...(generators.model ? [generators.model] : []), ...generators.baselines];
  const progress = options.progress ? new Progress('generation evaluation', tasks.length * (all.length + 1)) : null;

  const report = (sets: number[][], ms: number, real: SetFeatures[] | null): { rows: SetFeatures[]; report: GeneratorReport } => {
    const rows = sets.map((set, k) => {
      progress?.tick();
      return stats.of(set, tasks[k].dj);
    });
    let oracle: GeneratorReport['oracle'] = null;
    if (inputs.oracle && inputs.raw) {
      let sum = 0;
      let scored = 0;
      let zero = 0;
      for (let k = 0; k < oracleSets; k++) {
        const raw = inputs.raw(tasks[k].tracklist);
        if (!raw) continue;
        const r = oracleLogProbs(inputs.oracle, raw, tasks[k], sets[k], names, out);
        for (const v of r.logs) sum += v;
        scored += r.logs.length;
        zero += r.zero;
      }
      oracle = { logProb: scored > 0 ? sum / scored : Number.NaN, zeroProbability: zero, transitions: scored };
    }
    return {
      rows,
      report: {
        statistics: meanFeatures(rows),
        auc: real ? twoSampleAuc(rows.map(featureVector), real.map(featureVector)) : null,
        oracle,
        sets: sets.length,
        msPerSet: ms / Math.max(1, sets.length),
      },
    };
  };

  const real = report(tasks.map((t) => t.real), 0, null);
  const run = (g: SetGenerator): GeneratorReport => {
    const started = performance.now();
    const sets = tasks.map((task) => {
      const set = g.generate(task);
      if (set[0] !== task.seed || set.length !== task.length + 1 || new Set(set).size !== set.length)
        throw new Error(`generation evaluation: ${g.name} returned ${set.length} songs (want ${task.length + 1}, seed first, no repeats)`);
      return set;
    });
    return report(sets, performance.now() - started, real.rows).report;
  };
  const result: GenerationReport = {
    tasks: tasks.length,
    real: real.report,
    model: generators.model ? run(generators.model) : null,
    baselines: Object.fromEntries(generators.baselines.map((g) => [g.name, run(g)])),
  };
  progress?.finish();
  return result;
}

/** The report as a table: one row per statistic, one column per generator. */
export function formatGenerationTable(r: GenerationReport): string {
  const columns: [string, GeneratorReport][] = [['real', r.real], ...(r.model ? [['model', r.model] as [string, GeneratorReport]] : []), ...Object.entries(r.baselines)];
  const width = Math.max(...STATISTICS.map((k) => k.length), 'oracle ln P'.length) + 1;
  const cell = (s: string) => s.padStart(Math.max(9, ...columns.map(([n]) => n.length)) + 1);
  const fmt = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(3));
  const lines = [''.padEnd(width) + columns.map(([n]) => cell(n)).join('')];
  for (const key of STATISTICS) {
    if (columns.every(([, c]) => c.statistics[key] === null)) continue;
    lines.push(key.padEnd(width) + columns.map(([, c]) => cell(fmt(c.statistics[key]))).join(''));
  }
  if (r.real.oracle) {
    lines.push('oracle ln P'.padEnd(width) + columns.map(([, c]) => cell(fmt(c.oracle?.logProb))).join(''));
    lines.push('oracle P = 0'.padEnd(width) + columns.map(([, c]) => cell(String(c.oracle?.zeroProbability ?? '—'))).join(''));
  }
  lines.push('AUC vs real'.padEnd(width) + columns.map(([, c]) => cell(fmt(c.auc))).join(''));
  lines.push('ms per set'.padEnd(width) + columns.map(([, c]) => cell(c.msPerSet ? c.msPerSet.toFixed(2) : '—')).join(''));
  lines.push(`${r.tasks} held-out sets (seed = their first song, taste = their DJ, same length up to ${MAX_GENERATED}). Rows:`);
  for (const key of STATISTICS) if (columns.some(([, c]) => c.statistics[key] !== null)) lines.push(`  ${key}: ${STATISTIC_TEXT[key]}`);
  return lines.join('\n');
}
