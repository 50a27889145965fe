import { ArtifactWriter, readArtifact, type Artifact } from '../model/artifact.ts';
import type { Csr } from './csr.ts';
import type { Prepared, PreparedSummary, PrepareOptions, Sequences, SkipReport, Vocabulary } from './prepare.ts';
import { summarize } from './prepare.ts';

/** Prepared datasets are artifacts of this kind (manifest + tensors.bin + JSON documents). */
export const PREPARED_KIND = 'tracklist-ai/prepared';

const CSR_FIELDS = [
  'songSong',
  'songSongNorm',
  'artistArtist',
  'artistArtistNorm',
  'songArtist',
  'songArtistMap',
  'click',
  'clickByDj',
  'clickBySong',
  'djArtistByDj',
  'djArtistByArtist',
  'clickTest',
  'djDj',
  'djDjNorm',
] as const satisfies readonly (keyof Prepared)[];

interface PreparedMeta {
  options: PrepareOptions;
  skipped: SkipReport;
  corpusTracklists: number;
  summary: PreparedSummary;
}

export function writePrepared(dir: string, p: Prepared, extraMeta: Record<string, unknown> = {}): void {
  const w = new ArtifactWriter();
  for (const name of CSR_FIELDS) w.addCsr(name, p[name] as Csr);
  w.addTensor('heldOutPairs', p.heldOutPairs, [p.heldOutPairs.length / 2, 2]);
  w.addTensor('songPlays', p.songPlays);
  w.addTensor('songMass', p.songMass);
  w.addTensor('songAcappella', p.songAcappella);
  const s = p.sequences;
  w.addTensor('seq.songs', s.songs);
  w.addTensor('seq.offsets', s.offsets);
  w.addTensor('seq.djs', s.djs);
  w.addTensor('seq.djOffsets', s.djOffsets);
  w.addTensor('seq.split', s.split);
  w.addTensor('seq.days', s.days);
  w.addDocument('vocab', p.vocab);
  w.addDocument('tracklists', { ids: s.ids, djNames: s.djNames });
  const meta: PreparedMeta = {
    options: p.options,
    skipped: p.skipped,
    corpusTracklists: p.corpusTracklists,
    summary: summarize(p),
  };
  w.write(dir, PREPARED_KIND, { ...meta, ...extraMeta });
}

/** Loads a prepared folder as views onto its tensor file (no copies). */
export function loadPrepared(dir: string): Prepared {
  const a: Artifact<PreparedMeta> = readArtifact<PreparedMeta>(dir, { kind: PREPARED_KIND });
  const csr = Object.fromEntries(CSR_FIELDS.map((name) => [name, a.csr(name)])) as Record<
    (typeof CSR_FIELDS)[number],
    Csr
  >;
  const docs = a.document<{ ids: string[]; djNames: string[][] }>('tracklists');
  const sequences: Sequences = {
    songs: a.tensor<Int32Array>('seq.songs'),
    offsets: a.tensor<Int32Array>('seq.offsets'),
    djs: a.tensor<Int32Array>('seq.djs'),
    djOffsets: a.tensor<Int32Array>('seq.djOffsets'),
    split: a.tensor<Uint8Array>('seq.split'),
    days: a.tensor<Int32Array>('seq.days'),
    ids: docs.ids,
    djNames: docs.djNames,
  };
  return {
    ...csr,
    options: a.meta.options,
    skipped: a.meta.skipped,
    corpusTracklists: a.meta.corpusTracklists,
    vocab: a.document<Vocabulary>('vocab'),
    heldOutPairs: a.tensor<Int32Array>('heldOutPairs'),
    songPlays: a.tensor<Float32Array>('songPlays'),
    songMass: a.tensor<Float32Array>('songMass'),
    songAcappella: a.tensor<Uint8Array>('songAcappella'),
    sequences,
  };
}
