import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPrepared } from '../shared/graph/preparedStore.ts';
import { ArtifactWriter } from '../shared/model/artifact.ts';
import { EMBEDDINGS_KIND } from '../shared/model/embeddings.ts';
import { exportModelVersion } from '../shared/model/modelVersion.ts';
import { Random } from '../shared/util/random.ts';
import { writeRandomTracklist } from '../tests/serving/fixtures.ts';
import { DEFAULT_CLUSTERING, clusterCounts } from '../training/tracklist/clustering.ts';
import { naturalHierarchy } from '../training/dmon/resolution.ts';
import { trainingTracklists } from '../training/nextsong/predictor.ts';
import { buildPrior, buildSessionPrior } from '../training/tracklist/train.ts';
import { runTlgen } from './run.ts';

/**
 * A model version of the `seed` profile's size for the serving benchmarks (`tlgen bench generate`,
 * `npm run bench:http`) without the hour of training: the real prepared `seed` corpus (vocabulary,
 * catalogue graphs, the n-gram prior and the session-kNN term from its training tracklists) with random weights of the trained
 * shapes (TL-MGCCF dim 32; tracklist LSTM 160, heads 64, the cluster counts training picks for
 * this many songs). Serving cost depends on the shapes, not on the values.
 *
 *   npm run bench:serving-model [-- --out DIR] [--clusters 163,36,7]   (default .data/bench/seed; the version in DIR/version)
 */
const { values } = parseArgs({
  options: { out: { type: 'string', default: '.data/bench/seed' }, clusters: { type: 'string' } },
});
const out = resolve(values.out!);
const model = join(out, 'model');
mkdirSync(model, { recursive: true });
const prepared = join(model, 'prepared');
if (!existsSync(join(prepared, 'manifest.json'))) {
  const corpus = join(out, 'seed.jsonl');
  if (!existsSync(corpus)) await runTlgen(['synth', '--profile', 'seed', '--seed', '1', '--out', corpus]);
  await runTlgen(['prepare', '--corpus', corpus, '--out', prepared]);
}
const data = loadPrepared(prepared);
const songs = data.vocab.songs.length;
const artists = data.vocab.artists.length;
const djs = data.vocab.djs.length;
const dim = 32;
const rng = new Random(1);
const normal = (count: number, scale = 0.3) => Float32Array.from({ length: count }, () => rng.normal() * scale);

const w = new ArtifactWriter();
w.addTensor('sim.song', normal(songs * dim), [songs, dim]);
w.addTensor('rec.dj', normal(djs * 2 * dim), [djs, 2 * dim]);
w.addTensor('encNorm.dj', normal(djs * dim), [djs, dim]);
w.addTensor('rec.song', normal(songs * 2 * dim), [songs, 2 * dim]);
w.addTensor('rec.artist', normal(artists * dim), [artists, dim]);
w.addTensor('param.emb.dj', normal(djs * dim), [djs, dim]);
w.addTensor('param.emb.song', normal(songs * dim), [songs, dim]);
w.addTensor('param.emb.artist', normal(artists * dim), [artists, dim]);
for (const branch of ['song', 'artist'])
  for (const side of ['dj', 'item'])
    for (const k of ['Q1', 'W1', 'Q2', 'W2']) {
      const rows = (k[0] === 'W' ? 2 : 1) * dim;
      w.addTensor(`param.bipar.${branch}.${side}.${k}`, normal(rows * dim), [rows, dim]);
    }
for (const graph of ['dj', 'song', 'artist']) {
  w.addTensor(`param.graph.${graph}.K`, normal(dim * dim), [dim, dim]);
  w.addTensor(`param.graph.${graph}.s`, normal(dim), [dim]);
  w.addTensor(`param.graph.${graph}.b`, normal(dim), [dim]);
}
w.write(join(model, 'embeddings'), EMBEDDINGS_KIND, {
  config: { dim, samples: [15, 10], random: true },
  counts: { songs, artists, djs },
});

// --clusters a,b,c: the active counts a trained clustering ended with; by default the natural
// scales training would start from (resolution.ts), else the scaled counts.
const scaled = clusterCounts(songs, DEFAULT_CLUSTERING.maxFinest).clusters;
const [k1, k2, k3] = values.clusters
  ? (values.clusters.split(',').map(Number) as [number, number, number])
  : (naturalHierarchy(data.songSong, scaled)?.levels.map((l) => l.clusters) ?? scaled);
if (![k1, k2, k3].every((k) => Number.isInteger(k) && k >= 1) || !(k1 >= k2 && k2 >= k3))
  throw new Error(`--clusters needs three decreasing positive integers (finest first), got "${values.clusters}"`);
const train = trainingTracklists(data.sequences);
writeRandomTracklist(join(model, 'tracklist'), {
  songs,
  levels: [k1, k2, k3],
  hidden: 160,
  inDim: 81,
  headWidth: 64,
  clusterWidth: [48, 48, 48],
  songWidth: 48,
  djWidth: dim,
  tasteWidth: 2 * dim,
  form: 'factorised',
  seed: 5,
  prior: { prior: buildPrior(data, train), weights: [0.4, 0.5, 0.4, 0.4] },
  session: {
    prior: buildSessionPrior(data, train, 1, (line) => console.log(line)).prior,
    weights: [0.6, 0.7, 0.6, 0.6],
  },
});
const version = join(out, 'version');
rmSync(version, { recursive: true, force: true });
const result = exportModelVersion(model, version);
console.log(
  `seed-size serving model: ${songs} songs, ${artists} artists, ${djs} DJs, clusters ${k1}/${k2}/${k3} → ${version} (${result.versionId})`,
);
