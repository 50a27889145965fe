import type { Scalar, Tensor2D, Variable } from '@tensorflow/tfjs';
import type { Prepared } from '../../shared/graph/prepare.ts';
import { Random } from '../../shared/util/random.ts';
import { argmaxRows, createGcn, gcnLayer, gcnVariables, prepareGraph, type GcnWeights } from '../dmon/dmon.ts';
import {
  HierarchicalDmon,
  hierarchicalDmonConfig,
  reportAssignments,
  scaledHierarchy,
  type HierarchicalForward,
  type HierarchyReport,
} from '../dmon/hierarchical.ts';
import { spmm } from '../sparse.ts';
import type { Tf } from '../tf.ts';
import { buildTree, songLabels, type ClusterTree } from './hierarchy.ts';
import { Progress } from '../../shared/util/progress.ts';
import { memoryNote } from './memory.ts';
import { naturalHierarchy, type NaturalHierarchy } from '../dmon/resolution.ts';

/**
 * Stage one of the tracklist model: song features from GCNs over the song graph (on the song
 * embeddings) and the artist graph (on the artist embeddings), [M · artistGCN ; songGCN], trained
 * jointly with the hierarchical DMoN on the song graph (SPEC §4). The clustering is then frozen
 * into a hard tree for the language model: "updated less often than every step", at its limit.
 */
export interface ClusteringConfig {
  /** Channels of each feature GCN [24]. */
  channels: number;
  epochs: number;
  learningRate: number;
  /** Epochs over which each coarser level's loss ramps in. */
  warmup: number;
  /**
   * Cap on the finest level's clusters. The WASM heap (≤ 4 GB) cannot hold the n × 1,200
   * assignment and its gradients at seed scale (measured: abort at 30,446 songs); 600 fits.
   */
  maxFinest: number;
  /** Differentiate through the pooled graphs (off by default: n·k_0² per step, see hierarchical.ts). */
  pooledGraphGradient: boolean;
  /** Without that gradient, recompute A_1 = C_0ᵀ A C_0 only every this many epochs. */
  pooledGraphEvery: number;
  /**
   * 'natural': cluster counts and per-level modularity resolutions from a Louvain resolution
   * sweep of the song graph (resolution.ts), capped by the scaled counts, and the DMoN warm-started
   * on those partitions. 'scaled': the original's counts scaled to n, resolution 1 (SPEC's formula).
   */
  scales: 'natural' | 'scaled';
  /** Epochs fitting the assignments to the natural partitions before the DMoN loss (scales 'natural'). */
  warmStartEpochs: number;
  /** Weight of that fit's cross-entropy kept beside the DMoN loss afterwards (scales 'natural'). */
  anchor: number;
  /** Wall-clock allowance in seconds (0 = none): epochs (and the warm-up) shrink to fit after 3 are timed. */
  seconds: number;
  seed: number;
}

export const DEFAULT_CLUSTERING: ClusteringConfig = {
  channels: 24,
  epochs: 200,
  learningRate: 0.01,
  warmup: 30,
  maxFinest: 600,
  pooledGraphGradient: false,
  pooledGraphEvery: 10,
  scales: 'natural',
  warmStartEpochs: 40,
  anchor: 10,
  seconds: 0,
  seed: 1,
};

export interface ClusteringResult {
  /** n × 2·channels song features. */
  features: Float32Array;
  featureWidth: number;
  tree: ClusterTree;
  /** Standardised cluster features per level (compact rows), finest first. */
  clusterFeatures: { values: Float32Array; width: number }[];
  /** DMoN cluster counts asked for, finest first. */
  requested: number[];
  /** The original's counts scaled to n (the caps of the natural ones), finest first. */
  scaled: number[];
  /** The natural scales the DMoN started from, or null (scales 'scaled', or none found). */
  natural: { clusters: number[]; resolutions: number[]; seconds: number } | null;
  report: HierarchyReport;
  losses: number[];
  seconds: number;
}

interface FeatureNet {
  song: GcnWeights;
  artist: GcnWeights;
}

/** Clusters per level for n songs: the seed-scale hierarchy scaled to n, the finest level capped. */
export function clusterCounts(n: number, maxFinest: number): { clusters: number[]; minSizes: number[] } {
  const scaled = scaledHierarchy(n);
  if (scaled.clusters[0] <= maxFinest) return scaled;
  // Keep the minimum-to-mean size ratio when capping, so k·t < n still holds.
  const ratio = maxFinest / scaled.clusters[0];
  const clusters = [...scaled.clusters];
  const minSizes = [...scaled.minSizes];
  clusters[0] = maxFinest;
  minSizes[0] = scaled.minSizes[0] / ratio;
  if (clusters[1] >= clusters[0]) clusters[1] = Math.floor(clusters[0] / 2);
  return { clusters, minSizes };
}

