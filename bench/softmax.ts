import { parseArgs } from 'node:util';
import { synthesize, type SynthProfile } from '../shared/corpus/synth.ts';
import { prepare } from '../shared/graph/prepare.ts';
import { Random } from '../shared/util/random.ts';
import { loadTf } from '../training/tf.ts';
import { clusterCounts, DEFAULT_CLUSTERING } from '../training/tracklist/clustering.ts';
import { buildTree } from '../training/tracklist/hierarchy.ts';
import { DEFAULT_TRACKLIST_MODEL, makeBatch, TfTracklistModel, type SoftmaxForm } from '../training/tracklist/model.ts';
import { trainingTracklists } from '../training/nextsong/predictor.ts';
import { buildWindows } from '../training/tracklist/windows.ts';
import { buildPrior } from '../training/tracklist/train.ts';

/**
 * Factorised vs full softmax (SPEC §4 "where we go further"): one training step of the tracklist
 * model, forward + backward + Adam, on a profile's real windows (default `seed`) with that
 * profile's cluster counts, both forms in the same run. The tree is random (the cost depends on
 * sizes, not on which songs share a cluster); weights are untrained.
 */
const { values } = parseArgs({
  options: { profile: { type: 'string', default: 'seed' }, steps: { type: 'string', default: '10' }, batch: { type: 'string', default: '256' } },
});
const { tf, backend } = await loadTf();
const { tracklists } = synthesize(values.profile as SynthProfile, 1);
const prepared = await prepare(tracklists, { seed: 1 });
const n = prepared.vocab.songs.length;
const rng = new Random(1);
const k = clusterCounts(n, DEFAULT_CLUSTERING.maxFinest).clusters;
const tree = buildTree(
  Int32Array.from({ length: n }, () => rng.int(k[0])),
  [Int32Array.from({ length: k[0] }, () => rng.int(k[1])), Int32Array.from({ length: k[1] }, () => rng.int(k[2]))],
  k,
);
const windows = buildWindows(prepared.sequences, n, { tracklists: trainingTracklists(prepared.sequences), replacementFor: () => 0 });
const width = 48;
const sets = {
  dj: { values: new Float32Array(prepared.sequences.djOffsets.length * 32), width: 32 },
  taste: { values: new Float32Array(prepared.sequences.djOffsets.length * 64), width: 64 },
};
const B = Number(values.batch);
const steps = Number(values.steps);
const results: Record<string, { msPerStep: number }> = {};
console.log(`bench:softmax (profile ${values.profile}: ${n} songs, clusters ${tree.sizes.join('/')}, ${windows.count} windows, batch ${B}, backend ${backend})`);
for (const form of ['factorised', 'full'] as SoftmaxForm[]) {
  const model = new TfTracklistModel(
    tf,
    {
      songs: n,
      features: Float32Array.from({ length: n * width }, () => rng.normal()),
      featureWidth: width,
      tree,
      clusterFeatures: tree.sizes.map((size) => ({ values: Float32Array.from({ length: size * 56 }, () => rng.normal()), width: 56 })),
      songEmbedding: null,
      songBias: new Float32Array(n),
      djWidth: 32,
      tasteSongs: Float32Array.from({ length: n * 64 }, () => rng.normal()),
      tasteWidth: 64,
      prior: buildPrior(prepared, trainingTracklists(prepared.sequences)),
    },
    { ...DEFAULT_TRACKLIST_MODEL, form, batch: B },
  );
  const optimizer = tf.train.adam(1e-3);
  const step = (s: number) => {
    const ids = Array.from({ length: B }, (_, i) => (s * B + i) % windows.count);
    tf.tidy(() => {
      optimizer.minimize(() => model.loss(makeBatch(windows, ids, sets, true), true, rng), false, model.variables);
    });
  };
  step(0); // warm-up: kernel compilation, first allocations
  const started = performance.now();
  for (let s = 1; s <= steps; s++) step(s);
  const ms = (performance.now() - started) / steps;
  results[form] = { msPerStep: ms };
  console.log(`${form.padEnd(10)} ${ms.toFixed(0).padStart(7)} ms/step`);
  optimizer.dispose();
  model.dispose();
}
const ratio = results.full.msPerStep / results.factorised.msPerStep;
console.log(`full / factorised: ${ratio.toFixed(1)}×`);
console.log(JSON.stringify({ profile: values.profile, songs: n, clusters: tree.sizes, batch: B, ...results, ratio }));
