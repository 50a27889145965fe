/**
 * Tracklist export: one generated tracklist as an M3U8 playlist, an RFC 4180 CSV, a 1001Tracklists
 * style text list or JSON. Plain string work only (no Node or DOM APIs): the browser app and the
 * Node API share it.
 */

export const EXPORT_FORMATS = ['m3u8', 'csv', 'txt', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportSong {
  id: string;
  /** Display form "Artist & Other ft. X - Title (Y Remix)". */
  name: string;
  artists: { id: string; name: string }[];
  userScore?: number;
  songScore?: number;
  /** Natural-log probabilities per level. */
  logProb?: { l3: number; l2: number; l1: number; song: number };
}

export interface ExportableTracklist {
  name: string | null;
  songs: ExportSong[];
  modelVersion?: string | null;
  createdAt?: string | null;
}

export interface ExportedFile {
  body: string;
  contentType: string;
  extension: string;
  filename: string;
}

const SEPARATOR = ' - ';
// Only when a name has no " - ": the same fallback the import side accepts, so both split alike.
const DASH_SEPARATORS = [' \u2013 ', ' \u2014 '];

/**
 * "Artist - Title" → parts, split on the first " - " (else the first " – " / " — "); with no
 * separator the artist is empty and the title is the whole name. Total: never throws.
 */
export function splitArtistTitle(name: string): { artist: string; title: string } {
  const s = typeof name === 'string' ? name : String(name ?? '');
  let at = s.indexOf(SEPARATOR);
  if (at < 0) {
    for (const sep of DASH_SEPARATORS) {
      const i = s.indexOf(sep);
      if (i >= 0 && (at < 0 || i < at)) at = i;
    }
  }
  if (at < 0) return { artist: '', title: s.trim() };
  return { artist: s.slice(0, at).trim(), title: s.slice(at + SEPARATOR.length).trim() };
}

// eslint-disable-next-line no-control-regex -- control characters are what must go
const CONTROL = /[\u0000-\u001F\u007F-\u009F\u2028\u2029]/g;

/** One line of text: control characters (newlines too) become spaces, runs collapsed. */
function oneLine(s: string): string {
  return s.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
}

function displayLine(song: ExportSong): string {
  const { artist, title } = splitArtistTitle(song.name);
  return oneLine(artist === '' ? title : `${artist}${SEPARATOR}${title}`);
}

// ---------------------------------------------------------------------------------------------
// M3U8

/**
 * There are no audio files, so the location line is the display name as a relative file name:
 * players show the #EXTINF text and report the file missing, and importers (ours included) read
 * the name back from it. Characters no file system allows become spaces; a leading "#" would make
 * the line a directive and trailing dots vanish on Windows, so those are handled too.
 */
function locationLine(song: ExportSong, position: number): string {
  const safe = song.name
    .replace(CONTROL, ' ')
    .replace(/[/\\:*?"<>|]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[. ]+$/, '');
  if (safe === '') return `track ${position}`;
  return safe.startsWith('#') ? `./${safe}` : safe;
}

function toM3u8(t: ExportableTracklist): string {
  const lines = ['#EXTM3U'];
  const name = t.name === null ? '' : oneLine(t.name);
  if (name !== '') lines.push(`#PLAYLIST:${name}`);
  t.songs.forEach((song, i) => {
    lines.push(`#EXTINF:-1,${displayLine(song)}`, locationLine(song, i + 1));
  });
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// CSV

const CSV_HEADER = [
  'position',
  'artist',
  'title',
  'song_id',
  'user_score',
  'seed_score',
  'p_l3',
  'p_l2',
  'p_l1',
  'p_song',
];

/**
 * Spreadsheets run a cell starting with = + - @ (or tab/CR, which some strip first) as a formula,
 * so a crafted song name could execute in whoever opens the file; a leading ' makes it plain text.
 */
function textCell(s: string): string {
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

function quoteCsv(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function fixed4(x: number | undefined): string {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(4) : '';
}

function probability(logP: number | undefined): string {
  return typeof logP === 'number' && !Number.isNaN(logP) ? fixed4(Math.exp(logP)) : '';
}

function toCsv(t: ExportableTracklist): string {
  const rows = [CSV_HEADER.join(',')];
  t.songs.forEach((song, i) => {
    const { artist, title } = splitArtistTitle(song.name);
    const p = song.logProb;
    const cells = [
      String(i + 1),
      textCell(artist),
      textCell(title),
      textCell(song.id),
      fixed4(song.userScore),
      fixed4(song.songScore),
      probability(p?.l3),
      probability(p?.l2),
      probability(p?.l1),
      probability(p?.song),
    ];
    rows.push(cells.map(quoteCsv).join(','));
  });
  return rows.join('\r\n') + '\r\n';
}

// ---------------------------------------------------------------------------------------------
// Text and JSON

function toTxt(t: ExportableTracklist): string {
  const lines: string[] = [];
  const name = t.name === null ? '' : oneLine(t.name);
  if (name !== '') lines.push(name, '');
  const width = Math.max(2, String(t.songs.length).length);
  t.songs.forEach((song, i) => lines.push(`${String(i + 1).padStart(width, '0')}. ${displayLine(song)}`));
  return lines.join('\n') + '\n';
}

function optionalNumber(x: number | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

function toJson(t: ExportableTracklist): string {
  const doc = {
    name: t.name ?? null,
    model: t.modelVersion ?? null,
    createdAt: t.createdAt ?? null,
    songs: t.songs.map((song, i) => {
      const { artist, title } = splitArtistTitle(song.name);
      const p = song.logProb;
      return {
        position: i + 1,
        id: song.id,
        name: song.name,
        artist,
        title,
        artists: song.artists.map((a) => ({ id: a.id, name: a.name })),
        userScore: optionalNumber(song.userScore),
        songScore: optionalNumber(song.songScore),
        probability: p
          ? { l3: Math.exp(p.l3), l2: Math.exp(p.l2), l1: Math.exp(p.l1), song: Math.exp(p.song) }
          : null,
      };
    }),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

// ---------------------------------------------------------------------------------------------

// audio/x-mpegurl is what desktop players (VLC, foobar2000, Music) open a downloaded .m3u8 with;
// application/vnd.apple.mpegurl marks an HLS stream, which browsers and players try to stream.
const TYPES: Readonly<Record<ExportFormat, string>> = {
  m3u8: 'audio/x-mpegurl; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

// Letters NFKD does not split into a base letter and an accent.
const FOLD: Readonly<Record<string, string>> = {
  ø: 'o',
  æ: 'ae',
  œ: 'oe',
  ß: 'ss',
  ł: 'l',
  đ: 'd',
  þ: 'th',
  ð: 'd',
};

/** File name stem: lowercase ASCII letters, digits and "-", at most 60 characters. */
function slug(name: string | null): string {
  const s = (name ?? '')
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[øæœßłđþð]/g, (ch) => FOLD[ch] ?? ch)
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return s === '' ? 'tracklist' : s;
}

export function exportTracklist(tracklist: ExportableTracklist, format: ExportFormat): ExportedFile {
  const body =
    format === 'm3u8'
      ? toM3u8(tracklist)
      : format === 'csv'
        ? toCsv(tracklist)
        : format === 'txt'
          ? toTxt(tracklist)
          : format === 'json'
            ? toJson(tracklist)
            : null;
  // Callers from JavaScript or untyped JSON can pass anything.
  if (body === null) throw new Error(`unknown export format "${String(format)}"`);
  return {
    body,
    contentType: TYPES[format],
    extension: format,
    filename: `${slug(tracklist.name)}.${format}`,
  };
}
