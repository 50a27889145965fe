/**
 * Every limit of the public surface, once. The request schemas (and so the OpenAPI document), the
 * serving engine, the user store, the CLI and the web app's form validation all read these, so a
 * value the document allows is a value the engine accepts.
 */
const LENGTH = { min: 1, max: 100, default: 15 } as const;

export const LIMITS = {
  /** Songs generated after the seed. */
  length: LENGTH,
  /** Results of similar / recommendation lists. */
  k: { min: 1, max: 500, default: 10 },
  /** Results of a name search. */
  searchLimit: { min: 1, max: 100, default: 10 },
  /** Characters of a search query (longer ones are refused). */
  queryLength: 200,
  /** Liked songs of a user, and of a like list sent with a request. */
  likes: 1000,
  /** Per-level sampling temperature (l3, l2, l1): a multiplier of the logits, so higher sharpens. */
  temperature: { count: 3, min: 0, max: 100, default: [0.7, 0.8, 1] as readonly number[] },
  /** Per-level probability thresholds (l3, l2, l1, song), each below 1. */
  thresholds: { count: 4, min: 0, below: 1, default: [0, 0, 0, 0] as readonly number[] },
  /** Weight of the taste against the seed similarity (w = 1 balances them). */
  userWeighting: { min: 0, max: 1000, default: 1 },
  /**
   * How strongly the taste and seed scores reshape the model's own choices: 0 samples the model
   * alone, 1 is the original recipe's full adjustment.
   */
  steering: { min: 0, max: 1, default: 0.1 },
  /** Share of probability taken from a song one of whose artists already played in the set. */
  artistRepeatPenalty: { min: 0, max: 0.99, default: 0 },
  /**
   * How freely each song may move away from the one before: 0 keeps every transition close (in the
   * embedding), 1 lets the model jump anywhere; real sets drift from their seed in small steps.
   */
  adventurousness: { min: 0, max: 1, default: 0.6 },
  /** RNG seeds are 32-bit unsigned integers. */
  rngSeed: { min: 0, max: 2 ** 32 - 1 },
  /** Characters of a saved tracklist's name. */
  tracklistName: 200,
  /** Saved tracklists listed by GET /me/tracklists (newest first). */
  savedTracklists: 100,
  /** Songs of a tracklist sent back for export or saving (the seed plus the longest generation). */
  tracklistSongs: LENGTH.max + 1,
  /** Lines sent to the catalogue matcher in one request. */
  matchQueries: 1000,
  /** Characters of one line sent to the matcher. */
  matchQueryLength: 300,
  /** Request bodies above this are refused with 413 (1,000 likes fit in a few tens of KB). */
  bodyBytes: 256 * 1024,
} as const;
