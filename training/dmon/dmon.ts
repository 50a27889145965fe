import type { GradSaveFunc, Scalar, Tensor, Tensor2D, Variable } from '@tensorflow/tfjs';
import { type Csr, gcnNormalize, nnz, rowSums, transpose } from '../../shared/graph/csr.ts';
import { Random } from '../../shared/util/random.ts';
import { matMul } from '../ops.ts';
import { spmm, type SparseOperand } from '../sparse.ts';
import { loadTf, type Tf } from '../tf.ts';

/**
 * Deep Modularity Networks (Tsitsulin et al. 2020, "Graph Clustering with Graph Neural
 * Networks"): soft assignments C = softmax(Dense(GCN(X))) trained to maximise spectral
 * modularity Tr(Cᵀ A C − Cᵀ d dᵀ C / 2m) / 2m with collapse regularisation √k/n ‖Σ_i C_i‖ − 1.
 * Everything n×n stays sparse: A·C goes through spmm and the null model is rank one.
 */

/** Constant graph operands shared by every forward pass. */
export interface DmonGraph {
  n: number;
  /** Raw symmetric adjacency A (its own transpose for spmm's backward pass). */
  adjacency: SparseOperand;
  /** D^-1/2 (A + I) D^-1/2 for the GCN layers. */
  normalized: SparseOperand;
  degrees: Float32Array;
  /** Σ_i d_i. */
  twoM: number;
  csr: Csr;
}

export function prepareGraph(a: Csr): DmonGraph {
  if (a.rows !== a.cols) throw new Error(`DMoN needs a square graph, got ${a.rows}×${a.cols}`);
  assertSymmetric(a);
  const degrees = Float32Array.from(rowSums(a));
  let twoM = 0;
  for (const d of degrees) twoM += d;
  if (!(twoM > 0)) throw new Error('DMoN needs a graph with at least one edge');
  const normalized = gcnNormalize(a);
  return {
    n: a.rows,
    adjacency: { a, at: a },
    normalized: { a: normalized, at: normalized },
    degrees,
    twoM,
    csr: a,
  };
}

function assertSymmetric(a: Csr): void {
  const t = transpose(a);
  const same =
    nnz(t) === nnz(a) &&
    t.indptr.every((v, i) => v === a.indptr[i]) &&
    t.indices.every((v, i) => v === a.indices[i]) &&
    t.values.every((v, i) => Math.abs(v - a.values[i]) <= 1e-6 * Math.max(1, Math.abs(v)));
  if (!same) throw new Error('DMoN needs an undirected graph stored symmetrically (A = Aᵀ)');
}

/** Node features: a dense tensor, or a constant sparse matrix multiplied through spmm. */
export type FeatureInput = Tensor2D | SparseOperand;

function isSparse(x: FeatureInput): x is SparseOperand {
  return (x as SparseOperand).a !== undefined;
}

export function featureWidth(x: FeatureInput): number {
  return isSparse(x) ? x.a.cols : x.shape[1];
}

/** x · w for either feature kind. */
export function project(tf: Tf, x: FeatureInput, w: Tensor2D): Tensor2D {
  return isSparse(x) ? spmm(tf, x, w) : matMul(tf, x, w);
}

/** Glorot-uniform, Keras's default kernel initialiser. */
export function glorotUniform(rng: Random, rows: number, cols: number): Float32Array {
  const limit = Math.sqrt(6 / (rows + cols));
  const out = new Float32Array(rows * cols);
  for (let k = 0; k < out.length; k++) out[k] = (rng.next() * 2 - 1) * limit;
  return out;
}

/**
 * Orthogonal initialiser (as the reference DMoN's Dense layer): a Gaussian matrix orthonormalised
 * by modified Gram–Schmidt along its shorter side, so distinct clusters start with distinct logits.
 */
export function orthogonal(rng: Random, rows: number, cols: number): Float32Array {
  const tall = Math.max(rows, cols);
  const short = Math.min(rows, cols);
  const q = Array.from({ length: short }, () => Float64Array.from({ length: tall }, () => rng.normal()));
  for (let j = 0; j < short; j++) {
    for (let i = 0; i < j; i++) {
      let dot = 0;
      for (let r = 0; r < tall; r++) dot += q[i][r] * q[j][r];
      for (let r = 0; r < tall; r++) q[j][r] -= dot * q[i][r];
    }
    let norm = 0;
    for (let r = 0; r < tall; r++) norm += q[j][r] * q[j][r];
    norm = Math.sqrt(norm) || 1;
    for (let r = 0; r < tall; r++) q[j][r] /= norm;
  }
  const out = new Float32Array(rows * cols);
  // Orthonormal columns when rows ≥ cols, orthonormal rows otherwise.
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[r * cols + c] = rows >= cols ? q[c][r] : q[r][c];
  return out;
}

/**
 * Σ x ⊙ y as one op with gradients (dy·y, dy·x): tfjs's sum gradient materialises a ones tensor
 * of the input's size from JS, which at n × 1,200 costs more than the product itself.
 */
