import type { Scalar, Tensor2D, Variable } from '@tensorflow/tfjs';
import { type Csr, gcnNormalize, multiplyDense } from '../../shared/graph/csr.ts';
import { Random } from '../../shared/util/random.ts';
import { matMul } from '../ops.ts';
import { selectRows, spmm } from '../sparse.ts';
import { loadTf, type Tf } from '../tf.ts';
import {
  argmaxRows,
  columnSums,
  createGcn,
  type DmonGraph,
  type GcnWeights,
  gcnLayer,
  gcnVariables,
  orthogonal,
  prepareGraph,
  spectralModularity,
  sumProduct,
  variable,
} from './dmon.ts';
import { activeClusters, conductance, meanConductance, modularity, nmi } from './metrics.ts';

/**
 * Hierarchical DMoN (SPEC §4, after the original notebook's HierarchicalDMoN layer). Level l
 * clusters the level-(l−1) clusters: C_l = softmax(Dense(F_l)), A_{l+1} = C_lᵀ A_l C_l (sparse
 * at level 0, dense above), F_{l+1} = GCN(SELU(C_lᵀ F_l / sizes), norm(A_{l+1})). The song-level
 * assignment is Ĉ_l = C_0 ⋯ C_l. Loss per level: −Q_l + w_l · (econ_l · √k/n · ‖Ĉ_lᵀ1‖ − 1)
 * with the economy scaler econ = (n − k·t) / Σ_j ReLU(size_j − t); all levels × lossScale.
 * As in the original, w_l weights the collapse term only, the top level's features are
 * SELU(pooled) without a GCN, and assignments get +1e-20. Modularity uses 2m = Σ d (the
 * reference DMoN code divides by 2·Σd, i.e. resolution 1/2; SPEC's formula is the standard one).
 * Departures, each measured on planted hierarchies (tests/dmon): Dense inputs standardised per
 * column, assignment kernels initialised with gain 0.1, and, in the standalone trainer only,
 * coarse levels ramped in (levelScales) and restarts kept by lowest loss.
 */

/** The original's settings at its scale (31,214 songs). */
export const SEED_SCALE = {
  songs: 31_214,
  clusters: [1200, 384, 48],
  minSizes: [18, 60, 480],
  collapseWeights: [0.25, 0.35, 0.5],
  lossScale: 28,
} as const;

export interface HierarchicalDmonConfig {
  /** k_l, finest level first. */
  clusters: number[];
  /** t_l: minimum cluster size in songs for the economy scaler (0 disables it). */
  minSizes: number[];
  /** w_l on each level's collapse regularisation. */
  collapseWeights: number[];
  /**
   * γ_l, the modularity resolution per level (expected edges scaled by γ; SPEC's formula: 1).
   * Modularity at γ = 1 has its own preferred cluster count, whatever k_l asks for; see
   * `naturalHierarchy` in resolution.ts.
   */
  resolutions: number[];
  lossScale: number;
  /** Widths of the pooled features F_1..F_{L−1} (GCN outputs); the original: 56, 64. */
  channels: number[];
  /** Width of a GCN on the song graph before level 0 (0: the features go straight to Dense). */
  inputGcn: number;
  /**
   * Standardise each level's Dense input per column. Dense has a bias, so this only
   * reparameterises it, but it removes the common mode that pooled features share at
   * initialisation, which otherwise sends every row to one cluster at the coarse levels.
   */
  standardizeInputs: boolean;
  /**
   * Gain of the orthogonal assignment kernels (the original: 1). Near-uniform starting
   * assignments let the modularity gradient, not the random init, choose each level's split;
   * measured on planted hierarchies, 0.1 recovers the middle level far more often.
   */
  initGain: number;
  /** Dropout on the assignment logits. */
  dropout: number;
  seed: number;
}

/**
 * Cluster counts and minimum sizes for n songs: k scales with n (with floors), and t keeps the
 * original's ratio of minimum to mean cluster size (t·k/n ≈ 0.69, 0.74, 0.74), so k·t < n always.
 */
