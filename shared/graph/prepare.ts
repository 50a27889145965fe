import { CorpusReader, mergeSpellings, toSequences } from './corpusReader.ts';
import { mergeArtists, type Aliases } from '../corpus/merge.ts';
import type { Tracklist } from '../corpus/types.ts';
import { Random } from '../util/random.ts';
import {
  CooBuilder,
  type Csr,
  gcnNormalize,
  mapValues,
  multiply,
  nnz,
  normalizeCols,
  normalizeRows,
  plusTranspose,
  rowSums,
  sparsifyRowsByMass,
  symmetrizeMax,
  topKPerRow,
  topMassMask,
  transpose,
  filterEntries,
} from './csr.ts';
import { drawHoldout, gapHeldOutPlays, rawClickCounts, type RawSet } from './holdout.ts';

/**
 * Data preparation (SPEC §2). Co-occurrence weighting, our choice: two identified songs at
 * positions i < j of one set (gaps occupy positions, so they break adjacency) add 1/(j − i)
 * when j − i ≤ window. Neighbours in a mix are the strongest evidence of compatibility, songs a
 * few records apart still share a DJ's intent, and the window bounds the cost per set.
 */
export interface PrepareOptions {
  window: number;
  /** Songs whose co-occurrence mass is below this are dropped (SPEC §2.2). */
  minSongMass: number;
  /** A DJ is kept with more than this many songs played more than once (SPEC §2.5). */
  minClickSongs: number;
  songSongShare: number;
  artistArtistShare: number;
  songArtistShare: number;
  /** DJ–DJ cosine graph keeps this many strongest neighbours per DJ, then is made symmetric. */
  djNeighbours: number;
  /** Share of tracklists held out entirely (next-song evaluation); split by tracklist. */
  testTracklistShare: number;
  /** Share of each DJ's click songs held out of the click matrix (recommendation evaluation). */
  clickHoldoutShare: number;
  /** The original protocol's random held-out (DJ, song) pairs, drawn from the click hold-out. */
  heldOutPairs: number;
  /**
   * 'gapped' (leak-free, issue 18): every table built from training sets (song mass and plays,
   * the song filter, song–song, artists, song–artist, artist–artist) sees each held-out
   * (DJ, song) play as a gap; the click matrix never held them. 'kept': the original (leaky)
   * protocol, same hold-out, held-out plays still in those sets. Sequences keep them either way.
   */
  heldOutPlays: 'gapped' | 'kept';
  seed: number;
  progress: boolean;
}

export const DEFAULT_PREPARE_OPTIONS: PrepareOptions = {
  window: 10,
  minSongMass: 10,
  minClickSongs: 15,
  songSongShare: 0.6,
  artistArtistShare: 0.8,
  songArtistShare: 0.5,
  djNeighbours: 50,
  testTracklistShare: 0.1,
  clickHoldoutShare: 0.2,
  heldOutPairs: 1000,
  heldOutPlays: 'gapped',
  seed: 1,
  progress: false,
};

export const GAP = -1;
export const OUT_OF_VOCABULARY = -2;

export interface Vocabulary {
  songs: string[];
  songKeys: string[];
  artists: string[];
  artistKeys: string[];
  djs: string[];
  /** Other spellings merged into a song / artist, by index (absent in versions before merging). */
  songAliases?: Aliases;
  artistAliases?: Aliases;
}

export interface SkipReport {
  gaps: number;
  playsOfDroppedSongs: number;
  droppedSongs: number;
  droppedDjs: number;
  tracklistsWithoutSongs: number;
  repeatsWithinSet: number;
  /** Spellings merged into another song / artist (shared/corpus/merge.ts). */
  mergedSongs: number;
  mergedArtists: number;
  /** Held-out (DJ, song) plays turned into gaps in the training sets the graphs are built from. */
  heldOutPlaysGapped: number;
}

export interface Sequences {
  /** Concatenated song indices per tracklist: ≥ 0 vocabulary song, GAP, or OUT_OF_VOCABULARY. */
  songs: Int32Array;
  offsets: Int32Array;
  /** Concatenated kept-DJ indices per tracklist. */
  djs: Int32Array;
  djOffsets: Int32Array;
  /** 0 = training tracklist, 1 = held-out tracklist. */
  split: Uint8Array;
  /** Days since 1970-01-01, or -1 when unknown. */
  days: Int32Array;
  ids: string[];
  djNames: string[][];
}

