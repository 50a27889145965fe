import type { Optimizer, Tensor, Variable } from '@tensorflow/tfjs';
import type { Prepared } from '../../shared/graph/prepare.ts';
import { ArtifactWriter, type Artifact } from '../../shared/model/artifact.ts';
import { Random } from '../../shared/util/random.ts';
import { loadTf, type Tf } from '../tf.ts';
import { TransitionPrior } from '../../shared/model/transitionPrior.ts';
import { SessionKnn, SessionPrior, sessionTable, type SessionKnnOptions } from '../../shared/model/sessionPrior.ts';
import { tuneVsknn } from '../nextsong/baselines.ts';
import { collectPositions } from '../nextsong/evaluate.ts';
import { transitionCounts } from '../nextsong/markov.ts';
import { smoothedPopularity, songCounts } from '../nextsong/popularity.ts';
import { trainingTracklists } from '../nextsong/predictor.ts';
import { trainClustering, DEFAULT_CLUSTERING, type ClusteringConfig, type ClusteringResult } from './clustering.ts';
import { DEFAULT_TRACKLIST_MODEL, GATES, makeBatch, TfTracklistModel, type SessionInputs, type SetVectors, type TracklistModelConfig } from './model.ts';
import { buildWindows, djMean, replacementChooser, setContext, splitTracklists, type Windows } from './windows.ts';
import { memoryNote } from './memory.ts';
import { calibrateCombination, type CombinationCalibration } from './calibrate.ts';
import type { GenerationTuning } from './tuneGeneration.ts';
import { readArtifact } from '../../shared/model/artifact.ts';
import { LEVELS, TRACKLIST_KIND, TracklistModel, type TracklistMeta } from '../../shared/model/tracklistInference.ts';
import { TracklistPredictor } from '../nextsong/tracklistPredictor.ts';

/** Steps timed before the wall-clock allowance is turned into a step cap. */
const TIMING_STEPS = 20;

export type TracklistBudget = 'fast' | 'full';

export interface TracklistTrainConfig {
  clustering: ClusteringConfig;
  model: TracklistModelConfig;
  /** Upper bound on epochs over the training windows. */
  epochs: number;
  /** Upper bound on optimizer steps (whichever comes first). */
  maxSteps: number;
  /**
   * Wall-clock allowance for the language model in seconds (0 = none): after timing the first
   * steps, maxSteps is lowered to what fits, so `full` keeps the seed-scale train within the
   * hour on this machine. The cap is logged and recorded; pass explicit steps for runs that must
   * reproduce exactly across machines.
   */
  seconds: number;
  /** Stop after this many epochs without a better validation loss. */
  patience: number;
  validationShare: number;
  /** The direct n-gram connection (shared/model/transitionPrior.ts). */
  transitionPrior: boolean;
  /** The session-kNN direct connection (shared/model/sessionPrior.ts). */
  sessionPrior: boolean;
  /** Refit each level's term weights on the validation sets after training (calibrate.ts). */
  calibrate: boolean;
}

/**
 * Budgets: `fast` for demos and tests on small corpora; `full` sized so the `seed` corpus trains
 * both stages within the hour on this machine (see bench:train).
 */
export function tracklistConfigFor(budget: TracklistBudget, seed: number, form: TracklistModelConfig['form'] = 'factorised'): TracklistTrainConfig {
  return {
    // `full` allowances: embeddings ≈ 25-27 min + clustering 9 + language model 16 (+ setup,
    // validation and export) at `seed` on 2 cores.
    clustering: { ...DEFAULT_CLUSTERING, epochs: budget === 'fast' ? 100 : 120, seconds: budget === 'fast' ? 300 : 540, seed },
    model: { ...DEFAULT_TRACKLIST_MODEL, form, seed, batch: 0 },
    epochs: budget === 'fast' ? 12 : 30,
    maxSteps: budget === 'fast' ? 1500 : 2000,
    seconds: budget === 'fast' ? 360 : 960,
    patience: 3,
    validationShare: 0.05,
    transitionPrior: true,
    sessionPrior: true,
    calibrate: true,
  };
}

