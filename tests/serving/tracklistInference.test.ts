import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type Artifact,
  ArtifactError,
  ArtifactWriter,
  readArtifact,
  type TypedArray,
} from '../../shared/model/artifact.ts';
import {
  TRACKLIST_KIND,
  TracklistModel,
  type TracklistForm,
  type TracklistMeta,
  tracklistStepProbabilities,
} from '../../shared/model/tracklistInference.ts';
import { randomTracklistArtifact, SMALL_TRACKLIST } from './fixtures.ts';
import { DEFAULT_SESSION_KNN_OPTIONS, SessionKnn, SessionPrior, sessionTable } from '../../shared/model/sessionPrior.ts';
import { TransitionPrior } from '../../shared/model/transitionPrior.ts';
import { CooBuilder } from '../../shared/graph/csr.ts';
import { setKernelMode } from '../../shared/model/rowMatrix.ts';
import { tempDir } from '../tempDirs.ts';

const SONGS = 40;

/** Contract D written out the plain way: nested arrays, one formula per line. */
class Reference {
  private readonly a: Artifact<TracklistMeta>;
  readonly H: number;
  constructor(a: Artifact<TracklistMeta>) {
    this.a = a;
    this.H = a.shape('lstm.recurrent')[0];
  }

  matrix(name: string): number[][] {
    const [rows, cols] = this.a.shape(name);
    const flat = Array.from(this.a.tensor(name));
    return Array.from({ length: rows }, (_, r) => flat.slice(r * cols, (r + 1) * cols));
  }

  vector(name: string): number[] {
    return Array.from(this.a.tensor(name));
  }

  ints(name: string): number[] {
    return Array.from(this.a.tensor<Int32Array>(name));
  }

  /** x · M for a row vector x. */
  static times(x: number[], m: number[][]): number[] {
    return m[0].map((_, j) => x.reduce((s, xi, i) => s + xi * m[i][j], 0));
  }

  hiddenAfter(prefix: number[], dj: number[] | null): number[] {
    const H = this.H;
    const input = this.matrix('input.song');
    const kernel = this.matrix('lstm.kernel');
    const recurrent = this.matrix('lstm.recurrent');
    const djTerm = dj && this.a.has('lstm.dj') ? Reference.times(dj, this.matrix('lstm.dj')) : null;
    const bias = this.vector('lstm.bias').map((b, j) => b + (djTerm ? djTerm[j] : 0));
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    let h = new Array<number>(H).fill(0);
    let c = new Array<number>(H).fill(0);
    for (const song of [SONGS, ...prefix]) {
      const xk = Reference.times(input[song], kernel);
      const hr = Reference.times(h, recurrent);
      const z = xk.map((v, j) => v + hr[j] + bias[j]);
      const i = z.slice(0, H).map(sig);
      const f = z.slice(H, 2 * H).map(sig);
      const g = z.slice(2 * H, 3 * H).map(Math.tanh);
      const o = z.slice(3 * H).map(sig);
      c = c.map((cj, j) => f[j] * cj + i[j] * g[j]);
      h = c.map((cj, j) => o[j] * Math.tanh(cj));
    }
    return h;
  }