export function scaledHierarchy(
  n: number,
  options: { floors?: number[]; seed?: typeof SEED_SCALE } = {},
): { clusters: number[]; minSizes: number[] } {
  const ref = options.seed ?? SEED_SCALE;
  const floors = options.floors ?? [8, 4, 2];
  const clusters: number[] = [];
  const minSizes: number[] = [];
  ref.clusters.forEach((k0, l) => {
    let k = Math.max(floors[l] ?? 2, Math.round((k0 * n) / ref.songs));
    // Each level must be coarser than the one below and leave ≥ 2 songs per cluster.
    if (l > 0) k = Math.min(k, clusters[l - 1] - 1);
    k = Math.max(2, Math.min(k, Math.floor(n / 2)));
    const ratio = (ref.minSizes[l] * k0) / ref.songs;
    clusters.push(k);
    minSizes.push((ratio * n) / k);
  });
  return { clusters, minSizes };
}

/** Defaults for n songs: scaled cluster counts, the original's weights and widths. */
export function hierarchicalDmonConfig(
  n: number,
  overrides: Partial<HierarchicalDmonConfig> = {},
): HierarchicalDmonConfig {
  const scaled = scaledHierarchy(n);
  const levels = (overrides.clusters ?? scaled.clusters).length;
  return {
    clusters: scaled.clusters,
    minSizes: scaled.minSizes,
    collapseWeights: [...SEED_SCALE.collapseWeights].slice(0, levels),
    resolutions: new Array<number>(levels).fill(1),
    lossScale: SEED_SCALE.lossScale,
    channels: [56, 64, 64].slice(0, Math.max(0, levels - 1)),
    inputGcn: 0,
    standardizeInputs: true,
    initGain: 0.1,
    dropout: 0,
    seed: 1,
    ...overrides,
  };
}

export interface LevelForward {
  /** C_l: level-to-level soft assignment (k_{l−1} × k_l; n × k_0 at level 0). */
  assignment: Tensor2D;
  /** Ĉ_l = C_0 ⋯ C_l (n × k_l), or null when not requested. */
  songAssignment: Tensor2D | null;
  /** C_1 ⋯ C_l (k_0 × k_l; null at level 0): Ĉ_l for any rows R is (R C_0) · this. */
  fromFinest: Tensor2D | null;
  /** Song-level cluster sizes Ĉ_lᵀ 1 (1 × k_l). */
  sizes: Tensor2D;
  /** A_{l+1} = C_lᵀ A_l C_l (k_l × k_l). */
  pooledGraph: Tensor2D;
  /** Features of the level-l clusters (k_l × width): GCN output, or SELU(pooled) at the top. */
  pooledFeatures: Tensor2D;
  /** pooledFeatures standardised per column (zero mean, unit deviation). */
  standardizedFeatures: Tensor2D;
  modularity: Scalar;
  collapse: Scalar;
  economy: Scalar;
}

export interface HierarchicalForward {
  levels: LevelForward[];
  loss: Scalar;
}

export interface ForwardOptions {
  training: boolean;
  dropoutSeed?: number;
  /** Compute Ĉ_l for every song (default true; n·k_0·k_l work per level above 0). */
  songAssignments?: boolean;
  /** Multiplier of each level's loss term (default 1): lets a schedule bring coarse levels in late. */
  levelScales?: number[];
  /**
   * Differentiate through the pooled graphs A_{l+1} = C_lᵀ A_l C_l (default true). At seed scale
   * the level-0 product is n·k_0² and its gradient twice that; without it the coarse levels still
   * train C_0 through sizes and pooled features.
   */
  pooledGraphGradient?: boolean;
  /**
   * A_1 from an earlier pass, used as a constant instead of recomputing C_0ᵀ A C_0 (n·k_0²): with
   * pooledGraphGradient off the pooled graph is a constant anyway, so a trainer may refresh it
   * every few epochs.
   */
  firstPooledGraph?: Tensor2D;
}