export interface TracklistTrainResult {
  backend: string;
  clustering: Pick<ClusteringResult, 'seconds' | 'requested' | 'scaled' | 'natural' | 'report'> & { sizes: number[]; finalLoss: number };
  windows: { train: number; validation: number };
  steps: number;
  /** The step cap in force (after the wall-clock allowance). */
  maxSteps: number;
  epochs: number;
  stepSeconds: number;
  seconds: number;
  /** Validation NLL per target in bits, per epoch (summed over levels = the song's exact NLL). */
  validationBits: number[];
  bestEpoch: number;
  /** The term weights refitted on the validation sets, or null (off, or no validation sets). */
  calibration: CombinationCalibration | null;
  /** The generation defaults tuned on the validation sets, or null (not asked, or too few sets). */
  generation: GenerationTuning | null;
}

export async function trainTracklist(
  prepared: Prepared,
  embeddings: Artifact,
  config: TracklistTrainConfig,
  options: {
    out: string;
    log?: (line: string) => void;
    /** Called with the trained model before it is disposed (tests compare it with the export). */
    inspect?: (model: TfTracklistModel, sets: SetMeans) => void;
    /** Tunes the generation defaults on the validation sets, with `out` exported without them (tuneGeneration.ts). */
    tuneGeneration?: (validation: ArrayLike<number>) => GenerationTuning | null;
  },
): Promise<TracklistTrainResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const { tf, backend } = await loadTf(log);
  const started = performance.now();
  const n = prepared.vocab.songs.length;
  const embWidth = embeddings.manifest.tensors['encNorm.song'].shape[1];
  log(`tracklist model: clustering ${n} songs (${config.clustering.epochs} epochs)`);
  const clustering = await trainClustering(
    tf,
    prepared,
    { song: embeddings.tensor('encNorm.song') as Float32Array, artist: embeddings.tensor('encNorm.artist') as Float32Array, width: embWidth },
    config.clustering,
    { log },
  );
  log(
    `clustering: ${clustering.tree.sizes.join(' → ')} active clusters in ${clustering.seconds.toFixed(1)}s; modularity ${clustering.report.levels
      .map((l) => l.modularity.toFixed(3))
      .join(' / ')}`,
  );

  const choose = replacementChooser(embeddings);
  const s = prepared.sequences;
  const repl = {
    average: choose([]),
    forTracklist: (t: number) => choose(s.djs.subarray(s.djOffsets[t], s.djOffsets[t + 1])),
  };
  const split = splitTracklists(trainingTracklists(prepared.sequences), config.validationShare, config.model.seed);
  const train = buildWindows(prepared.sequences, n, { tracklists: split.train, replacementFor: repl.forTracklist });
  const validation = buildWindows(prepared.sequences, n, { tracklists: split.validation, replacementFor: repl.forTracklist });
  log(`tracklist model: ${train.count} training windows, ${validation.count} validation windows`);
  if (train.count === 0) throw new Error('tracklist model: no training windows (too few identified songs per set)');

  const sets = { dj: setMeans(prepared, embeddings, 'encNorm.dj'), taste: setMeans(prepared, embeddings, 'rec.dj') };
  const plays = prepared.songPlays;
  const songBias = Float32Array.from({ length: n }, (_, s) => Math.log(1 + plays[s]));
  const meanBias = songBias.reduce((a, b) => a + b, 0) / n;
  for (let s = 0; s < n; s++) songBias[s] -= meanBias;
  const songEmbedding = new Float32Array(n * config.model.inputEmbedding);
  const enc = embeddings.tensor('encNorm.song') as Float32Array;
  for (let s = 0; s < n; s++)
    for (let c = 0; c < Math.min(embWidth, config.model.inputEmbedding); c++)
      songEmbedding[s * config.model.inputEmbedding + c] = enc[s * embWidth + c];
  const sessionInputs = config.sessionPrior ? buildSessionPrior(prepared, split.train, config.model.seed, log) : null;
  const model = new TfTracklistModel(
    tf,
    {
      songs: n,
      features: clustering.features,
      featureWidth: clustering.featureWidth,
      tree: clustering.tree,
      clusterFeatures: clustering.clusterFeatures,
      songEmbedding,
      songBias,
      djWidth: sets.dj.width,
      tasteSongs: embeddings.tensor('rec.song') as Float32Array,
      tasteWidth: sets.taste.width,
      prior: config.transitionPrior ? buildPrior(prepared, split.train) : null,
      session: sessionInputs,
    },
    config.model,
  );
  const optimizer = tf.train.adam(config.model.learningRate);
  const rng = new Random(config.model.seed * 7919 + 13);
  // Auto batch (0): about 40 steps per epoch, between 32 and 256 windows.
  const B = config.model.batch > 0 ? config.model.batch : Math.min(256, Math.max(32, Math.round(train.count / 40)));
  const stepsPerEpoch = Math.max(1, Math.ceil(train.count / B));
  const validationBits: number[] = [];
  let best = { bits: Infinity, epoch: -1, values: null as Map<string, Float32Array> | null };
  let steps = 0;
  let stepTime = 0;
  let epoch = 0;
  let maxSteps = config.maxSteps;
  for (; epoch < config.epochs && steps < maxSteps; epoch++) {
    const order = rng.shuffle(Array.from({ length: train.count }, (_, i) => i));
    let sum = 0;
    let count = 0;
    const epochStart = performance.now();
    for (let b = 0; b < stepsPerEpoch && steps < maxSteps; b++) {
      const ids = order.slice(b * B, (b + 1) * B);
      if (ids.length === 0) break;
      // Timed with the batch (its session evidence is a real share of a step at seed scale).
      const t0 = performance.now();
      const batch = makeBatch(train, ids, sets, true);
      const value = trainStep(tf, model, optimizer, batch, rng, config.model.clipNorm);
      stepTime += performance.now() - t0;
      steps++;
      if (steps === TIMING_STEPS) {
        const cap = allowanceCap(config.seconds, maxSteps, stepTime / steps);
        if (cap < maxSteps) log(`tracklist model: ${(stepTime / steps / 1000).toFixed(2)} s/step, so the ${config.seconds} s allowance caps training at ${cap} steps`);
        maxSteps = cap;
      }
      sum += value;
      count++;
      if (steps % 50 === 0 || b === stepsPerEpoch - 1) {
        const rate = (b + 1) / ((performance.now() - epochStart) / 1000);
        const remaining = Math.min(stepsPerEpoch - b - 1, maxSteps - steps);
        log(
          `tracklist epoch ${epoch + 1} step ${b + 1}/${stepsPerEpoch} (total ${steps}) loss ${((sum / count) / Math.LN2).toFixed(3)} bits ${rate.toFixed(2)} steps/s ETA(epoch) ${(remaining / rate).toFixed(0)}s; ${memoryNote(tf)}`,
        );
      }
    }
    const bits = validationLoss(model, validation.count > 0 ? validation : train, B, sets) / Math.LN2;
    validationBits.push(bits);
    log(`tracklist epoch ${epoch + 1}: train ${((sum / Math.max(count, 1)) / Math.LN2).toFixed(3)} bits, validation ${bits.toFixed(3)} bits per song; ${memoryNote(tf)}`);
    if (bits < best.bits) best = { bits, epoch, values: snapshot(model.vars) };
    else if (epoch - best.epoch >= config.patience) break;
  }
  if (best.values) restore(tf, model.vars, best.values);
  optimizer.dispose();
  // The artifact records the step cap that was in force; the caller's config is left as given.
  const record = { config: { ...config, maxSteps }, validationBits, bestEpoch: best.epoch + 1 };
  let calibration: CombinationCalibration | null = null;
  if (config.calibrate && split.validation.length > 0) {
    // Calibrated through the exported model, so the weights fit what serving computes.
    exportTracklist(options.out, model, clustering, repl.average, record);
    const exported = new TracklistModel(readArtifact<TracklistMeta>(options.out, { kind: TRACKLIST_KIND }));
    const predictor = new TracklistPredictor(exported, choose, setContext(embeddings));
    calibration = calibrateCombination(exported, predictor, s, split.validation, { maxPositions: CALIBRATION_POSITIONS, seed: config.model.seed, log });
    if (calibration) {
      applyCalibration(model, calibration);
      log(
        `calibration: validation ${calibration.bitsBefore.toFixed(3)} → ${calibration.bitsAfter.toFixed(3)} bits per song on ${calibration.positions} positions; weights (network, prior, session) ${LEVELS.map(
          (level) => `${level} ${Object.values(calibration!.weights[level]).map((v) => v.toFixed(2)).join('/')}`,
        ).join(', ')}`,
      );
    }
  }
  let generation: GenerationTuning | null = null;
  if (options.tuneGeneration && split.validation.length > 0) {
    // Before the direct connections take the validation sets in, so no set finds itself.
    exportTracklist(options.out, model, clustering, repl.average, { ...record, calibration });
    generation = options.tuneGeneration(split.validation);
  }
  // The exported direct connections index every training set (the validation sets too), as the baselines do.
  const everySet = trainingTracklists(s);
  model.useDirectConnections(
    config.transitionPrior ? buildPrior(prepared, everySet) : null,
    sessionInputs ? sessionInputsFor(prepared, everySet, sessionInputs.prior.knn.options, sessionInputs.prior.beta) : null,
  );
  exportTracklist(options.out, model, clustering, repl.average, {
    ...record,
    calibration,
    ...(generation ? { generationDefaults: generation.defaults, generationTuning: generation } : {}),
  });
  options.inspect?.(model, sets);
  model.dispose();
  return {
    backend,
    clustering: {
      seconds: clustering.seconds,
      requested: clustering.requested,
      scaled: clustering.scaled,
      natural: clustering.natural,
      sizes: clustering.tree.sizes,
      report: clustering.report,
      finalLoss: clustering.losses[clustering.losses.length - 1] ?? NaN,
    },
    windows: { train: train.count, validation: validation.count },
    steps,
    maxSteps,
    epochs: Math.min(epoch + 1, config.epochs),
    stepSeconds: steps > 0 ? stepTime / steps / 1000 : 0,
    seconds: (performance.now() - started) / 1000,
    validationBits,
    bestEpoch: best.epoch + 1,
    calibration,
    generation,
  };
}

