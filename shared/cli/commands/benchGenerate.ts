import type { Like } from '../../model/coldStart.ts';
import { kernelMode, setKernelMode } from '../../model/rowMatrix.ts';
import { Random } from '../../util/random.ts';
import { intOption, type Command } from '../command.ts';
import { loadServingModel, MODEL_OPTION } from './generate.ts';

/**
 * `tlgen bench generate`: serving latency on one model version, in process. Times the load,
 * 15-song generation (DJ taste, no taste, 50 likes), cold-start recommendations from 50 likes,
 * and reports RSS and the artifact size beside the targets (seed-size model: generate p50 ≤ 5 ms,
 * p99 ≤ 20 ms; cold start ≤ 50 ms; load ≤ 1 s; RSS ≤ 300 MB). Then, in the same run, the DJ-taste
 * generation again on a second copy of the model with the scalar TypeScript kernels: the baseline
 * the SIMD kernels (shared/model/rowMatrix.ts) are measured against.
 */

const WARM_UP = 100;
const TARGETS = { p50Ms: 5, p99Ms: 20, coldStartP50Ms: 50, loadMs: 1000, rssMb: 300 };

function percentile(sorted: number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * Wall-clock percentiles per call, plus the mean CPU time per call: on a shared machine the wall
 * time includes waiting for a core, while CPU time stays close to what an idle core would take.
 */
function timed(
  runs: number,
  f: (i: number) => void,
): { p50Ms: number; p99Ms: number; meanMs: number; cpuMeanMs: number } {
  const ms: number[] = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    f(i);
    ms.push(performance.now() - t);
  }
  const used = process.cpuUsage(cpu);
  ms.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    p50Ms: round(percentile(ms, 0.5)),
    p99Ms: round(percentile(ms, 0.99)),
    meanMs: round(ms.reduce((a, b) => a + b, 0) / runs),
    cpuMeanMs: round((used.user + used.system) / 1000 / runs),
  };
}

export const benchGenerateCommand: Command = {
  summary:
    'Benchmarks serving on a model: load time, 15-song generation latency (p50/p99) with a DJ taste, without a taste and from 50 likes, cold-start recommendations from 50 likes, RSS and artifact size.',
  usage: '--model DIR [--runs 300] [--seed 1] [--json]',
  options: {
    model: MODEL_OPTION,
    runs: { type: 'string', value: 'N', default: 300, help: 'timed calls per case (10-100000), after 100 warm-up calls' },
    seed: { type: 'string', value: 'N', default: 1, help: 'seed of the drawn seed songs, DJs and like lists' },
  },
  async run(values, ctx) {
    const runs = intOption(values, 'runs', 300, 10, 100_000);
    const rng = new Random(intOption(values, 'seed', 1, 0, 2 ** 31 - 1));
    const { model, dir, loadMs } = loadServingModel(values, ctx);
    const { songs, djs } = model.counts;
    // Inputs drawn up front: seed songs, DJs, and like lists of 50 songs a random DJ would like.
    const seeds = Array.from({ length: runs }, () => rng.int(songs));
    const tasteDjs = Array.from({ length: runs }, () => rng.int(djs));
    const likeLists = Array.from({ length: 20 }, (): Like[] => {
      const pool = model.recommendForDj(rng.int(djs), Math.min(200, songs)).map((s) => s.index);
      rng.shuffle(pool);
      return pool.slice(0, 50).map((song) => ({ song, score: 0.5 + rng.next() / 2 }));
    });
    const coldStart = timed(Math.min(runs, 100), (i) =>
      model.recommendForLikes(likeLists[i % likeLists.length], 20),
    );

    let generate: Record<string, unknown> = { error: 'model has no tracklist model' };
    let headline = { p50Ms: NaN, p99Ms: NaN, cpuMeanMs: NaN };
    if (model.hasTracklistModel) {
      // Warm-up (JIT tiers, lazy caches), as a serving instance is after its first requests.
      for (let i = 0; i < WARM_UP; i++) model.generate({ seedSong: seeds[i % runs], dj: tasteDjs[i % runs], rngSeed: i });
      const dj = timed(runs, (i) => model.generate({ seedSong: seeds[i], dj: tasteDjs[i], rngSeed: i }));
      const none = timed(runs, (i) => model.generate({ seedSong: seeds[i], rngSeed: i }));
      const likes = timed(Math.min(runs, 100), (i) =>
        model.generate({ seedSong: seeds[i], likes: likeLists[i % likeLists.length], rngSeed: i }),
      );
      generate = { dj, none, likes };
      headline = dj;
    }
    const mem = process.memoryUsage();
    const rssMb = Math.round(mem.rss / 2 ** 20);
    const kernels = kernelMode();
    let scalar: ReturnType<typeof timed> | null = null;
    if (model.hasTracklistModel && kernels === 'wasm') {
      setKernelMode('ts');
      const baseline = loadServingModel(values, ctx).model;
      setKernelMode(null);
      for (let i = 0; i < WARM_UP; i++) baseline.generate({ seedSong: seeds[i % runs], dj: tasteDjs[i % runs], rngSeed: i });
      scalar = timed(runs, (i) => baseline.generate({ seedSong: seeds[i], dj: tasteDjs[i], rngSeed: i }));
    }
    const result = {
      versionId: model.versionId,
      model: dir,
      counts: model.counts,
      tracklistForm: model.meta.config.tracklist?.form ?? null,
      runs,
      p50Ms: headline.p50Ms,
      p99Ms: headline.p99Ms,
      cpuMeanMs: headline.cpuMeanMs,
      loadMs: Math.round(loadMs),
      rssMb,
      heapMb: Math.round(mem.heapUsed / 2 ** 20),
      coldStartP50Ms: coldStart.p50Ms,
      coldStartP99Ms: coldStart.p99Ms,
      coldStartCpuMeanMs: coldStart.cpuMeanMs,
      artifactBytes: model.artifactBytes,
      artifactMb: Math.round((model.artifactBytes / 2 ** 20) * 10) / 10,
      generate,
      kernels,
      scalarKernels: scalar ? { dj: scalar, p50Speedup: Math.round((scalar.p50Ms / headline.p50Ms) * 100) / 100 } : null,
      targets: TARGETS,
    };
    ctx.say(
      `load ${result.loadMs} ms; generate 15 (DJ taste, ${kernels} kernels) p50 ${result.p50Ms} ms p99 ${result.p99Ms} ms (CPU ${result.cpuMeanMs} ms/call); cold start from 50 likes p50 ${coldStart.p50Ms} ms; RSS ${rssMb} MB; artifact ${result.artifactMb} MB`,
    );
    if (scalar)
      ctx.say(
        `same run, scalar TypeScript kernels: generate p50 ${scalar.p50Ms} ms p99 ${scalar.p99Ms} ms (CPU ${scalar.cpuMeanMs} ms/call) → SIMD ${result.scalarKernels!.p50Speedup}× at p50`,
      );
    return result;
  },
};
