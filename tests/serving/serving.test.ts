import { createHash } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArtifactError, readArtifact, TENSOR_FILE } from '../../shared/model/artifact.ts';
import { ColdStartModel } from '../../shared/model/coldStart.ts';
import { EmbeddingIndex } from '../../shared/model/embeddings.ts';
import { artistId, djId, songId } from '../../shared/model/ids.ts';
import {
  ensureModelVersion,
  exportModelVersion,
  MODEL_KIND,
  type ModelVersionMeta,
  readModelVersion,
} from '../../shared/model/modelVersion.ts';
import { ServingModel } from '../../shared/model/serving.ts';
import { InputError } from '../../shared/util/errors.ts';
import {
  buildServingFixture,
  type ServingFixture,
  SMALL_TRACKLIST,
  writeRandomTracklist,
} from './fixtures.ts';
import { tempDir } from '../tempDirs.ts';

function inputError(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

describe('stable public ids (contract A)', () => {
  it('derive from sha256 of the identity key with a type prefix', () => {
    const hex = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);
    expect(songId('eric prydz - opus')).toBe('s' + hex('eric prydz - opus'));
    expect(artistId('eric prydz')).toBe('a' + hex('eric prydz'));
    expect(djId('  Eric Prydz ')).toBe('d' + hex('eric prydz'));
    expect(djId('ERIC PRYDZ')).toBe(djId('eric prydz'));
    expect(songId('a - b')).not.toBe(songId('a - c'));
  });
});