/** The step cap a wall-clock allowance (0 = none) leaves once the first steps are timed, never below them. */
export function allowanceCap(seconds: number, requested: number, msPerStep: number): number {
  if (seconds <= 0) return requested;
  const fits = Math.floor((seconds * 1000) / msPerStep);
  return fits < requested ? Math.max(fits, TIMING_STEPS) : requested;
}

/** Held-out positions the calibration reads at most. */
const CALIBRATION_POSITIONS = 3000;

/** Folds fitted term weights into the model: the network scale into its output tables, prior and session weights replaced. */
function applyCalibration(model: TfTracklistModel, calibration: CombinationCalibration): void {
  const tf = model.tf;
  tf.tidy(() => {
    for (const level of LEVELS) {
      const w = calibration.weights[level];
      const tables = level === 'song' ? ['song.out', 'song.bias', 'song.taste'] : [`cluster.${level}`];
      for (const name of tables) model.vars[name].assign(tf.mul(model.vars[name], w.network));
      for (const term of ['prior', 'session'] as const)
        if (w[term] !== undefined) model.vars[`${term}.${level}`].assign(tf.tensor1d([w[term]]));
    }
  });
}

/**
 * One Adam step with the gradient clipped to a global norm (tfjs optimizers do not clip). Leaves
 * no tensors behind beyond the optimizer's slots (created on the first step): tests/tracklist.
 */