export interface Prepared {
  options: PrepareOptions;
  vocab: Vocabulary;
  songSong: Csr;
  songSongNorm: Csr;
  artistArtist: Csr;
  artistArtistNorm: Csr;
  songArtist: Csr;
  /** M: songs × artists, rows are artist weights summing to 1. */
  songArtistMap: Csr;
  /** Training click matrix (DJs × songs, ln count) and its two scalings. */
  click: Csr;
  clickByDj: Csr;
  clickBySong: Csr;
  djArtistByDj: Csr;
  djArtistByArtist: Csr;
  /** Held-out click entries (DJs × songs). */
  clickTest: Csr;
  /** [dj, song] pairs, row-major. */
  heldOutPairs: Int32Array;
  djDj: Csr;
  djDjNorm: Csr;
  songPlays: Float32Array;
  songMass: Float32Array;
  songAcappella: Uint8Array;
  sequences: Sequences;
  skipped: SkipReport;
  corpusTracklists: number;
}

const LN_E_OVER_2 = Math.log(Math.E / 2);

/**
 * (DJ name, song key) pairs, joined by NUL, whose training plays are gapped out of every table
 * like held-out ones, though they are not test entries: baselines rebuild graphs without their
 * inner validation plays with it (training/baselines/leakFree.ts).
 */
export type HiddenPairs = ReadonlySet<string>;

export const hiddenPair = (dj: string, songKey: string): string => `${dj}\u0000${songKey}`;

export async function prepare(
  corpus: Iterable<Tracklist> | AsyncIterable<Tracklist>,
  overrides: Partial<PrepareOptions> = {},
  hidden: HiddenPairs = new Set(),
): Promise<Prepared> {
  const options = { ...DEFAULT_PREPARE_OPTIONS, ...overrides };
  const reader = new CorpusReader(options.progress);
  for await (const t of corpus) reader.add(t);
  return prepareRead(reader.finish(), options, hidden);
}

/** `prepare` over an in-memory corpus, without awaiting (a baseline's fit rebuilds graphs with it). */
export function prepareSync(corpus: Iterable<Tracklist>, overrides: Partial<PrepareOptions> = {}, hidden: HiddenPairs = new Set()): Prepared {
  const options = { ...DEFAULT_PREPARE_OPTIONS, ...overrides };
  const reader = new CorpusReader(options.progress);
  for (const t of corpus) reader.add(t);
  return prepareRead(reader.finish(), options, hidden);
}

