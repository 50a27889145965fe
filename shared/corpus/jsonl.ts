import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { InputError } from '../util/errors.ts';
import type { RawTrack, Tracklist } from './types.ts';

/** A corpus line that cannot be read: names the file and the 1-based line number. */
export class CorpusLineError extends InputError {
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, problem: string) {
    super(`${file}: line ${line}: ${problem}`);
    this.name = 'CorpusLineError';
    this.file = file;
    this.line = line;
  }
}

/** Checks one parsed JSON value against the corpus schema (SPEC §1); returns a problem or the tracklist. */
export function validateTracklist(value: unknown): Tracklist | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'expected a JSON object';
  const v = value as Record<string, unknown>;
  if (typeof v.id !== 'string' || v.id.length === 0) return '"id" must be a non-empty string';
  if (v.date !== undefined && v.date !== null) {
    if (typeof v.date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v.date) || Number.isNaN(Date.parse(v.date)))
      return '"date" must be "YYYY-MM-DD" or null';
  }
  if (!Array.isArray(v.djs) || !v.djs.every((d) => typeof d === 'string'))
    return '"djs" must be an array of strings';
  if (!Array.isArray(v.tracks)) return '"tracks" must be an array';
  for (let i = 0; i < v.tracks.length; i++) {
    const problem = trackProblem(v.tracks[i]);
    if (problem) return `"tracks[${i}]" ${problem}`;
  }
  if (v.title != null && typeof v.title !== 'string') return '"title" must be a string or null';
  if (v.source != null && typeof v.source !== 'string') return '"source" must be a string or null';
  return {
    id: v.id,
    date: (v.date as string | undefined) ?? null,
    djs: v.djs as string[],
    tracks: v.tracks as RawTrack[],
    ...(typeof v.title === 'string' ? { title: v.title } : {}),
    ...(typeof v.source === 'string' ? { source: v.source } : {}),
  };
}

function trackProblem(t: unknown): string | null {
  if (typeof t === 'string') return null;
  if (typeof t !== 'object' || t === null || Array.isArray(t)) return 'must be a string or an object';
  const o = t as Record<string, unknown>;
  if (typeof o.artist !== 'string' || typeof o.title !== 'string')
    return 'object needs string "artist" and "title"';
  if (o.artists !== undefined) {
    if (typeof o.artists !== 'object' || o.artists === null || Array.isArray(o.artists))
      return '"artists" must be an object of name → weight';
    for (const w of Object.values(o.artists))
      if (typeof w !== 'number' || !(w >= 0) || !Number.isFinite(w)) return '"artists" weights must be numbers ≥ 0';
  }
  return null;
}

export interface ReadCorpusOptions {
  /** Called for each line that cannot be read; when absent, the first bad line throws CorpusLineError. */
  onBadLine?: (error: CorpusLineError) => void;
}

/** Streams tracklists from a JSONL file; blank lines are skipped, anything else malformed is an error. */
export async function* readCorpus(file: string, options: ReadCorpusOptions = {}): AsyncGenerator<Tracklist> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    let problem: string;
    try {
      const result = validateTracklist(JSON.parse(line));
      if (typeof result !== 'string') {
        yield result;
        continue;
      }
      problem = result;
    } catch (e) {
      problem = `invalid JSON (${(e as Error).message})`;
    }
    const error = new CorpusLineError(file, lineNo, problem);
    if (!options.onBadLine) throw error;
    options.onBadLine(error);
  }
}

/** Reads a whole corpus into memory (convenience for tests and small corpora). */
export async function readCorpusAll(file: string): Promise<Tracklist[]> {
  const out: Tracklist[] = [];
  for await (const t of readCorpus(file)) out.push(t);
  return out;
}

/**
 * Writes tracklists as JSONL atomically: to a temporary file renamed into place on close, so a
 * reader never sees half a corpus.
 */
export class CorpusWriter {
  private readonly file: string;
  private readonly tmp: string;
  private readonly stream;
  count = 0;

  constructor(file: string) {
    this.file = file;
    this.tmp = `${file}.tmp-${process.pid}`;
    this.stream = createWriteStream(this.tmp, { encoding: 'utf8' });
  }

  async write(tracklist: Tracklist): Promise<void> {
    this.count++;
    if (!this.stream.write(JSON.stringify(tracklist) + '\n')) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    this.stream.end();
    await once(this.stream, 'finish');
    renameSync(this.tmp, this.file);
  }

  async abort(): Promise<void> {
    this.stream.destroy();
    rmSync(this.tmp, { force: true });
  }
}

export async function writeCorpus(file: string, tracklists: Iterable<Tracklist>): Promise<number> {
  const writer = new CorpusWriter(file);
  try {
    for (const t of tracklists) await writer.write(t);
  } catch (e) {
    await writer.abort();
    throw e;
  }
  await writer.close();
  return writer.count;
}