export function trainStep(
  tf: Tf,
  model: TfTracklistModel,
  optimizer: Optimizer,
  batch: ReturnType<typeof makeBatch>,
  rng: Random,
  clipNorm: number,
): number {
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => model.loss(batch, true, rng), model.variables);
    const norms = Object.values(grads).map((g) => tf.sum(tf.square(g)));
    const norm = Math.sqrt(tf.addN(norms).dataSync()[0]);
    const scale = norm > clipNorm ? clipNorm / norm : 1;
    const clipped: Record<string, Tensor> = {};
    for (const [name, g] of Object.entries(grads)) clipped[name] = scale === 1 ? g : tf.mul(g, scale);
    optimizer.applyGradients(clipped as Record<string, never>);
    return value.dataSync()[0];
  });
}

/** Weighted mean NLL (nats per target) over every window, without dropout. */
function validationLoss(model: TfTracklistModel, windows: Windows, batchSize: number, sets: SetMeans): number {
  const tf = model.tf;
  const rng = new Random(1);
  let total = 0;
  let weight = 0;
  for (let start = 0; start < windows.count; start += batchSize) {
    const ids = Array.from({ length: Math.min(batchSize, windows.count - start) }, (_, i) => start + i);
    const batch = makeBatch(windows, ids, sets);
    const value = tf.tidy(() => model.loss(batch, false, rng).dataSync()[0]);
    let w = 0;
    for (const x of batch.weights) w += x;
    total += value * w;
    weight += w;
  }
  return total / Math.max(weight, 1e-9);
}

