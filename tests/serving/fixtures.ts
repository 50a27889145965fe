import { join } from 'node:path';
import { ArtifactWriter, readArtifact, type Artifact } from '../../shared/model/artifact.ts';
import { exportModelVersion } from '../../shared/model/modelVersion.ts';
import { ServingModel } from '../../shared/model/serving.ts';
import {
  TRACKLIST_KIND,
  type TracklistForm,
  type TracklistMeta,
} from '../../shared/model/tracklistInference.ts';
import type { SessionPrior } from '../../shared/model/sessionPrior.ts';
import type { TransitionPrior } from '../../shared/model/transitionPrior.ts';
import { Random } from '../../shared/util/random.ts';
import { buildTinyModel, type TinyModel } from '../model/mgccfFixture.ts';
import { tempDir } from '../tempDirs.ts';

export interface RandomTracklistOptions {
  songs: number;
  /** [k1, k2, k3], finest first. */
  levels: [number, number, number];
  hidden: number;
  inDim: number;
  headWidth: number;
  clusterWidth: [number, number, number];
  songWidth: number;
  form: TracklistForm;
  seed: number;
  /** Leave the last level-1 cluster without songs (DMoN can empty clusters). */
  emptyCluster?: boolean;
  /** Width of the DJ vector fed to the gates through `lstm.dj` (0: a model without DJ input). */
  djWidth?: number;
  /** Width of the song level's taste vector (`taste.song`, `song.taste`; 0: no taste term). */
  tasteWidth?: number;
  /** The `taste.song` values (default random), e.g. the recommender's rec.song as training exports it. */
  tasteSong?: Float32Array;
  /** An n-gram prior to export with per-level weights (l3, l2, l1, song); none by default. */
  prior?: { prior: TransitionPrior; weights: [number, number, number, number] };
  /** A session-kNN term to export with per-level weights; none by default. */
  session?: { prior: SessionPrior; weights: [number, number, number, number] };
  /** The model's own generation defaults, as training's tuning stores them; none by default. */
  generationDefaults?: Record<string, unknown>;
}

export const SMALL_TRACKLIST: Omit<RandomTracklistOptions, 'songs'> = {
  levels: [12, 6, 3],
  hidden: 8,
  inDim: 6,
  headWidth: 10,
  clusterWidth: [5, 4, 3],
  songWidth: 7,
  form: 'factorised',
  seed: 3,
  emptyCluster: true,
  djWidth: 5,
  tasteWidth: 4,
};

/**
 * A random-weight tracklist artifact (contract D) over a planted tree: level-1 clusters map to
 * level 2 and level 2 to level 3 in contiguous blocks; songs are dealt to level-1 clusters in a
 * shuffled round robin, so every cluster has songs (except the optional empty one).
 */
