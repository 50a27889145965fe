/**
 * A small tolerant scanner for Rekordbox XML exports (not a general XML parser): the <TRACK> start
 * tags inside <COLLECTION>, and the <TRACK Key> references of the first playlist node, which give
 * the order when present. Input has "\n" line ends only (the caller normalises them).
 */

export interface RekordboxTrack {
  /** 1-based line of the <TRACK> tag. */
  line: number;
  attrs: Record<string, string>;
  /** The start tag as written. */
  source: string;
}

export interface RekordboxScan {
  /** False when the text has no <COLLECTION> element at all. */
  collection: boolean;
  /** In playlist order when there is a playlist, else in collection order; never deduplicated. */
  tracks: RekordboxTrack[];
  problems: { line: number; message: string; source: string }[];
}

interface Tag {
  /** Index of "<". */
  at: number;
  /** Index just past ">"; -1 when the tag never closes. */
  end: number;
  attrs: Record<string, string>;
}

const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** XML entities decoded; an unknown or malformed one is kept as written. */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, body: string) => {
    if (body[0] !== '#') return NAMED[body] ?? whole;
    const code =
      body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    return code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : whole;
  });
}

/** Reads the attributes of the start tag whose name ends at `from`, up to its ">". */
function readTag(text: string, at: number, from: number): Tag {
  const attrs: Record<string, string> = {};
  let i = from;
  for (;;) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (i >= text.length || text[i] === '<') return { at, end: -1, attrs };
    if (text[i] === '>') return { at, end: i + 1, attrs };
    if (text[i] === '/' && text[i + 1] === '>') return { at, end: i + 2, attrs };
    const name = /^[^\s=/>"'<]+/.exec(text.slice(i, i + 200))?.[0];
    if (!name) {
      i++; // stray character ("/", a quote): skip it, tolerantly
      continue;
    }
    i += name.length;
    while (i < text.length && /\s/.test(text[i])) i++;
    if (text[i] !== '=') continue; // attribute without a value
    i++;
    while (i < text.length && /\s/.test(text[i])) i++;
    const q = text[i];
    if (q === '"' || q === "'") {
      const close = text.indexOf(q, i + 1);
      if (close < 0) return { at, end: -1, attrs };
      attrs[name] = decodeEntities(text.slice(i + 1, close));
      i = close + 1;
    } else {
      const bare = /^[^\s>]*/.exec(text.slice(i))?.[0] ?? '';
      attrs[name] = decodeEntities(bare);
      i += bare.length;
    }
  }
}

/** Every <NAME ...> start tag in text[from, to), comments skipped; an unclosed one ends the list. */
function startTags(text: string, name: string, from: number, to: number): Tag[] {
  const tags: Tag[] = [];
  const open = `<${name}`;
  let i = from;
  while (i < to) {
    const at = text.indexOf(open, i);
    const comment = text.indexOf('<!--', i);
    if (comment >= 0 && comment < to && (at < 0 || comment < at)) {
      const close = text.indexOf('-->', comment + 4);
      i = close < 0 ? to : close + 3;
      continue;
    }
    if (at < 0 || at >= to) break;
    const after = at + open.length;
    if (after < text.length && !/[\s/>]/.test(text[after])) {
      i = after; // a longer name such as <TRACKS
      continue;
    }
    const tag = readTag(text, at, after);
    tags.push(tag);
    if (tag.end < 0) break;
    i = tag.end;
  }
  return tags;
}

/** Index of `</NAME` at or after `from`, else the end of the text. */
function endOf(text: string, name: string, from: number): number {
  const i = text.indexOf(`</${name}`, from);
  return i < 0 ? text.length : i;
}

