/**
 * Name search over songs, artists and DJs (HTTP `GET /songs?q=`, `GET /djs?q=`, CLI `tlgen search`).
 *
 * Matching is on normalizeName folds (case, accents, quotes, dashes). Tiers, best first:
 *   0 exact: the whole name equals the query, or its words equal the query's words (so " - ",
 *     "&" or "," do not matter: "eric prydz opus" is an exact match for "Eric Prydz - Opus");
 *   1 prefix of the whole name (same two forms);
 *   2 every query word is a prefix of some word of the name;
 *   3 every query word is a prefix of a word or a substring of one.
 * Within a tier: more popular first, then shorter names, then lower index.
 *
 * Words are runs of letters, digits and marks; "'" and "." inside a word join it ("R.I.P." is the
 * word "rip", also indexed as "r", "i", "p"), so "dont" finds "Don't" and "rip" finds "R.I.P.".
 * A query with no word characters at all ("(.*", an emoji) is matched as a plain substring.
 *
 * Index: the sorted distinct words with their names (word prefixes are a binary-searched range),
 * the word texts concatenated for indexOf (substrings) and the names in rank order. Frequent
 * substrings are not collected in full: the best names holding them come early in rank order.
 */
import type { Aliases } from '../corpus/merge.ts';
import { normalizeName } from '../corpus/trackString.ts';

export interface SearchHit {
  index: number;
  name: string;
  /** 3 - tier plus popularity squashed into [0, 1): higher is better, non-increasing down the list. */
  score: number;
}

/** Longer queries are cut: nothing real is that long, and it bounds the work per query. */
export const MAX_QUERY_LENGTH = 200;