export async function trainClustering(
  tf: Tf,
  prepared: Prepared,
  embeddings: { song: Float32Array; artist: Float32Array; width: number },
  config: ClusteringConfig,
  options: { planted?: (ArrayLike<number> | null)[]; log?: (line: string) => void } = {},
): Promise<ClusteringResult> {
  const started = performance.now();
  const n = prepared.songSong.rows;
  const graph = prepareGraph(prepared.songSong);
  const artistGraph = { a: prepared.artistArtistNorm, at: prepared.artistArtistNorm };
  const songArtist = { a: prepared.songArtistMap };
  const rng = new Random(config.seed);
  const net: FeatureNet = {
    song: createGcn(tf, rng, embeddings.width, config.channels),
    artist: createGcn(tf, rng, embeddings.width, config.channels),
  };
  const songEmb = tf.tensor2d(embeddings.song, [n, embeddings.width]);
  const artistEmb = tf.tensor2d(embeddings.artist, [prepared.songArtistMap.cols, embeddings.width]);
  const features = (): Tensor2D => {
    const songPart = gcnLayer(tf, songEmb, net.song, (x) => spmm(tf, graph.normalized, x));
    const artistPart = gcnLayer(tf, artistEmb, net.artist, (x) => spmm(tf, artistGraph, x));
    return tf.concat([spmm(tf, songArtist, artistPart), songPart], 1) as Tensor2D;
  };
  const scaled = clusterCounts(n, config.maxFinest);
  const natural = config.scales === 'natural' ? naturalHierarchy(prepared.songSong, scaled.clusters, { log: options.log }) : null;
  if (config.scales === 'natural' && !natural) options.log?.('clustering: no natural scales in the song graph; using the scaled counts');
  const counts = natural ? naturalCounts(natural, scaled) : scaled;
  const width = 2 * config.channels;
  const dmonConfig = hierarchicalDmonConfig(n, {
    ...counts,
    seed: config.seed,
    ...(natural ? { resolutions: natural.levels.map((l) => l.resolution) } : {}),
  });
  const dmon = new HierarchicalDmon(tf, width, n, dmonConfig);
  const featureVariables = [...Object.values(gcnVariables('song', net.song)), ...Object.values(gcnVariables('artist', net.artist))];
  const variables = [...featureVariables, ...dmon.variables];
  const optimizer = tf.train.adam(config.learningRate);
  const targets = natural ? naturalTargets(tf, natural) : null;
  const warmStartBegan = performance.now();
  if (targets && config.warmStartEpochs > 0) warmStart(tf, dmon, features, graph, targets, variables, config, options.log);
  // The warm start spends the same allowance as the DMoN epochs.
  const loopSeconds = config.seconds - (performance.now() - warmStartBegan) / 1000;
  const losses: number[] = [];
  let firstPooled: Tensor2D | null = null;
  let epochs = config.epochs;
  let warmup = config.warmup;
  const loopStart = performance.now();
  const progress = new Progress('clustering', epochs, 5000, options.log);
  for (let epoch = 0; epoch < epochs; epoch++) {
    if (epoch === 3 && config.seconds > 0) {
      const fits = Math.floor((Math.max(0, loopSeconds) * 1000) / ((performance.now() - loopStart) / 3));
      if (fits < epochs) {
        epochs = Math.max(fits, 12);
        warmup = Math.min(warmup, Math.floor(epochs / 4));
        const spent = config.seconds - loopSeconds;
        options.log?.(
          `clustering: the ${config.seconds} s allowance${spent >= 1 ? ` (${spent.toFixed(0)} s of it on the warm start)` : ''} caps training at ${epochs} epochs (warm-up ${warmup})`,
        );
      }
    }
    const levelScales = counts.clusters.map((_, l) =>
      warmup > 0 && l > 0 ? Math.min(1, Math.max(0, (epoch + 1 - l * warmup) / warmup)) : 1,
    );
    const refresh = config.pooledGraphGradient || !firstPooled || epoch % config.pooledGraphEvery === 0;
    const cost = optimizer.minimize(
      () => {
        const out = dmon.forward(features(), graph, {
          training: true,
          dropoutSeed: epoch,
          songAssignments: false,
          levelScales,
          pooledGraphGradient: config.pooledGraphGradient,
          ...(refresh || !firstPooled ? {} : { firstPooledGraph: firstPooled }),
        });
        if (refresh && !config.pooledGraphGradient) {
          firstPooled?.dispose();
          firstPooled = tf.keep(out.levels[0].pooledGraph);
        }
        return targets && config.anchor > 0 ? (tf.add(out.loss, tf.mul(naturalCrossEntropy(tf, out, targets), config.anchor)) as Scalar) : out.loss;
      },
      true,
      variables,
    );
    const value = cost!.dataSync()[0];
    cost!.dispose();
    if (!Number.isFinite(value)) throw new Error(`clustering loss became ${value} at epoch ${epoch}`);
    losses.push(value);
    progress.tick(1, `loss ${value.toFixed(4)}; ${memoryNote(tf)}`);
  }
  progress.finish(`loss ${losses[losses.length - 1]?.toFixed(4)}; ${memoryNote(tf)}`);
  optimizer.dispose();
  (firstPooled as Tensor2D | null)?.dispose();
  if (targets) tf.dispose(targets);

  // Freeze: features, level-to-level argmaxes, standardised cluster features.
  const frozen = tf.tidy(() => {
    const f = features();
    const out = dmon.forward(f, graph, { training: false, songAssignments: false });
    return { f, levels: out.levels.map((lv) => ({ c: lv.assignment, std: lv.standardizedFeatures })) };
  });
  const featureValues = frozen.f.dataSync() as Float32Array;
  const songArgmax = argmaxRows(tf, frozen.levels[0].c);
  const levelArgmax = frozen.levels.slice(1).map((lv) => argmaxRows(tf, lv.c));
  const tree = buildTree(songArgmax, levelArgmax, counts.clusters);
  const clusterFeatures = frozen.levels.map((lv, l) => {
    const w = lv.std.shape[1];
    const all = lv.std.dataSync() as Float32Array;
    const values = new Float32Array(tree.kept[l].length * w);
    tree.kept[l].forEach((c, i) => values.set(all.subarray(c * w, (c + 1) * w), i * w));
    return { values, width: w };
  });
  const report = reportAssignments(prepared.songSong, songLabels(tree), dmon.config, options.planted);
  tf.dispose([frozen.f, ...frozen.levels.flatMap((lv) => [lv.c, lv.std]), songEmb, artistEmb]);
  dmon.dispose();
  for (const v of featureVariables) v.dispose();
  return {
    features: Float32Array.from(featureValues),
    featureWidth: width,
    tree,
    clusterFeatures,
    requested: counts.clusters,
    scaled: scaled.clusters,
    natural: natural && {
      clusters: natural.levels.map((l) => l.clusters),
      resolutions: natural.levels.map((l) => l.resolution),
      seconds: natural.seconds,
    },
    report,
    losses,
    seconds: (performance.now() - started) / 1000,
  };
}

