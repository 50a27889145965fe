import type { Artifact } from './artifact.ts';
import { dotAll, normalizeRowsL2, similarTo, type Scored } from './similarity.ts';

/**
 * TL-MGCCF outputs used for recommendation and similarity (SPEC §3): DJ→song scores are
 * 1 + cos(DJ vector, song vector); song→song uses ē_s + M ē_a; artists and DJs use their final
 * averaged vectors. Rows are L2-normalised once at load.
 */
export class EmbeddingIndex {
  readonly djWidth: number;
  readonly songs: number;
  private readonly djUnit: Float32Array;
  private readonly songUnit: Float32Array;
  private readonly songSimUnit: Float32Array;
  private readonly songSimWidth: number;
  private readonly artistUnit: Float32Array;
  private readonly artistWidth: number;

  constructor(artifact: Artifact) {
    const [, djWidth] = artifact.shape('rec.dj');
    this.djWidth = djWidth;
    this.songs = artifact.shape('rec.song')[0];
    this.djUnit = normalizeRowsL2(artifact.tensor('rec.dj'), djWidth);
    this.songUnit = normalizeRowsL2(artifact.tensor('rec.song'), djWidth);
    this.songSimWidth = artifact.shape('sim.song')[1];
    this.songSimUnit = normalizeRowsL2(artifact.tensor('sim.song'), this.songSimWidth);
    this.artistWidth = artifact.shape('rec.artist')[1];
    this.artistUnit = normalizeRowsL2(artifact.tensor('rec.artist'), this.artistWidth);
  }

  /** Fills out[s] = 1 + cos(DJ, song s) for every song. */
  scoreDj(dj: number, out: Float32Array): Float32Array {
    dotAll(this.songUnit, this.djWidth, this.djUnit.subarray(dj * this.djWidth, (dj + 1) * this.djWidth), out);
    for (let s = 0; s < out.length; s++) out[s] += 1;
    return out;
  }

  /** Fills out[s] = 1 + cos(vector, song s) for an arbitrary DJ-space vector (cold-start users). */
  scoreVector(vector: ArrayLike<number>, out: Float32Array): Float32Array {
    let norm = 0;
    for (let c = 0; c < this.djWidth; c++) norm += vector[c] * vector[c];
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    const unit = Float32Array.from({ length: this.djWidth }, (_, c) => vector[c] * inv);
    dotAll(this.songUnit, this.djWidth, unit, out);
    for (let s = 0; s < out.length; s++) out[s] += 1;
    return out;
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
