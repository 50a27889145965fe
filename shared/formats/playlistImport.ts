/**
 * Playlist import: pasted lines, M3U/M3U8, CSV/TSV (Rekordbox's .txt export too) and Rekordbox XML
 * → "Artist - Title" entries with their line numbers. Nothing is dropped silently: every line that
 * is not blank, a comment or a header becomes an entry or a problem. Duplicates stay (the matcher
 * dedupes). Plain string work only (no Node or DOM APIs): the browser app and the Node API share it.
 */
import { csvRecords, detectDelimiter, type CsvDelimiter } from './csvRecords.ts';
import { scanRekordbox } from './rekordboxXml.ts';
import { splitArtistTitle } from './tracklistExport.ts';

export const IMPORT_FORMATS = ['lines', 'm3u', 'csv', 'rekordbox'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** `text` is `${artist} - ${title}`; `line` is 1-based. */
export interface ImportEntry {
  line: number;
  text: string;
  artist: string;
  title: string;
}

/** `source` is the raw line, trimmed, at most 200 characters. */
export interface ImportProblem {
  line: number;
  message: string;
  source: string;
}

export interface ParsedImport {
  format: ImportFormat;
  entries: ImportEntry[];
  problems: ImportProblem[];
}

export const MAX_IMPORT_ENTRIES = 5000;
/** Past this many problems the file is not what it claims to be; reading stops there too. */
export const MAX_IMPORT_PROBLEMS = 1000;

const EXPECTED = 'expected "Artist - Title"';
const NO_COLLECTION = 'not a Rekordbox collection export: no <COLLECTION> element';

// eslint-disable-next-line no-control-regex -- control characters are what must go
const CONTROL = /[\u0000-\u001F\u007F-\u009F\u2028\u2029]/g;

function clean(s: string): string {
  return s.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
}

// ---------------------------------------------------------------------------------------------
// Collecting entries and problems

interface Sink {
  entries: ImportEntry[];
  problems: ImportProblem[];
  /** Set once a limit is hit: parsers stop reading. */
  full: boolean;
  add(line: number, artist: string, title: string): void;
  /** "Artist - Title" text → an entry, or a problem when it has no separator. */
  addText(line: number, text: string, source: string, message?: string): void;
  problem(line: number, message: string, source: string): void;
}

function sink(): Sink {
  const s: Sink = {
    entries: [],
    problems: [],
    full: false,
    add(line, artist, title) {
      if (s.full) return;
      if (s.entries.length >= MAX_IMPORT_ENTRIES) {
        s.problems.push({
          line,
          message: `file has more than ${MAX_IMPORT_ENTRIES} songs; the rest were not read`,
          source: '',
        });
        s.full = true;
        return;
      }
      const a = clean(artist);
      const t = clean(title);
      s.entries.push({ line, text: `${a} - ${t}`, artist: a, title: t });
    },
    addText(line, text, source, message = EXPECTED) {
      const { artist, title } = splitArtistTitle(clean(text));
      if (artist === '' || title === '') s.problem(line, message, source);
      else s.add(line, artist, title);
    },
    problem(line, message, source) {
      if (s.full) return;
      if (s.problems.length >= MAX_IMPORT_PROBLEMS) {
        s.problems.push({
          line,
          message: `more than ${MAX_IMPORT_PROBLEMS} lines could not be read; the rest of the file was not read`,
          source: '',
        });
        s.full = true;
        return;
      }
      s.problems.push({ line, message, source: source.trim().slice(0, 200) });
    },
  };
  return s;
}

// ---------------------------------------------------------------------------------------------
// Decoding and detection

const UTF16_MESSAGE =
  'this file is UTF-16 text (as Rekordbox writes its .txt export) and could not be read; save it as UTF-8 and import it again';

/**
 * BOM stripped, line ends as "\n". UTF-16 read as Latin-1, or read as UTF-8 while pure ASCII,
 * shows as every other character NUL and is decoded back exactly; UTF-16 with other characters
 * read as UTF-8 lost bytes to U+FFFD, so that is reported instead of guessed at.
 */
function prepare(content: string): { text: string; problem: string | null } {
  let s = typeof content === 'string' ? content : String(content ?? '');
  if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
  const sample = s.slice(0, 4096);
  const nuls = sample.split('\u0000').length - 1;
  let problem: string | null = null;
  if (sample.length >= 4 && nuls * 4 >= sample.length) {
    s = s.replace(/^(?:\u00FF\u00FE|\u00FE\u00FF|\uFFFD\uFFFD)/, '');
    if (/[\u0100-\uFFFF]/.test(s)) {
      problem = UTF16_MESSAGE;
      s = s.split('\0').join('');
    } else {
      // Little-endian puts the NUL (high byte of ASCII) second.
      const le = s.charCodeAt(1) === 0 || s.charCodeAt(0) !== 0;
      let out = '';
      for (let i = 0; i + 1 < s.length; i += 2) {
        const lo = s.charCodeAt(le ? i : i + 1);
        const hi = s.charCodeAt(le ? i + 1 : i);
        out += String.fromCharCode(lo | (hi << 8));
      }
      s = out.charCodeAt(0) === 0xfeff ? out.slice(1) : out;
    }
  }
  return { text: s.replace(/\r\n?/g, '\n'), problem };
}

const ARTIST_COLUMNS = ['artist', 'artists', 'artist name', 'artist name(s)'];
// In order of preference when a header has several.
const TITLE_COLUMNS = ['title', 'track title', 'track name', 'name', 'song', 'track'];
// A column holding the whole "Artist - Title" when there is no artist column.
const COMBINED_COLUMNS = ['song', 'track'];

interface Header {
  delimiter: CsvDelimiter;
  /** -1: `title` holds "Artist - Title". */
  artist: number;
  title: number;
  names: string[];
}

function headerOf(fields: string[], delimiter: CsvDelimiter): Header | null {
  const names = fields.map((f) => f.replace(/^\uFEFF/, '').trim());
  const cells = names.map((n) => n.toLowerCase().replace(/\s+/g, ' '));
  const find = (aliases: string[], skip = -1): number => {
    for (const alias of aliases) {
      const i = cells.findIndex((c, j) => c === alias && j !== skip);
      if (i >= 0) return i;
    }
    return -1;
  };
  const artist = find(ARTIST_COLUMNS);
  if (artist >= 0) {
    const title = find(TITLE_COLUMNS, artist);
    return title >= 0 ? { delimiter, artist, title, names } : null;
  }
  const combined = find(COMBINED_COLUMNS);
  return combined >= 0 ? { delimiter, artist: -1, title: combined, names } : null;
}

function firstLineOf(text: string): string {
  return /^[^\S\n]*(\S[^\n]*)/m.exec(text)?.[1] ?? '';
}

function headerLine(line: string): Header | null {
  const delimiter = detectDelimiter(line);
  const first = csvRecords(line, delimiter).next();
  return first.done ? null : headerOf(first.value.fields, delimiter);
}

function extensionOf(fileName: string | null | undefined): string {
  const base = (fileName ?? '').split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot < 0 ? '' : base.slice(dot + 1).toLowerCase();
}

function detect(text: string, fileName: string | null | undefined): ImportFormat {
  const ext = extensionOf(fileName);
  if (ext === 'm3u' || ext === 'm3u8') return 'm3u';
  if (ext === 'xml') return 'rekordbox';
  if (ext === 'csv' || ext === 'tsv') return 'csv';
  const first = firstLineOf(text);
  if (ext === 'txt' && headerLine(first)) return 'csv';
  if (/^#EXTM3U/i.test(first) || /^\s*#EXTINF:/im.test(text)) return 'm3u';
  if (/^<\?xml/i.test(first) || text.includes('<DJ_PLAYLISTS')) return 'rekordbox';
  if (headerLine(first)) return 'csv';
  return 'lines';
}

export function detectImportFormat(content: string, fileName?: string | null): ImportFormat {
  return detect(prepare(content).text, fileName);
}

// ---------------------------------------------------------------------------------------------
// Lines

// "01. ", "1) ", "[03] ": a bare "1 " or "1 - " is left (it could start an artist's name).
const NUMBERING = /^(?:\[\d{1,3}\][.)]?|\d{1,3}[.)])\s+/;
const TIMESTAMP = /^\[?\d{1,2}:\d{2}(?::\d{2})?\]?\s+/;
const BULLET = /^[-*•]\s+/;