describe('model version and serving engine', () => {
  let f: ServingFixture;
  let m: ServingModel;

  beforeAll(async () => {
    f = await buildServingFixture({ versionId: 'v-test' });
    m = f.model;
  }, 120_000);

  it('exports one checksummed artifact with the manifest of contract C', () => {
    const manifest = JSON.parse(readFileSync(join(f.versionDir, 'manifest.json'), 'utf8'));
    expect(manifest.kind).toBe(MODEL_KIND);
    expect(manifest.schemaVersion).toBe(1);
    expect(Date.parse(manifest.createdAt)).not.toBeNaN();
    const meta = manifest.meta as ModelVersionMeta;
    const vocab = f.tiny.prepared.vocab;
    expect(meta.versionId).toBe('v-test');
    expect(meta.corpusDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(meta.counts).toEqual({
      songs: vocab.songs.length,
      artists: vocab.artists.length,
      djs: vocab.djs.length,
    });
    expect(meta.metrics).toEqual({ note: 'fixture' });
    expect(meta.config.embeddings).toMatchObject({ dim: f.tiny.config.dim });
    expect(meta.config.tracklist).toMatchObject({
      form: 'factorised',
      hidden: SMALL_TRACKLIST.hidden,
      songs: vocab.songs.length,
    });
    const names = Object.keys(manifest.tensors);
    for (const name of [
      'emb.rec.song',
      'emb.rec.dj',
      'emb.sim.song',
      'emb.param.emb.dj',
      'tl.lstm.kernel',
      'tl.tree.l1',
      'cat.click.indptr',
      'cat.djPlayed.values',
      'cat.songAcappella',
    ])
      expect(names).toContain(name);
    // Of the encodings only the DJs' unit rows are needed (the tracklist model's DJ vectors).
    expect(names.filter((n) => n.startsWith('emb.enc'))).toEqual(['emb.encNorm.dj']);
    for (const entry of Object.values(manifest.tensors) as { sha256: string; offset: number }[]) {
      expect(entry.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(entry.offset % 8).toBe(0);
    }
    // Tensors are views onto one buffer: nothing is copied on load.
    const version = readModelVersion(f.versionDir);
    expect(version.tensor('emb.rec.song').buffer).toBe(version.tensor('cat.songPlays').buffer);
    // The copies equal their sources.
    expect(Array.from(version.tensor('emb.rec.song'))).toEqual(
      Array.from(f.tiny.embeddings.tensor('rec.song')),
    );
  });

  it('names a default version by UTC time and corpus digest, and rejects unsafe ids', () => {
    const out = join(tempDir('ver-'), 'v');
    const r = exportModelVersion(f.modelDir, out);
    const meta = readModelVersion(out).meta;
    expect(r.versionId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    expect(r.versionId.endsWith(meta.corpusDigest.slice(0, 8))).toBe(true);
    expect(r.bytes).toBe(readdirSync(out).reduce((s, n) => s + statSync(join(out, n)).size, 0));
    expect(inputError(() => exportModelVersion(f.modelDir, out, { versionId: '../x' })).field).toBe(
      'versionId',
    );
    expect(inputError(() => exportModelVersion(join(f.modelDir, 'prepared'), out)).field).toBe('model');
  });

  it('fails to load on a checksum mismatch, a truncated or missing file, or the wrong kind', () => {
    const root = tempDir('ver-bad-');
    const copy = (name: string) => {
      const dir = join(root, name);
      cpSync(f.versionDir, dir, { recursive: true });
      return dir;
    };
    const flipped = copy('flipped');
    const bytes = readFileSync(join(flipped, TENSOR_FILE));
    bytes[bytes.length >> 1] ^= 0x40;
    writeFileSync(join(flipped, TENSOR_FILE), bytes);
    expect(() => ServingModel.load(flipped)).toThrow(/fails its sha256 check/);

    const truncated = copy('truncated');
    truncateSync(join(truncated, TENSOR_FILE), statSync(join(truncated, TENSOR_FILE)).size - 16);
    expect(() => ServingModel.load(truncated)).toThrow(/truncated/);

    const missing = copy('missing');
    rmSync(join(missing, TENSOR_FILE));
    expect(() => ServingModel.load(missing)).toThrow(/missing file tensors\.bin/);

    const noVocab = copy('no-vocab');
    rmSync(join(noVocab, 'vocab.json'));
    expect(() => ServingModel.load(noVocab)).toThrow(/missing file vocab\.json/);

    const editedVocab = copy('edited-vocab');
    const vocab = readFileSync(join(editedVocab, 'vocab.json'), 'utf8');
    writeFileSync(join(editedVocab, 'vocab.json'), vocab.replace('"songs":["', '"songs":["X'));
    expect(() => ServingModel.load(editedVocab)).toThrow(/vocab/);

    expect(() => ServingModel.load(join(root, 'nothing'))).toThrow(/no manifest\.json/);
    expect(() => ServingModel.load(join(f.modelDir, 'prepared'))).toThrow(
      /expected a tracklist-ai\/model artifact/,
    );
    for (const dir of [flipped, truncated, missing])
      expect(() => ServingModel.load(dir)).toThrow(ArtifactError);
  });

  it('serves recommendations and search without a tracklist model, but not generation', () => {
    const root = tempDir('no-tl-');
    for (const part of ['prepared', 'embeddings'])
      cpSync(join(f.modelDir, part), join(root, part), { recursive: true });
    exportModelVersion(root, join(root, 'out'));
    const plain = ServingModel.load(join(root, 'out'));
    expect(plain.meta.config.tracklist).toBeNull();
    expect(plain.hasTracklistModel).toBe(false);
    const e = inputError(() => plain.generate({ seedSong: 0 }));
    expect(e.message).toMatch(/model has no tracklist model/);
    expect(plain.recommendForDj(0, 5)).toEqual(m.recommendForDj(0, 5));
    expect(plain.search('songs', m.song(0).name, 1)[0].index).toBe(0);
  });

  it('exports a model folder once for the serving commands and redoes it when a part changes', () => {
    const root = tempDir('ensure-');
    for (const part of ['prepared', 'embeddings', 'tracklist'])
      cpSync(join(f.modelDir, part), join(root, part), { recursive: true });
    const first = ensureModelVersion(root);
    expect(first).toEqual({ dir: join(root, 'version'), exported: true });
    expect(ensureModelVersion(root).exported).toBe(false);
    const d = f.tiny.config.dim;
    const tracklist = { ...SMALL_TRACKLIST, songs: m.counts.songs, seed: 99, djWidth: d, tasteWidth: 2 * d };
    writeRandomTracklist(join(root, 'tracklist'), tracklist);
    expect(ensureModelVersion(root).exported).toBe(true);
    expect(ensureModelVersion(first.dir)).toEqual({ dir: first.dir, exported: false });
    // A tracklist model whose DJ input does not fit the embeddings is refused at export.
    writeRandomTracklist(join(root, 'tracklist'), { ...tracklist, djWidth: tracklist.djWidth + 1 });
    expect(() => ensureModelVersion(root)).toThrow(/DJ vectors/);
    writeRandomTracklist(join(root, 'tracklist'), { ...tracklist, tasteWidth: d });
    expect(() => ensureModelVersion(root)).toThrow(/taste vectors/);
    expect(inputError(() => ensureModelVersion(join(root, 'nowhere'))).field).toBe('model');
  });

  it('maps ids, names and indices both ways', () => {
    const vocab = f.tiny.prepared.vocab;
    for (const i of [0, 1, vocab.songs.length - 1]) {
      const song = m.song(i);
      expect(song.id).toBe(songId(vocab.songKeys[i]));
      expect(song.name).toBe(vocab.songs[i]);
      expect(m.songIndex(song.id)).toBe(i);
      expect(m.findSong(song.name)).toBe(i);
      expect(m.findSong(song.name.toUpperCase())).toBe(i);
      expect(m.findSong(song.id)).toBe(i);
      expect(song.artists.length).toBeGreaterThan(0);
      for (const a of song.artists) expect(m.artist(m.artistIndex(a.id)!).name).toBe(a.name);
    }
    expect(m.artistIndex(artistId(vocab.artistKeys[3]))).toBe(3);
    expect(m.findArtist(vocab.artists[3].toUpperCase())).toBe(3);
    expect(m.djIndex(djId(vocab.djs[2]))).toBe(2);
    expect(m.findDj(` ${vocab.djs[2].toUpperCase()} `)).toBe(2);
    expect(m.dj(2)).toEqual({ id: djId(vocab.djs[2]), name: vocab.djs[2] });
    expect(m.songIndex('s000000000000')).toBeUndefined();
    expect(m.findSong('Nobody - Nothing At All')).toBeUndefined();
    expect(m.song(0).plays).toBe(f.tiny.prepared.songPlays[0]);
    const acappella = f.tiny.prepared.songAcappella.indexOf(1);
    expect(acappella).toBeGreaterThanOrEqual(0);
    expect(m.song(acappella).acappella).toBe(true);
    expect(inputError(() => m.song(vocab.songs.length)).field).toBe('song');
  });

  it('recommends songs for a DJ by the embedding score, never one the DJ played', () => {
    expect.hasAssertions();
    const p = f.tiny.prepared;
    const index = new EmbeddingIndex(f.tiny.embeddings);
    for (let dj = 0; dj < p.vocab.djs.length; dj += 5) {
      const played = new Set<number>();
      const s = p.sequences;
      for (let t = 0; t + 1 < s.offsets.length; t++) {
        const djs = Array.from(s.djs.subarray(s.djOffsets[t], s.djOffsets[t + 1]));
        if (djs.includes(dj))
          for (const song of s.songs.subarray(s.offsets[t], s.offsets[t + 1]))
            if (song >= 0) played.add(song);
      }
      expect(played.size).toBeGreaterThan(0);
      const scores = index.scoreDj(dj, new Float32Array(p.vocab.songs.length));
      const items = m.recommendForDj(dj, 20);
      expect(items).toHaveLength(20);
      const best = Array.from(scores.keys())
        .filter((x) => !played.has(x))
        .sort((a, b) => scores[b] - scores[a] || a - b)
        .slice(0, 20);
      expect(items.map((x) => x.index)).toEqual(best);
      for (const it of items) {
        expect(it.score).toBe(scores[it.index]);
        expect(it.id).toBe(m.song(it.index).id);
      }
    }
  });

  it('recommends for a like list as the cold-start model does, liked songs excluded', () => {
    const likes = [3, 10, 11, 40, 41].map((song, i) => ({ song, score: 1 - i / 10 }));
    const items = m.recommendForLikes(likes, 15);
    const direct = ColdStartModel.load(f.modelDir).recommendForLikes(likes, 15);
    expect(items.map((x) => [x.index, x.score])).toEqual(direct.map((x) => [x.index, x.score]));
    for (const it of items) expect(likes.some((l) => l.song === it.index)).toBe(false);
    expect(inputError(() => m.recommendForLikes([{ song: -1, score: 1 }], 5)).field).toBe('likes');
    expect(inputError(() => m.recommendForLikes([{ song: 1, score: 1.5 }], 5)).field).toBe('likes');
  });

  it('finds similar songs, artists and DJs (1 + cos, itself excluded)', () => {
    const index = new EmbeddingIndex(f.tiny.embeddings);
    const cases = [
      [m.similarSongs(5, 10), index.similarSongs(5, 10), 5],
      [m.similarArtists(2, 10), index.similarArtists(2, 10), 2],
      [m.similarDjs(1, 10), index.similarDjs(1, 10), 1],
    ] as const;
    for (const [got, want, self] of cases) {
      expect(got.map((x) => [x.index, x.score])).toEqual(want.map((x) => [x.index, x.score]));
      expect(got.some((x) => x.index === self)).toBe(false);
      for (let i = 1; i < got.length; i++) expect(got[i].score).toBeLessThanOrEqual(got[i - 1].score);
      for (const x of got) expect(x.score).toBeGreaterThanOrEqual(0);
      for (const x of got) expect(x.score).toBeLessThanOrEqual(2);
    }
    expect(m.similarArtists(2, 1)[0].id).toBe(m.artist(m.similarArtists(2, 1)[0].index).id);
    for (const k of [0, 1.5, 1001]) expect(inputError(() => m.similarSongs(0, k)).field).toBe('k');
    expect(inputError(() => m.similarDjs(m.counts.djs, 3)).field).toBe('dj');
  });

  it('searches songs, artists and DJs by name, with ids', () => {
    const vocab = f.tiny.prepared.vocab;
    expect(m.search('songs', vocab.songs[7], 5)[0]).toMatchObject({
      index: 7,
      id: m.song(7).id,
      name: vocab.songs[7],
    });
    expect(m.search('artists', vocab.artists[4], 5)[0].index).toBe(4);
    expect(m.search('djs', vocab.djs[3].toLowerCase(), 5)[0]).toMatchObject({ index: 3, id: m.dj(3).id });
    expect(m.search('songs', 'zzzzqqqq', 5)).toEqual([]);
    expect(inputError(() => m.search('tracks' as 'songs', 'a', 5)).field).toBe('kind');
    expect(inputError(() => m.search('songs', 'a', 0)).field).toBe('limit');
  });

  it('builds cold start from the version exactly as from the model folder', () => {
    const likes = [
      { song: 1, score: 1 },
      { song: 2, score: 0.5 },
      { song: 30, score: 0.8 },
    ];
    const fromFolder = ColdStartModel.load(f.modelDir).userVector(likes);
    const fromVersion = ColdStartModel.fromModelVersion(readModelVersion(f.versionDir)).userVector(likes);
    expect(Array.from(fromVersion.vector)).toEqual(Array.from(fromFolder.vector));
    expect(fromVersion.neighbours).toEqual(fromFolder.neighbours);
  });

  it('keeps tfjs out of everything under shared/', () => {
    const root = join(import.meta.dirname, '../../shared');
    const files = (readdirSync(root, { recursive: true }) as string[]).filter((p) => p.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files)
      expect(readFileSync(join(root, file), 'utf8'), file).not.toMatch(/@tensorflow|training\/tf\.ts/);
    expect(readArtifact(f.versionDir).manifest.kind).toBe(MODEL_KIND);
  });
});