/** DMoN counts from the natural scales; minimum sizes keep the scaled ratio t·k/n. */
function naturalCounts(natural: NaturalHierarchy, scaled: { clusters: number[]; minSizes: number[] }): { clusters: number[]; minSizes: number[] } {
  const clusters = natural.levels.map((l) => l.clusters);
  return { clusters, minSizes: scaled.minSizes.map((t, l) => (t * scaled.clusters[l]) / clusters[l]) };
}

/** One-hot targets of the natural partitions: songs × k_0, then level-(l−1) clusters × k_l (their nested parents). */
function naturalTargets(tf: Tf, natural: NaturalHierarchy): Tensor2D[] {
  return natural.levels.map(
    (level) => tf.oneHot(tf.tensor1d(level.parentOf ?? level.labels, 'int32'), level.clusters).toFloat() as Tensor2D,
  );
}

/** Cross-entropy of each level's assignment against its natural targets, summed over levels. */
function naturalCrossEntropy(tf: Tf, out: HierarchicalForward, targets: Tensor2D[]): Scalar {
  const terms = out.levels.map((lv, l) =>
    tf.div(tf.neg(tf.sum(tf.mul(targets[l], tf.log(lv.assignment)))), lv.assignment.shape[0]) as Scalar,
  );
  return tf.addN(terms) as Scalar;
}

/**
 * Fits every level's assignment to the natural partitions with its own optimiser. Without it the
 * coarse levels saturate on whatever split they hold when their loss ramps in, far from the
 * modularity optimum of their resolution.
 */
function warmStart(
  tf: Tf,
  dmon: HierarchicalDmon,
  features: () => Tensor2D,
  graph: ReturnType<typeof prepareGraph>,
  targets: Tensor2D[],
  variables: Variable[],
  config: ClusteringConfig,
  log?: (line: string) => void,
): void {
  const optimizer = tf.train.adam(config.learningRate);
  const progress = new Progress('clustering warm start', config.warmStartEpochs, 5000, log);
  let value = 0;
  for (let epoch = 0; epoch < config.warmStartEpochs; epoch++) {
    const cost = optimizer.minimize(
      () => {
        const out = dmon.forward(features(), graph, { training: true, dropoutSeed: epoch, songAssignments: false, pooledGraphGradient: false });
        return naturalCrossEntropy(tf, out, targets);
      },
      true,
      variables,
    );
    value = cost!.dataSync()[0];
    cost!.dispose();
    progress.tick(1, `cross-entropy ${value.toFixed(4)}`);
  }
  progress.finish(`cross-entropy ${value.toFixed(4)}`);
  optimizer.dispose();
}