function prepareRead(reader: CorpusReader, options: PrepareOptions, hidden: HiddenPairs): Prepared {
  const log = options.progress ? (s: string) => process.stderr.write(s + '\n') : () => {};
  const { rawSongs, rawDjNames, sets } = reader;
  const skipped: SkipReport = {
    gaps: reader.gaps,
    playsOfDroppedSongs: 0,
    droppedSongs: 0,
    droppedDjs: 0,
    tracklistsWithoutSongs: reader.tracklistsWithoutSongs,
    repeatsWithinSet: 0,
    mergedSongs: 0,
    mergedArtists: 0,
    heldOutPlaysGapped: 0,
  };
  const rawAliases = mergeSpellings(rawSongs, sets);
  skipped.mergedSongs = rawAliases.merged;

  // 2. Split by tracklist (never by window or play), seeded.
  const rng = new Random(options.seed);
  const splitRng = rng.fork();
  const holdoutRng = rng.fork();
  const split = new Uint8Array(sets.length);
  for (let i = 0; i < sets.length; i++) split[i] = splitRng.next() < options.testTracklistShare ? 1 : 0;

  // 3. The recommendation hold-out, drawn on raw songs before the song filter (holdout.ts), then
  // the training sets the graphs and tables are built from: each held-out (DJ, song) play a gap.
  const raw = rawClickCounts(sets, split, rawDjNames.length, rawSongs.length);
  skipped.repeatsWithinSet = raw.repeats;
  const held = drawHoldout(raw.counts, rawSongs.map((t) => t.key), options.minClickSongs, options.clickHoldoutShare, holdoutRng);
  const gapMask = options.heldOutPlays === 'gapped' ? held.slice() : new Uint8Array(held.length);
  if (hidden.size > 0)
    for (let d = 0; d < raw.counts.rows; d++)
      for (let q = raw.counts.indptr[d]; q < raw.counts.indptr[d + 1]; q++)
        if (hidden.has(hiddenPair(rawDjNames[d], rawSongs[raw.counts.indices[q]].key))) gapMask[q] = 1;
  const gapped = gapMask.includes(1) ? gapHeldOutPlays(sets, split, raw.counts, gapMask) : { sets, gapped: 0 };
  const trainSets = gapped.sets;
  skipped.heldOutPlaysGapped = gapped.gapped;

  // 4. Song mass over training sets, then the song filter. Without the held-out plays: a song only
  // a held-out pair made frequent enough is not in the vocabulary (its pairs leave the test too).
  const mass = new Float64Array(rawSongs.length);
  const plays = new Float64Array(rawSongs.length);
  forEachPair(trainSets, split, options.window, (a, b, w) => {
    mass[a] += w;
    mass[b] += w;
  });
  for (let s = 0; s < sets.length; s++) if (!split[s]) for (const id of trainSets[s].songs) if (id >= 0) plays[id]++;
  const keptRaw: number[] = [];
  for (let id = 0; id < rawSongs.length; id++)
    if (mass[id] >= options.minSongMass && rawAliases.rep[id] === id) keptRaw.push(id);
  keptRaw.sort((a, b) => plays[b] - plays[a] || (rawSongs[a].key < rawSongs[b].key ? -1 : 1));
  const songOf = new Int32Array(rawSongs.length).fill(OUT_OF_VOCABULARY);
  keptRaw.forEach((id, i) => (songOf[id] = i));
  const nSongs = keptRaw.length;
  skipped.droppedSongs = rawSongs.length - skipped.mergedSongs - nSongs;
  log(`prepare: ${nSongs} of ${rawSongs.length} songs have co-occurrence mass ≥ ${options.minSongMass}`);

  // 5. Song–song co-occurrence over kept songs (upper triangle counted once, then mirrored).
  const upper = new CooBuilder(nSongs, nSongs, 1 << 16);
  forEachPair(trainSets, split, options.window, (a, b, w) => {
    const i = songOf[a];
    const j = songOf[b];
    if (i < 0 || j < 0) return;
    if (i < j) upper.add(i, j, w);
    else upper.add(j, i, w);
  });
  const cooc = plusTranspose(upper.toCsr());

  // 6. Artists of kept songs and the song → artist map M; spellings of one artist merged.
  const artistIndex = new Map<string, number>();
  const artistNames: string[] = [];
  const artistKeys: string[] = [];
  const artistWeight: number[] = [];
  const songAcappella = new Uint8Array(nSongs);
  const songEntries: [number, number, number][] = [];
  keptRaw.forEach((raw, i) => {
    const song = rawSongs[raw];
    if (song.acappella) songAcappella[i] = 1;
    for (const artist of song.artists) {
      let a = artistIndex.get(artist.key);
      if (a === undefined) {
        a = artistNames.length;
        artistIndex.set(artist.key, a);
        artistNames.push(artist.name);
        artistKeys.push(artist.key);
        artistWeight.push(0);
      }
      artistWeight[a] += artist.weight * plays[raw];
      songEntries.push([i, a, artist.weight]);
    }
  });
  const artistRep = mergeArtists(artistKeys, artistWeight);
  for (let a = 0; a < artistRep.length; a++) {
    if (artistRep[a] === a) continue;
    artistWeight[artistRep[a]] += artistWeight[a];
    skipped.mergedArtists++;
  }
  // Artists ordered by played weight, so index 0 is the most-played artist.
  const artistOrder = artistNames
    .map((_, a) => a)
    .filter((a) => artistRep[a] === a)
    .sort((a, b) => artistWeight[b] - artistWeight[a] || a - b);
  const artistRank = new Int32Array(artistNames.length);
  artistOrder.forEach((a, r) => (artistRank[a] = r));
  const nArtists = artistOrder.length;
  // Duplicate (song, artist) entries of merged spellings are summed by toCsr.
  const mBuilder = new CooBuilder(nSongs, nArtists, songEntries.length);
  for (const [i, a, w] of songEntries) mBuilder.add(i, artistRank[artistRep[a]], w);
  const songArtistMap = mBuilder.toCsr();
  const artistAliases: Aliases = {};
  for (let a = 0; a < artistRep.length; a++) {
    const r = artistRep[a];
    if (r !== a) (artistAliases[artistRank[r]] ??= []).push({ name: artistNames[a], key: artistKeys[a] });
  }
  const songAliases: Aliases = {};
  keptRaw.forEach((raw, i) => {
    const list = rawAliases.byRaw.get(raw);
    if (list) songAliases[i] = list;
  });
  const vocab: Vocabulary = {
    songs: keptRaw.map((id) => rawSongs[id].display),
    songKeys: keptRaw.map((id) => rawSongs[id].key),
    artists: artistOrder.map((a) => artistNames[a]),
    artistKeys: artistOrder.map((a) => artistKeys[a]),
    djs: [],
    songAliases,
    artistAliases,
  };

  // 7. Artist–artist = Mᵀ C M (diagonal dropped) and song–artist = C M.
  const mT = transpose(songArtistMap);
  const songArtistRaw = multiply(cooc, songArtistMap);
  const artistArtistRaw = withoutDiagonal(multiply(mT, songArtistRaw));

  // 8. Sparsify by row mass, symmetrise square graphs, log-scale (SPEC §2.3).
  const songSong = mapValues(symmetrizeMax(sparsifyRowsByMass(cooc, options.songSongShare)), (x) =>
    Math.log1p(x) / LN_E_OVER_2,
  );
  const artistArtist = mapValues(symmetrizeMax(sparsifyRowsByMass(artistArtistRaw, options.artistArtistShare)), (x) =>
    Math.log1p(x),
  );
  // Song–artist keeps an entry that is among the strongest of its song row OR of its artist column.
  const rowMask = topMassMask(songArtistRaw, options.songArtistShare);
  const saT = transpose(songArtistRaw);
  const colMaskT = topMassMask(saT, options.songArtistShare);
  const colKept = new Set<number>();
  for (let a = 0; a < saT.rows; a++)
    for (let p = saT.indptr[a]; p < saT.indptr[a + 1]; p++) if (colMaskT[p]) colKept.add(saT.indices[p] * nArtists + a);
  const songArtist = mapValues(
    filterEntries(songArtistRaw, (i, p) => rowMask[p] === 1 || colKept.has(i * nArtists + songArtistRaw.indices[p])),
    (x) => Math.log1p(x),
  );

  // 9. DJ click matrix from every training play (a b2b partner's plays are their own): songs a
  // DJ played in more than one set, ln(count); the DJ filter on kept songs; the hold-out's entries
  // go to clickTest.
  const counts = raw.counts;
  const clickSongsPerDj = new Int32Array(counts.rows);
  for (let d = 0; d < counts.rows; d++)
    for (let p = counts.indptr[d]; p < counts.indptr[d + 1]; p++)
      if (counts.values[p] > 1 && songOf[counts.indices[p]] >= 0) clickSongsPerDj[d]++;
  for (let s = 0; s < sets.length; s++)
    if (!split[s]) for (const id of new Set(sets[s].songs)) if (id >= 0 && songOf[id] < 0) skipped.playsOfDroppedSongs++;
  const keptDjRaw: number[] = [];
  for (let d = 0; d < counts.rows; d++) if (clickSongsPerDj[d] > options.minClickSongs) keptDjRaw.push(d);
  keptDjRaw.sort((a, b) => clickSongsPerDj[b] - clickSongsPerDj[a] || (rawDjNames[a] < rawDjNames[b] ? -1 : 1));
  const djOf = new Int32Array(rawDjNames.length).fill(-1);
  keptDjRaw.forEach((d, i) => (djOf[d] = i));
  vocab.djs = keptDjRaw.map((d) => rawDjNames[d]);
  skipped.droppedDjs = rawDjNames.length - keptDjRaw.length;
  const nDjs = keptDjRaw.length;

  // 10. Train / test click entries, and the original protocol's random pairs drawn from the test.
  const trainCoo = new CooBuilder(nDjs, nSongs);
  const testCoo = new CooBuilder(nDjs, nSongs);
  keptDjRaw.forEach((rawDj, d) => {
    for (let p = counts.indptr[rawDj]; p < counts.indptr[rawDj + 1]; p++) {
      const song = songOf[counts.indices[p]];
      if (counts.values[p] > 1 && song >= 0) (held[p] ? testCoo : trainCoo).add(d, song, Math.log(counts.values[p]));
    }
  });
  const click = trainCoo.toCsr();
  const clickTest = testCoo.toCsr();
  const testPairs: number[] = [];
  for (let d = 0; d < nDjs; d++)
    for (let p = clickTest.indptr[d]; p < clickTest.indptr[d + 1]; p++) testPairs.push(d, clickTest.indices[p]);
  const pairOrder = holdoutRng.shuffle(Array.from({ length: testPairs.length / 2 }, (_, k) => k));
  const nPairs = Math.min(options.heldOutPairs, pairOrder.length);
  const heldOutPairs = new Int32Array(nPairs * 2);
  for (let k = 0; k < nPairs; k++) {
    heldOutPairs[2 * k] = testPairs[2 * pairOrder[k]];
    heldOutPairs[2 * k + 1] = testPairs[2 * pairOrder[k] + 1];
  }

  // 11. Both scalings, DJ–artist via M, and the DJ–DJ cosine graph.
  const fromClicks = clickGraphs(click, songArtistMap, options.djNeighbours);

  // 12. Tracklists as index sequences.
  const sequences = toSequences(sets, split, songOf, djOf, rawDjNames);
  const songPlays = new Float32Array(nSongs);
  const songMass = new Float32Array(nSongs);
  keptRaw.forEach((raw, i) => {
    songPlays[i] = plays[raw];
    songMass[i] = mass[raw];
  });
  for (let s = 0; s < sets.length; s++)
    if (split[s]) for (const id of sets[s].songs) if (id >= 0 && songOf[id] < 0) skipped.playsOfDroppedSongs++;

  return {
    options,
    vocab,
    songSong,
    songSongNorm: gcnNormalize(songSong),
    artistArtist,
    artistArtistNorm: gcnNormalize(artistArtist),
    songArtist,
    songArtistMap,
    ...fromClicks,
    clickTest,
    heldOutPairs,
    songPlays,
    songMass,
    songAcappella,
    sequences,
    skipped,
    corpusTracklists: sets.length,
  };
}

