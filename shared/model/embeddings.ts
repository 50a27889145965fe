import type { Artifact } from './artifact.ts';

/** Manifest kind of the TL-MGCCF embeddings artifact. */
export const EMBEDDINGS_KIND = 'tracklist-ai/embeddings';
import { dotAll, normalizeRowsL2, similarTo, type Scored } from './similarity.ts';

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
  private readonly djVectors: Float32Array;
  private readonly songVectors: Float32Array;
  private readonly djUnit: Float32Array;
  private readonly songSimUnit: Float32Array;
  private readonly songSimWidth: number;
  private readonly artistUnit: Float32Array;
  private readonly artistWidth: number;

  constructor(artifact: Artifact) {
    const [, djWidth] = artifact.shape('rec.dj');
    this.djWidth = djWidth;
    this.songs = artifact.shape('rec.song')[0];
    this.djVectors = artifact.tensor('rec.dj');
    this.songVectors = artifact.tensor('rec.song');
    this.djUnit = normalizeRowsL2(this.djVectors, djWidth);
    this.songSimWidth = artifact.shape('sim.song')[1];
    this.songSimUnit = normalizeRowsL2(artifact.tensor('sim.song'), this.songSimWidth);
    this.artistWidth = artifact.shape('rec.artist')[1];
    this.artistUnit = normalizeRowsL2(artifact.tensor('rec.artist'), this.artistWidth);
  }

  /** Fills out[s] with the DJ's score for every song (dot product of the averaged vectors). */
  scoreDj(dj: number, out: Float32Array): Float32Array {
    return dotAll(this.songVectors, this.djWidth, this.djVectors.subarray(dj * this.djWidth, (dj + 1) * this.djWidth), out);
  }

  /** The same scores for an arbitrary DJ-space vector (cold-start users). */
  scoreVector(vector: ArrayLike<number>, out: Float32Array): Float32Array {
    return dotAll(this.songVectors, this.djWidth, vector, out);
  }

  similarSongs(song: number, k: number): Scored[] {
    return similarTo(this.songSimUnit, this.songSimWidth, song, k);
  }

  similarArtists(artist: number, k: number): Scored[] {
    return similarTo(this.artistUnit, this.artistWidth, artist, k);
  }

  similarDjs(dj: number, k: number): Scored[] {
    return similarTo(this.djUnit, this.djWidth, dj, k);
  }
}