export interface LevelReport {
  level: number;
  k: number;
  minSize: number;
  /** Non-empty clusters in the hard assignment. */
  clusters: number;
  modularity: number;
  /** DMoN paper's conductance (share of edge weight crossing clusters). */
  conductance: number;
  meanConductance: number;
  nmi: number | null;
}

export interface HierarchyReport {
  levels: LevelReport[];
}

const TINY = 1e-20;

/** Variables and forward pass; compose forward(...).loss into any training step. */
export class HierarchicalDmon {
  readonly config: HierarchicalDmonConfig;
  readonly n: number;
  readonly inputDim: number;
  readonly inputLayer: GcnWeights | null;
  readonly dense: { kernel: Variable; bias: Variable }[];
  /** GCN applied to the pooled features of level l (for l < L − 1). */
  readonly pooledGcn: GcnWeights[];
  private readonly tf: Tf;

  constructor(tf: Tf, inputDim: number, n: number, config: HierarchicalDmonConfig) {
    const L = config.clusters.length;
    if (L === 0) throw new Error('hierarchical DMoN needs at least one level');
    for (const [name, list, want] of [
      ['minSizes', config.minSizes, L],
      ['collapseWeights', config.collapseWeights, L],
      ['resolutions', config.resolutions, L],
      ['channels', config.channels, L - 1],
    ] as const)
      if (list.length !== want)
        throw new Error(`hierarchical DMoN: ${name} has ${list.length} entries, need ${want}`);
    config.clusters.forEach((k, l) => {
      if (k * config.minSizes[l] >= n)
        throw new Error(
          `level ${l}: k·t = ${k}·${config.minSizes[l]} ≥ n = ${n}; the economy scaler would be ≤ 0`,
        );
    });
    this.tf = tf;
    this.config = config;
    this.n = n;
    this.inputDim = inputDim;
    const rng = new Random(config.seed);
    let width = inputDim;
    this.inputLayer = config.inputGcn > 0 ? createGcn(tf, rng, width, config.inputGcn) : null;
    if (config.inputGcn > 0) width = config.inputGcn;
    this.dense = [];
    this.pooledGcn = [];
    for (let l = 0; l < L; l++) {
      const k = config.clusters[l];
      this.dense.push({
        kernel: variable(tf, orthogonal(rng, width, k), [width, k], config.initGain),
        bias: variable(tf, new Float32Array(k), [k]),
      });
      if (l < L - 1) {
        this.pooledGcn.push(createGcn(tf, rng, width, config.channels[l]));
        width = config.channels[l];
      }
    }
  }

  /** Trainable variables under stable names (for checkpoints). */
  namedVariables(): Record<string, Variable> {
    return Object.assign(
      {},
      this.inputLayer ? gcnVariables('input', this.inputLayer) : {},
      ...this.dense.map((d, l) => ({ [`level${l}.kernel`]: d.kernel, [`level${l}.bias`]: d.bias })),
      ...this.pooledGcn.map((g, l) => gcnVariables(`pooled${l + 1}`, g)),
    ) as Record<string, Variable>;
  }

  get variables(): Variable[] {
    return Object.values(this.namedVariables());
  }

