/**
 * One record, one song: spellings of the same record ("Ken Doh - Nagasaki" / "Ken Doh - Nakasaki",
 * "Nalin & Kane" / "Nalin and Kane", "Title (1997)", punctuation) resolved into one song at prepare
 * time, the other spellings kept as aliases.
 *
 * Two steps, both deterministic and conservative:
 * 1. canonical key: the identity key (parseTrack: case, accents, ft. forms, Original Mix already
 *    folded) with "&"/"+"/"and" unified, punctuation dropped and year/bonus notes left out;
 * 2. fuzzy: titles one edit apart (length ≥ 6, not a digit) by the same canonical artists with the
 *    same version groups (remix credits, acappella, parts...), and never two spellings that were
 *    played in one set (a DJ playing both means two records).
 * The most played spelling is the representative: its identity key, so its id, stays the song's.
 * Songs that are not merged keep their key, so their ids do not change.
 */

/** Another spelling of a song or artist: its display name and identity key. */
export interface Alias {
  name: string;
  key: string;
}

/** Aliases by vocabulary index (sparse: only merged entries). */
export type Aliases = Record<number, Alias[]>;

/** Groups that never make another record: years ("(1997)"), "(Bonus Track)", "(Snippet)", a misspelt "Unreleased". */
const NOTE_GROUP = /^(?:(?:19|20)\d\d|bonus(?: track)?|unrr?eleased|mp3|hidden track|snippet|excerpt)$/;
const PUNCT = /[^\p{L}\p{N}\s]+/gu;