/** Calls f(a, b, 1/d) for each pair of identified songs within the window in training sets. */
function forEachPair(
  sets: RawSet[],
  split: Uint8Array,
  window: number,
  f: (a: number, b: number, weight: number) => void,
): void {
  for (let s = 0; s < sets.length; s++) {
    if (split[s]) continue;
    const songs = sets[s].songs;
    for (let i = 0; i < songs.length; i++) {
      const a = songs[i];
      if (a < 0) continue;
      const end = Math.min(songs.length, i + window + 1);
      for (let j = i + 1; j < end; j++) {
        const b = songs[j];
        if (b < 0 || b === a) continue;
        f(a, b, 1 / (j - i));
      }
    }
  }
}

/**
 * Everything preparation derives from the DJ × song click matrix (step 10): both scalings, the
 * DJ–artist matrix via M in both scalings, and the DJ–DJ cosine graph (sparse X Xᵀ, top k per
 * row, symmetrised) with its GCN normalisation.
 */
export function clickGraphs(
  click: Csr,
  songArtistMap: Csr,
  djNeighbours: number,
): Pick<Prepared, 'click' | 'clickByDj' | 'clickBySong' | 'djArtistByDj' | 'djArtistByArtist' | 'djDj' | 'djDjNorm'> {
  const djArtist = multiply(click, songArtistMap);
  const norms = rowSums(mapValues(click, (v) => v * v)).map(Math.sqrt);
  const unit = mapValues(click, (v, d) => (norms[d] > 0 ? v / norms[d] : 0));
  const djDj = symmetrizeMax(topKPerRow(withoutDiagonal(multiply(unit, transpose(unit))), djNeighbours));
  return {
    click,
    clickByDj: normalizeRows(click),
    clickBySong: normalizeCols(click),
    djArtistByDj: normalizeRows(djArtist),
    djArtistByArtist: normalizeCols(djArtist),
    djDj,
    djDjNorm: gcnNormalize(djDj),
  };
}