/** Play-order noise DJs paste: numbering, "[12:30] " timestamps, "- " / "* " / "• " bullets. */
function stripPrefix(s: string): string {
  let t = s;
  for (let i = 0; i < 3; i++) {
    const next = t.replace(NUMBERING, '').replace(TIMESTAMP, '').replace(BULLET, '');
    if (next === t) break;
    t = next;
  }
  return t;
}

function isComment(t: string): boolean {
  return t.startsWith('#') || t.startsWith('//');
}

function parseLines(lines: string[], out: Sink): void {
  // A 1001Tracklists-style list (our txt export too) opens with its name, a blank line, then "01. ".
  const first = lines.findIndex((l) => l.trim() !== '');
  let titleLine = -1;
  if (first >= 0 && !NUMBERING.test(lines[first].trim()) && lines[first + 1]?.trim() === '') {
    const next = lines.findIndex((l, i) => i > first && l.trim() !== '');
    if (next >= 0 && NUMBERING.test(lines[next].trim())) titleLine = first;
  }
  for (let i = 0; i < lines.length && !out.full; i++) {
    const t = lines[i].trim();
    if (t === '' || isComment(t) || i === titleLine) continue;
    out.addText(i + 1, stripPrefix(t), t);
  }
}

// ---------------------------------------------------------------------------------------------
// M3U

