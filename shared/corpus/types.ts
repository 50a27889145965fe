/** A track as it appears in a corpus line (SPEC §1): a 1001Tracklists-style string or structured credits. */
export interface StructuredTrack {
  artist: string;
  title: string;
  /** Optional explicit artist weights; normalised to sum to 1 when parsed. */
  artists?: Record<string, number>;
}

export type RawTrack = string | StructuredTrack;

/** One tracklist: one line of the JSONL corpus. */
export interface Tracklist {
  id: string;
  date: string | null;
  djs: string[];
  tracks: RawTrack[];
  title?: string;
  source?: string;
}