  /** All levels' assignments, pooled graphs/features and the scaled total loss. */
  forward(features: Tensor2D, graph: DmonGraph, options: ForwardOptions): HierarchicalForward {
    const tf = this.tf;
    const { n, twoM } = graph;
    if (n !== this.n || features.shape[0] !== n)
      throw new Error(`hierarchical DMoN built for ${this.n} songs, got ${n}`);
    const cfg = this.config;
    let f = features;
    if (this.inputLayer) f = gcnLayer(tf, f, this.inputLayer, (t) => spmm(tf, graph.normalized, t));
    let degreeRow = tf.tensor2d(graph.degrees, [1, n]);
    let dense: Tensor2D | null = null; // A_l for l ≥ 1
    let finest: Tensor2D | null = null; // C_0
    let fromFinest: Tensor2D | null = null;
    let sizes: Tensor2D | null = null;
    const levels: LevelForward[] = [];
    const terms: Scalar[] = [];
    for (let l = 0; l < cfg.clusters.length; l++) {
      const k = cfg.clusters[l];
      const input = cfg.standardizeInputs ? standardize(tf, f) : f;
      let logits = tf.add(
        matMul(tf, input, this.dense[l].kernel as Tensor2D),
        this.dense[l].bias,
      ) as Tensor2D;
      if (options.training && cfg.dropout > 0)
        logits = tf.dropout(logits, cfg.dropout, undefined, (options.dropoutSeed ?? 0) * 31 + l) as Tensor2D;
      // The floor keeps logs of soft targets finite downstream (as the original).
      const c = tf.add(tf.softmax(logits), TINY) as Tensor2D;
      const ac = dense ? matMul(tf, dense, c) : spmm(tf, graph.adjacency, c);
      const { modularity: q, degreeC } = spectralModularity(tf, c, ac, degreeRow, twoM, cfg.resolutions[l]);
      if (l === 0) finest = c;
      else fromFinest = fromFinest ? matMul(tf, fromFinest, c) : c;
      sizes = sizes ? matMul(tf, sizes, c) : columnSums(tf, c);
      const t = cfg.minSizes[l];
      const economy = tf.div(n - k * t, tf.add(tf.sum(tf.relu(tf.sub(sizes, t))), 1e-6)) as Scalar;
      const norm = tf.mul(tf.sqrt(sumProduct(tf, sizes, sizes)), Math.sqrt(k) / n);
      const collapse = tf.sub(tf.mul(economy, norm), 1) as Scalar;
      const scale = options.levelScales?.[l] ?? 1;
      if (scale > 0) terms.push(tf.mul(tf.sub(tf.mul(collapse, cfg.collapseWeights[l]), q), scale) as Scalar);

      const ct = tf.transpose(c) as Tensor2D;
      let pooledGraph: Tensor2D;
      if (l === 0 && options.firstPooledGraph) pooledGraph = options.firstPooledGraph;
      else {
        pooledGraph = matMul(tf, ct, ac);
        // Rebuilt from its values, the pooled graph is a constant to the gradient tape.
        if (options.pooledGraphGradient === false) pooledGraph = tf.tensor2d(pooledGraph.dataSync(), pooledGraph.shape);
      }
      const localSizes = tf.transpose(columnSums(tf, c)) as Tensor2D;
      let pooled = tf.selu(tf.div(matMul(tf, ct, f), localSizes)) as Tensor2D;
      if (l < cfg.clusters.length - 1) {
        const normalized = normalizeDense(tf, pooledGraph);
        pooled = gcnLayer(tf, pooled, this.pooledGcn[l], (x) => matMul(tf, normalized, x));
      }
      const songAssignment =
        l === 0 ? c : options.songAssignments === false ? null : matMul(tf, finest!, fromFinest!);
      levels.push({
        assignment: c,
        songAssignment,
        fromFinest,
        sizes,
        pooledGraph,
        pooledFeatures: pooled,
        standardizedFeatures: standardize(tf, pooled),
        modularity: q,
        collapse,
        economy,
      });
      f = pooled;
      dense = pooledGraph;
      degreeRow = degreeC;
    }
    const total = terms.length > 0 ? tf.addN(terms) : tf.scalar(0);
    return { levels, loss: tf.mul(total, cfg.lossScale) as Scalar };
  }

  /** Song → cluster at each level (argmax of Ĉ_l), finest first, in inference mode. */
  hardAssignments(features: Tensor2D, graph: DmonGraph): Int32Array[] {
    const soft = this.tf.tidy(() =>
      this.forward(features, graph, { training: false, songAssignments: true }).levels.map(
        (lv) => lv.songAssignment!,
      ),
    );
    const out = soft.map((c) => argmaxRows(this.tf, c));
    for (const c of soft) c.dispose();
    return out;
  }