  head(level: string, h: number[], parent: number, parents: number): number[] {
    const onehot = new Array<number>(parents).fill(0);
    if (parents > 0) onehot[parent] = 1;
    const a = Reference.times([...h, ...onehot], this.matrix(`head.${level}.w1`)).map((v, j) =>
      Math.tanh(v + this.vector(`head.${level}.b1`)[j]),
    );
    const selu = (x: number) => 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * (Math.exp(x) - 1));
    return Reference.times(a, this.matrix(`head.${level}.w2`)).map((v, j) =>
      selu(v + this.vector(`head.${level}.b2`)[j]),
    );
  }

  /** Softmax over `members` of u · table rows (+ bias), dense over all rows. */
  static softmax(u: number[], table: number[][], members: number[], bias?: number[]): number[] {
    const logits = members.map((m) => u.reduce((s, x, k) => s + x * table[m][k], bias ? bias[m] : 0));
    return Reference.softmaxOf(logits, members, table.length);
  }

  static softmaxOf(logits: number[], members: number[], size: number): number[] {
    const max = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - max));
    const z = e.reduce((s, x) => s + x, 0);
    const out = new Array<number>(size).fill(0);
    members.forEach((m, i) => (out[m] = e[i] / z));
    return out;
  }

  /** Song logits u · song.out[s] + song.bias[s] + α · (q · taste.song[s]), softmax over members. */
  songProbabilities(h: number[], teacher: number, members: number[], taste: number[] | null): number[] {
    const u = this.head('song', h, teacher, this.matrix('cluster.l1').length);
    const out = this.matrix('song.out');
    const bias = this.vector('song.bias');
    const tasteSongs = this.a.has('taste.song') ? this.matrix('taste.song') : null;
    const alpha = this.a.has('song.taste') ? this.vector('song.taste')[0] : 0;
    const logits = members.map((s) => {
      let z = bias[s] + u.reduce((acc, x, k) => acc + x * out[s][k], 0);
      if (taste && tasteSongs) z += alpha * taste.reduce((acc, q, k) => acc + q * tasteSongs[s][k], 0);
      return z;
    });
    return Reference.softmaxOf(logits, members, SONGS);
  }

  probabilities(
    form: TracklistForm,
    prefix: number[],
    teacher: { l3: number; l2: number; l1: number },
    context: { dj: number[] | null; taste: number[] | null },
  ) {
    const h = this.hiddenAfter(prefix, context.dj);
    const [k1, k2, k3] = [
      this.matrix('cluster.l1').length,
      this.matrix('cluster.l2').length,
      this.matrix('cluster.l3').length,
    ];
    const tree1 = this.ints('tree.l1');
    const tree2 = this.ints('tree.l2');
    const assign = this.ints('assign.song');
    const range = (n: number) => Array.from({ length: n }, (_, i) => i);
    const children = (parentOf: number[], p: number) =>
      range(parentOf.length).filter((i) => parentOf[i] === p);
    const all = form === 'full';
    return {
      h,
      l3: Reference.softmax(this.head('l3', h, 0, 0), this.matrix('cluster.l3'), range(k3)),
      l2: Reference.softmax(
        this.head('l2', h, teacher.l3, k3),
        this.matrix('cluster.l2'),
        all ? range(k2) : children(tree2, teacher.l3),
      ),
      l1: Reference.softmax(
        this.head('l1', h, teacher.l2, k2),
        this.matrix('cluster.l1'),
        all ? range(k1) : children(tree1, teacher.l2),
      ),
      song: this.songProbabilities(
        h,
        teacher.l1,
        all ? range(SONGS) : children(assign, teacher.l1),
        context.taste,
      ),
    };
  }
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe('tracklist inference (contract D) against a straightforward implementation', () => {
  // Scalar kernels add in float64 like the reference (output logits rounded to float32, as tfjs
  // keeps them); the SIMD kernels add in float32 (as tfjs does).
  const tolerance = { ts: 1e-7, wasm: 1e-6 };
  for (const [form, kernels] of [
    ['factorised', 'ts'],
    ['full', 'ts'],
    ['factorised', 'wasm'],
    ['full', 'wasm'],
  ] as const) {
    it(`matches the reference per level (${form}, ${kernels} kernels)`, () => {
      const artifact = randomTracklistArtifact({
        ...SMALL_TRACKLIST,
        songs: SONGS,
        form,
        seed: form === 'full' ? 8 : 7,
      });
      setKernelMode(kernels);
      const model = new TracklistModel(artifact);
      setKernelMode(null);
      const ref = new Reference(artifact);
      const dj = [0.3, -0.5, 0.1, 0.7, -0.2];
      const taste = [1.5, -0.4, 0.9, 0.2];
      const cases = [
        { prefix: [], teacher: { l3: 0, l2: 1, l1: 2 }, context: { dj: null, taste: null } },
        { prefix: [], teacher: { l3: 0, l2: 1, l1: 2 }, context: { dj, taste } },
        { prefix: [3], teacher: { l3: 2, l2: 5, l1: 10 }, context: { dj: null, taste } },
        { prefix: [5, 17, 39, 0], teacher: { l3: 1, l2: 3, l1: 7 }, context: { dj, taste: null } },
      ];
      for (const { prefix, teacher, context } of cases) {
        const got = tracklistStepProbabilities(model, prefix, teacher, context);
        const want = ref.probabilities(form, prefix, teacher, context);
        expect(maxDiff(got.h, want.h)).toBeLessThan(tolerance[kernels]);
        for (const level of ['l3', 'l2', 'l1', 'song'] as const) {
          expect(maxDiff(got[level], want[level])).toBeLessThan(tolerance[kernels]);
          const sum = got[level].reduce((s, p) => s + p, 0);
          // Every distribution is normalised, except over the empty level-1 cluster's songs.
          if (!(
            level === 'song' &&
            model.children.l1.start[teacher.l1 + 1] === model.children.l1.start[teacher.l1]
          ))
            expect(sum).toBeCloseTo(1, 12);
        }
        expect(got.teacher).toEqual(teacher);
      }
    });
  }

  it('defaults missing teachers to the argmax of the level above', () => {
    const model = new TracklistModel(randomTracklistArtifact({ ...SMALL_TRACKLIST, songs: SONGS }));
    const p = tracklistStepProbabilities(model, [1, 2]);
    const argmax = (x: Float64Array) => x.indexOf(Math.max(...x));
    expect(p.teacher).toEqual({ l3: argmax(p.l3), l2: argmax(p.l2), l1: argmax(p.l1) });
  });

  it('gives the exact factorised next-song distribution as the product along each path', () => {
    const model = new TracklistModel(randomTracklistArtifact({ ...SMALL_TRACKLIST, songs: SONGS }));
    const prefix = [4, 9];
    const p = model.songDistribution(model.run(prefix));
    let total = 0;
    for (let s = 0; s < SONGS; s++) {
      const path = model.path(s);
      const step = tracklistStepProbabilities(model, prefix, path);
      expect(p[s]).toBeCloseTo(step.l3[path.l3] * step.l2[path.l2] * step.l1[path.l1] * step.song[s], 14);
      total += p[s];
    }
    // The mass the model gives the empty level-1 cluster belongs to no song.
    const empty = SMALL_TRACKLIST.levels[0] - 1;
    const lost = (() => {
      const c2 = model.parent.l1[empty];
      const step = tracklistStepProbabilities(model, prefix, { l3: model.parent.l2[c2], l2: c2 });
      return step.l3[model.parent.l2[c2]] * step.l2[c2] * step.l1[empty];
    })();
    expect(total + lost).toBeCloseTo(1, 12);
    expect(lost).toBeGreaterThan(0);
  });

  it('conditions on the DJ and taste vectors when the model has them, and ignores them otherwise', () => {
    const model = new TracklistModel(randomTracklistArtifact({ ...SMALL_TRACKLIST, songs: SONGS }));
    const dj = [1, 0, 0, 0, 0];
    const taste = [0, 2, 0, 0];
    expect([model.djWidth, model.tasteWidth]).toEqual([5, 4]);
    // The DJ vector moves the LSTM state; the taste vector only the song level.
    expect(maxDiff(model.run([2], { dj }).h, model.run([2]).h)).toBeGreaterThan(1e-6);
    expect(Array.from(model.run([2], { dj: [0, 0, 0, 0, 0] }).h)).toEqual(Array.from(model.run([2]).h));
    const plain = tracklistStepProbabilities(model, [2], {}, {});
    const tasted = tracklistStepProbabilities(model, [2], plain.teacher, { taste });
    expect(Array.from(tasted.l1)).toEqual(Array.from(plain.l1));
    expect(maxDiff(tasted.song, plain.song)).toBeGreaterThan(1e-6);
    expect(() => model.run([2], { dj: [1, 2] })).toThrow(RangeError);
    expect(() => model.run([2], { taste: [1] })).toThrow(RangeError);
    const without = new TracklistModel(
      randomTracklistArtifact({ ...SMALL_TRACKLIST, songs: SONGS, djWidth: 0, tasteWidth: 0 }),
    );
    expect([without.djWidth, without.tasteWidth]).toEqual([0, 0]);
    const a = tracklistStepProbabilities(without, [2], {}, { dj, taste });
    const b = tracklistStepProbabilities(without, [2], a.teacher);
    expect(Array.from(a.song)).toEqual(Array.from(b.song));
  });

  it("takes the song level's taste products from the caller's per-song scores, equal to its own", () => {
    const artifact = randomTracklistArtifact({ ...SMALL_TRACKLIST, songs: SONGS });
    const model = new TracklistModel(artifact);
    const taste = [0.3, -1.2, 2, 0.5];
    const tasteSong = artifact.tensor<Float32Array>('taste.song');
    const tw = model.tasteWidth;
    const tasteScores = Float64Array.from({ length: SONGS }, (_, s) =>
      taste.reduce((acc, q, k) => acc + q * tasteSong[s * tw + k], 0),
    );
    const own = tracklistStepProbabilities(model, [2, 7], {}, { taste });
    const given = tracklistStepProbabilities(model, [2, 7], own.teacher, { taste, tasteScores });
    expect(maxDiff(given.song, own.song)).toBeLessThan(1e-6);
    // Scores that disagree with taste.song change the result: they are really read.
    const shifted = Float64Array.from(tasteScores, (x, s) => x + (s % 3));
    const wrong = tracklistStepProbabilities(model, [2, 7], own.teacher, { taste, tasteScores: shifted });
    expect(maxDiff(wrong.song, own.song)).toBeGreaterThan(1e-3);
    // Without a taste vector there is no taste term, scores or not.
    const none = tracklistStepProbabilities(model, [2, 7], own.teacher, {});
    const ignored = tracklistStepProbabilities(model, [2, 7], own.teacher, { tasteScores: shifted });
    expect(Array.from(ignored.song)).toEqual(Array.from(none.song));
    expect(() => model.run([2], { taste, tasteScores: new Float64Array(SONGS - 1) })).toThrow(/taste scores hold 39 songs/);
  });

  it('rejects songs and teachers out of range', () => {
    const model = new TracklistModel(randomTracklistArtifact({ ...SMALL_TRACKLIST, songs: SONGS }));
    expect(() => model.step(model.initialState(), SONGS + 1)).toThrow(RangeError);
    expect(() => model.step(model.initialState(), -1)).toThrow(RangeError);
    expect(() => model.headOutput('l2', model.startState().h, SMALL_TRACKLIST.levels[2])).toThrow(RangeError);
  });
});

