import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Optimizer, Tensor, Tensor2D } from '@tensorflow/tfjs';

type NamedTensor = Awaited<ReturnType<Optimizer['getWeights']>>[number];
import { loadTf, type Tf } from '../tf.ts';
import type { Prepared } from '../../shared/graph/prepare.ts';
import { ArtifactWriter, readArtifact } from '../../shared/model/artifact.ts';
import { EMBEDDINGS_KIND } from '../../shared/model/embeddings.ts';
import { normalizeRowsL2 } from '../../shared/model/similarity.ts';
import { Random } from '../../shared/util/random.ts';
import { Progress } from '../../shared/util/progress.ts';
import { learningRateAt, type MgccfConfig } from './config.ts';
import { spmmValues } from '../sparse.ts';
import { batchLoss, initParams, MgccfData, MgccfForward, type Params, sampleTriplets } from './model.ts';

export { EMBEDDINGS_KIND };
const CHECKPOINT_KIND = 'tracklist-ai/mgccf-checkpoint';

export interface TrainLog {
  step: number;
  seconds: number;
  /** The learning rate of this step. */
  learningRate: number;
  total: number;
  bpr: number;
  songSong: number;
  artistArtist: number;
  songArtist: number;
  artistSong: number;
  l2: number;
}

export interface MgccfTrainResult {
  backend: string;
  steps: number;
  resumedFrom: number;
  seconds: number;
  secondsPerStep: number;
  history: TrainLog[];
}

export interface TrainOptions {
  /** Folder for the exported embeddings artifact. */
  out: string;
  /** Folder for resumable checkpoints. */
  checkpointDir: string;
  log: (line: string) => void;
  /** Stop after this many steps in this run (benchmarks); the step count of the config is kept. */
  maxStepsThisRun?: number;
  /** Skip the export (benchmarks). */
  skipExport?: boolean;
}

/**
 * Sets the learning rate of a tfjs SGD-family optimizer (Adam reads its `learningRate` field at
 * every applyGradients; the typings mark it protected). Throws when the field is missing, so a
 * tfjs change that would silently freeze the schedule fails loudly instead.
 */
export function setLearningRate(optimizer: Optimizer, learningRate: number): void {
  const o = optimizer as unknown as { learningRate?: unknown };
  if (typeof o.learningRate !== 'number') throw new Error(`${optimizer.getClassName()} has no numeric learningRate field`);
  o.learningRate = learningRate;
}

/** Per-step randomness derived from (seed, step), so a resumed run continues identically. */
function stepRandom(seed: number, step: number): Random {
  return new Random((Math.imul(seed, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b)) >>> 0);
}

