import { readCorpus } from '../../shared/corpus/jsonl.ts';
import { oracleNext, type SynthTruth } from '../../shared/corpus/oracle.ts';
import { parseTrack } from '../../shared/corpus/trackString.ts';
import type { Tracklist } from '../../shared/corpus/types.ts';
import type { Sequences } from '../../shared/graph/prepare.ts';
import { excludePlayedAndNormalize, type NextSongContext, type NextSongPredictor } from './predictor.ts';

/**
 * The synthetic generator's exact next-song distribution as a predictor: the unbeatable
 * reference on synthetic corpora. It reads the raw prefix (gap strings such as `Artist - ID`
 * carry information), the set's DJ names as written and its date. Evaluation targets are
 * positions holding a vocabulary song, so it asks for P(track at this position = x | it is a
 * song) (`immediate`), maps corpus strings to vocabulary songs through their parsed key (several
 * strings may share one), drops the mass on songs outside the vocabulary and renormalises.
 * The mean dropped mass is reported as `outOfVocabularyMass`.
 */
export class OraclePredictor implements NextSongPredictor {
  readonly name = 'oracle';
  readonly needsRaw = true;
  readonly truth: SynthTruth;
  /** Truth song index → vocabulary song, or -1. */
  readonly toVocab: Int32Array;
  private calls = 0;
  private dropped = 0;

  constructor(truth: SynthTruth, songKeys: readonly string[]) {
    this.truth = truth;
    const index = new Map(songKeys.map((key, i) => [key, i]));
    this.toVocab = Int32Array.from(truth.songs, (s) => {
      const parsed = parseTrack(s);
      return parsed.kind === 'song' ? (index.get(parsed.key) ?? -1) : -1;
    });
  }

  predict(prefix: Int32Array, _djs: Int32Array, out: Float64Array, context?: NextSongContext): void {
    const raw = context?.raw;
    if (!raw) throw new Error('oracle: needs the raw tracklist (pass the corpus to evaluation)');
    const { probs } = oracleNext(
      this.truth,
      { djs: raw.djs, date: raw.date, prefix: raw.tracks.slice(0, prefix.length) },
      { immediate: true },
    );
    out.fill(0);
    let kept = 0;
    for (let i = 0; i < probs.length; i++) {
      const v = this.toVocab[i];
      if (v >= 0 && probs[i] > 0) {
        out[v] += probs[i];
        kept += probs[i];
      }
    }
    this.calls++;
    this.dropped += 1 - kept;
    excludePlayedAndNormalize(prefix, out);
  }

  diagnostics(): Record<string, number> {
    return { outOfVocabularyMass: this.calls > 0 ? this.dropped / this.calls : 0 };
  }
}

/**
 * Reads the corpus tracklists of one split by sequence index, for `evaluateNextSong`'s `raw`
 * hook. Prepared sequences are in corpus line order, so the index is the line's ordinal; ids
 * are checked by the evaluator.
 */
export async function readSplitTracklists(
  corpusFile: string,
  sequences: Sequences,
  split = 1,
): Promise<Map<number, Tracklist>> {
  const out = new Map<number, Tracklist>();
  let t = 0;
  for await (const tracklist of readCorpus(corpusFile)) {
    if (t < sequences.split.length && sequences.split[t] === split) out.set(t, tracklist);
    t++;
  }
  if (t !== sequences.split.length)
    throw new Error(`${corpusFile}: ${t} tracklists, but the prepared dataset has ${sequences.split.length}`);
  return out;
}