function withoutDiagonal(m: Csr): Csr {
  return filterEntries(m, (i, p) => m.indices[p] !== i);
}

/** Counts printed by `tlgen prepare --json`. */
export interface PreparedSummary {
  tracklists: number;
  trainTracklists: number;
  testTracklists: number;
  songs: number;
  artists: number;
  djs: number;
  nnz: Record<string, number>;
  heldOutPairs: number;
  skipped: SkipReport;
}

export function summarize(p: Prepared): PreparedSummary {
  return {
    tracklists: p.corpusTracklists,
    trainTracklists: p.sequences.split.reduce((n, s) => n + (s === 0 ? 1 : 0), 0),
    testTracklists: p.sequences.split.reduce((n, s) => n + s, 0),
    songs: p.vocab.songs.length,
    artists: p.vocab.artists.length,
    djs: p.vocab.djs.length,
    nnz: {
      songSong: nnz(p.songSong),
      artistArtist: nnz(p.artistArtist),
      songArtist: nnz(p.songArtist),
      songArtistMap: nnz(p.songArtistMap),
      click: nnz(p.click),
      clickTest: nnz(p.clickTest),
      djDj: nnz(p.djDj),
    },
    heldOutPairs: p.heldOutPairs.length / 2,
    skipped: p.skipped,
  };
}
