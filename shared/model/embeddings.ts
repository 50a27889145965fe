import type { Artifact } from './artifact.ts';
import { RowMatrix } from './rowMatrix.ts';
import { normalizeRowsL2, similarTo, type Scored } from './similarity.ts';

/** Manifest kind of the TL-MGCCF embeddings artifact. */
export const EMBEDDINGS_KIND = 'tracklist-ai/embeddings';

/**
 * TL-MGCCF outputs used for recommendation and similarity (SPEC §3). DJ→song ranking uses the
 * dot product of the averaged vectors — the quantity BPR trains — rather than SPEC's 1 + cos:
 * on the `small` corpus cosine ranking lost a third of Recall@20 (0.243 vs 0.352 after 800
 * steps), because it discards the song-vector norm the model learns as popularity. Similar
 * songs (ē_s + M ē_a), artists and DJs keep 1 + cos in [0, 2].
 */
export class EmbeddingIndex {
  readonly djWidth: number;
  readonly songs: number;
  /** rec.song: what DJ and user vectors are scored against. */
  readonly songVectors: RowMatrix;
  /** sim.song rows at unit length: song-to-song cosine. */
  readonly songSimUnit: RowMatrix;
  private readonly djVectors: Float32Array;
  private readonly djUnit: RowMatrix;
  private readonly artistUnit: RowMatrix;

  constructor(artifact: Artifact) {
    const [, djWidth] = artifact.shape('rec.dj');
    this.djWidth = djWidth;
    this.songs = artifact.shape('rec.song')[0];
    this.djVectors = artifact.tensor('rec.dj');
    this.songVectors = new RowMatrix(artifact.tensor('rec.song'), djWidth);
    // Unit rows normalised straight into the kernels' memory.
    const unit = (x: Float32Array, width: number) =>
      RowMatrix.build(x.length / width, width, (data) => normalizeRowsL2(x, width, data));
    this.djUnit = unit(this.djVectors, djWidth);
    this.songSimUnit = unit(artifact.tensor('sim.song'), artifact.shape('sim.song')[1]);
    this.artistUnit = unit(artifact.tensor('rec.artist'), artifact.shape('rec.artist')[1]);
  }

  /** Fills out[s] with the DJ's score for every song (dot product of the averaged vectors). */
  scoreDj(dj: number, out: Float32Array): Float32Array {
    return this.songVectors.dot(this.djVectors.subarray(dj * this.djWidth, (dj + 1) * this.djWidth), out);
  }

  /** The same scores for an arbitrary DJ-space vector (cold-start users). */
  scoreVector(vector: ArrayLike<number>, out: Float32Array): Float32Array {
    return this.songVectors.dot(vector, out);
  }

  /** out[s] = cos(seed, s) over the song-similarity vectors for every song. */
  songCosines(seed: number, out: Float32Array): Float32Array {
    const w = this.songSimUnit.width;
    return this.songSimUnit.dot(this.songSimUnit.data.subarray(seed * w, (seed + 1) * w), out);
  }

  similarSongs(song: number, k: number): Scored[] {
    return similarTo(this.songSimUnit, song, k);
  }

  similarArtists(artist: number, k: number): Scored[] {
    return similarTo(this.artistUnit, artist, k);
  }

  similarDjs(dj: number, k: number): Scored[] {
    return similarTo(this.djUnit, dj, k);
  }
}