export function sumProduct(tf: Tf, x: Tensor2D, y: Tensor2D): Scalar {
  const f = tf.customGrad((...args: (Tensor | GradSaveFunc)[]) => {
    const [a, b, save] = args as [Tensor2D, Tensor2D, GradSaveFunc];
    save([a, b]);
    return {
      value: tf.sum(tf.mul(a, b)),
      gradFunc: (dy, saved) => [tf.mul(saved[1], dy), tf.mul(saved[0], dy)],
    };
  });
  return f(x, y) as Scalar;
}

/** Column sums as a 1×k row through a ones-row product (cheap gradient, see sumProduct). */
export function columnSums(tf: Tf, c: Tensor2D): Tensor2D {
  return matMul(tf, tf.ones([1, c.shape[0]]) as Tensor2D, c);
}

/**
 * Soft spectral modularity Tr(CᵀAC − γ Cᵀd dᵀC / 2m) / 2m given AC = A·C (sparse or dense A) and
 * d as a 1×n row; γ is the resolution (1 = Newman's). Also returns dᵀC (1×k), which is the
 * pooled graph's degree row.
 */
export function spectralModularity(
  tf: Tf,
  c: Tensor2D,
  ac: Tensor2D,
  degreeRow: Tensor2D,
  twoM: number,
  resolution = 1,
): { modularity: Scalar; degreeC: Tensor2D } {
  const degreeC = matMul(tf, degreeRow, c);
  const within = sumProduct(tf, c, ac);
  const expected = tf.div(sumProduct(tf, degreeC, degreeC), twoM / resolution);
  return { modularity: tf.div(tf.sub(within, expected), twoM) as Scalar, degreeC };
}

/** √k / n · ‖sizes‖ − 1 (0 for equal sizes, √k − 1 for one cluster holding everything). */
export function collapseRegularization(tf: Tf, sizes: Tensor2D, n: number): Scalar {
  const k = sizes.shape[1];
  return tf.sub(tf.mul(tf.sqrt(sumProduct(tf, sizes, sizes)), Math.sqrt(k) / n), 1) as Scalar;
}

/** Row-wise argmax of a soft assignment, read back as plain labels. */
export function argmaxRows(tf: Tf, c: Tensor2D): Int32Array {
  const ids = tf.argMax(c, 1);
  const out = Int32Array.from(ids.dataSync());
  ids.dispose();
  return out;
}

export interface GcnWeights {
  kernel: Variable;
  skip: Variable;
  bias: Variable;
}

// Variables stay unnamed in the tfjs engine (names must be unique there, and several models may
// live at once); classes expose stable names through namedVariables() for checkpoints.
export function createGcn(tf: Tf, rng: Random, inputs: number, outputs: number): GcnWeights {
  return {
    kernel: variable(tf, glorotUniform(rng, inputs, outputs), [inputs, outputs]),
    // Skip weight 1, bias 0: the layer starts as "self plus neighbours".
    skip: variable(tf, new Float32Array(outputs).fill(1), [outputs]),
    bias: variable(tf, new Float32Array(outputs), [outputs]),
  };
}

/** A trainable variable from values (inside tidy so the initial tensor is released). */
export function variable(tf: Tf, values: Float32Array, shape: number[], scale = 1): Variable {
  return tf.tidy(() =>
    tf.variable(scale === 1 ? tf.tensor(values, shape) : tf.mul(tf.tensor(values, shape), scale)),
  );
}

export function gcnVariables(prefix: string, g: GcnWeights): Record<string, Variable> {
  return { [`${prefix}.kernel`]: g.kernel, [`${prefix}.skip`]: g.skip, [`${prefix}.bias`]: g.bias };
}

/** GCN layer with skip connection (reference DMoN gcn.py): SELU(Â XW + XW ⊙ s + b). */
export function gcnLayer(
  tf: Tf,
  x: FeatureInput,
  w: GcnWeights,
  propagate: (t: Tensor2D) => Tensor2D,
): Tensor2D {
  const xw = project(tf, x, w.kernel as Tensor2D);
  return tf.selu(tf.add(tf.add(propagate(xw), tf.mul(xw, w.skip)), w.bias)) as Tensor2D;
}

export interface DmonConfig {
  clusters: number;
  /** Widths of the GCN layers before the assignment layer (reference: [64]; [] = Dense on X). */
  hidden: number[];
  collapseWeight: number;
  /** Dropout on the assignment logits, as the reference layer. */
  dropout: number;
  /**
   * Modularity resolution γ in the loss. The reference code divides by 2·Σd where Σd = 2m,
   * i.e. its loss is half of the γ = 1/2 modularity: {resolution: 0.5, collapseWeight: 2}
   * reproduces it.
   */
  resolution: number;
  seed: number;
}

export const DEFAULT_DMON_CONFIG: DmonConfig = {
  clusters: 16,
  hidden: [64],
  collapseWeight: 1,
  dropout: 0,
  resolution: 1,
  seed: 1,
};

