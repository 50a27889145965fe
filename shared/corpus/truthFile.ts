/**
 * Reading a `.truth.json` beside a corpus. Two shapes are accepted:
 *   - this project's synthetic-corpus truth (oracle.ts `SynthTruth`, written by `tlgen synth`):
 *     planted clusters and the generator's parameters, so the exact oracle is available;
 *   - planted clusters only, from anywhere: `{"songCluster": {SONG: LABELS, …}}` where SONG is
 *     "Artist - Title" (matched by identity key) or a song id, and LABELS is one label or an array
 *     of 1–3 labels, finest level first (scene, subgenre, genre); a label is a string or an
 *     integer; every song gives the same number of levels. Optional `"levels": [names]`.
 * Anything else is unusable: the reason names the file, and the caller goes on without it.
 */
import { readFileSync } from 'node:fs';
import type { SynthTruth } from './oracle.ts';

/** Planted clusters per song, labels as integers, finest level first. */
export interface PlantedClusters {
  levels: string[];
  songCluster: Record<string, number[]>;
}

export type TruthFile =
  | { kind: 'synthetic'; file: string; truth: SynthTruth; planted: PlantedClusters }
  | { kind: 'planted'; file: string; planted: PlantedClusters }
  | { kind: 'unusable'; file: string; error: string };

export const MAX_PLANTED_LEVELS = 3;
const SYNTH_LEVELS = ['scene', 'subgenre', 'genre'];

/** What eval prints (and the job logs) about the oracle for a truth file. */
export function oracleLine(truth: TruthFile | null): string {
  if (truth === null) return 'oracle: unavailable (no truth file)';
  if (truth.kind === 'synthetic') return 'oracle: available (synthetic-corpus truth)';
  if (truth.kind === 'planted') return 'oracle: unavailable (truth holds planted clusters only)';
  return 'oracle: unavailable (truth file unusable)';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates songCluster and maps each level's labels to 0, 1, … in order of appearance. */
function parsePlanted(doc: Record<string, unknown>, synthetic: boolean): PlantedClusters | string {
  const raw = doc.songCluster;
  if (!isObject(raw)) return '"songCluster" must be an object mapping songs to cluster labels';
  const entries = Object.entries(raw);
  if (entries.length === 0) return '"songCluster" is empty';
  let depth = -1;
  const ids: Map<string | number, number>[] = [];
  const out: [string, number[]][] = [];
  for (const [song, value] of entries) {
    const labels = Array.isArray(value) ? (value as unknown[]) : [value];
    const where = `songCluster[${JSON.stringify(song)}]`;
    if (labels.length < 1 || labels.length > MAX_PLANTED_LEVELS)
      return `${where}: ${labels.length} levels (1 to ${MAX_PLANTED_LEVELS}, finest first)`;
    if (depth < 0) {
      depth = labels.length;
      for (let l = 0; l < depth; l++) ids.push(new Map());
    } else if (labels.length !== depth) return `${where}: ${labels.length} levels where the first song has ${depth}`;
    const path: number[] = [];
    for (let l = 0; l < depth; l++) {
      const label = labels[l];
      if (typeof label !== 'string' && !Number.isInteger(label))
        return `${where}: label ${JSON.stringify(label)} is not a string or an integer`;
      const key = label as string | number;
      let id = ids[l].get(key);
      if (id === undefined) ids[l].set(key, (id = ids[l].size));
      path.push(id);
    }
    out.push([song, path]);
  }
  let levels = SYNTH_LEVELS.slice(0, depth);
  if (!synthetic && doc.levels !== undefined) {
    const names = doc.levels;
    if (!Array.isArray(names) || names.length !== depth || !names.every((n) => typeof n === 'string'))
      return `"levels" must be ${depth} level names (strings), finest first`;
    levels = names as string[];
  }
  // fromEntries defines own properties, so a song named "__proto__" stays a song.
  return { levels, songCluster: Object.fromEntries(out) };
}

/** Reads and classifies a truth file; never throws for what the file holds. */
export function readTruthFile(file: string): TruthFile {
  const unusable = (why: string): TruthFile => ({ kind: 'unusable', file, error: `truth file ${file}: ${why}` });
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const why = e instanceof SyntaxError ? `not JSON (${e.message})` : `unreadable (${(e as Error).message})`;
    return unusable(why);
  }
  if (!isObject(doc)) return unusable('not a JSON object');
  // A file naming the generator's version or parameters claims to be ours and must be whole.
  const synthetic = 'version' in doc || 'params' in doc;
  if (synthetic && (doc.version !== 1 || !isObject(doc.params) || !Array.isArray(doc.songs) || !Array.isArray(doc.scenes)))
    return unusable('not a whole synthetic-corpus truth file (version 1 with params, songs and scenes), nor planted clusters only');
  const planted = parsePlanted(doc, synthetic);
  if (typeof planted === 'string') return unusable(planted);
  if (synthetic && planted.levels.length !== MAX_PLANTED_LEVELS)
    return unusable('synthetic-corpus truth whose songCluster entries are not [scene, subgenre, genre]');
  return synthetic
    ? { kind: 'synthetic', file, truth: doc as unknown as SynthTruth, planted }
    : { kind: 'planted', file, planted };
}