export async function trainMgccf(prepared: Prepared, config: MgccfConfig, options: TrainOptions): Promise<MgccfTrainResult> {
  const { tf, backend } = await loadTf(options.log);
  const data = new MgccfData(prepared);
  const params = initParams(tf, data, config);
  const optimizer = tf.train.adam(config.learningRate);
  const variables = Object.values(params);
  let startStep = 0;
  if (existsSync(join(options.checkpointDir, 'manifest.json'))) {
    startStep = await restoreCheckpoint(tf, options.checkpointDir, params, optimizer, config);
    options.log(`mgccf: resumed from checkpoint at step ${startStep}`);
  }
  const history: TrainLog[] = [];
  const started = performance.now();
  let lastPrint = started;
  const endStep = Math.min(config.steps, startStep + (options.maxStepsThisRun ?? Infinity));
  const avg = { total: 0, bpr: 0, songSong: 0, artistArtist: 0, songArtist: 0, artistSong: 0, l2: 0, n: 0 };
  for (let step = startStep; step < endStep; step++) {
    const rng = stepRandom(config.seed, step);
    const triplets = sampleTriplets(data.click, config.batch, rng);
    const learningRate = learningRateAt(config, step);
    setLearningRate(optimizer, learningRate);
    let parts: Record<keyof typeof avg, Tensor> | null = null;
    tf.tidy(() => {
      optimizer.minimize(
        () => {
          const forward = new MgccfForward(tf, data, params, config, { training: true, rng });
          const loss = batchLoss(tf, data, params, config, triplets, forward, rng);
          parts = Object.fromEntries(Object.entries(loss).map(([k, v]) => [k, tf.keep(v.clone())])) as never;
          return loss.total;
        },
        false,
        variables,
      );
    });
    for (const [k, t] of Object.entries(parts!)) {
      avg[k as keyof typeof avg] += (t as Tensor).dataSync()[0];
      (t as Tensor).dispose();
    }
    avg.n++;
    const now = performance.now();
    const done = step + 1;
    if (now - lastPrint > 10_000 || done === endStep || done === startStep + 1) {
      const seconds = (now - started) / 1000;
      const rate = (done - startStep) / seconds;
      const entry: TrainLog = {
        step: done,
        seconds,
        learningRate,
        total: avg.total / avg.n,
        bpr: avg.bpr / avg.n,
        songSong: avg.songSong / avg.n,
        artistArtist: avg.artistArtist / avg.n,
        songArtist: avg.songArtist / avg.n,
        artistSong: avg.artistSong / avg.n,
        l2: avg.l2 / avg.n,
      };
      history.push(entry);
      options.log(
        `mgccf step ${done}/${config.steps} ${((100 * done) / config.steps).toFixed(0)}% ${rate.toFixed(2)} steps/s ETA ${((endStep - done) / rate).toFixed(0)}s ` +
          `lr ${learningRate.toExponential(2)} loss ${entry.total.toFixed(4)} bpr ${entry.bpr.toFixed(4)} ss ${entry.songSong.toExponential(2)} aa ${entry.artistArtist.toExponential(2)} ` +
          `sa ${entry.songArtist.toExponential(2)} as ${entry.artistSong.toExponential(2)} l2 ${entry.l2.toExponential(2)}`,
      );
      for (const k of Object.keys(avg)) avg[k as keyof typeof avg] = 0;
      lastPrint = now;
    }
    if (done % config.checkpointEvery === 0 && done < config.steps)
      saveCheckpoint(options.checkpointDir, params, await optimizer.getWeights(), done, config);
  }
  const seconds = (performance.now() - started) / 1000;
  if (endStep < config.steps) saveCheckpoint(options.checkpointDir, params, await optimizer.getWeights(), endStep, config);
  else if (!options.skipExport) await exportEmbeddings(tf, data, params, config, options, backend, history);
  optimizer.dispose();
  for (const v of variables) v.dispose();
  return {
    backend,
    steps: endStep - startStep,
    resumedFrom: startStep,
    seconds,
    secondsPerStep: seconds / Math.max(1, endStep - startStep),
    history,
  };
}

function saveCheckpoint(
  dir: string,
  params: Params,
  optimizerWeights: NamedTensor[],
  step: number,
  config: MgccfConfig,
): void {
  const w = new ArtifactWriter();
  for (const [name, v] of Object.entries(params)) w.addTensor(`param.${name}`, v.dataSync() as Float32Array, v.shape);
  const names: string[] = [];
  for (const { name, tensor } of optimizerWeights) {
    names.push(name);
    w.addTensor(`opt.${names.length - 1}`, tensor.dataSync() as Float32Array, tensor.shape);
  }
  w.write(dir, CHECKPOINT_KIND, { step, config, optimizerNames: names });
}

async function restoreCheckpoint(
  tf: Tf,
  dir: string,
  params: Params,
  optimizer: ReturnType<Tf['train']['adam']>,
  config: MgccfConfig,
): Promise<number> {
  const a = readArtifact<{ step: number; config: MgccfConfig; optimizerNames: string[] }>(dir, { kind: CHECKPOINT_KIND });
  if (JSON.stringify({ ...a.meta.config, steps: 0 }) !== JSON.stringify({ ...config, steps: 0 }))
    throw new Error(`checkpoint in ${dir} was made with another configuration; delete it to start over`);
  for (const [name, v] of Object.entries(params)) v.assign(tf.tensor(a.tensor(`param.${name}`), v.shape));
  await optimizer.setWeights(
    a.meta.optimizerNames.map((name, k) => ({ name, tensor: tf.tensor(a.tensor(`opt.${k}`), a.shape(`opt.${k}`)) })),
  );
  return a.meta.step;
}