/** Canonical text of a key part: "&", "+" and "and" are one word, punctuation goes, apostrophes join, leading zeros go. */
function canonText(s: string): string {
  const out = s
    .replace(/['’]/g, '')
    // Initials: "I.R.L" is "IRL", "R.I" is "RI".
    .replace(/(?<![\p{L}\p{N}])\p{L}(?:\.\p{L}(?![\p{L}\p{N}]))+/gu, (m) => m.replace(/\./g, ''))
    .replace(/\s*[&+]\s*/g, ' and ')
    .replace(PUNCT, ' ')
    // "Track 08" is "Track 8".
    .replace(/(?<![\p{L}\p{N}])0+(?=\d)/gu, '')
    .replace(/\s+/g, ' ')
    .trim()
    // Spelt-out initials: "N*E*R*D", "d a o s".
    .replace(/(?<!\S)\p{L}(?: \p{L}(?!\S)){2,}/gu, (m) => m.replace(/ /g, ''));
  // A name of symbols only ("!!!") stays itself rather than becoming "no artist".
  return out === '' ? s : out;
}

export interface KeyParts {
  /** Canonical artist side ("" for songs without artists). */
  artist: string;
  /** Canonical bare title. */
  title: string;
  /** Canonical version groups, in order ("" when none): remixes stay apart on this. */
  version: string;
}

/** Splits an identity key ("artists - title (group) (group)") into canonical parts. */
export function keyParts(key: string): KeyParts {
  const cut = key.indexOf(' - ');
  const artist = cut < 0 ? '' : key.slice(0, cut);
  const title = cut < 0 ? key : key.slice(cut + 3);
  // The key appends record-changing groups as " (group)" after the bare title.
  const groups: string[] = [];
  const bare = title.replace(/\s*\(([^()]*)\)/g, (_, g: string) => {
    // "(Klaus Mix)" and "(Klaus Remix)" / "(Klaus RMX)" credit one record.
    if (!NOTE_GROUP.test(g.trim())) groups.push(canonText(g).replace(/\b(?:re ?mix|rmx)\b/g, 'mix'));
    return ' ';
  });
  return { artist: canonText(artist), title: canonText(bare), version: groups.join(' | ') };
}

/** The deterministic canonical key: identity keys sharing it are one record. */
export function canonicalKey(key: string): string {
  return joinParts(keyParts(key));
}

function joinParts(p: KeyParts): string {
  return `${p.artist} - ${p.title}${p.version === '' ? '' : ` (${p.version})`}`;
}

/** Canonical key of an artist name key (normalizeName). */
export function canonicalArtistKey(key: string): string {
  return canonText(key);
}

/** Minimum title length (canonical, in characters) for a one-edit merge. */
export const FUZZY_MIN_LENGTH = 6;

/**
 * True when a and b are one edit apart (substitution, insertion, deletion or a swap of neighbours)
 * and the edit touches no digit: "Part 1"/"Part 2" or "1998"/"1999" are other records.
 */
export function oneEditApart(a: string, b: string): boolean {
  if (a === b || Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  let ja = a.length - 1;
  let jb = b.length - 1;
  while (ja >= i && jb >= i && a[ja] === b[jb]) {
    ja--;
    jb--;
  }
  // The differing middles: a[i..ja], b[i..jb].
  const da = a.slice(i, ja + 1);
  const db = b.slice(i, jb + 1);
  const digit = /\d/;
  if (digit.test(da) || digit.test(db)) return false;
  if (da.length + db.length === 1) return true; // insertion / deletion
  // Substitution; a word's first letter changes the word ("Light"/"Night", "Set"/"Let"), except
  // the l/I confusion of typed-over capitals ("The Iight").
  if (da.length === 1 && db.length === 1)
    return (i > 0 && a[i - 1] !== ' ') || da + db === 'il' || da + db === 'li';
  return da.length === 2 && db.length === 2 && da[0] === db[1] && da[1] === db[0]; // swap
}

/** True when two identity keys name one record by the fuzzy rule (their canonical keys differ). */
export function fuzzySame(a: KeyParts, b: KeyParts): boolean {
  return (
    a.artist === b.artist &&
    a.version === b.version &&
    a.title.length >= FUZZY_MIN_LENGTH &&
    b.title.length >= FUZZY_MIN_LENGTH &&
    oneEditApart(a.title, b.title)
  );
}

/** The merger's verdict on two identity keys, without corpus context (sets played together). */
export function sameRecord(keyA: string, keyB: string): boolean {
  if (keyA === keyB) return true;
  if (canonicalKey(keyA) === canonicalKey(keyB)) return true;
  return fuzzySame(keyParts(keyA), keyParts(keyB));
}

export interface MergeInput {
  /** Identity keys, one per raw song. */
  keys: readonly string[];
  /** Plays per raw song (the representative is the most played spelling). */
  plays: ArrayLike<number>;
  /** Raw song ids per set: two keys played in one set are never merged. */
  sets?: Iterable<readonly number[]>;
}

/**
 * Representative raw id for every raw song (itself when not merged). Canonical groups first, then
 * one-edit groups: each canonical group, most played first, joins the most played earlier group it
 * is one edit from (compared with that group's representative only, so chains do not drift).
 */
export function mergeSongs(input: MergeInput): Int32Array {
  const { keys, plays } = input;
  const n = keys.length;
  const rep = Int32Array.from({ length: n }, (_, i) => i);
  const order = byPlays(keys, plays);
  const setsOf = setsPerSong(n, input.sets);
  const members = new Map<number, number[]>();
  const clash = (r: number, id: number): boolean => {
    const ms = members.get(r) ?? [r];
    return ms.some((m) => shareOne(setsOf[m], setsOf[id]));
  };
  const join = (r: number, id: number): void => {
    rep[id] = r;
    const ms = members.get(r) ?? [r];
    ms.push(id);
    members.set(r, ms);
  };
  // 1. Canonical groups.
  const byCanonical = new Map<string, number>();
  const parts = new Array<KeyParts>(n);
  for (const id of order) {
    parts[id] = keyParts(keys[id]);
    const c = joinParts(parts[id]);
    const r = byCanonical.get(c);
    if (r !== undefined && !clash(r, id)) join(r, id);
    else if (r === undefined) byCanonical.set(c, id);
  }
  // 2. One-edit merges of group representatives, bucketed by artist and version.
  const buckets = new Map<string, number[]>();
  for (const id of order) {
    if (rep[id] !== id) continue;
    const p = parts[id];
    if (p.title.length < FUZZY_MIN_LENGTH) continue;
    const bucketKey = `${p.artist}\n${p.version}`;
    const earlier = buckets.get(bucketKey);
    const target = earlier?.find((r) => fuzzySame(parts[r], p) && !groupsClash(r, id));
    if (target !== undefined) {
      for (const m of members.get(id) ?? [id]) join(target, m);
      members.delete(id);
    } else if (earlier) earlier.push(id);
    else buckets.set(bucketKey, [id]);
  }
  return rep;

  function groupsClash(r: number, id: number): boolean {
    return (members.get(id) ?? [id]).some((m) => clash(r, m));
  }
}

/** Indices most played first; ties by key, so the result does not depend on input order. */
function byPlays(keys: readonly string[], plays: ArrayLike<number>): number[] {
  return Array.from({ length: keys.length }, (_, i) => i).sort(
    (a, b) => plays[b] - plays[a] || (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0),
  );
}

const NO_SETS: readonly number[] = [];

/** Ascending set indices per raw song. */
function setsPerSong(n: number, sets: Iterable<readonly number[]> | undefined): (readonly number[])[] {
  const out: number[][] = [];
  if (sets) {
    let t = 0;
    for (const songs of sets) {
      for (const s of songs) {
        if (s < 0 || s >= n) continue;
        const list = (out[s] ??= []);
        if (list[list.length - 1] !== t) list.push(t);
      }
      t++;
    }
  }
  return Array.from({ length: n }, (_, i) => out[i] ?? NO_SETS);
}

function shareOne(a: readonly number[], b: readonly number[]): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) return true;
    if (a[i] < b[j]) i++;
    else j++;
  }
  return false;
}