describe('tracklist artifact validation', () => {
  /** The fixture artifact rewritten with some tensors replaced (or removed when null). */
  function rewritten(
    changes: Record<string, { data: TypedArray; shape: number[] } | null>,
    meta: Partial<TracklistMeta> = {},
  ) {
    const good = randomTracklistArtifact({ ...SMALL_TRACKLIST, songs: SONGS });
    const w = new ArtifactWriter();
    for (const name of Object.keys(good.manifest.tensors)) {
      const change = changes[name];
      if (change === null) continue;
      if (change) w.addTensor(name, change.data, change.shape);
      else w.addTensor(name, good.tensor(name), good.shape(name));
    }
    const dir = join(tempDir('tl-bad-'), 'tracklist');
    w.write(dir, TRACKLIST_KIND, { ...good.meta, ...meta } as unknown as Record<string, unknown>);
    return () => new TracklistModel(readArtifact<TracklistMeta>(dir, { kind: TRACKLIST_KIND }));
  }

  it('names the tensor with a wrong shape, dtype or missing', () => {
    const H = SMALL_TRACKLIST.hidden;
    expect(rewritten({ 'lstm.bias': { data: new Float32Array(4 * H + 1), shape: [4 * H + 1] } })).toThrow(
      /lstm\.bias.*shape/,
    );
    expect(rewritten({ 'tree.l1': { data: new Float32Array(12), shape: [12] } })).toThrow(
      /tree\.l1.*float32, expected int32/,
    );
    expect(rewritten({ 'head.l2.w1': null })).toThrow(/head\.l2\.w1/);
    expect(rewritten({ 'song.bias': { data: new Float32Array(SONGS - 1), shape: [SONGS - 1] } })).toThrow(
      /song\.bias/,
    );
  });

  it('rejects a tree pointing outside the level above, a bad form and a wrong pad index', () => {
    expect(rewritten({ 'assign.song': { data: new Int32Array(SONGS).fill(12), shape: [SONGS] } })).toThrow(
      /assign\.song.*outside/,
    );
    expect(rewritten({ 'tree.l2': { data: new Int32Array(6).fill(-1), shape: [6] } })).toThrow(
      /tree\.l2.*outside/,
    );
    expect(rewritten({}, { form: 'mixed' as TracklistForm })).toThrow(ArtifactError);
    expect(rewritten({}, { padIndex: 0 })).toThrow(/padIndex/);
    expect(rewritten({})).not.toThrow();
  });
});