/** Runs fn over ids 0..n-1 in chunks and returns the row-major results. */
function chunked(tf: Tf, n: number, width: number, fn: (ids: number[]) => Tensor2D, progress: Progress): Float32Array {
  const out = new Float32Array(n * width);
  const chunk = 2048;
  for (let start = 0; start < n; start += chunk) {
    const ids = Array.from({ length: Math.min(chunk, n - start) }, (_, k) => start + k);
    // tidy must return the tensor, not its values: tidy walks a returned array element by element.
    const tensor = tf.tidy(() => fn(ids));
    out.set(tensor.dataSync() as Float32Array, start * width);
    tensor.dispose();
    progress.tick(ids.length);
  }
  return out;
}

async function exportEmbeddings(
  tf: Tf,
  data: MgccfData,
  params: Params,
  config: MgccfConfig,
  options: TrainOptions,
  backend: string,
  history: TrainLog[],
): Promise<void> {
  const started = performance.now();
  const d = config.dim;
  const makeForward = (rng: Random) => new MgccfForward(tf, data, params, config, { training: false, rng });
  const w = new ArtifactWriter();
  const counts = data.counts;
  const encTensors = tf.tidy(() => {
    const f = makeForward(new Random(config.seed));
    return { dj: f.graphEncoding('dj'), song: f.graphEncoding('song'), artist: f.graphEncoding('artist') };
  });
  const encodings = {
    dj: encTensors.dj.dataSync() as Float32Array,
    song: encTensors.song.dataSync() as Float32Array,
    artist: encTensors.artist.dataSync() as Float32Array,
  };
  // Song–song similarity vectors ē_s + M ē_a (SPEC §3 scores).
  const simSong = spmmValues(data.songArtistMap, encodings.artist, d);
  for (let k = 0; k < simSong.length; k++) simSong[k] += encodings.song[k];
  w.addTensor('sim.song', simSong, [counts.songs, d]);
  for (const [type, values] of Object.entries(encodings)) {
    const rows = counts[`${type}s` as keyof typeof counts];
    w.addTensor(`enc.${type}`, values, [rows, d]);
    w.addTensor(`encNorm.${type}`, normalizeRowsL2(values, d), [rows, d]);
  }
  // Averaged recommendation vectors over sampled passes. Each pass samples every artist once and
  // reuses it for the M e*_a half of every song vector (an unbiased pass of the same average).
  const passes = config.averagingPasses;
  const djVec = new Float32Array(counts.djs * 2 * d);
  const songVec = new Float32Array(counts.songs * 2 * d);
  const artistVec = new Float32Array(counts.artists * d);
  const progress = new Progress('mgccf export: averaged vectors', passes * (counts.djs + counts.songs + counts.artists), 10_000);
  for (let pass = 0; pass < passes; pass++) {
    const f = new MgccfForward(tf, data, params, config, {
      training: false,
      rng: new Random(config.seed + 1 + 7919 * pass),
      encodings: encTensors,
    });
    const artists = chunked(tf, counts.artists, d, (ids) => f.fused('artist', 'item', ids), progress);
    const songs = chunked(tf, counts.songs, d, (ids) => f.fused('song', 'item', ids), progress);
    const songArtists = spmmValues(data.songArtistMap, artists, d);
    const djs = chunked(tf, counts.djs, 2 * d, (ids) => f.djVectors(ids), progress);
    for (let k = 0; k < artists.length; k++) artistVec[k] += artists[k] / passes;
    for (let k = 0; k < djs.length; k++) djVec[k] += djs[k] / passes;
    for (let s = 0; s < counts.songs; s++)
      for (let c = 0; c < d; c++) {
        songVec[s * 2 * d + c] += songs[s * d + c] / passes;
        songVec[s * 2 * d + d + c] += songArtists[s * d + c] / passes;
      }
  }
  progress.finish();
  for (const t of Object.values(encTensors)) t.dispose();
  w.addTensor('rec.dj', djVec, [counts.djs, 2 * d]);
  w.addTensor('rec.song', songVec, [counts.songs, 2 * d]);
  w.addTensor('rec.artist', artistVec, [counts.artists, d]);
  for (const [name, v] of Object.entries(params)) w.addTensor(`param.${name}`, v.dataSync() as Float32Array, v.shape);
  w.write(options.out, EMBEDDINGS_KIND, {
    config,
    backend,
    counts,
    history,
    exportSeconds: (performance.now() - started) / 1000,
  });
  options.log(`mgccf: exported embeddings to ${options.out} in ${((performance.now() - started) / 1000).toFixed(1)}s`);
}