/**
 * Artist merges by canonical key: representative index per artist (the most played spelling).
 */
export function mergeArtists(keys: readonly string[], plays: ArrayLike<number>): Int32Array {
  const n = keys.length;
  const rep = Int32Array.from({ length: n }, (_, i) => i);
  const order = byPlays(keys, plays);
  const byCanonical = new Map<string, number>();
  for (const id of order) {
    const c = canonicalArtistKey(keys[id]);
    const r = byCanonical.get(c);
    if (r === undefined) byCanonical.set(c, id);
    else rep[id] = r;
  }
  return rep;
}

/**
 * Identity key → vocabulary index over the keys and their aliases, with a canonical fallback so a
 * spelling the corpus never had ("Title (1997)", "Title!") still finds its song. Exact keys win
 * over aliases, aliases over canonical forms, lower indices (more played) over higher.
 */
export class KeyIndex {
  private readonly exact = new Map<string, number>();
  /** Built on the first lookup the exact keys miss, so a load whose keys all match never canonicalises every key. */
  private canonical: Map<string, number> | null = null;
  private readonly keys: readonly string[];
  private readonly aliased: (readonly [number, Alias[]])[];
  private readonly canon: (key: string) => string;

  constructor(keys: readonly string[], aliases: Aliases | undefined, canon: (key: string) => string) {
    this.keys = keys;
    this.canon = canon;
    keys.forEach((k, i) => addFirst(this.exact, k, i));
    this.aliased = Object.entries(aliases ?? {})
      .map(([i, list]) => [Number(i), list] as const)
      .filter(([i]) => Number.isInteger(i) && i >= 0 && i < keys.length)
      .sort((a, b) => a[0] - b[0]);
    for (const [i, list] of this.aliased) for (const a of list) addFirst(this.exact, a.key, i);
  }

  get(key: string): number | undefined {
    return this.exact.get(key) ?? this.canonicalMap().get(this.canon(key));
  }

  private canonicalMap(): Map<string, number> {
    if (this.canonical) return this.canonical;
    const map = new Map<string, number>();
    this.keys.forEach((k, i) => addFirst(map, this.canon(k), i));
    for (const [i, list] of this.aliased) for (const a of list) addFirst(map, this.canon(a.key), i);
    return (this.canonical = map);
  }
}

/** The first index given for a key wins. */
function addFirst(map: Map<string, number>, key: string, i: number): void {
  if (!map.has(key)) map.set(key, i);
}

/**
 * Adds the public ids of aliases (`idOf` their keys) to an id → index map, so an id stored before
 * its spelling was merged (a user's like) still finds the song; ids already present win.
 */
export function addAliasIds(
  byId: Map<string, number>,
  aliases: Aliases | undefined,
  idOf: (key: string) => string,
): void {
  for (const [i, list] of Object.entries(aliases ?? {})) {
    for (const a of list) {
      const id = idOf(a.key);
      if (!byId.has(id)) byId.set(id, Number(i));
    }
  }
}