describe('tracklist inference: the session-kNN term', () => {
  const SETS = [
    [0, 1, 2, 3],
    [1, 5, 7],
    [4, 5, 6, 8, 9],
    [2, 3, 10, 11],
  ];
  const popularity = Float32Array.from({ length: SONGS }, (_, s) => (s < 12 ? 2 : 1) / (12 * 2 + SONGS - 12));
  const gamma = [0.4, 0.6, 0.8, 1.2];
  const beta = 0.5;

  /** The fixture artifact with (or without) session.* tensors. */
  function withSession(on: boolean): TracklistModel {
    const good = randomTracklistArtifact({ ...SMALL_TRACKLIST, songs: SONGS });
    const w = new ArtifactWriter();
    for (const name of Object.keys(good.manifest.tensors)) w.addTensor(name, good.tensor(name), good.shape(name));
    let meta: Record<string, unknown> = { ...good.meta };
    if (on) {
      const offsets = new Int32Array(SETS.length + 1);
      SETS.forEach((s, t) => (offsets[t + 1] = offsets[t] + s.length));
      const table = sessionTable({ songs: Int32Array.from(SETS.flat()), offsets, days: new Int32Array(SETS.length) }, SONGS, [0, 1, 2, 3]);
      w.addTensor('session.items', table.items);
      w.addTensor('session.itemPos', table.itemPos);
      w.addTensor('session.itemOffsets', table.itemOffsets);
      w.addTensor('session.recency', table.recency);
      w.addTensor('session.popularity', popularity);
      w.addTensor('session.weight', Float32Array.from(gamma), [4]);
      meta = { ...meta, session: { beta, options: DEFAULT_SESSION_KNN_OPTIONS } };
    }
    const dir = join(tempDir('tl-session-'), 'tracklist');
    w.write(dir, TRACKLIST_KIND, meta);
    return new TracklistModel(readArtifact<TracklistMeta>(dir, { kind: TRACKLIST_KIND }));
  }

  it('states carry the whole set prefix; the start token adds nothing', () => {
    const model = withSession(true);
    expect(model.hasSessionTerm).toBe(true);
    expect(Array.from(model.startState().session)).toEqual([]);
    const state = model.run([4, 9, 1]);
    expect(Array.from(state.session)).toEqual([4, 9, 1]);
    expect(Array.from(model.step(state, 7).session)).toEqual([4, 9, 1, 7]);
    expect(Array.from(state.session)).toEqual([4, 9, 1]); // states are never mutated
  });

  it('adds γ_l · log P_session(option | whole prefix) to every level, clusters summing their songs', () => {
    const model = withSession(true);
    const plain = withSession(false);
    const sets = { songs: Int32Array.from(SETS.flat()), offsets: Int32Array.from([0, 4, 7, 12, 16]), days: new Int32Array(4) };
    const knn = new SessionKnn(sessionTable(sets, SONGS, [0, 1, 2, 3]), SONGS);
    // The LSTM reads [1]; the session term the whole prefix [0, gap, 1].
    const session = [0, -1, 1];
    const state = { ...model.run([1]), session };
    const votes = new Float64Array(SONGS);
    knn.score(session, votes);
    const z = votes.reduce((a, b) => a + b, 0) + beta * popularity.reduce((a, b) => a + b, 0);
    expect(votes[2]).toBeGreaterThan(0);
    const pSong = Array.from(votes, (v, s) => (v + beta * popularity[s]) / z);
    const teacher = { l3: 0, l2: 0, l1: 0 };
    const parents = { l3: -1, l2: teacher.l3, l1: teacher.l2, song: teacher.l1 };
    const levelOf = (s: number, level: 'l3' | 'l2' | 'l1' | 'song') => (level === 'song' ? s : model.path(s)[level]);
    (['l3', 'l2', 'l1', 'song'] as const).forEach((level, i) => {
      const base = plain.setLogits(level, plain.run([1]), parents[level]);
      const got = model.setLogits(level, state, parents[level]);
      const options = base.set ?? Int32Array.from({ length: model.sizes[level] }, (_, o) => o);
      options.forEach((o, k) => {
        let p = 0;
        for (let s = 0; s < SONGS; s++) if (levelOf(s, level) === o) p += pSong[s];
        expect(got.logits[k]).toBeCloseTo(base.logits[k] + gamma[i] * Math.log(p), 5);
      });
    });
    // Without its whole prefix the state reads only what the LSTM was fed: different evidence.
    const short = model.levelProbabilities('song', model.run([1]), teacher.l1);
    expect(maxDiff(short, model.levelProbabilities('song', state, teacher.l1))).toBeGreaterThan(1e-6);
  });

  it('the song level adds both direct connections sparsely, equal to the dense terms', () => {
    expect.hasAssertions();
    const sets = { songs: Int32Array.from(SETS.flat()), offsets: Int32Array.from([0, 4, 7, 12, 16]), days: new Int32Array(4) };
    const transitions = new CooBuilder(SONGS, SONGS, 8);
    [[0, 1, 3], [1, 2, 1], [1, 5, 2], [4, 5, 1], [5, 7, 4], [2, 3, 2]].forEach(([a, b, c]) => transitions.add(a, b, c));
    for (const form of ['factorised', 'full'] as const) {
      const model = randomTracklistArtifact({
        ...SMALL_TRACKLIST,
        songs: SONGS,
        form,
        prior: { prior: new TransitionPrior(transitions.toCsr(), popularity, 0.8), weights: [0.3, 0.4, 0.5, 0.7] },
        session: { prior: new SessionPrior(new SessionKnn(sessionTable(sets, SONGS, [0, 1, 2, 3]), SONGS), popularity, beta), weights: [0.4, 0.6, 0.8, 1.2] },
      });
      const tl = new TracklistModel(model);
      // Prefixes ending in songs with and without transitions, with and without votes.
      for (const prefix of [[1], [0, 1], [4, 5], [9], [3, 2]]) {
        const state = tl.run(prefix);
        for (let teacher = 0; teacher < tl.sizes.l1; teacher++) {
          const { terms } = tl.setLogitTerms('song', state, teacher);
          const { logits } = tl.setLogits('song', state, teacher);
          expect(logits.length).toBe(terms.network.length);
          logits.forEach((z, i) => expect(z).toBeCloseTo(terms.network[i] + 0.7 * terms.prior[i] + 1.2 * terms.session[i], 5));
        }
      }
    }
  });

  it('rejects session tensors without their settings', () => {
    const good = randomTracklistArtifact({ ...SMALL_TRACKLIST, songs: SONGS });
    const w = new ArtifactWriter();
    for (const name of Object.keys(good.manifest.tensors)) w.addTensor(name, good.tensor(name), good.shape(name));
    w.addTensor('session.weight', Float32Array.from(gamma), [4]);
    const dir = join(tempDir('tl-session-bad-'), 'tracklist');
    w.write(dir, TRACKLIST_KIND, { ...good.meta } as unknown as Record<string, unknown>);
    expect(() => new TracklistModel(readArtifact<TracklistMeta>(dir, { kind: TRACKLIST_KIND }))).toThrow(ArtifactError);
  });
});
