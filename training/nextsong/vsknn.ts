import type { Sequences } from '../../shared/graph/prepare.ts';
import {
  DEFAULT_SESSION_KNN_OPTIONS,
  SessionKnn,
  sessionTable,
  type SessionKnnOptions,
} from '../../shared/model/sessionPrior.ts';
import type { EvidenceScorer } from './mixture.ts';

/** V-SkNN settings (shared/model/sessionPrior.ts, where the scorer core lives). */
export type VsknnOptions = SessionKnnOptions;

export const DEFAULT_VSKNN_OPTIONS: VsknnOptions = DEFAULT_SESSION_KNN_OPTIONS;

/**
 * Vector-multiplication session kNN (V-SkNN, Ludewig & Jannach 2018) as a baseline evidence
 * scorer: the shared SessionKnn (also the tracklist model's session term) over the training
 * tracklists. Sessions are training tracklists; gaps and OOV tracks take positions but are not
 * songs.
 */
export class VsknnScorer implements EvidenceScorer {
  readonly knn: SessionKnn;

  constructor(
    sequences: Sequences,
    songs: number,
    tracklists: ArrayLike<number>,
    options: Partial<VsknnOptions> = {},
  ) {
    this.knn = new SessionKnn(sessionTable(sequences, songs, tracklists), songs, options);
  }

  get options(): VsknnOptions {
    return this.knn.options;
  }

  score(prefix: Int32Array, _djs: Int32Array, scores: Float64Array): void {
    this.knn.score(prefix, scores);
  }
}