function snapshot(vars: Record<string, Variable>): Map<string, Float32Array> {
  return new Map(Object.entries(vars).map(([name, v]) => [name, Float32Array.from(v.dataSync() as Float32Array)]));
}

function restore(tf: Tf, vars: Record<string, Variable>, values: Map<string, Float32Array>): void {
  for (const [name, v] of Object.entries(vars)) {
    const t = tf.tensor(values.get(name)!, v.shape);
    v.assign(t);
    t.dispose(); // the variable holds its own reference to the buffer
  }
}

/** Writes the artifact the plain-TypeScript inference reads (tensor names: see shared/model/tracklistInference.ts). */
function exportTracklist(
  dir: string,
  model: TfTracklistModel,
  clustering: ClusteringResult,
  replacementSong: number,
  extra: Record<string, unknown>,
): void {
  const tf = model.tf;
  const tasteSongs = model.inputs.tasteSongs;
  const w = new ArtifactWriter();
  const value = (name: string) => model.vars[name].dataSync() as Float32Array;
  const input = tf.tidy(() => tf.concat([model.fixedInput, model.vars['input.embedding']], 1));
  w.addTensor('input.song', input.dataSync() as Float32Array, input.shape);
  input.dispose();
  const H = model.config.hidden;
  // Per-gate [x ; h] → H matrices back to Keras's kernel [inDim, 4H] and recurrent [H, 4H].
  const inDim = model.inputDim;
  const kernel = new Float32Array(inDim * 4 * H);
  const recurrent = new Float32Array(H * 4 * H);
  const bias = new Float32Array(4 * H);
  const djWidth = model.inputs.djWidth;
  const djKernel = new Float32Array(djWidth * 4 * H);
  GATES.forEach((gate, g) => {
    const wg = value(`lstm.${gate}.w`);
    for (let r = 0; r < inDim + H; r++)
      for (let c = 0; c < H; c++) {
        if (r < inDim) kernel[r * 4 * H + g * H + c] = wg[r * H + c];
        else recurrent[(r - inDim) * 4 * H + g * H + c] = wg[r * H + c];
      }
    bias.set(value(`lstm.${gate}.b`), g * H);
    const dj = value(`lstm.${gate}.dj`);
    for (let r = 0; r < djWidth; r++) djKernel.set(dj.subarray(r * H, (r + 1) * H), r * 4 * H + g * H);
  });
  w.addTensor('lstm.kernel', kernel, [inDim, 4 * H]);
  w.addTensor('lstm.recurrent', recurrent, [H, 4 * H]);
  w.addTensor('lstm.bias', bias, [4 * H]);
  w.addTensor('lstm.dj', djKernel, [djWidth, 4 * H]);
  for (const level of LEVELS) {
    const w1h = value(`head.${level}.w1h`);
    const w1c = model.vars[`head.${level}.w1c`] ? value(`head.${level}.w1c`) : new Float32Array(0);
    const a = model.config.headWidth;
    const w1 = new Float32Array(w1h.length + w1c.length);
    w1.set(w1h);
    w1.set(w1c, w1h.length);
    w.addTensor(`head.${level}.w1`, w1, [w1.length / a, a]);
    w.addTensor(`head.${level}.b1`, value(`head.${level}.b1`), [a]);
    const w2 = model.vars[`head.${level}.w2`];
    w.addTensor(`head.${level}.w2`, value(`head.${level}.w2`), w2.shape);
    w.addTensor(`head.${level}.b2`, value(`head.${level}.b2`), [w2.shape[1]!]);
  }
  for (const name of ['cluster.l1', 'cluster.l2', 'cluster.l3', 'song.out', 'song.bias', 'song.taste'])
    w.addTensor(name, value(name), model.vars[name].shape);
  w.addTensor('taste.song', tasteSongs, [model.inputs.songs, model.inputs.tasteWidth]);
  const prior = model.inputs.prior;
  if (prior) {
    w.addCsr('prior.counts', prior.counts);
    w.addTensor('prior.popularity', prior.popularity);
    w.addTensor('prior.weight', Float32Array.from(LEVELS, (level) => value(`prior.${level}`)[0]), [LEVELS.length]);
  }
  const session = model.inputs.session?.prior;
  if (session) {
    const t = session.knn.table;
    w.addTensor('session.items', t.items);
    w.addTensor('session.itemPos', t.itemPos);
    w.addTensor('session.itemOffsets', t.itemOffsets);
    w.addTensor('session.recency', t.recency);
    w.addTensor('session.popularity', session.popularity);
    w.addTensor('session.weight', Float32Array.from(LEVELS, (level) => value(`session.${level}`)[0]), [LEVELS.length]);
  }
  w.addTensor('tree.l1', clustering.tree.parents[0]);
  w.addTensor('tree.l2', clustering.tree.parents[1]);
  w.addTensor('assign.song', clustering.tree.songCluster);
  w.addTensor('features.song', clustering.features, [model.inputs.songs, clustering.featureWidth]);
  w.write(dir, TRACKLIST_KIND, {
    form: model.config.form,
    hidden: H,
    levels: clustering.tree.sizes,
    padIndex: model.inputs.songs,
    songs: model.inputs.songs,
    headWidth: model.config.headWidth,
    clusterWidth: clustering.clusterFeatures.map((c) => c.width),
    songWidth: clustering.featureWidth,
    djWidth: model.inputs.djWidth,
    djVector: 'mean of encNorm.dj rows of the set\'s DJs (embeddings artifact), zeros when none',
    tasteWidth: model.inputs.tasteWidth,
    ...(prior ? { priorDiscount: prior.discount, priorLevels: LEVELS } : {}),
    ...(session ? { session: { beta: session.beta, options: session.knn.options, levels: LEVELS } } : {}),
    tasteVector: 'mean of rec.dj rows of the set\'s DJs; the song logit adds song.taste · (q · rec.song[s])',
    replacementSong,
    clustering: { requested: clustering.requested, scaled: clustering.scaled, natural: clustering.natural, report: clustering.report },
    ...extra,
  });
}

