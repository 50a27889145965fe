/**
 * What `tlgen eval` (and the training job) make of a corpus's truth file: planted labels for NMI
 * and the planted-level generation rows, the exact oracle only for a whole synthetic-corpus
 * truth. An unusable file is reported (naming it) and the evaluation goes on without it.
 */
import { modelOf } from '../../shared/corpus/oracle.ts';
import { oracleLine, readTruthFile, type TruthFile } from '../../shared/corpus/truthFile.ts';
import { InputError } from '../../shared/util/errors.ts';
import { OraclePredictor } from '../nextsong/oracle.ts';
import { plantedLevels } from '../tracklist/report.ts';

/** The `truth` field of the eval result. */
export interface TruthReport {
  file: string;
  kind: TruthFile['kind'];
  oracle: boolean;
  /** Planted level names, finest first (empty when unusable). */
  levels: string[];
  /** Songs the truth labels, and how many of them are in the model's vocabulary. */
  plantedSongs: number;
  matchedSongs: number;
  /** Why the file (or its oracle) could not be used. */
  error: string | null;
}

export interface TruthSection {
  report: TruthReport | null;
  planted: Int32Array[] | null;
  oracle: OraclePredictor | null;
  /** Readable lines for the eval output. */
  lines: string[];
}

export function truthSection(file: string | null, songKeys: readonly string[]): TruthSection {
  if (file === null) return { report: null, planted: null, oracle: null, lines: [] };
  const read = readTruthFile(file);
  if (read.kind === 'unusable') {
    return {
      report: { file, kind: 'unusable', oracle: false, levels: [], plantedSongs: 0, matchedSongs: 0, error: read.error },
      planted: null,
      oracle: null,
      lines: [`truth: ERROR ${read.error}; evaluating without it (no NMI, no planted-level rows)`, oracleLine(read)],
    };
  }
  const planted = plantedLevels(read.planted, songKeys);
  const matchedSongs = planted[0].reduce((n, label) => n + (label >= 0 ? 1 : 0), 0);
  const plantedSongs = Object.keys(read.planted.songCluster).length;
  let oracle: OraclePredictor | null = null;
  let error: string | null = null;
  let oracleText = oracleLine(read);
  if (read.kind === 'synthetic') {
    try {
      modelOf(read.truth); // validates the generator's parameters now, not mid-evaluation
      oracle = new OraclePredictor(read.truth, songKeys);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      error = `truth file ${file}: ${e.message}`;
      oracleText = `oracle: unavailable (${error})`;
    }
  }
  const what = read.kind === 'synthetic' ? 'synthetic-corpus truth' : 'planted clusters only';
  return {
    report: { file, kind: read.kind, oracle: oracle !== null, levels: read.planted.levels, plantedSongs, matchedSongs, error },
    planted,
    oracle,
    lines: [
      `truth: ${file} (${what}; levels ${read.planted.levels.join(' > ')}; ${matchedSongs} of ${plantedSongs} labelled songs in the vocabulary)`,
      oracleText,
    ],
  };
}
