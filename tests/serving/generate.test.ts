import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  adjustedProbabilities,
  clusterScores,
  type GenerateOptions,
  sampleTracklist,
} from '../../shared/model/generate.ts';
import { exportModelVersion, readModelVersion, versionTracklist } from '../../shared/model/modelVersion.ts';
import { ServingModel } from '../../shared/model/serving.ts';
import { TracklistModel } from '../../shared/model/tracklistInference.ts';
import { InputError } from '../../shared/util/errors.ts';
import {
  buildServingFixture,
  type ServingFixture,
  randomTracklistArtifact,
  SMALL_TRACKLIST,
  writeRandomTracklist,
} from './fixtures.ts';
import { tempDir } from '../tempDirs.ts';

describe('adjusted sampling distribution (SPEC §5.2 step 4)', () => {
  it('follows the formula step by step', () => {
    const logits = [2, 1, -30, 0.5];
    const weighted = [0.2, 1, 0.9, 0.6];
    const t = 1.5;
    // By hand: scale, shift so the max is ln 1000, min-max scores, min(x, x f), softmax, threshold.
    const x = logits.map((l) => l * t - 3 + Math.log(1000));
    const f = weighted.map((w) => (w - 0.2) / 0.8);
    const a = x.map((v, j) => Math.min(v, v * f[j]));
    const e = a.map(Math.exp);
    const z = e.reduce((s, v) => s + v, 0);
    const p = e.map((v) => v / z);
    const keep = p.map((v) => (v > 0.05 ? v : 0));
    const kz = keep.reduce((s, v) => s + v, 0);
    const want = keep.map((v) => v / kz);
    const got = adjustedProbabilities(logits, weighted, t, 0.05);
    want.forEach((v, j) => expect(got[j]).toBeCloseTo(v, 12));
    // The unlikely option (negative shifted logit) is not raised by its high score.
    expect(a[2]).toBe(x[2]);
    expect(got[2]).toBe(0);
  });

  it('samples the model alone with steering 0, and moves linearly towards the full adjustment', () => {
    const logits = [2, 1, -3, 0.5];
    const weighted = [0.2, 1, 0.9, 0.6];
    const plain = adjustedProbabilities(logits, weighted, 1, 0, undefined, undefined, 0);
    const z = logits.map(Math.exp);
    const sum = z.reduce((a, b) => a + b, 0);
    z.forEach((v, j) => expect(plain[j]).toBeCloseTo(v / sum, 12));
    expect(Array.from(adjustedProbabilities(logits, weighted, 1, 0, undefined, undefined, 1))).toEqual(
      Array.from(adjustedProbabilities(logits, weighted, 1, 0)),
    );
    const half = adjustedProbabilities(logits, weighted, 1, 0, undefined, undefined, 0.5);
    const full = adjustedProbabilities(logits, weighted, 1, 0);
    // The best-scored option gains with steering; the worst-scored one loses.
    expect(half[1]).toBeGreaterThan(plain[1]);
    expect(full[1]).toBeGreaterThan(half[1]);
    expect(half[0]).toBeLessThan(plain[0]);
  });

  it('keeps the most likely option whatever the threshold, and treats equal scores as 1', () => {
    const got = adjustedProbabilities([0, 0.1, 0.2], [0.5, 0.5, 0.5], 1, 0.99);
    expect(Array.from(got)).toEqual([0, 0, 1]);
    const flat = adjustedProbabilities([1, 1], [3, 3], 1, 0);
    expect(Array.from(flat)).toEqual([0.5, 0.5]);
  });

  it('gives the same distribution when it reuses the normaliser exponentials', () => {
    // A song-level set: temperature 1, a wide logit spread (most options below the best − ln 1000).
    const n = 400;
    const logits = Array.from({ length: n }, (_, j) => 12 * Math.sin(j * 1.7) + 0.01 * j);
    const weighted = Array.from({ length: n }, (_, j) => (j % 7) / 6);
    const shift = 20; // any common shift of the caller's exponentials
    const values = logits.map((z) => Math.exp(z - shift));
    for (const threshold of [0, 0.005]) {
      const plain = adjustedProbabilities(logits, weighted, 1, threshold);
      const reused = adjustedProbabilities(logits, weighted, 1, threshold, undefined, { values, shift });
      for (let j = 0; j < n; j++) expect(reused[j]).toBeCloseTo(plain[j], 14);
    }
    // Values that do not match the logits change the result, so the reuse path is really taken.
    const wrong = adjustedProbabilities(logits, weighted, 1, 0, undefined, { values: values.map((v, j) => v * (1 + (j % 3) / 10)), shift });
    const plain = adjustedProbabilities(logits, weighted, 1, 0);
    expect(wrong.some((v, j) => Math.abs(v - plain[j]) > 1e-9)).toBe(true);
  });
});