export interface SetMeans {
  dj: SetVectors;
  taste: SetVectors;
}

/** Per tracklist: the mean of its DJs' rows of an embeddings tensor, zeros for a set without known DJs. */
function setMeans(prepared: Prepared, embeddings: Artifact, tensor: 'encNorm.dj' | 'rec.dj'): SetVectors {
  const dj = embeddings.tensor(tensor) as Float32Array;
  const width = embeddings.manifest.tensors[tensor].shape[1];
  const s = prepared.sequences;
  const count = s.djOffsets.length - 1;
  const values = new Float32Array(count * width);
  for (let t = 0; t < count; t++) djMean(dj, width, s.djs.subarray(s.djOffsets[t], s.djOffsets[t + 1]), values.subarray(t * width, (t + 1) * width));
  return { values, width };
}

/** Markov discount of the n-gram prior (the Markov baseline's default). */
export const PRIOR_DISCOUNT = 0.8;

/** The n-gram prior from the language model's own training tracklists (add-one popularity). */
export function buildPrior(prepared: Prepared, tracklists: ArrayLike<number>): TransitionPrior {
  const n = prepared.vocab.songs.length;
  const counts = transitionCounts(prepared.sequences, n, tracklists);
  const plays = songCounts(prepared.sequences, n, tracklists);
  let total = 0;
  for (const c of plays) total += c;
  const popularity = Float32Array.from(plays, (c) => (c + 1) / (total + n));
  return new TransitionPrior(counts, popularity, PRIOR_DISCOUNT);
}