export interface DmonForward {
  /** Soft assignment C (n × k). */
  assignment: Tensor2D;
  modularity: Scalar;
  collapse: Scalar;
  /** −Q + collapseWeight · collapse. */
  loss: Scalar;
}

/** Single-level DMoN; create once, call forward inside tf.tidy / optimizer.minimize. */
export class Dmon {
  readonly config: DmonConfig;
  readonly gcn: GcnWeights[];
  readonly dense: { kernel: Variable; bias: Variable };
  private readonly tf: Tf;

  constructor(tf: Tf, inputDim: number, config: Partial<DmonConfig> = {}) {
    this.tf = tf;
    this.config = { ...DEFAULT_DMON_CONFIG, ...config };
    const rng = new Random(this.config.seed);
    let width = inputDim;
    this.gcn = this.config.hidden.map((h) => {
      const layer = createGcn(tf, rng, width, h);
      width = h;
      return layer;
    });
    const k = this.config.clusters;
    this.dense = {
      kernel: variable(tf, orthogonal(rng, width, k), [width, k]),
      bias: variable(tf, new Float32Array(k), [k]),
    };
  }

  /** Trainable variables under stable names (for checkpoints). */
  namedVariables(): Record<string, Variable> {
    return Object.assign({}, ...this.gcn.map((g, i) => gcnVariables(`gcn${i}`, g)), {
      'dense.kernel': this.dense.kernel,
      'dense.bias': this.dense.bias,
    }) as Record<string, Variable>;
  }

  get variables(): Variable[] {
    return Object.values(this.namedVariables());
  }

  forward(
    features: FeatureInput,
    graph: DmonGraph,
    options: { training: boolean; dropoutSeed?: number },
  ): DmonForward {
    const tf = this.tf;
    let h: FeatureInput = features;
    for (const layer of this.gcn) h = gcnLayer(tf, h, layer, (t) => spmm(tf, graph.normalized, t));
    let logits = tf.add(project(tf, h, this.dense.kernel as Tensor2D), this.dense.bias) as Tensor2D;
    if (options.training && this.config.dropout > 0)
      logits = tf.dropout(logits, this.config.dropout, undefined, options.dropoutSeed) as Tensor2D;
    const c = tf.softmax(logits) as Tensor2D;
    const ac = spmm(tf, graph.adjacency, c);
    const degreeRow = tf.tensor2d(graph.degrees, [1, graph.n]);
    const { modularity } = spectralModularity(tf, c, ac, degreeRow, graph.twoM, this.config.resolution);
    const collapse = collapseRegularization(tf, columnSums(tf, c), graph.n);
    const loss = tf.add(tf.neg(modularity), tf.mul(collapse, this.config.collapseWeight)) as Scalar;
    return { assignment: c, modularity, collapse, loss };
  }

  /** Hard clusters: argmax of C in inference mode. */
  hardAssignment(features: FeatureInput, graph: DmonGraph): Int32Array {
    const c = this.tf.tidy(() => this.forward(features, graph, { training: false }).assignment);
    const out = argmaxRows(this.tf, c);
    c.dispose();
    return out;
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

export interface TrainDmonOptions {
  config?: Partial<DmonConfig>;
  epochs?: number;
  learningRate?: number;
  /** Called with (epoch, loss) every `logEvery` epochs. */
  onEpoch?: (epoch: number, loss: number) => void;
  logEvery?: number;
  log?: (line: string) => void;
}

export interface TrainDmonResult {
  model: Dmon;
  assignment: Int32Array;
  losses: number[];
  seconds: number;
  backend: string;
}

/** Trains a single-level DMoN on a graph with sparse (CSR) or dense row-major features. */
export async function trainDmon(
  graph: Csr,
  features: Csr | { values: Float32Array; dim: number },
  options: TrainDmonOptions = {},
): Promise<TrainDmonResult> {
  const { tf, backend } = await loadTf(options.log);
  const started = performance.now();
  const g = prepareGraph(graph);
  const sparse = 'indptr' in features;
  if ((sparse ? features.rows : features.values.length / features.dim) !== g.n)
    throw new Error('trainDmon: features and graph disagree on the number of nodes');
  const x: FeatureInput = sparse ? { a: features } : tf.tensor2d(features.values, [g.n, features.dim]);
  const model = new Dmon(tf, sparse ? features.cols : features.dim, options.config);
  const optimizer = tf.train.adam(options.learningRate ?? 1e-3);
  const epochs = options.epochs ?? 1000;
  const losses: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const cost = optimizer.minimize(
      () => model.forward(x, g, { training: true, dropoutSeed: model.config.seed * 7919 + epoch }).loss,
      true,
      model.variables,
    );
    const value = cost!.dataSync()[0];
    cost!.dispose();
    losses.push(value);
    if (options.onEpoch && (epoch % (options.logEvery ?? 100) === 0 || epoch === epochs - 1))
      options.onEpoch(epoch, value);
  }
  optimizer.dispose();
  const assignment = model.hardAssignment(x, g);
  if (!sparse) (x as Tensor2D).dispose();
  return { model, assignment, losses, seconds: (performance.now() - started) / 1000, backend };
}