describe('generation', () => {
  let f: ServingFixture;
  let m: ServingModel;
  let blocked: number[];

  beforeAll(async () => {
    f = await buildServingFixture();
    m = f.model;
    blocked = [m.replacementSong];
    f.tiny.prepared.songAcappella.forEach((a, s) => a && blocked.push(s));
  }, 120_000);

  const gen = (o: Partial<GenerateOptions>) => m.generate({ seedSong: 3, ...o });

  it('returns the seed then `length` songs with a reward breakdown', () => {
    for (const length of [1, 2, 3, 15, 100]) {
      const t = gen({ dj: 1, length, rngSeed: 5 });
      expect(t).toHaveLength(length + 1);
      expect(t[0].song).toBe(3);
      expect(t[0].songScore).toBe(1);
      for (const s of t) {
        for (const v of [s.userScore, s.songScore]) expect(v >= 0 && v <= 1).toBe(true);
        for (const lp of Object.values(s.logProb)) expect(Number.isFinite(lp) && lp <= 0).toBe(true);
      }
    }
    expect(gen({ rngSeed: 1 })).toHaveLength(16);
    expect(gen({ rngSeed: 1 }).every((s) => s.userScore === 0)).toBe(true);
  });

  it('is reproducible from rngSeed and varies with it', () => {
    const a = gen({ dj: 2, rngSeed: 42 });
    expect(gen({ dj: 2, rngSeed: 42 })).toEqual(a);
    const likes = [5, 6, 7].map((song) => ({ song, score: 1 }));
    expect(gen({ likes, rngSeed: 9 })).toEqual(gen({ likes, rngSeed: 9 }));
    const others = [1, 2, 3, 4, 5].map((rngSeed) =>
      JSON.stringify(gen({ dj: 2, rngSeed }).map((s) => s.song)),
    );
    expect(new Set(others).size).toBeGreaterThan(1);
  });

  it('never repeats a song and never picks an acappella or the replacement song', () => {
    expect(blocked.length).toBeGreaterThan(1);
    const seen = new Set<number>();
    for (let rngSeed = 0; rngSeed < 12; rngSeed++) {
      const t = gen({
        seedSong: rngSeed * 7,
        dj: rngSeed % m.counts.djs,
        length: 100,
        rngSeed,
        thresholds: [0, 0, 0, 0],
        // Free steps, steered by each run's seed and DJ, so the runs spread over the catalogue.
        adventurousness: 1,
        steering: 1,
      });
      const songs = t.map((s) => s.song);
      expect(new Set(songs).size).toBe(songs.length);
      for (const s of songs.slice(1)) {
        expect(blocked).not.toContain(s);
        seen.add(s);
      }
    }
    // The runs reach most of the catalogue, so the blocked songs were real candidates.
    expect(seen.size).toBeGreaterThan(0.8 * (m.counts.songs - blocked.length));
  });

  it('raises the mean user score with the user weighting', () => {
    const mean = (w: number, field: 'userScore' | 'songScore', steering?: number) => {
      let sum = 0;
      let count = 0;
      // 40 seeds: at steering 0.1 the effect (+0.03 here) is smaller than a dozen sets' spread.
      for (let k = 0; k < 40; k++) {
        const t = gen({ seedSong: (11 + 17 * k) % m.counts.songs, dj: k % m.counts.djs, userWeighting: w, rngSeed: k, steering });
        for (const s of t.slice(1)) {
          sum += s[field];
          count++;
        }
      }
      return sum / count;
    };
    // Strongly at full steering, as in the original recipe, and weakly at the default 0.1.
    expect(mean(8, 'userScore', 1)).toBeGreaterThan(mean(0, 'userScore', 1) + 0.05);
    expect(mean(8, 'userScore')).toBeGreaterThan(mean(0, 'userScore') + 0.01);
    // The seed's pull gives way to the taste: clearly at full steering, barely (+0.002) at 0.1.
    expect(mean(0, 'songScore')).toBeGreaterThan(mean(8, 'songScore'));
    expect(mean(0, 'songScore', 1)).toBeGreaterThan(mean(8, 'songScore', 1) + 0.05);
  });

  it("reports the model's own log-probabilities along each chosen song's path", () => {
    const version = readModelVersion(f.versionDir);
    const tl = new TracklistModel(versionTracklist(version)!);
    // The set context is the DJ's unit encoding and recommendation vector, as in training.
    const [dw, tw] = [tl.djWidth, tl.tasteWidth];
    expect(dw * tw).toBeGreaterThan(0);
    const context = {
      dj: version.tensor('emb.encNorm.dj').subarray(3 * dw, 4 * dw),
      taste: version.tensor('emb.rec.dj').subarray(3 * tw, 4 * tw),
    };
    const t = gen({ dj: 3, length: 6, rngSeed: 3, temperature: [2, 0.5, 1] });
    for (let i = 0; i < t.length; i++) {
      const prefix = t.slice(0, i).map((s) => s.song);
      const p = tl.songDistribution(tl.run(prefix, context));
      const { l3, l2, l1, song } = t[i].logProb;
      expect(l3 + l2 + l1 + song).toBeCloseTo(Math.log(p[t[i].song]), 9);
    }
  });

  it('gives an only child probability 1 without computing its level, and the path still sums to log P(song)', () => {
    // Six level-2 clusters with one level-1 child each.
    const tl = new TracklistModel(
      randomTracklistArtifact({ ...SMALL_TRACKLIST, songs: 60, levels: [6, 6, 3], emptyCluster: false }),
    );
    expect(Array.from({ length: 6 }, (_, c) => tl.onlyOption('l1', c))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(tl.onlyOption('l2', 0)).toBe(-1);
    const songScores = Float32Array.from({ length: 60 }, (_, s) => ((s * 37) % 60) / 60);
    const t = sampleTracklist(
      { model: tl, songScores, userScores: null, blocked: new Uint8Array(60) },
      { seedSong: 5, length: 12, temperature: [1, 1, 1], userWeighting: 1, thresholds: [0.1, 0.05, 0.05, 0.005], rngSeed: 4, adventurousness: 1 },
    );
    for (let i = 0; i < t.length; i++) {
      expect(t[i].logProb.l1).toBe(0);
      const p = tl.songDistribution(tl.run(t.slice(0, i).map((s) => s.song)));
      const { l3, l2, l1, song } = t[i].logProb;
      expect(l3 + l2 + l1 + song).toBeCloseTo(Math.log(p[t[i].song]), 9);
    }
  });

  it('uses the cluster scores of the top songs (mean of the top 15 per cluster)', () => {
    const tl = new TracklistModel(versionTracklist(readModelVersion(f.versionDir))!);
    const scores = Float64Array.from({ length: tl.songs }, (_, s) => ((s * 7919) % 1000) / 1000);
    const available = new Uint8Array(tl.songs).fill(1);
    available[0] = 0;
    const topMean = (songs: number[]) => {
      const v = songs
        .filter((s) => available[s])
        .map((s) => scores[s])
        .sort((a, b) => b - a)
        .slice(0, 15);
      return v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0;
    };
    const path = Array.from({ length: tl.songs }, (_, s) => tl.path(s));
    // Both ways of computing them: one pass with merged lists, and per cluster on demand.
    for (const strategy of ['eager', 'lazy'] as const) {
      const got = clusterScores(tl, scores, available, 15, strategy);
      for (const level of ['l1', 'l2', 'l3'] as const)
        for (let c = 0; c < tl.sizes[level]; c++)
          expect(got[level][c]).toBeCloseTo(topMean(path.flatMap((p, s) => (p[level] === c ? [s] : []))), 12);
    }
    // Fewer than 15 songs per cluster would leave the lists unfilled: the test needs larger ones.
    expect(tl.songs / tl.sizes.l1).toBeGreaterThan(15);
  });

  it('keeps a fixed prefix, never picks an excluded song, and re-rolls one position', () => {
    const base = gen({ dj: 1, length: 10, rngSeed: 11 });
    const songs = base.map((s) => s.song);
    // Re-roll position 5: positions 1..4 fixed, the current song 5 and everything after it excluded.
    for (let rngSeed = 0; rngSeed < 10; rngSeed++) {
      const again = gen({ dj: 1, length: 5, rngSeed, prefix: songs.slice(1, 5), exclude: songs.slice(5) });
      expect(again.map((s) => s.song).slice(0, 5)).toEqual(songs.slice(0, 5));
      expect(songs).not.toContain(again[5].song);
      // A fixed song is scored in the same context as when it was generated.
      for (const level of ['l3', 'l2', 'l1', 'song'] as const)
        expect(again[3].logProb[level]).toBeCloseTo(base[3].logProb[level], 9);
      expect(again[3].userScore).toBe(base[3].userScore);
    }
    // Nothing else changes a request without them.
    expect(gen({ dj: 1, length: 10, rngSeed: 11, prefix: [], exclude: [] })).toEqual(base);
    const excluded = songs.slice(1);
    for (let rngSeed = 0; rngSeed < 10; rngSeed++) {
      const t = gen({ dj: 1, length: 10, rngSeed, exclude: excluded });
      for (const s of t.slice(1)) expect(excluded).not.toContain(s.song);
    }
  });

  it('plays an artist again less often with the artist-repeat penalty', () => {
    const repeats = (penalty: number) => {
      let n = 0;
      for (let rngSeed = 0; rngSeed < 20; rngSeed++) {
        const seen = new Set<string>();
        for (const g of gen({ dj: rngSeed % m.counts.djs, length: 30, rngSeed, artistRepeatPenalty: penalty, warmStart: 0 })) {
          const artists = m.song(g.song).artists.map((a) => a.id);
          if (artists.some((a) => seen.has(a))) n++;
          for (const a of artists) seen.add(a);
        }
      }
      return n;
    };
    const without = repeats(0);
    expect(without).toBeGreaterThan(20);
    // Within a small cluster every candidate may share an artist, so not every repeat can go.
    const strong = repeats(0.9);
    expect(strong).toBeLessThan(0.75 * without);
    expect(repeats(0.99)).toBeLessThanOrEqual(strong);
  });

  it('keeps each step closer to the song before at low adventurousness, and in its cluster with the cluster-level flow', () => {
    const tl = new TracklistModel(versionTracklist(readModelVersion(f.versionDir))!);
    const measure = (o: Partial<GenerateOptions>) => {
      let rank = 0;
      let sameL1 = 0;
      let steps = 0;
      for (let rngSeed = 0; rngSeed < 12; rngSeed++) {
        const t = gen({ dj: rngSeed % m.counts.djs, length: 20, rngSeed, ...o }).map((g) => g.song);
        for (let i = 1; i < t.length; i++) {
          const near = m.similarSongs(t[i - 1], m.counts.songs).map((x) => x.index);
          rank += near.indexOf(t[i]);
          if (tl.path(t[i]).l1 === tl.path(t[i - 1]).l1) sameL1++;
          steps++;
        }
      }
      return { rank: rank / steps, sameL1: sameL1 / steps };
    };
    const free = measure({ adventurousness: 1 });
    const close = measure({ adventurousness: 0 });
    expect(close.rank).toBeLessThan(0.8 * free.rank);
    expect(measure({ adventurousness: 0, clusterFlow: 2 }).sameL1).toBeGreaterThan(close.sameL1);
  });

  it('rejects every invalid argument with an InputError naming it', () => {
    const n = m.counts.songs;
    const cases: [Partial<GenerateOptions>, string][] = [
      [{ seedSong: -1 }, 'seedSong'],
      [{ seedSong: n }, 'seedSong'],
      [{ seedSong: 1.5 }, 'seedSong'],
      [{ seedSong: NaN }, 'seedSong'],
      [{ seedSong: undefined }, 'seedSong'],
      [{ dj: m.counts.djs }, 'dj'],
      [{ dj: -1 }, 'dj'],
      [{ dj: 0, likes: [] }, 'likes'],
      [{ likes: 'x' as unknown as [] }, 'likes'],
      [{ likes: [{ song: n, score: 1 }] }, 'likes'],
      [{ likes: [{ song: 1, score: 2 }] }, 'likes'],
      [{ likes: [{ song: 1, score: NaN }] }, 'likes'],
      [{ length: 0 }, 'length'],
      [{ length: 101 }, 'length'],
      [{ length: 2.5 }, 'length'],
      [{ temperature: [1, 1] }, 'temperature'],
      [{ temperature: [1, 1, 1, 1] }, 'temperature'],
      [{ temperature: [1, -1, 1] }, 'temperature'],
      [{ temperature: [1, NaN, 1] }, 'temperature'],
      [{ thresholds: [0.1, 0.1, 0.1] }, 'thresholds'],
      [{ thresholds: [0.1, 0.1, 0.1, 0.1, 0.1] }, 'thresholds'],
      [{ thresholds: [0.1, 1, 0.1, 0.1] }, 'thresholds'],
      [{ thresholds: [0.1, -0.1, 0.1, 0.1] }, 'thresholds'],
      [{ userWeighting: -0.5 }, 'userWeighting'],
      [{ userWeighting: NaN }, 'userWeighting'],
      [{ userWeighting: Infinity }, 'userWeighting'],
      [{ rngSeed: -1 }, 'rngSeed'],
      [{ rngSeed: 0.5 }, 'rngSeed'],
      [{ rngSeed: 2 ** 32 }, 'rngSeed'],
      [{ userWeighting: 1001 }, 'userWeighting'],
      [{ prefix: [n] }, 'prefix'],
      [{ prefix: [1, 1] }, 'prefix'],
      [{ prefix: [3] }, 'prefix'],
      [{ length: 1, prefix: [1, 2] }, 'prefix'],
      [{ exclude: [-1] }, 'exclude'],
      [{ prefix: [1], exclude: [1] }, 'exclude'],
      [{ steering: 1.5 }, 'steering'],
      [{ steering: -0.1 }, 'steering'],
      [{ artistRepeatPenalty: 1 }, 'artistRepeatPenalty'],
      [{ warmStart: 11 }, 'warmStart'],
    ];
    for (const [o, field] of cases) {
      let error: unknown;
      try {
        m.generate({ seedSong: 3, ...o } as GenerateOptions);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(o)).toBeInstanceOf(InputError);
      expect((error as InputError).field, JSON.stringify(o)).toBe(field);
    }
    expect(() =>
      gen({ length: 100, userWeighting: 0, temperature: [0, 100, 0], thresholds: [0, 0, 0, 0.999] }),
    ).not.toThrow();
  });

  it('refuses a length the catalogue cannot fill', () => {
    const tl = new TracklistModel(versionTracklist(readModelVersion(f.versionDir))!);
    const blockedAll = new Uint8Array(tl.songs).fill(1);
    for (let s = 0; s < 5; s++) blockedAll[s] = 0;
    const run = (length: number) =>
      sampleTracklist(
        {
          model: tl,
          songScores: new Float32Array(tl.songs).fill(0.5),
          userScores: null,
          blocked: blockedAll,
        },
        {
          seedSong: 0,
          length,
          temperature: [1, 1, 1],
          userWeighting: 1,
          thresholds: [0.1, 0.05, 0.05, 0.005],
          rngSeed: 1,
          adventurousness: 1,
        },
      );
    expect(
      run(4)
        .map((s) => s.song)
        .sort(),
    ).toEqual([0, 1, 2, 3, 4]);
    expect(() => run(5)).toThrow(InputError);
  });

  it("passes a request's taste scores to the song level when taste.song is rec.song, with the same tracklists", () => {
    const root = tempDir('taste-');
    for (const part of ['prepared', 'embeddings'])
      cpSync(join(f.modelDir, part), join(root, part), { recursive: true });
    const recSong = f.tiny.embeddings.tensor<Float32Array>('rec.song');
    writeRandomTracklist(join(root, 'tracklist'), {
      ...SMALL_TRACKLIST,
      songs: m.counts.songs,
      djWidth: f.tiny.config.dim,
      tasteWidth: 2 * f.tiny.config.dim,
      tasteSong: recSong,
    });
    exportModelVersion(root, join(root, 'v'));
    const sharedFlag = (x: ServingModel) => (x as unknown as { tasteScoresShared: boolean }).tasteScoresShared;
    const shared = ServingModel.load(join(root, 'v'));
    const own = ServingModel.load(join(root, 'v'));
    expect([sharedFlag(shared), sharedFlag(m)]).toEqual([true, false]);
    (own as unknown as { tasteScoresShared: boolean }).tasteScoresShared = false;
    const likes = [5, 6, 7].map((song) => ({ song, score: 1 }));
    for (const o of [{ dj: 1 }, { dj: 4 }, { likes }, {}])
      for (const rngSeed of [1, 2, 3]) {
        const a = shared.generate({ seedSong: 3, length: 20, rngSeed, ...o });
        const b = own.generate({ seedSong: 3, length: 20, rngSeed, ...o });
        expect(a.map((s) => s.song)).toEqual(b.map((s) => s.song));
        a.forEach((s, i) => expect(Math.abs(s.logProb.song - b[i].logProb.song)).toBeLessThan(1e-5));
      }
  });

  it('generates with the full form too', () => {
    const root = tempDir('full-');
    for (const part of ['prepared', 'embeddings'])
      cpSync(join(f.modelDir, part), join(root, part), { recursive: true });
    writeRandomTracklist(join(root, 'tracklist'), {
      ...SMALL_TRACKLIST,
      songs: m.counts.songs,
      form: 'full',
      djWidth: 0,
      tasteWidth: 0,
    });
    exportModelVersion(root, join(root, 'v'));
    const full = ServingModel.load(join(root, 'v'));
    expect(full.meta.config.tracklist?.form).toBe('full');
    const t = full.generate({ seedSong: 4, dj: 0, length: 40, rngSeed: 2 });
    expect(full.generate({ seedSong: 4, dj: 0, length: 40, rngSeed: 2 })).toEqual(t);
    const songs = t.map((s) => s.song);
    expect(new Set(songs).size).toBe(41);
    for (const s of songs.slice(1)) expect(blocked).not.toContain(s);
  });
});