export function writeRandomTracklist(dir: string, o: RandomTracklistOptions): TracklistMeta {
  const rng = new Random(o.seed);
  const [k1, k2, k3] = o.levels;
  const H = o.hidden;
  const normal = (count: number, scale: number) =>
    Float32Array.from({ length: count }, () => rng.normal() * scale);
  const w = new ArtifactWriter();
  w.addTensor('input.song', normal((o.songs + 1) * o.inDim, 1), [o.songs + 1, o.inDim]);
  w.addTensor('lstm.kernel', normal(o.inDim * 4 * H, 0.5), [o.inDim, 4 * H]);
  w.addTensor('lstm.recurrent', normal(H * 4 * H, 0.5), [H, 4 * H]);
  w.addTensor('lstm.bias', normal(4 * H, 0.2), [4 * H]);
  if (o.djWidth) w.addTensor('lstm.dj', normal(o.djWidth * 4 * H, 0.5), [o.djWidth, 4 * H]);
  const heads: [string, number, number][] = [
    ['l3', 0, o.clusterWidth[2]],
    ['l2', k3, o.clusterWidth[1]],
    ['l1', k2, o.clusterWidth[0]],
    ['song', k1, o.songWidth],
  ];
  for (const [level, parents, d] of heads) {
    w.addTensor(`head.${level}.w1`, normal((H + parents) * o.headWidth, 0.6), [H + parents, o.headWidth]);
    w.addTensor(`head.${level}.b1`, normal(o.headWidth, 0.2), [o.headWidth]);
    w.addTensor(`head.${level}.w2`, normal(o.headWidth * d, 0.6), [o.headWidth, d]);
    w.addTensor(`head.${level}.b2`, normal(d, 0.2), [d]);
  }
  w.addTensor('cluster.l1', normal(k1 * o.clusterWidth[0], 1), [k1, o.clusterWidth[0]]);
  w.addTensor('cluster.l2', normal(k2 * o.clusterWidth[1], 1), [k2, o.clusterWidth[1]]);
  w.addTensor('cluster.l3', normal(k3 * o.clusterWidth[2], 1), [k3, o.clusterWidth[2]]);
  w.addTensor('song.out', normal(o.songs * o.songWidth, 1), [o.songs, o.songWidth]);
  w.addTensor('song.bias', normal(o.songs, 0.5), [o.songs]);
  if (o.tasteWidth) {
    w.addTensor('song.taste', Float32Array.of(0.7), [1]);
    w.addTensor('taste.song', o.tasteSong ?? normal(o.songs * o.tasteWidth, 1), [o.songs, o.tasteWidth]);
  }
  w.addTensor(
    'tree.l1',
    Int32Array.from({ length: k1 }, (_, c) => Math.floor((c * k2) / k1)),
  );
  w.addTensor(
    'tree.l2',
    Int32Array.from({ length: k2 }, (_, c) => Math.floor((c * k3) / k2)),
  );
  const dealt = o.emptyCluster ? k1 - 1 : k1;
  const order = rng.shuffle(Array.from({ length: o.songs }, (_, s) => s));
  const assign = new Int32Array(o.songs);
  order.forEach((s, r) => (assign[s] = r % dealt));
  w.addTensor('assign.song', assign);
  w.addTensor('features.song', normal(o.songs * 48, 1), [o.songs, 48]);
  if (o.prior) {
    w.addCsr('prior.counts', o.prior.prior.counts);
    w.addTensor('prior.popularity', o.prior.prior.popularity);
    w.addTensor('prior.weight', Float32Array.from(o.prior.weights), [4]);
  }
  if (o.session) {
    const table = o.session.prior.knn.table;
    w.addTensor('session.items', table.items);
    w.addTensor('session.itemPos', table.itemPos);
    w.addTensor('session.itemOffsets', table.itemOffsets);
    w.addTensor('session.recency', table.recency);
    w.addTensor('session.popularity', o.session.prior.popularity);
    w.addTensor('session.weight', Float32Array.from(o.session.weights), [4]);
  }
  const meta: TracklistMeta = {
    form: o.form,
    hidden: H,
    levels: o.levels,
    padIndex: o.songs,
    songs: o.songs,
    headWidth: o.headWidth,
    clusterWidth: o.clusterWidth,
    songWidth: o.songWidth,
    ...(o.djWidth ? { djWidth: o.djWidth } : {}),
    ...(o.tasteWidth ? { tasteWidth: o.tasteWidth } : {}),
    ...(o.prior ? { priorDiscount: o.prior.prior.discount } : {}),
    ...(o.session
      ? {
          session: { beta: o.session.prior.beta, options: o.session.prior.knn.options },
        }
      : {}),
    config: { random: true, seed: o.seed },
    metrics: null,
    ...(o.generationDefaults ? { generationDefaults: o.generationDefaults } : {}),
  };
  w.write(dir, TRACKLIST_KIND, meta as unknown as Record<string, unknown>);
  return meta;
}

/** A random tracklist artifact in a fresh temporary folder, read back. */
export function randomTracklistArtifact(o: RandomTracklistOptions): Artifact<TracklistMeta> {
  const dir = join(tempDir('tl-'), 'tracklist');
  writeRandomTracklist(dir, o);
  return readArtifact<TracklistMeta>(dir, { kind: TRACKLIST_KIND });
}

export interface ServingFixture {
  tiny: TinyModel;
  /** Model folder: prepared/, embeddings/ and (unless disabled) tracklist/. */
  modelDir: string;
  versionDir: string;
  model: ServingModel;
}

/**
 * A briefly trained TL-MGCCF on the tiny synthetic corpus (real embeddings), plus a random-weight
 * tracklist model over its songs, exported as a model version and loaded.
 */
export async function buildServingFixture(
  options: { tracklist?: boolean; form?: TracklistForm; versionId?: string } = {},
): Promise<ServingFixture> {
  const tiny = await buildTinyModel(11, { steps: 30 });
  const songs = tiny.prepared.vocab.songs.length;
  if (options.tracklist ?? true)
    writeRandomTracklist(join(tiny.dir, 'tracklist'), {
      ...SMALL_TRACKLIST,
      songs,
      form: options.form ?? 'factorised',
      djWidth: tiny.config.dim,
      tasteWidth: 2 * tiny.config.dim,
    });
  const versionDir = join(tiny.dir, 'published');
  exportModelVersion(tiny.dir, versionDir, {
    versionId: options.versionId ?? 'test-version',
    metrics: { note: 'fixture' },
  });
  return { tiny, modelDir: tiny.dir, versionDir, model: ServingModel.load(versionDir) };
}