// Word characters, with or without the joiners "'" and "."; split is much faster than matchAll with
// \p classes, and folded text is lower case, so the ASCII classes need no A-Z.
const NON_WORD = /[^\p{L}\p{N}\p{M}]+/u;
const NON_WORD_ASCII = /[^a-z0-9]+/;
const NON_WORD_JOIN = /[^\p{L}\p{N}\p{M}'.]+/u;
const NON_WORD_JOIN_ASCII = /[^a-z0-9'.]+/;
const ASCII = /^[ -~]*$/;
const JOINERS = /['.]+/;
const NO_WORDS: readonly string[] = [];
const TIERS = 4;
/** Hits collected per needle before it counts as frequent. */
const SCAN_CAP = 512;

/** Primary words (joiners removed) and, for joined words, their parts as extra words. */
function words(folded: string): { primary: string[]; extra: readonly string[] } {
  const ascii = ASCII.test(folded);
  if (!folded.includes("'") && !folded.includes('.')) {
    // The common case: no joiners, so the split pieces are the words.
    const primary = folded.split(ascii ? NON_WORD_ASCII : NON_WORD);
    if (primary[primary.length - 1] === '') primary.pop();
    if (primary[0] === '') primary.shift();
    return { primary, extra: NO_WORDS };
  }
  const primary: string[] = [];
  const extra: string[] = [];
  for (const piece of folded.split(ascii ? NON_WORD_JOIN_ASCII : NON_WORD_JOIN)) {
    const parts = piece.split(JOINERS).filter((p) => p !== '');
    if (parts.length === 0) continue;
    primary.push(parts.join(''));
    if (parts.length > 1) extra.push(...parts);
  }
  return { primary, extra };
}

/** Entries, each preceded by "\n" (never inside a folded name), as one string for indexOf. */
interface Haystack {
  text: string;
  /** starts[i] = offset of the "\n" before entry i; starts[n] = text.length. */
  starts: Int32Array;
}

function haystack(entries: readonly string[]): Haystack {
  const starts = new Int32Array(entries.length + 1);
  let offset = 0;
  for (let i = 0; i < entries.length; i++) {
    starts[i] = offset;
    offset += entries[i].length + 1;
  }
  starts[entries.length] = offset;
  return { text: entries.length === 0 ? '' : '\n' + entries.join('\n'), starts };
}

/** Entry holding offset `pos`. */
function entryAt(h: Haystack, pos: number): number {
  let lo = 0;
  let hi = h.starts.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (h.starts[mid] <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** A needle's scan so far: entries holding it, ascending, and where to go on. */
interface Scan {
  needle: string;
  hits: number[];
  /** Next offset to search from; -1 once the text is exhausted. */
  from: number;
}

function scan(h: Haystack, s: Scan, cap: number): void {
  while (s.from >= 0 && s.hits.length < cap) {
    const pos = h.text.indexOf(s.needle, s.from);
    if (pos < 0) {
      s.from = -1;
      break;
    }
    const i = entryAt(h, pos);
    s.hits.push(i);
    s.from = h.starts[i + 1];
  }
}

function grown(a: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

/** First index in sorted `a` whose value is >= x (UTF-16 code-unit order, as the build's sort). */
function lowerBound(a: readonly string[], x: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class NameIndex {
  readonly size: number;
  private readonly names: string[];
  private readonly folded: string[];
  /** Primary words joined by single spaces: the punctuation-free form for exact/prefix tiers. */
  private readonly joined: string[];
  /** All words (primary and extra) per name, space separated: substrings of query words are sought here. */
  private readonly wordText: string[];
  private readonly wordHay: Haystack;
  private readonly foldedHay: Haystack;
  /** Distinct words, sorted; postings[postStart[w]..postStart[w+1]) are the names holding words[w]. */
  private readonly words: string[];
  private readonly postStart: Int32Array;
  private readonly postings: Int32Array;
  private readonly popularity: Float64Array;
  /** Names by (popularity desc, length asc, index asc); rank is the inverse permutation. */
  private readonly order: Int32Array;
  private readonly rank: Int32Array;
  /** Folded and joined forms of other spellings (merged aliases), for the exact and prefix tiers. */
  private readonly aliasForms = new Map<number, { folded: string; joined: string }[]>();

  /** `aliases`: other spellings of an entry, found like its name (their words index the entry). */
  constructor(names: readonly string[], popularity: ArrayLike<number>, aliases?: Aliases) {
    const n = names.length;
    this.size = n;
    this.names = Array.from(names, (s) => (typeof s === 'string' ? s : String(s ?? '')));
    this.folded = new Array<string>(n);
    this.joined = new Array<string>(n);
    this.wordText = new Array<string>(n);
    // Flat (word id, name) pairs, bucketed into postings by a counting sort below. Typed arrays:
    // pushing 200k numbers onto plain arrays costs more than all the Map lookups.
    const wordId = new Map<string, number>();
    const distinct: string[] = [];
    let pairWord = new Int32Array(8 * n + 16);
    let pairName = new Int32Array(pairWord.length);
    let pairs = 0;
    for (let i = 0; i < n; i++) {
      const f = normalizeName(this.names[i]);
      const { primary, extra } = words(f);
      this.folded[i] = f;
      this.joined[i] = primary.join(' ');
      this.wordText[i] = extra.length > 0 ? `${this.joined[i]} ${extra.join(' ')}` : this.joined[i];
      let all = extra.length > 0 ? primary.concat(extra) : primary;
      const other = aliases?.[i];
      if (other !== undefined && other.length > 0) {
        const forms: { folded: string; joined: string }[] = [];
        for (const a of other) {
          const af = normalizeName(typeof a.name === 'string' ? a.name : '');
          const aw = words(af);
          forms.push({ folded: af, joined: aw.primary.join(' ') });
          all = all.concat(aw.primary, aw.extra);
          this.wordText[i] += ` ${aw.primary.concat(aw.extra).join(' ')}`;
        }
        this.aliasForms.set(i, forms);
      }
      if (pairs + all.length > pairWord.length) {
        pairWord = grown(pairWord, 2 * (pairs + all.length));
        pairName = grown(pairName, pairWord.length);
      }
      for (let a = 0; a < all.length; a++) {
        const w = all[a];
        // A word repeated in one name ("la la land") is posted once.
        if (all.indexOf(w) < a) continue;
        let id = wordId.get(w);
        if (id === undefined) {
          id = distinct.length;
          distinct.push(w);
          wordId.set(w, id);
        }
        pairWord[pairs] = id;
        pairName[pairs++] = i;
      }
    }
    // The default sort compares strings by code units, natively: quicker than a comparator.
    this.words = distinct.slice().sort();
    for (let r = 0; r < this.words.length; r++) wordId.set(this.words[r], r);
    const position = Int32Array.from(distinct, (w) => wordId.get(w) as number);
    // Counting sort of pairs by sorted word position; names stay ascending within a word.
    const start = new Int32Array(distinct.length + 1);
    for (let p = 0; p < pairs; p++) start[position[pairWord[p]] + 1]++;
    for (let w = 0; w < distinct.length; w++) start[w + 1] += start[w];
    this.postStart = start.slice();
    const postings = new Int32Array(pairs);
    for (let p = 0; p < pairs; p++) postings[start[position[pairWord[p]]]++] = pairName[p];
    this.postings = postings;
    this.wordHay = haystack(this.wordText);
    this.foldedHay = haystack(this.folded);

    this.popularity = new Float64Array(n);
    for (let i = 0; i < n && i < popularity.length; i++) {
      const p = Number(popularity[i]);
      // NaN, infinite or negative counts would break the ordering or the score: count them as 0.
      this.popularity[i] = Number.isFinite(p) && p > 0 ? p : 0;
    }
    const pop = this.popularity;
    const len = this.names.map((s) => s.length);
    this.order = Int32Array.from(this.names.keys()).sort(
      (a, b) => pop[b] - pop[a] || len[a] - len[b] || a - b,
    );
    this.rank = new Int32Array(n);
    for (let r = 0; r < n; r++) this.rank[this.order[r]] = r;
  }

  /** Up to `limit` names matching `query`, best first; never throws, [] for an empty query. */
  search(query: string, limit: number): SearchHit[] {
    const k = limit >= 1 ? Math.min(Math.floor(limit), this.size) : 0;
    if (k === 0 || typeof query !== 'string') return [];
    const fq = normalizeName(query.length > MAX_QUERY_LENGTH ? query.slice(0, MAX_QUERY_LENGTH) : query);
    if (fq === '') return [];
    const primary = words(fq).primary;
    const qJoined = primary.join(' ');
    const tokens = [...new Set(primary)];

    const tierOf = (i: number, wordMatch: boolean): number => {
      const f = this.folded[i];
      const j = this.joined[i];
      if (f === fq || (qJoined !== '' && j === qJoined)) return 0;
      if (f.startsWith(fq) || (qJoined !== '' && j.startsWith(qJoined))) return 1;
      const forms = this.aliasForms.get(i);
      if (forms !== undefined) {
        if (forms.some((a) => a.folded === fq || (qJoined !== '' && a.joined === qJoined))) return 0;
        if (forms.some((a) => a.folded.startsWith(fq) || (qJoined !== '' && a.joined.startsWith(qJoined)))) return 1;
      }
      return wordMatch ? 2 : 3;
    };
    const buckets: number[][] = Array.from({ length: TIERS }, () => []);
    const placed = new Uint8Array(this.size);
    let count = 0;
    const place = (ids: number[], wordMatch: boolean): void => {
      for (const i of ids) {
        placed[i] = 1;
        buckets[tierOf(i, wordMatch)].push(i);
      }
      count += ids.length;
    };

    if (tokens.length === 0) {
      // Punctuation or symbols only: a plain substring of the folded name.
      place(this.matching(this.foldedHay, this.folded, [fq], k, placed), false);
    } else {
      place(this.wordPrefixMatches(tokens), true);
      // Tiers are strict, so substrings only matter when the word-prefix tiers leave room.
      if (count < k) place(this.matching(this.wordHay, this.wordText, tokens, k - count, placed), false);
    }

    const out: SearchHit[] = [];
    for (let tier = 0; tier < TIERS && out.length < k; tier++) {
      for (const i of this.best(buckets[tier], k - out.length)) {
        const p = this.popularity[i];
        out.push({ index: i, name: this.names[i], score: TIERS - 1 - tier + p / (1 + p) });
      }
    }
    return out;
  }

  /** Names where every token is a prefix of one of their words. */
  private wordPrefixMatches(tokens: string[]): number[] {
    const ranges = tokens.map((t) => {
      const lo = lowerBound(this.words, t);
      // "\uffff" sorts after any continuation a real word can have.
      const hi = lowerBound(this.words, t + '\uffff');
      return { from: this.postStart[lo], to: this.postStart[hi] };
    });
    // Smallest posting range first: it bounds the candidate set.
    ranges.sort((a, b) => a.to - a.from - (b.to - b.from));
    if (ranges[0].to === ranges[0].from) return [];
    const count = new Uint8Array(this.size);
    const candidates: number[] = [];
    for (let p = ranges[0].from; p < ranges[0].to; p++) {
      const i = this.postings[p];
      if (count[i] === 0) {
        count[i] = 1;
        candidates.push(i);
      }
    }
    // count[i] === j means name i matched the first j tokens; a name counts once per token.
    for (let j = 1; j < ranges.length; j++) {
      for (let p = ranges[j].from; p < ranges[j].to; p++) {
        const i = this.postings[p];
        if (count[i] === j) count[i] = j + 1;
      }
    }
    return ranges.length === 1 ? candidates : candidates.filter((i) => count[i] === ranges.length);
  }

  /**
   * Names not yet `placed` whose text holds every needle: all of them, or at least the `need` best
   * by rank when every needle is frequent and the names holding them all are too.
   */
  private matching(
    h: Haystack,
    texts: string[],
    needles: string[],
    need: number,
    placed: Uint8Array,
  ): number[] {
    const keep = (i: number): boolean => placed[i] === 0 && needles.every((t) => texts[i].includes(t));
    const scans = needles.map((needle): Scan => ({ needle, hits: [], from: 0 }));
    for (const s of scans) {
      scan(h, s, SCAN_CAP);
      if (s.from < 0) return s.hits.filter(keep);
    }
    // Every needle is frequent. Estimate each one's share of names from how far its scan got.
    const share = scans.map((s) => Math.min(1, s.hits.length / Math.max(1, entryAt(h, s.from))));
    let sparsest = 0;
    for (let j = 1; j < scans.length; j++) if (share[j] < share[sparsest]) sparsest = j;
    // Walking visits about need / (product of shares) names; finishing the sparsest scan costs about
    // its total hits, each dearer (indexOf + lookup) than a failed includes: weigh that by 2.
    const walk = Math.min(this.size, need / share.reduce((a, b) => a * b, 1));
    if (walk > 2 * share[sparsest] * this.size) {
      scan(h, scans[sparsest], Infinity);
      return scans[sparsest].hits.filter(keep);
    }
    // Rarest needle first, so includes fails early.
    const ordered = needles.map((t, j) => ({ t, s: share[j] })).sort((a, b) => a.s - b.s);
    const out: number[] = [];
    for (let r = 0; r < this.size && out.length < need; r++) {
      const i = this.order[r];
      if (placed[i] === 0 && ordered.every(({ t }) => texts[i].includes(t))) out.push(i);
    }
    return out;
  }

  /** The `take` best of `ids` by (popularity, length, index). */
  private best(ids: number[], take: number): number[] {
    if (ids.length === 0 || take <= 0) return [];
    const out: number[] = [];
    if (ids.length * 8 > this.size) {
      // Many candidates: walking the global order beats sorting them.
      const mark = new Uint8Array(this.size);
      for (const i of ids) mark[i] = 1;
      for (let r = 0; r < this.size && out.length < take; r++) {
        if (mark[this.order[r]] === 1) out.push(this.order[r]);
      }
      return out;
    }
    const ranks = Int32Array.from(ids, (i) => this.rank[i]).sort();
    for (let r = 0; r < ranks.length && r < take; r++) out.push(this.order[ranks[r]]);
    return out;
  }
}

export interface CatalogueNames {
  /** Display "Artist - Title (Remix)". */
  songs: readonly string[];
  artists: readonly string[];
  djs: readonly string[];
  /** Other spellings by index (merged at prepare time); optional. */
  songAliases?: Aliases;
  artistAliases?: Aliases;
}

export interface CataloguePopularity {
  songs: ArrayLike<number>;
  artists: ArrayLike<number>;
  djs: ArrayLike<number>;
}

/** Song, artist and DJ search over one vocabulary (a prepared dataset's `vocab` fits CatalogueNames). */
export class CatalogueSearch {
  readonly songIndex: NameIndex;
  readonly artistIndex: NameIndex;
  readonly djIndex: NameIndex;

  constructor(names: CatalogueNames, popularity: CataloguePopularity) {
    this.songIndex = new NameIndex(names.songs, popularity.songs, names.songAliases);
    this.artistIndex = new NameIndex(names.artists, popularity.artists, names.artistAliases);
    this.djIndex = new NameIndex(names.djs, popularity.djs);
  }

  songs(query: string, limit: number): SearchHit[] {
    return this.songIndex.search(query, limit);
  }

  artists(query: string, limit: number): SearchHit[] {
    return this.artistIndex.search(query, limit);
  }

  djs(query: string, limit: number): SearchHit[] {
    return this.djIndex.search(query, limit);
  }
}