export function scanRekordbox(text: string): RekordboxScan {
  const problems: RekordboxScan['problems'] = [];
  const collectionTag = startTags(text, 'COLLECTION', 0, text.length)[0];
  if (!collectionTag) return { collection: false, tracks: [], problems };

  // Line numbers by offset; tags are visited in order, so one forward pass over the text.
  let lineAt = 0;
  let line = 1;
  const lineOf = (offset: number): number => {
    if (offset < lineAt) [lineAt, line] = [0, 1];
    for (; lineAt < offset; lineAt++) if (text.charCodeAt(lineAt) === 10) line++;
    return line;
  };
  const sourceOf = (tag: Tag): string => {
    const end = tag.end < 0 ? Math.min(text.length, tag.at + 200) : tag.end;
    return text.slice(tag.at, end).replace(/\s+/g, ' ').trim().slice(0, 200);
  };

  const tracks: RekordboxTrack[] = [];
  if (collectionTag.end < 0) {
    problems.push({
      line: lineOf(collectionTag.at),
      message: 'unterminated <COLLECTION> tag',
      source: sourceOf(collectionTag),
    });
    return { collection: true, tracks, problems };
  }
  const collectionEnd = endOf(text, 'COLLECTION', collectionTag.end);
  for (const tag of startTags(text, 'TRACK', collectionTag.end, collectionEnd)) {
    const source = sourceOf(tag);
    const at = lineOf(tag.at);
    if (tag.end < 0) {
      problems.push({
        line: at,
        message: 'unterminated <TRACK> tag; the tracks after it were not read',
        source,
      });
      return { collection: true, tracks, problems };
    }
    tracks.push({ line: at, attrs: tag.attrs, source });
  }

  const order = playlistOrder(text, collectionEnd, tracks, lineOf, sourceOf, problems);
  return { collection: true, tracks: order ?? tracks, problems };
}

/**
 * The collection tracks in the first playlist's order, then those the playlist does not list;
 * null without a playlist. KeyType 0 keys are TrackIDs, KeyType 1 keys are Locations.
 */
function playlistOrder(
  text: string,
  from: number,
  tracks: RekordboxTrack[],
  lineOf: (offset: number) => number,
  sourceOf: (tag: Tag) => string,
  problems: RekordboxScan['problems'],
): RekordboxTrack[] | null {
  const playlistsTag = startTags(text, 'PLAYLISTS', from, text.length)[0];
  if (!playlistsTag || playlistsTag.end < 0) return null;
  const playlistsEnd = endOf(text, 'PLAYLISTS', playlistsTag.end);
  const node = startTags(text, 'NODE', playlistsTag.end, playlistsEnd).find(
    (n) => n.end >= 0 && n.attrs.Type === '1',
  );
  if (!node) return null;
  const keyAttr = node.attrs.KeyType === '1' ? 'Location' : 'TrackID';
  const byKey = new Map<string, RekordboxTrack>();
  for (const t of tracks) {
    const key = t.attrs[keyAttr];
    if (key !== undefined && !byKey.has(key)) byKey.set(key, t);
  }
  const ordered: RekordboxTrack[] = [];
  const listed = new Set<RekordboxTrack>();
  // A self-closing playlist node has no tracks; otherwise its TRACKs run to its </NODE>.
  const selfClosing = text.slice(node.at, node.end).endsWith('/>');
  const nodeEnd = selfClosing ? node.end : endOf(text, 'NODE', node.end);
  for (const ref of startTags(text, 'TRACK', node.end, nodeEnd)) {
    if (ref.end < 0) {
      problems.push({
        line: lineOf(ref.at),
        message: 'unterminated <TRACK> tag in the playlist',
        source: sourceOf(ref),
      });
      break;
    }
    const track = ref.attrs.Key === undefined ? undefined : byKey.get(ref.attrs.Key);
    if (track) {
      ordered.push(track);
      listed.add(track);
    } else {
      const key = ref.attrs.Key ?? '';
      problems.push({
        line: lineOf(ref.at),
        message: `playlist track Key="${key}" is not in the <COLLECTION>`,
        source: sourceOf(ref),
      });
    }
  }
  for (const t of tracks) if (!listed.has(t)) ordered.push(t);
  return ordered;
}