const AUDIO_EXT = /\.(?:mp3|m4a|m4p|aac|alac|flac|wav|wave|aif|aiff|ogg|oga|opus|wma|ape|wv|mp4|dsf|dff)$/i;

/** "/music/Artist - Title.mp3" or a file:// / http URL → "Artist - Title". */
function nameFromLocation(location: string): string {
  let s = location.trim();
  const url = /^(?:file|https?):\/\//i.test(s);
  if (url) s = s.replace(/[?#].*$/, '');
  s = s.replace(/[\\/]+$/, '');
  s = s.slice(Math.max(s.lastIndexOf('/'), s.lastIndexOf('\\')) + 1);
  if (url) {
    try {
      s = decodeURIComponent(s);
    } catch {
      // A stray "%" that is not an escape: keep the name as written.
    }
  }
  return s.replace(AUDIO_EXT, '');
}

/** The display text after the first comma outside quoted attributes. */
function extinfTitle(line: string): string {
  let quoted = false;
  for (let i = '#EXTINF:'.length; i < line.length; i++) {
    if (line[i] === '"') quoted = !quoted;
    else if (line[i] === ',' && !quoted) return line.slice(i + 1);
  }
  return '';
}

function parseM3u(lines: string[], out: Sink): void {
  let pending: { line: number; text: string; source: string } | null = null;
  // An #EXTINF gives the entry; with no "Artist - Title" in it, the location's file name may.
  const flush = (location: string | null): void => {
    if (!pending) return;
    const p = pending;
    pending = null;
    const ownSplit = splitArtistTitle(clean(p.text));
    const fromFile = location === null ? null : splitArtistTitle(clean(nameFromLocation(location)));
    const use = ownSplit.artist === '' && fromFile && fromFile.artist !== '' ? fromFile : ownSplit;
    out.addText(p.line, `${use.artist} - ${use.title}`, p.source, `${EXPECTED} after #EXTINF:`);
  };
  for (let i = 0; i < lines.length && !out.full; i++) {
    const t = lines[i].trim();
    if (t === '') continue;
    if (/^#EXTINF:/i.test(t)) {
      flush(null);
      pending = { line: i + 1, text: extinfTitle(t), source: t };
    } else if (t.startsWith('#')) {
      continue;
    } else if (pending) {
      flush(t);
    } else {
      out.addText(i + 1, nameFromLocation(t), t);
    }
  }
  flush(null);
}

// ---------------------------------------------------------------------------------------------
// CSV

// Our CSV export (and others) prefix formula-like cells with "'"; read them back as written.
function unguard(s: string): string {
  return /^'[=+\-@\t\r]/.test(s) ? s.slice(1) : s;
}

function parseCsv(text: string, out: Sink): void {
  const delimiter = detectDelimiter(firstLineOf(text));
  let header: Header | null | undefined;
  for (const rec of csvRecords(text, delimiter)) {
    if (out.full) break;
    if (rec.unterminated) {
      out.problem(rec.line, 'unterminated quoted field; the rest of the file was not read', rec.raw);
      break;
    }
    const fields = rec.fields.map((f) => unguard(f.trim()));
    if (fields.every((f) => f === '')) continue;
    if (header === undefined) {
      header = headerOf(rec.fields, delimiter);
      if (header) continue;
    }
    if (header === null) {
      headerless(rec.line, fields, rec.fields.join(delimiter), rec.raw, out);
    } else if (header.artist < 0) {
      out.addText(rec.line, fields[header.title] ?? '', rec.raw);
    } else {
      const artist = clean(fields[header.artist] ?? '');
      const title = clean(fields[header.title] ?? '');
      const missing = [
        artist === '' ? `artist (column "${header.names[header.artist]}")` : '',
        title === '' ? `title (column "${header.names[header.title]}")` : '',
      ].filter((m) => m !== '');
      if (missing.length > 0) out.problem(rec.line, `missing ${missing.join(' and ')}`, rec.raw);
      else out.add(rec.line, artist, title);
    }
  }
}

/**
 * No header: one "Artist - Title" column (extra columns such as durations ignored), an unquoted
 * name with the delimiter in it ("Tyler, The Creator - …"), or two columns artist, title.
 */
function headerless(line: number, fields: string[], joined: string, raw: string, out: Sink): void {
  const filled = fields.filter((f) => f !== '');
  const hasSeparator = (s: string): boolean => splitArtistTitle(clean(s)).artist !== '';
  if (hasSeparator(fields[0]) || filled.length === 1) out.addText(line, filled[0], raw);
  else if (hasSeparator(joined)) out.addText(line, joined, raw);
  else if (fields[0] !== '' && (fields[1] ?? '') !== '') out.add(line, fields[0], fields[1]);
  else out.problem(line, `${EXPECTED}, or a header row naming the artist and title columns`, raw);
}

// ---------------------------------------------------------------------------------------------
// Rekordbox XML

function parseRekordbox(text: string, out: Sink): void {
  const scan = scanRekordbox(text);
  if (!scan.collection) {
    out.problem(1, NO_COLLECTION, firstLineOf(text));
    return;
  }
  for (const p of scan.problems) out.problem(p.line, p.message, p.source);
  for (const track of scan.tracks) {
    if (out.full) break;
    const artist = clean(track.attrs.Artist ?? '');
    const title = clean(track.attrs.Name ?? '');
    const missing = [artist === '' ? 'Artist' : '', title === '' ? 'Name' : ''].filter((m) => m !== '');
    if (missing.length > 0) out.problem(track.line, `<TRACK> has no ${missing.join(' or ')}`, track.source);
    else out.add(track.line, artist, title);
  }
}

// ---------------------------------------------------------------------------------------------

export function parseImport(
  content: string,
  options: { fileName?: string | null; format?: ImportFormat } = {},
): ParsedImport {
  const { text, problem } = prepare(content);
  const format = options.format ?? detect(text, options.fileName);
  if (!IMPORT_FORMATS.includes(format)) throw new Error(`unknown import format "${String(format)}"`);
  const out = sink();
  if (problem !== null) out.problem(1, problem, firstLineOf(text));
  else if (format === 'lines') parseLines(text.split('\n'), out);
  else if (format === 'm3u') parseM3u(text.split('\n'), out);
  else if (format === 'csv') parseCsv(text, out);
  else parseRekordbox(text, out);
  // Problems come in reading order except Rekordbox playlist ones; report them by line.
  const problems = out.problems.map((p, i) => ({ p, i }));
  problems.sort((a, b) => a.p.line - b.p.line || a.i - b.i);
  return { format, entries: out.entries, problems: problems.map(({ p }) => p) };
}
