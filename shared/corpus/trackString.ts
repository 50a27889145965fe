/**
 * Track-string parser: 1001Tracklists-style "Artist[ & Artist][ ft. Artist] - Title[ (Remixer Remix)]"
 * strings (and structured credits) into weighted artist credits, a display form and an identity key.
 *
 * Decisions:
 * - Mashups ("A vs. B - T1 vs. T2 (X Mashup)"): every artist on a vs.-side gets role 'mashup' with the
 *   same base weight as 'main'; the mashup maker in the parentheses is a 'remixer'.
 * - Unknowns: the track is an 'unidentified' gap when its artist part or its bare title is an unknown
 *   token (ID, ?, ???, Unknown, TBA...). An unknown remixer ("Artist - Title (ID Remix)") leaves a song:
 *   the ID is not credited, but "(id remix)" stays in the key since it is a different record.
 * - " and " is never a list separator (Bob Marley And The Wailers, Heaven And Earth), except ", and".
 * - A string with no " - " is a song titled by the whole string with zero artists.
 * - Split on the first " - " / " – " / " — "; an em dash followed later by " - " is Soulection's
 *   "Artist — Album - Title", so the album is dropped.
 * - Bare "/" and " and " are not split (AC/DC, Mono/Poly); a few famous names that contain "," or "+"
 *   stay whole (Tyler, The Creator; Florence + The Machine). "&" always splits, as 1001Tracklists does.
 * - Leading play-order noise (timestamps, "12. ", "w/ ", "+ ") is ignored for parsing and the key.
 * - Key: canonical artists ("a & b ft. c") + " - " + normalised title with the record-changing groups
 *   (remix credits, acappella, instrumental...); featured/producer credits move to the artist side or
 *   drop, and same-record tags (Original Mix, Extended Mix, Radio Edit, Clean, Remastered) are left out.
 */
import type { RawTrack, StructuredTrack } from './types.ts';

export type ArtistRole = 'main' | 'featured' | 'remixer' | 'coproducer' | 'mashup' | 'presenter';

export interface ParsedArtist {
  /** Display form. */
  name: string;
  /** Normalised identity (normalizeName). */
  key: string;
  role: ArtistRole;
  weight: number;
}

export type ParsedTrack =
  | { kind: 'song'; display: string; key: string; title: string; artists: ParsedArtist[]; acappella: boolean }
  | { kind: 'gap'; display: string; reason: 'unidentified' | 'empty' };

/**
 * Base weights before normalising to sum 1: a remix is mostly the remixer's record, so the remixer
 * outweighs the original artists; mashup sources count like main artists; featured vocalists,
 * presenters and co-producers count half.
 */
export const ROLE_WEIGHT: Readonly<Record<ArtistRole, number>> = {
  remixer: 2,
  main: 1,
  mashup: 1,
  coproducer: 0.5,
  presenter: 0.5,
  featured: 0.5,
};

/** Which role survives when one artist is credited twice. */
const ROLE_RANK: Readonly<Record<ArtistRole, number>> = {
  remixer: 5,
  main: 4,
  mashup: 3,
  coproducer: 2,
  presenter: 1,
  featured: 0,
};

// ---------------------------------------------------------------------------------------------
// Normalisation