/** Sessions sampled for tuning the session term: share of the training sets and positions. */
const SESSION_TUNE_SHARE = 0.1;
const SESSION_TUNE_POSITIONS = 2000;

/**
 * The session term from the language model's own training tracklists: V-SkNN structure and the
 * popularity mixing weight β tuned as the vsknn baseline tunes them (NLL on a held-back tenth of
 * the sets, closed form in β), against add-one popularity (the n-gram prior's), then refitted
 * on all of them. Each set's own session index is kept so its rows leave it out.
 */
export function buildSessionPrior(
  prepared: Prepared,
  tracklists: ArrayLike<number>,
  seed: number,
  log: (line: string) => void,
): SessionInputs {
  const n = prepared.vocab.songs.length;
  const s = prepared.sequences;
  let options: Partial<SessionKnnOptions> = {};
  let beta = 1;
  const shuffled = new Random(seed * 31 + 7).shuffle(Array.from(tracklists));
  const nTune = Math.round(shuffled.length * SESSION_TUNE_SHARE);
  const tuneSet = shuffled.slice(0, nTune).sort((a, b) => a - b);
  const fitSet = shuffled.slice(nTune).sort((a, b) => a - b);
  const { pairs } = collectPositions(s, n, tuneSet, SESSION_TUNE_POSITIONS, seed);
  if (pairs.length > 0 && fitSet.length > 0) {
    const fitPopularity = smoothedPopularity(songCounts(s, n, fitSet), 1);
    const tuned = tuneVsknn(prepared, fitSet, pairs, fitPopularity, { k: 100, sampleSize: 500 });
    ({ beta, ...options } = tuned.params);
    log(`session term: V-SkNN ${JSON.stringify(tuned.params)} (${tuned.nllBits.toFixed(3)} bits on ${pairs.length / 2} held-back positions)`);
  } else log('session term: too few training sets to tune; default V-SkNN settings, beta 1');
  return sessionInputsFor(prepared, tracklists, options, beta);
}

/** The session term over the given tracklists (their index, add-one popularity) with settled V-SkNN options and β. */
function sessionInputsFor(prepared: Prepared, tracklists: ArrayLike<number>, options: Partial<SessionKnnOptions>, beta: number): SessionInputs {
  const n = prepared.vocab.songs.length;
  const s = prepared.sequences;
  const popularity = smoothedPopularity(songCounts(s, n, tracklists), 1);
  const knn = new SessionKnn(sessionTable(s, n, tracklists), n, options);
  const sessionOf = new Int32Array(s.offsets.length - 1).fill(-1);
  for (let k = 0; k < tracklists.length; k++) sessionOf[tracklists[k]] = k;
  return { prior: new SessionPrior(knn, Float32Array.from(popularity), beta), sequences: s, sessionOf };
}
