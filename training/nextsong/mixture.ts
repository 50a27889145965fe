import { excludePlayedAndNormalize, type NextSongContext, type NextSongPredictor } from './predictor.ts';

/**
 * Non-negative evidence per song from the prefix (scale free); all zero when there is none.
 * day: the set's day (days since 1970, −1 unknown), for time-aware scorers (STAN).
 */
export interface EvidenceScorer {
  score(prefix: Int32Array, djs: Int32Array, scores: Float64Array, day?: number): void;
}

/**
 * Turns evidence scores into a distribution with full support by a Dirichlet-style mix with
 * popularity: P ∝ score + β · pop, then played songs zeroed and renormalised. The weight of
 * the evidence, S / (S + β), grows with how much evidence there is (S = Σ score), and with no
 * evidence the prediction is popularity.
 */
export class MixedPredictor implements NextSongPredictor {
  readonly name: string;
  readonly scorer: EvidenceScorer;
  readonly popularity: Float64Array;
  beta: number;

  constructor(name: string, scorer: EvidenceScorer, popularity: Float64Array, beta: number) {
    if (!(beta > 0)) throw new Error(`${name}: beta must be > 0, got ${beta}`);
    this.name = name;
    this.scorer = scorer;
    this.popularity = popularity;
    this.beta = beta;
  }

  predict(prefix: Int32Array, djs: Int32Array, out: Float64Array, context?: NextSongContext): void {
    this.scorer.score(prefix, djs, out, context?.day ?? -1);
    const { beta, popularity } = this;
    for (let j = 0; j < out.length; j++) out[j] += beta * popularity[j];
    excludePlayedAndNormalize(prefix, out);
  }
}