// Control and format characters (tabs and newlines are whitespace, collapsed elsewhere).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const INVISIBLE = /[\u0000-\u0008\u000E-\u001F\u007F\u00AD\u200B-\u200F\u202A-\u202E\u2060-\u2064\uFEFF]/g;
const SINGLE_QUOTES = /[\u2018\u2019\u201A\u201B\u2032\u0060\u00B4\u02BC]/g;
const DOUBLE_QUOTES = /[\u201C\u201D\u201E\u201F\u2033\u00AB\u00BB]/g;
const DASHES = /[\u2010-\u2015\u2212\uFE58\uFE63\uFF0D]/g;
// Letters NFD does not split into base + mark.
const FOLD: Readonly<Record<string, string>> = {
  ø: 'o',
  đ: 'd',
  ł: 'l',
  ı: 'i',
  æ: 'ae',
  œ: 'oe',
  ß: 'ss',
  þ: 'th',
  ð: 'd',
};
const FOLD_RE = /[øđłıæœßþð]/g;
// Accents go only on alphabetic scripts: kana dakuten or Hangul jamo are letters, not accents.
const LATIN_MARKS = /(?<=[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}]\p{M}*)\p{M}+/gu;
// Printable ASCII minus the backtick needs no Unicode work: the common case, kept cheap.
const ASCII_PLAIN = /^[\x20-\x5F\x61-\x7E]*$/;
const NAME_CACHE = new Map<string, string>();

/** Identity key for names: NFKC, case-folded, whitespace collapsed, accents/diacritics stripped, quotes/dashes unified. */
export function normalizeName(name: string): string {
  const s = typeof name === 'string' ? name : String(name);
  const hit = NAME_CACHE.get(s);
  if (hit !== undefined) return hit;
  const out = ASCII_PLAIN.test(s)
    ? s.toLowerCase().replace(/\s+/g, ' ').trim()
    : s
        .normalize('NFKC')
        .replace(INVISIBLE, '')
        .replace(SINGLE_QUOTES, "'")
        .replace(DOUBLE_QUOTES, '"')
        .replace(DASHES, '-')
        .normalize('NFD')
        .replace(LATIN_MARKS, '')
        .normalize('NFC')
        .toLowerCase()
        .replace(FOLD_RE, (ch) => FOLD[ch] ?? ch)
        .replace(/\s+/g, ' ')
        .trim();
  // Names repeat heavily across a corpus; the bound keeps memory flat on huge inputs.
  if (NAME_CACHE.size >= 100_000) NAME_CACHE.clear();
  NAME_CACHE.set(s, out);
  return out;
}

/** Display form: invisible characters dropped, whitespace collapsed, trimmed. */
const NEEDS_TIDY = new RegExp(String.raw`\s\s|^\s|\s$|[^\S ]|` + INVISIBLE.source);
function tidy(s: string): string {
  return NEEDS_TIDY.test(s) ? s.replace(INVISIBLE, '').replace(/\s+/g, ' ').trim() : s;
}

// ---------------------------------------------------------------------------------------------
// Unknowns

const UNKNOWN_HINT = /\bid\b|\?|unk|n\/a|\btb[acd]\b/i;
const UNKNOWN_WORD = /^(?:id|\?+|unknown|unkown|n\/a|tba|tbc|tbd)$/;
const UNKNOWN_FILLER = /^(?:\d{1,2}|artist|title|track|song)$/;

/** True for ID / ? / ??? / Unknown / "ID 2" / "(Unknown)" / "?? ??" / "Unknown Artist". */
function isUnknown(s: string): boolean {
  if (!UNKNOWN_HINT.test(s)) return false;
  let unknown = 0;
  for (const raw of normalizeName(s).split(' ')) {
    const w = raw.replace(/^[^\p{L}\p{N}?/]+|[^\p{L}\p{N}?/]+$/gu, '');
    if (w === '') continue;
    if (UNKNOWN_WORD.test(w)) unknown++;
    else if (!UNKNOWN_FILLER.test(w)) return false;
  }
  return unknown > 0;
}

// ---------------------------------------------------------------------------------------------
// Name lists

// Names 1001Tracklists keeps whole although they contain a list separator other than "&".
const PROTECTED = [/tyler, the creator/gi, /earth, wind & fire/gi, /florence \+ the machine/gi];
const HIDE: Readonly<Record<string, string>> = { ',': '\uE000', '&': '\uE001', '+': '\uE002' };
const UNHIDE: Readonly<Record<string, string>> = { '\uE000': ',', '\uE001': '&', '\uE002': '+' };

