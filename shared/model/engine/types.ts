import { type Artifact, ArtifactError, type DType } from '../artifact.ts';
import type { SessionKnnOptions } from '../sessionPrior.ts';

/** The tracklist model's artifact contract (D, SPEC §4) and the state types every layer shares. */

export const TRACKLIST_KIND = 'tracklist-ai/tracklist';

export type TracklistForm = 'factorised' | 'full';
export type Level = 'l3' | 'l2' | 'l1' | 'song';
export const LEVELS: readonly Level[] = ['l3', 'l2', 'l1', 'song'];

/** The level whose clusters group a level's options (its teacher's level). */
export const PARENT_LEVEL = { l2: 'l3', l1: 'l2', song: 'l1' } as const;

/** `manifest.meta` of a tracklist artifact (contract D). */
export interface TracklistMeta {
  form: TracklistForm;
  hidden: number;
  /** [k1, k2, k3], finest first. */
  levels: [number, number, number];
  padIndex: number;
  songs: number;
  headWidth: number;
  /** [d1, d2, d3]. */
  clusterWidth: [number, number, number];
  songWidth: number;
  /** Width of the per-set DJ vector fed to every gate through `lstm.dj` (absent: no DJ input). */
  djWidth?: number;
  /** How the DJ vector is made (training's description). */
  djVector?: string;
  /** Width of the per-set taste vector of the song level (absent: none). */
  tasteWidth?: number;
  tasteVector?: string;
  /** The "average replacement" song training put in place of unknown songs, when recorded. */
  replacementSong?: number;
  /** Discount of the n-gram prior (with tensors prior.counts, prior.popularity, prior.weight). */
  priorDiscount?: number;
  /**
   * The session-kNN term (with tensors session.items, session.itemPos, session.itemOffsets,
   * session.recency, session.popularity, session.weight): V-SkNN settings and the popularity
   * mixing weight β.
   */
  session?: { beta: number; options: SessionKnnOptions };
  config?: Record<string, unknown>;
  metrics?: unknown;
  /** Defaults of the tuned generation knobs (generate.ts GenerationDefaults), chosen at training time. */
  generationDefaults?: Record<string, unknown>;
}

/** What a set conditions the model on (both optional; missing or null = zeros, no known DJ). */
export interface SequenceContext {
  /** DJ vector (djWidth): the DJs' mean unit encoding. */
  dj?: ArrayLike<number> | null;
  /** Taste vector (tasteWidth): the DJs' mean recommendation vector. */
  taste?: ArrayLike<number> | null;
  /**
   * q · taste.song[s] for every song s, when the caller already has them (serving scores every
   * song with the same vectors for the user scores): the song level then adds α times these
   * instead of a taste product per row. Used only with `taste`.
   */
  tasteScores?: ArrayLike<number> | null;
}

/** The state after feeding a prefix: h and c (length H), plus the sequence's constant terms. */
export interface LstmState {
  h: Float64Array;
  c: Float64Array;
  /** lstm.bias + dj · lstm.dj (length 4H). */
  bias: Float64Array;
  /** α · taste vector (length tasteWidth), or null when there is no taste term. */
  taste: Float64Array | null;
  /** The context's tasteScores (per song, before α) when it gave them with a taste term. */
  tasteScores?: ArrayLike<number> | null;
  /** The last song fed (−1 after the start token): what the n-gram prior conditions on. */
  previous: number;
  /**
   * The set's whole prefix so far (what the session term reads): every song fed after the start
   * token. A caller that feeds the LSTM only the recent tracks replaces it with the whole prefix
   * (ids < 0 are gaps / unknown tracks: positions without a song).
   */
  session: ArrayLike<number>;
}

/** What the output layers read from a state: h, the taste term and the previous song. */
export interface StateView {
  h: ArrayLike<number>;
  taste: Float64Array | null;
  tasteScores?: ArrayLike<number> | null;
  previous?: number;
  /** The whole set prefix for the session term (absent: empty). */
  session?: ArrayLike<number>;
}

/** A state, or just an output h (read without a taste term). */
export type StateOrH = StateView | ArrayLike<number>;

export function asState(from: StateOrH): StateView {
  return 'h' in from ? from : { h: from, taste: null };
}

/** The empty prefix (a start state's, and a state view's without one). */
export const NO_SESSION = new Int32Array(0);

/** A tensor reader that checks dtype and shape (−1: any size); errors are ArtifactErrors. */
export function tensorReader(a: Artifact<TracklistMeta>) {
  return <T extends Float32Array | Int32Array>(name: string, dtype: DType, shape: number[]): T => {
    const entry = a.manifest.tensors[name];
    if (!entry) throw new ArtifactError(`tracklist model: no tensor "${name}"`);
    if (entry.dtype !== dtype) throw new ArtifactError(`tracklist model: "${name}" is ${entry.dtype}, expected ${dtype}`);
    if (entry.shape.length !== shape.length || entry.shape.some((s, i) => shape[i] >= 0 && s !== shape[i]))
      throw new ArtifactError(
        `tracklist model: "${name}" has shape [${entry.shape}], expected [${shape.map((s) => (s < 0 ? '?' : s))}]`,
      );
    return a.tensor<T>(name);
  };
}

export type TensorReader = ReturnType<typeof tensorReader>;