  /** Per-level hard-partition quality on the song graph, with NMI against optional planted labels. */
  report(features: Tensor2D, graph: DmonGraph, planted?: (ArrayLike<number> | null)[]): HierarchyReport {
    return reportAssignments(graph.csr, this.hardAssignments(features, graph), this.config, planted);
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

/**
 * Rows of Ĉ_l for some songs only, (S C_0)(C_1 ⋯ C_l) with S a row selection: what a batch of
 * soft targets needs, without the n·k_0·k_l product of a full Ĉ_l. Call inside the same tidy as
 * forward (run forward with songAssignments: false).
 */
export function songAssignmentRows(
  tf: Tf,
  out: HierarchicalForward,
  level: number,
  songs: ArrayLike<number>,
): Tensor2D {
  const finest = out.levels[0].assignment;
  const rows = spmm(tf, selectRows(songs, finest.shape[0]), finest);
  const chain = out.levels[level].fromFinest;
  return chain ? matMul(tf, rows, chain) : rows;
}

export function reportAssignments(
  graph: Csr,
  assignments: Int32Array[],
  config: Pick<HierarchicalDmonConfig, 'clusters' | 'minSizes'>,
  planted?: (ArrayLike<number> | null)[],
): HierarchyReport {
  return {
    levels: assignments.map((labels, l) => ({
      level: l,
      k: config.clusters[l],
      minSize: config.minSizes[l],
      clusters: activeClusters(labels),
      modularity: modularity(graph, labels),
      conductance: conductance(graph, labels),
      meanConductance: meanConductance(graph, labels),
      nmi: planted?.[l] ? nmi(planted[l]!, labels) : null,
    })),
  };
}

/** D^-1/2 (A + I) D^-1/2 of a small dense pooled graph, differentiable. */
function normalizeDense(tf: Tf, a: Tensor2D): Tensor2D {
  const k = a.shape[0];
  const withSelf = tf.add(a, tf.eye(k)) as Tensor2D;
  const inv = tf.rsqrt(matMul(tf, withSelf, tf.ones([k, 1]) as Tensor2D)) as Tensor2D;
  return tf.mul(tf.mul(withSelf, inv), tf.transpose(inv)) as Tensor2D;
}

/** Columns to zero mean and unit deviation (the tracklist model's "standardised cluster features"). */
function standardize(tf: Tf, x: Tensor2D): Tensor2D {
  const mean = tf.mean(x, 0, true);
  const centred = tf.sub(x, mean);
  const std = tf.sqrt(tf.add(tf.mean(tf.square(centred), 0, true), 1e-8));
  return tf.div(centred, std) as Tensor2D;
}

/**
 * Structural features for standalone training when no embeddings exist: Gaussian random
 * projections smoothed by powers of the GCN-normalised graph (FastRP-like), one block of
 * columns per power, each column standardised. Default Â²R: on the planted hierarchies, adding
 * high powers (1, 2, 4, 8) made level 0 merge sibling scenes.
 */
export function graphFeatures(graph: Csr, dim: number, seed: number, powers: number[] = [2]): Float32Array {
  const rng = new Random(seed);
  const norm = gcnNormalize(graph);
  const n = graph.rows;
  const out = new Float32Array(n * dim);
  const maxPower = Math.max(...powers);
  let x: Float32Array = Float32Array.from({ length: n * dim }, () => rng.normal());
  for (let step = 1; step <= maxPower; step++) {
    x = multiplyDense(norm, x, dim);
    const block = powers.indexOf(step);
    if (block < 0) continue;
    // Block b takes columns [b·dim/B, (b+1)·dim/B) from this power.
    const from = Math.floor((block * dim) / powers.length);
    const to = Math.floor(((block + 1) * dim) / powers.length);
    standardizeColumnsInto(x, out, dim, from, to);
  }
  return out;
}

/** Columns [from, to) of row-major x (width columns) to zero mean and unit deviation, into out. */
export function standardizeColumnsInto(
  x: ArrayLike<number>,
  out: Float32Array,
  width: number,
  from = 0,
  to = width,
): Float32Array {
  const n = x.length / width;
  for (let c = from; c < to; c++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[i * width + c];
    mean /= n;
    let variance = 0;
    for (let i = 0; i < n; i++) variance += (x[i * width + c] - mean) ** 2;
    const std = Math.sqrt(variance / n) || 1;
    for (let i = 0; i < n; i++) out[i * width + c] = (x[i * width + c] - mean) / std;
  }
  return out;
}

export interface TrainHierarchicalOptions {
  config?: Partial<HierarchicalDmonConfig>;
  epochs?: number;
  /** Adam learning rate (default 0.01). */
  learningRate?: number;
  /** Planted labels per level (finest first) for the report's NMI. */
  planted?: (ArrayLike<number> | null)[];
  /**
   * Level l ≥ 1's loss ramps in linearly over epochs [l·warmup, (l+1)·warmup] (default 30;
   * 0: all levels from the start, as the original). Coarse levels trained on still-random fine clusters saturate
   * their softmax on a wrong split and cannot leave it.
   */
  warmup?: number;
  /**
   * Independent runs (seeds seed, seed + 1, …); the one with the lowest final loss is kept. On
   * planted hierarchies a single run finds the top split about half the time, and the loss
   * ranks runs correctly, so restarts are the cheap fix.
   */
  restarts?: number;
  onEpoch?: (epoch: number, loss: number, restart: number) => void;
  logEvery?: number;
  log?: (line: string) => void;
}

export interface TrainHierarchicalResult {
  /** The kept (lowest-loss) run. */
  model: HierarchicalDmon;
  graph: DmonGraph;
  features: Tensor2D;
  assignments: Int32Array[];
  report: HierarchyReport;
  losses: number[];
  seconds: number;
  backend: string;
}

/** Trains hierarchical DMoN alone on a song graph with dense row-major features (n × dim). */
export async function trainHierarchicalDmon(
  graph: Csr,
  features: Float32Array,
  dim: number,
  options: TrainHierarchicalOptions = {},
): Promise<TrainHierarchicalResult> {
  const { tf, backend } = await loadTf(options.log);
  const started = performance.now();
  const g = prepareGraph(graph);
  if (features.length !== g.n * dim) throw new Error(`features: ${features.length} values for ${g.n}×${dim}`);
  const x = tf.tensor2d(features, [g.n, dim]);
  const base = hierarchicalDmonConfig(g.n, options.config);
  const epochs = options.epochs ?? 300;
  const warmup = options.warmup ?? 30;
  let best: { model: HierarchicalDmon; losses: number[] } | null = null;
  for (let restart = 0; restart < Math.max(1, options.restarts ?? 1); restart++) {
    const model = new HierarchicalDmon(tf, dim, g.n, { ...base, seed: base.seed + restart });
    const optimizer = tf.train.adam(options.learningRate ?? 0.01);
    const losses: number[] = [];
    for (let epoch = 0; epoch < epochs; epoch++) {
      const levelScales = model.config.clusters.map((_, l) =>
        warmup > 0 && l > 0 ? Math.min(1, Math.max(0, (epoch + 1 - l * warmup) / warmup)) : 1,
      );
      const cost = optimizer.minimize(
        () =>
          model.forward(x, g, { training: true, dropoutSeed: epoch, songAssignments: false, levelScales })
            .loss,
        true,
        model.variables,
      );
      const value = cost!.dataSync()[0];
      cost!.dispose();
      losses.push(value);
      if (!Number.isFinite(value))
        throw new Error(`hierarchical DMoN loss became ${value} at epoch ${epoch}`);
      if (options.onEpoch && (epoch % (options.logEvery ?? 100) === 0 || epoch === epochs - 1))
        options.onEpoch(epoch, value, restart);
    }
    optimizer.dispose();
    if (!best || losses[epochs - 1] < best.losses[epochs - 1]) {
      best?.model.dispose();
      best = { model, losses };
    } else model.dispose();
  }
  const { model, losses } = best!;
  const assignments = model.hardAssignments(x, g);
  const report = reportAssignments(graph, assignments, model.config, options.planted);
  return {
    model,
    graph: g,
    features: x,
    assignments,
    report,
    losses,
    seconds: (performance.now() - started) / 1000,
    backend,
  };
}