const LIST_SEP = new RegExp(
  [
    // "A, B", "A, and B"; not "Grover Washington, Jr"
    String.raw`\s*,\s+(?:and\s+|&\s+)?(?!(?:jr|sr)\b)`,
    String.raw`\s+[&+/]\s+`,
    String.raw`;\s+`,
    // "A x B"; not "Cygnus X & B"
    String.raw`\s+x\s+(?!(?:[&+/]|x|vs\.?|ft\.?|feat\.?|and)\s)`,
  ].join('|'),
  'i',
);
const FEAT_SEP = /\s+(?:ft\.?|feat\.?|featuring|w\/)\s+/i;
const VS_SEP = /\s+vs\.?\s+/i;
const PRES_SEP = /\s+(?:pres\.?|presents)\s+/i;

function cleanName(s: string): string {
  return s
    .replace(/[\uE000-\uE002]/g, (ch) => UNHIDE[ch] ?? ch)
    .replace(/^(?:[\s,;]|[&+/](?=\s)|(?:ft|feat)\.\s*)+/i, '')
    .replace(/(?:[\s,;]|(?<=\s)[&+/])+$/, '')
    .trim();
}

/** Splits "A & B, C x D" into names (a nested "ft." too); drops empty and unknown ones. */
function splitNames(s: string): string[] {
  let t = s;
  if (/[,+]/.test(t)) {
    for (const re of PROTECTED) t = t.replace(re, (m) => m.replace(/[,&+]/g, (ch) => HIDE[ch] ?? ch));
  }
  const out: string[] = [];
  const parts = FEAT_SEP.test(t) ? t.split(FEAT_SEP).flatMap((p) => p.split(LIST_SEP)) : t.split(LIST_SEP);
  for (const part of parts) {
    const name = cleanName(part);
    if (name !== '' && !isUnknown(name)) out.push(name);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parenthesised groups

/** Top-level (...) / [...] / {...} groups and the text outside them; an unclosed group runs to the end. */
function extractGroups(t: string): { base: string; groups: string[] } {
  if (!/[()[\]{}]/.test(t)) return { base: t, groups: [] };
  const groups: string[] = [];
  let base = '';
  let depth = 0;
  let start = 0;
  for (let i = 0; i < t.length; i++) {
    const ch = t[i];
    if (ch === '(' || ch === '[' || ch === '{') {
      if (depth === 0) {
        start = i + 1;
        base += ' ';
      }
      depth++;
    } else if (ch === ')' || ch === ']' || ch === '}') {
      if (depth > 0) {
        depth--;
        if (depth === 0) groups.push(t.slice(start, i));
      } else base += ' ';
    } else if (depth === 0) base += ch;
  }
  if (depth > 0) groups.push(t.slice(start));
  return { base: tidy(base), groups: groups.map(tidy).filter((g) => g !== '') };
}

type GroupKind = 'featured' | 'producer' | 'credit' | 'acappella' | 'same' | 'other';
interface GroupInfo {
  kind: GroupKind;
  names: string[];
}

// Tags naming the same recording: left out of the identity key.
const SAME_RECORD = new Set([
  'original mix',
  'original',
  'original version',
  'extended mix',
  'extended',
  'extended version',
  'radio edit',
  'radio mix',
  'radio version',
  'album version',
  'single version',
  'lp version',
  'main mix',
  'clean',
  'clean version',
  'dirty',
  'explicit',
  'explicit version',
  'remastered',
  'remaster',
  'unreleased',
  'free download',
]);
const REMASTER = /^(?:\d{4} )?(?:digital )?remaster(?:ed)?(?: \d{4})?(?: version)?$/;

// Words that mark a credit; the words before them name the remixer/editor.
const CREDIT_WORDS = new Set(
  (
    'remix rmx edit reedit bootleg rework flip mashup refix remake redo blend vip dub mix version edition ' +
    'rerub remode reconstruction interpretation'
  ).split(' '),
);
// Words describing a version rather than naming someone ("Extended Club Mix", "Joe Kay Slowed Edit").
const DESCRIPTORS = new Set(
  (
    'the a an extended original club radio vocal instrumental inst dub main dance live acoustic album single lp ' +
    'ep short long full alt alternative alternate clean dirty explicit slowed slow screwed chopped sped up ' +
    'remastered remaster rough demo early special uk ukg us usa inch intro outro reprise rare unreleased private ' +
    'festival vinyl stereo mono video new classic bonus mixed unmixed official tv deep dark hard soft raw rave ' +
    'ambient tribal soulful percussion drum drums strings piano sax guitar beat beats house techno garage jungle ' +
    'dnb trap reggae dancehall acid electro disco funk jazz soul road mix remix edit version cut re part pt ' +
    'final vip acappella acapella cappella quick quarantine bass sub 12-inch amapiano gqom afro afrobeat ' +
    'afrobeats baile dembow reggaeton moombahton footwork juke jersey drill grime dubstep breaks breakbeat ' +
    '2step 2-step soca bouyon hip-hop hiphop rnb r&b lofi lo-fi chill latin tropical samba tomorrowland umf ' +
    'edc creamfields coachella asot ibiza tour set exclusive in on at of for to from with and my by'
  ).split(' '),
);
const DESCRIPTOR_TOKEN = /^(?:\d+(?:"|''|-?inch)?|\d+(?:st|nd|rd|th)|[ivx]+)$/;
const LEADING_DESCRIPTORS = new Set(
  'original extended official radio special unreleased live in on at from for to with by'.split(' '),
);
const ACAPPELLA = /^a[ -]?c+ap+el+a$/;
const FEAT_GROUP = /^(?:(?:feat|ft)\.\s*|(?:feat|ft|featuring|with)\s+|w\/\s*)(.+)$/i;
const PROD_GROUP = /^(?:co-?\s?)?prod(?:\.|uced\b|\b)\s*(?:by\b\.?\s*|:\s*)?(.+)$/i;
const BY_CREDIT = /^(.+?)\s+by\s+(.+)$/i;
const BY_VERBS = new Set(
  'remixed edited mixed reworked slowed screwed chopped redrummed refixed c&s'.split(' '),
);
// "(with drums)", "(With Your Love)", "[W/ Acapella]": not a featured artist.
const WITH_NOT_ARTIST = /^(?:your|you|me|my|love|time|the|a|drums|strings|vocals?|acc?ap+el+a|intro)\b/i;

function bareWord(w: string): string {
  return w.toLowerCase().replace(/[.,:;!]+$/, '');
}

function isDescriptor(w: string): boolean {
  const lw = bareWord(w);
  return DESCRIPTORS.has(lw) || DESCRIPTOR_TOKEN.test(lw);
}

/** "Joe Kay's Slowed" -> "Joe Kay"; "Extended Club" -> "". */
function creditName(words: string[]): string {
  let w = words.slice();
  // A possessive ends the name: "Sango's Madonna Mix", "Ricardo Villalobos' Apocalypso Now Mix".
  for (let i = 0; i < w.length; i++) {
    const m = /^(.+?)(?:['’]s|(?<=s)['’])$/i.exec(w[i]);
    if (m) {
      w = w.slice(0, i);
      w.push(m[1]);
      break;
    }
  }
  while (w.length > 0 && LEADING_DESCRIPTORS.has(bareWord(w[0]))) w.shift();
  while (w.length > 0 && isDescriptor(w[w.length - 1])) w.pop();
  if (w.every(isDescriptor)) return '';
  return w.join(' ');
}

function classifyGroup(raw: string): GroupInfo {
  // Inner groups are commentary: "(Kenny Larkin (Tension) Mix)".
  let c = raw;
  for (let i = 0; i < 3 && /[([{]/.test(c); i++) c = c.replace(/\([^()]*\)?|\[[^[\]]*\]?|\{[^{}]*\}?/g, ' ');
  c = tidy(c.replace(/[)\]}]/g, ' '));
  if (c === '' || isUnknown(c)) return { kind: 'other', names: [] };
  const lc = normalizeName(c);
  if (SAME_RECORD.has(lc) || REMASTER.test(lc)) return { kind: 'same', names: [] };

  const feat = FEAT_GROUP.exec(c);
  if (feat) {
    const isWith = /^(?:with|w\/)/i.test(c);
    // "with" needs a capitalised name; lowercase handles are common after "w/".
    const notArtist =
      isWith && (WITH_NOT_ARTIST.test(feat[1]) || (/^with/i.test(c) && !/^\p{Lu}/u.test(feat[1])));
    if (!notArtist) return { kind: 'featured', names: splitNames(feat[1]) };
  }
  const prod = PROD_GROUP.exec(c);
  if (prod) return { kind: 'producer', names: splitNames(prod[1]) };
  // "(Remix By Goldie)", "(Chopped & Screwed by Sir CRKS)".
  const by = BY_CREDIT.exec(c);
  if (
    by &&
    normalizeName(by[1])
      .split(/[\s&+]+/)
      .some((w) => CREDIT_WORDS.has(w) || BY_VERBS.has(w))
  ) {
    return { kind: 'credit', names: isUnknown(by[2]) ? [] : splitNames(by[2]) };
  }

  // One word per credit: "Mash Up", "Re-Edit", "Re-Work" -> "Mashup", "ReEdit", "ReWork".
  const words = c
    .replace(/\bmash[\s-]?up\b/gi, 'Mashup')
    .replace(/\bre[\s-](edit|work|fix|rub|make|mix)\b/gi, 'Re$1')
    .replace(/\b(mix|edit|dub)-(edit|mix|dub)\b/gi, '$1 $2')
    .split(' ');
  const lw = words.map(bareWord);
  const last = lw[lw.length - 1];
  // "(Acappella)", "(Studio Acapella)", "(A Cappella)", "(Acapella Version)": no artist in them.
  // "[W/ Acapella]" is a track played under an acappella, not an acappella.
  if ((ACAPPELLA.test(last) || lc.endsWith('a cappella')) && !/^(?:with|w\/)/.test(lc)) {
    return { kind: 'acappella', names: [] };
  }
  if (lw.length === 2 && ACAPPELLA.test(lw[0]) && CREDIT_WORDS.has(last))
    return { kind: 'acappella', names: [] };

  let isCredit = false;
  for (let i = 0; i < lw.length; i++) {
    if (!CREDIT_WORDS.has(lw[i])) continue;
    isCredit = true;
    if (i === 0) continue;
    const name = creditName(words.slice(0, i));
    if (name === '') continue;
    // "(ID Remix)": a remix by someone unknown; nobody to credit.
    if (isUnknown(name)) return { kind: 'credit', names: [] };
    return { kind: 'credit', names: splitNames(name) };
  }
  return { kind: isCredit ? 'credit' : 'other', names: [] };
}

// ---------------------------------------------------------------------------------------------
// Title

interface TitleInfo {
  base: string;
  featured: string[];
  remixers: string[];
  producers: string[];
  acappella: boolean;
  /** Normalised title for the key: base plus record-changing groups. */
  key: string;
}

const TITLE_FEAT = /\s(?:ft\.?|feat\.?|featuring)\s+(.+)$/i;

// Anything in a title beyond plain words: groups, " - " tails, featured credits, a trailing acappella.
const TITLE_SPECIAL = /[()[\]{}]| - |\s(?:ft\.?|feat\.?|featuring)\s|ap+el+a$/i;

function parseTitle(title: string, extraGroups: string[]): TitleInfo {
  if (extraGroups.length === 0 && !TITLE_SPECIAL.test(title)) {
    return {
      base: title,
      featured: [],
      remixers: [],
      producers: [],
      acappella: false,
      key: normalizeName(title),
    };
  }
  const { base: rawBase, groups } = extractGroups(title);
  let base = rawBase;
  // MixesDB/Spotify style "Title - X Remix" / "Title - Radio Edit".
  for (let i = 0; i < 2; i++) {
    const cut = base.lastIndexOf(' - ');
    if (cut < 0) break;
    const tail = base.slice(cut + 3);
    if (classifyGroup(tail).kind === 'other') break;
    groups.unshift(tail);
    base = base.slice(0, cut).trim();
  }
  const info: TitleInfo = { base, featured: [], remixers: [], producers: [], acappella: false, key: '' };
  const feat = TITLE_FEAT.exec(base);
  if (feat && feat.index > 0) {
    info.featured.push(...splitNames(feat[1]));
    info.base = base = base.slice(0, feat.index).replace(/[\s,;:-]+$/, '');
  }
  if (/\sa[ -]?c+ap+el+a$/i.test(base)) info.acappella = true;
  let key = normalizeName(base);
  for (const g of [...groups, ...extraGroups]) {
    const gi = classifyGroup(g);
    // Other notes in the artist part ("Happy End" in "はっぴいえんど (Happy End)") are aliases, not versions.
    if (gi.kind === 'other' && !groups.includes(g)) continue;
    if (gi.kind === 'featured') info.featured.push(...gi.names);
    else if (gi.kind === 'producer') info.producers.push(...gi.names);
    else if (gi.kind !== 'same') {
      if (gi.kind === 'acappella') info.acappella = true;
      if (gi.kind === 'credit') info.remixers.push(...gi.names);
      key += `${key === '' ? '' : ' '}(${normalizeName(g)})`;
    }
  }
  info.key = key;
  return info;
}

// ---------------------------------------------------------------------------------------------
// Artists part

interface ArtistsInfo {
  sides: { presenters: string[]; mains: string[] }[];
  featured: string[];
  /** Groups in the artist part ("Misdemeanor (DK Edit)"): handled like title groups. */
  groups: string[];
}

// Anything that could split or annotate an artist part; most parts are one plain name.
const ARTIST_SPECIAL = /[,;&+/()[\]{}]|\s(?:x|vs\.?|ft\.?|feat\.?|featuring|pres\.?|presents)\s/i;

function parseArtists(part: string): ArtistsInfo {
  if (!ARTIST_SPECIAL.test(part)) {
    const name = cleanName(part);
    const mains = name === '' || isUnknown(name) ? [] : [name];
    return { sides: mains.length > 0 ? [{ presenters: [], mains }] : [], featured: [], groups: [] };
  }
  let { base, groups } = extractGroups(part);
  // "(dreamchild) - waves": the bracketed artist part is the artist.
  if (base === '' && groups.length === 1) [base, groups] = [groups[0], []];
  const info: ArtistsInfo = { sides: [], featured: [], groups };
  for (const side of base.split(VS_SEP)) {
    const [core, ...feats] = side.split(FEAT_SEP);
    for (const f of feats) info.featured.push(...splitNames(f));
    const pres = core.split(PRES_SEP);
    const mains = splitNames(pres[pres.length - 1]);
    const presenters = pres.length > 1 ? splitNames(pres.slice(0, -1).join(' & ')) : [];
    if (mains.length > 0 || presenters.length > 0) info.sides.push({ presenters, mains });
  }
  return info;
}

/** True when every name in an artist part is unknown ("ID & ID", "(Unknown)", "???", "ID vs. ID"). */
function isUnknownArtistPart(part: string): boolean {
  if (!UNKNOWN_HINT.test(part)) return false;
  const pieces = part
    .replace(/[()[\]{}]/g, ' ')
    .split(VS_SEP)
    .flatMap((p) => p.split(FEAT_SEP))
    .flatMap((p) => p.split(LIST_SEP))
    .map(cleanName)
    .filter((p) => p !== '');
  return pieces.length > 0 && pieces.every(isUnknown);
}

// ---------------------------------------------------------------------------------------------
// Assembly

interface Credit {
  name: string;
  role: ArtistRole;
  weight: number;
}

/** Merges credits by key (sum weights, strongest role) and normalises weights to sum 1. */
function mergeCredits(credits: Credit[]): ParsedArtist[] {
  // Credit lists are short: a linear scan beats a Map here.
  const out: ParsedArtist[] = [];
  let total = 0;
  for (const c of credits) {
    const key = normalizeName(c.name);
    if (key === '' || !(c.weight > 0) || !Number.isFinite(c.weight)) continue;
    total += c.weight;
    const prev = out.find((p) => p.key === key);
    if (!prev) out.push({ name: c.name, key, role: c.role, weight: c.weight });
    else {
      prev.weight += c.weight;
      if (ROLE_RANK[c.role] > ROLE_RANK[prev.role]) prev.role = c.role;
    }
  }
  for (const a of out) a.weight /= total;
  return out;
}

/** Distinct non-empty keys of names, in order; `skip` keys are left out. */
function uniqueKeys(names: string[], skip: string[] = []): string[] {
  const out: string[] = [];
  for (const n of names) {
    const k = normalizeName(n);
    if (k !== '' && !out.includes(k) && !skip.includes(k)) out.push(k);
  }
  return out;
}

// Play-order noise before the artist: "00:18:17 ", "00:00 - ", "12:30 8. ", "43.", "w/ ", "+ ".
const LEADING_NOISE =
  /^(?:[.•·*]+\s+)?(?:\[?\d{1,2}(?::\d{2}){1,2}\]?(?:\s+-)?\s+)?(?:\d{1,3}[.)](?!\d)\s*)?(?:(?:w\/|\+|&)\s+)?/i;
const NOISE_START = /^[\d[.•·*+&w]/i;
const SEPARATOR = /(?:^|\s)[-\u2013\u2014](?:\s|$)/;

/** Splits on the first " - " / " – " / " — ". "Artist — Album - Title" (Soulection) drops the album. */
function splitArtistTitle(s: string): { artist: string | null; title: string } {
  const m = SEPARATOR.exec(s);
  if (!m) return { artist: null, title: s };
  const artist = s.slice(0, m.index).trim();
  let title = s.slice(m.index + m[0].length).trim();
  if (m[0].includes('\u2014')) {
    const cut = title.indexOf(' - ');
    if (cut >= 0)
      title = title
        .slice(cut + 3)
        .replace(/^(?:single|ep)\s-\s/i, '')
        .trim();
  }
  return { artist, title };
}

/** No letter, digit or "?": nothing that could identify a track ("", "-", "..."). */
function emptyish(s: string): boolean {
  return !/[\p{L}\p{N}?]/u.test(s);
}

function gap(display: string, reason: 'unidentified' | 'empty'): ParsedTrack {
  return { kind: 'gap', display, reason };
}

function parseParts(
  display: string,
  artistPart: string | null,
  titlePart: string,
  explicit: Record<string, number> | null,
): ParsedTrack {
  const hasExplicit = explicit !== null && Object.keys(explicit).length > 0;
  if (artistPart === null && !hasExplicit) {
    const t = parseTitle(titlePart, []);
    if (isUnknown(t.base) || (t.base === '' && isUnknown(titlePart))) return gap(display, 'unidentified');
    return { kind: 'song', display, key: t.key, title: titlePart, artists: [], acappella: t.acappella };
  }
  const a = parseArtists(artistPart ?? '');
  const t = parseTitle(titlePart, a.groups);
  if (titlePart === '' || isUnknown(t.base) || (t.base === '' && isUnknown(titlePart))) {
    return gap(display, 'unidentified');
  }
  const artistUnknown = artistPart !== null && a.sides.length === 0 && isUnknownArtistPart(artistPart);
  if (artistUnknown && !hasExplicit) return gap(display, 'unidentified');

  const mashup = a.sides.length > 1;
  const credits: Credit[] = [];
  const add = (names: string[], role: ArtistRole): void => {
    for (const name of names) credits.push({ name, role, weight: ROLE_WEIGHT[role] });
  };
  for (const side of a.sides) {
    add(side.mains, mashup ? 'mashup' : 'main');
    add(side.presenters, 'presenter');
  }
  add(a.featured, 'featured');
  add(t.featured, 'featured');
  add(t.producers, 'coproducer');
  add(t.remixers, 'remixer');

  let artists = mergeCredits(credits);
  if (hasExplicit) {
    // Given weights win; roles come from the parsed credits when the name is among them.
    const roles = new Map(artists.map((p) => [p.key, p.role]));
    const given: Credit[] = [];
    for (const [name, w] of Object.entries(explicit)) {
      const clean = tidy(name);
      if (clean === '' || isUnknown(clean) || typeof w !== 'number') continue;
      given.push({ name: clean, role: roles.get(normalizeName(clean)) ?? 'main', weight: w });
    }
    const fromGiven = mergeCredits(given);
    if (fromGiven.length > 0) artists = fromGiven;
    else if (artistUnknown) return gap(display, 'unidentified');
  }

  // Canonical artist side, so "A x B ft. C", "A & B feat. C" and "A & B - T (feat. C)" share a key.
  let artistKey = '';
  const mainKeys: string[] = [];
  for (const s of a.sides) {
    const keys = uniqueKeys(s.mains);
    mainKeys.push(...keys);
    const side =
      s.presenters.length > 0
        ? `${uniqueKeys(s.presenters).join(' & ')} pres. ${keys.join(' & ')}`
        : keys.join(' & ');
    artistKey += artistKey === '' ? side : ` vs. ${side}`;
  }
  const featKeys = uniqueKeys(a.featured.concat(t.featured), mainKeys);
  if (featKeys.length > 0) artistKey += `${artistKey === '' ? '' : ' '}ft. ${featKeys.join(' & ')}`;
  if (artistKey === '' && hasExplicit) artistKey = artists.map((p) => p.key).join(' & ');
  return {
    kind: 'song',
    display,
    key: artistKey === '' ? t.key : `${artistKey} - ${t.key}`,
    title: titlePart,
    artists,
    acappella: t.acappella,
  };
}

function parseString(raw: string): ParsedTrack {
  const display = tidy(raw);
  if (emptyish(display)) return gap(display, 'empty');
  const stripped = NOISE_START.test(display) ? display.replace(LEADING_NOISE, '') : display;
  const body = emptyish(stripped) ? display : stripped;
  const { artist, title } = splitArtistTitle(body);
  // "- Title": an empty artist part counts like no separator.
  return parseParts(display, artist === '' ? null : artist, title, null);
}

function parseStructured(raw: StructuredTrack): ParsedTrack {
  const artist = tidy(typeof raw.artist === 'string' ? raw.artist : String(raw.artist ?? ''));
  const title = tidy(typeof raw.title === 'string' ? raw.title : String(raw.title ?? ''));
  const display = tidy(`${artist} - ${title}`);
  const given = raw.artists;
  const explicit = given !== null && typeof given === 'object' && !Array.isArray(given) ? given : null;
  if (emptyish(artist) && emptyish(title) && (explicit === null || Object.keys(explicit).length === 0)) {
    return gap(display, 'empty');
  }
  return parseParts(display, artist === '' ? null : artist, title, explicit);
}

/** Parses one corpus track; never throws. */
export function parseTrack(raw: RawTrack): ParsedTrack {
  try {
    if (typeof raw === 'string') return parseString(raw);
    if (raw !== null && typeof raw === 'object') return parseStructured(raw);
    return parseString(raw === undefined || raw === null ? '' : String(raw));
  } catch {
    // Only reachable with malformed runtime input (e.g. a throwing toString): never stop a corpus load.
    return gap('', 'empty');
  }
}
