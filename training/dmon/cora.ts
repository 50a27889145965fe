import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CooBuilder, type Csr } from '../../shared/graph/csr.ts';
import { teamFolder } from '../teamFolder.ts';
import { type DmonConfig, trainDmon } from './dmon.ts';
import { activeClusters, conductance, meanConductance, modularity, nmi } from './metrics.ts';

/** The Cora citation graph from the team folder's datasets/cora (see teamFolder). */
export interface Cora {
  graph: Csr;
  features: Csr;
  labels: Int32Array;
}

export function defaultCoraDir(): string {
  return join(teamFolder(), 'datasets/cora');
}

function rows(path: string): string[][] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.split('\t'));
}

export function loadCora(dir = defaultCoraDir()): Cora {
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as {
    nodes: number;
    features: number;
  };
  const n = meta.nodes;
  const edges = new CooBuilder(n, n);
  for (const [i, j] of rows(join(dir, 'edges.tsv'))) {
    edges.add(Number(i), Number(j), 1);
    edges.add(Number(j), Number(i), 1);
  }
  const features = new CooBuilder(n, meta.features);
  for (const [i, words] of rows(join(dir, 'features.tsv')))
    for (const w of (words ?? '').split(' ')) if (w !== '') features.add(Number(i), Number(w), 1);
  const labels = new Int32Array(n).fill(-1);
  for (const [i, label] of rows(join(dir, 'labels.tsv'))) labels[Number(i)] = Number(label);
  // Duplicate edge lines would sum to 2; the graph is unweighted.
  const graph = edges.toCsr();
  graph.values.fill(1);
  return { graph, features: features.toCsr(), labels };
}

export interface CoraFigures {
  clusters: number;
  epochs: number;
  modularity: number;
  /** DMoN paper's conductance: share of edge weight crossing clusters. */
  conductance: number;
  /** Mean over clusters of cut / min(vol, 2m − vol). */
  meanConductance: number;
  nmi: number;
  activeClusters: number;
  seconds: number;
  backend: string;
  finalLoss: number;
}

/** DMoN on Cora as the paper's setup: GCN(64, SELU) on bag-of-words, 16 clusters, Adam 1e-3. */
export async function runCora(
  options: {
    epochs?: number;
    config?: Partial<DmonConfig>;
    learningRate?: number;
    dir?: string;
    log?: (line: string) => void;
  } = {},
): Promise<CoraFigures> {
  const cora = loadCora(options.dir);
  const epochs = options.epochs ?? 1000;
  const result = await trainDmon(cora.graph, cora.features, {
    config: { clusters: 16, hidden: [64], collapseWeight: 1, ...options.config },
    epochs,
    learningRate: options.learningRate ?? 1e-3,
    log: options.log,
    onEpoch: options.log ? (e, loss) => options.log!(`epoch ${e} loss ${loss.toFixed(4)}`) : undefined,
  });
  const labels = result.assignment;
  const figures: CoraFigures = {
    clusters: result.model.config.clusters,
    epochs,
    modularity: modularity(cora.graph, labels),
    conductance: conductance(cora.graph, labels),
    meanConductance: meanConductance(cora.graph, labels),
    nmi: nmi(cora.labels, labels),
    activeClusters: activeClusters(labels),
    seconds: result.seconds,
    backend: result.backend,
    finalLoss: result.losses[result.losses.length - 1],
  };
  result.model.dispose();
  return figures;
}
