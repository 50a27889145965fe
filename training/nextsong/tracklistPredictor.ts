import type { LstmState, SequenceContext, TracklistModel } from '../../shared/model/tracklistInference.ts';
import { WINDOW } from '../tracklist/windows.ts';
import { excludePlayedAndNormalize, type NextSongPredictor } from './predictor.ts';

/**
 * The tracklist model as a next-song predictor, through the same plain-TypeScript inference that
 * serving runs. The set's DJs condition it through their DJ and taste vectors; the LSTM reads the
 * prefix as in training: its last WINDOW − 1 tracks after the start token (training windows are
 * 15 long), unidentified tracks replaced by the set's replacement song. A model with the
 * session-kNN term reads the whole prefix there (gaps and unknown tracks kept as positions).
 * The factorised form gives P(song) as the exact product down the tree; the full form is
 * marginalised over every path (Σ over level-1 clusters of P(c1) · P(song | c1)).
 */
export class TracklistPredictor implements NextSongPredictor {
  readonly name: string;
  private readonly model: TracklistModel;
  private readonly replacementFor: (djs: Int32Array) => number;
  private readonly contextFor: (djs: Int32Array) => SequenceContext;

  constructor(
    model: TracklistModel,
    replacementFor: (djs: Int32Array) => number,
    contextFor: (djs: Int32Array) => SequenceContext,
    name = 'model',
  ) {
    this.model = model;
    this.replacementFor = replacementFor;
    this.contextFor = contextFor;
    this.name = name;
  }

  /** The model's state after a set prefix: the LSTM reads the recent window, the session term the whole prefix (gaps kept). */
  stateFor(prefix: Int32Array, djs: Int32Array): LstmState {
    const replacement = this.replacementFor(djs);
    const recent = Array.from(prefix.subarray(Math.max(0, prefix.length - (WINDOW - 1))), (s) => (s >= 0 ? s : replacement));
    return { ...this.model.run(recent, this.contextFor(djs)), session: prefix };
  }

  predict(prefix: Int32Array, djs: Int32Array, out: Float64Array): void {
    const state = this.stateFor(prefix, djs);
    const p = this.model.form === 'factorised' ? this.model.songDistribution(state) : this.marginal(state);
    // A floor keeps NLL finite where float underflow left a song at exactly zero.
    for (let s = 0; s < out.length; s++) out[s] = p[s] + 1e-12;
    excludePlayedAndNormalize(prefix, out);
  }

  private marginal(h: LstmState): Float64Array {
    const m = this.model;
    const p3 = m.levelProbabilities('l3', h);
    const p2 = new Float64Array(m.sizes.l2);
    for (let c3 = 0; c3 < m.sizes.l3; c3++) {
      const q = m.levelProbabilities('l2', h, c3);
      for (let c2 = 0; c2 < q.length; c2++) p2[c2] += p3[c3] * q[c2];
    }
    const p1 = new Float64Array(m.sizes.l1);
    for (let c2 = 0; c2 < m.sizes.l2; c2++) {
      const q = m.levelProbabilities('l1', h, c2);
      for (let c1 = 0; c1 < q.length; c1++) p1[c1] += p2[c2] * q[c1];
    }
    const out = new Float64Array(m.songs);
    for (let c1 = 0; c1 < m.sizes.l1; c1++) {
      if (p1[c1] < 1e-9) continue;
      const q = m.levelProbabilities('song', h, c1);
      for (let s = 0; s < q.length; s++) out[s] += p1[c1] * q[s];
    }
    return out;
  }
}
