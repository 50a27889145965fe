import { parseTrack, type ParsedTrack } from '../corpus/trackString.ts';
import type { Tracklist } from '../corpus/types.ts';
import { Progress } from '../util/progress.ts';
import type { RawSet } from './holdout.ts';

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
