import { mergeSongs, type Alias } from '../corpus/merge.ts';
import { parseTrack, type ParsedTrack } from '../corpus/trackString.ts';
import type { Tracklist } from '../corpus/types.ts';
import { Progress } from '../util/progress.ts';
import type { RawSet } from './holdout.ts';
import type { Sequences } from './prepare.ts';

/** Step 1 of `prepare`: parses every track once per distinct string, gives raw ids to songs and DJs. */
export class CorpusReader {
  readonly rawSongs: Extract<ParsedTrack, { kind: 'song' }>[] = [];
  readonly rawDjNames: string[] = [];
  readonly sets: RawSet[] = [];
  gaps = 0;
  tracklistsWithoutSongs = 0;
  private readonly parsedCache = new Map<string, ParsedTrack>();
  private readonly rawSongIndex = new Map<string, number>();
  private readonly rawDjIndex = new Map<string, number>();
  private readonly progress: Progress | null;

  constructor(progress: boolean) {
    this.progress = progress ? new Progress('prepare: reading', 0) : null;
  }

  add(t: Tracklist): void {
    const songs: number[] = [];
    for (const raw of t.tracks) {
      const cacheKey = typeof raw === 'string' ? raw : JSON.stringify(raw);
      let parsed = this.parsedCache.get(cacheKey);
      if (!parsed) {
        parsed = parseTrack(raw);
        this.parsedCache.set(cacheKey, parsed);
      }
      if (parsed.kind === 'gap') {
        this.gaps++;
        songs.push(-1);
        continue;
      }
      let id = this.rawSongIndex.get(parsed.key);
      if (id === undefined) {
        id = this.rawSongs.length;
        this.rawSongIndex.set(parsed.key, id);
        this.rawSongs.push(parsed);
      }
      songs.push(id);
    }
    const djs = [...new Set(t.djs.map((d) => d.trim()).filter(Boolean))].map((name) => {
      let id = this.rawDjIndex.get(name);
      if (id === undefined) {
        id = this.rawDjNames.length;
        this.rawDjIndex.set(name, id);
        this.rawDjNames.push(name);
      }
      return id;
    });
    if (!songs.some((s) => s >= 0)) this.tracklistsWithoutSongs++;
    this.sets.push({ id: t.id, days: t.date ? Math.floor(Date.parse(t.date) / 86_400_000) : -1, djs, songs });
    this.progress?.tick();
  }

  finish(): this {
    this.progress?.finish(`${this.rawSongs.length} distinct songs`);
    return this;
  }
}

/**
 * One record, one song (shared/corpus/merge.ts): rewrites the sets' raw song ids to their
 * representative spelling and returns the representatives and the other spellings per
 * representative raw id. Raw ids of merged-away spellings stay in `rawSongs`, never played.
 */
export function mergeSpellings(
  rawSongs: Extract<ParsedTrack, { kind: 'song' }>[],
  sets: RawSet[],
): { merged: number; rep: Int32Array; byRaw: Map<number, Alias[]> } {
  const plays = new Float64Array(rawSongs.length);
  for (const s of sets) for (const id of s.songs) if (id >= 0) plays[id]++;
  const rep = mergeSongs({ keys: rawSongs.map((s) => s.key), plays, sets: sets.map((s) => s.songs) });
  const byRaw = new Map<number, Alias[]>();
  let merged = 0;
  for (let id = 0; id < rep.length; id++) {
    if (rep[id] === id) continue;
    merged++;
    const list = byRaw.get(rep[id]) ?? [];
    list.push({ name: rawSongs[id].display, key: rawSongs[id].key });
    byRaw.set(rep[id], list);
  }
  if (merged > 0) for (const s of sets) s.songs = s.songs.map((id) => (id >= 0 ? rep[id] : id));
  return { merged, rep, byRaw };
}

/** The sets as vocabulary index sequences (SPEC §2): kept songs, GAP (-1), or OUT_OF_VOCABULARY. */
export function toSequences(
  sets: RawSet[],
  split: Uint8Array,
  songOf: Int32Array,
  djOf: Int32Array,
  rawDjNames: string[],
): Sequences {
  const total = sets.reduce((n, s) => n + s.songs.length, 0);
  const songs = new Int32Array(total);
  const offsets = new Int32Array(sets.length + 1);
  const djList: number[] = [];
  const djOffsets = new Int32Array(sets.length + 1);
  const days = new Int32Array(sets.length);
  let at = 0;
  sets.forEach((s, t) => {
    for (const id of s.songs) songs[at++] = id < 0 ? -1 : songOf[id];
    offsets[t + 1] = at;
    for (const d of s.djs) if (djOf[d] >= 0) djList.push(djOf[d]);
    djOffsets[t + 1] = djList.length;
    days[t] = s.days;
  });
  return {
    songs,
    offsets,
    djs: Int32Array.from(djList),
    djOffsets,
    split,
    days,
    ids: sets.map((s) => s.id),
    djNames: sets.map((s) => s.djs.map((d) => rawDjNames[d])),
  };
}
