/**
 * The zod schemas of every request (validation) and response (documentation). /api/openapi.json is
 * generated from these same objects, so the document cannot drift from what the API accepts.
 */
import { z } from 'zod';

export const LIMITS = {
  /** Songs generated after the seed. */
  length: { min: 1, max: 100 },
  k: { min: 1, max: 500, default: 10 },
  searchLimit: { min: 1, max: 100, default: 10 },
  likes: 1000,
  queryLength: 200,
  /** Saved tracklists listed by GET /me/tracklists (newest first). */
  savedTracklists: 100,
} as const;

/** Public ids (contract A): 's'/'a'/'d' + 12 hex; any other string is simply an unknown id (404). */
const idString = (what: string) =>
  z
    .string()
    .min(1)
    .max(200)
    .meta({ description: `${what} id`, example: 's0123456789ab' });

export const songIdSchema = idString('song');
export const djIdSchema = idString('DJ');

export const idParams = z.object({ id: z.string().min(1).max(200).meta({ description: 'public id' }) });

const kSchema = z.coerce
  .number()
  .int()
  .min(LIMITS.k.min)
  .max(LIMITS.k.max)
  .default(LIMITS.k.default)
  .meta({ description: 'number of results' });

export const kQuery = z.object({ k: kSchema });

export const searchQuery = z.object({
  q: z
    .string()
    .trim()
    .min(1)
    .max(LIMITS.queryLength)
    .meta({ description: 'name to search (case, accents, punctuation ignored)' }),
  limit: z.coerce
    .number()
    .int()
    .min(LIMITS.searchLimit.min)
    .max(LIMITS.searchLimit.max)
    .default(LIMITS.searchLimit.default)
    .meta({ description: 'maximum number of results' }),
});

export const likeSchema = z.strictObject({
  song: songIdSchema,
  score: z.number().min(0).max(1).meta({ description: 'how much the song is liked, 0..1' }),
});

export const likesSchema = z.array(likeSchema).max(LIMITS.likes);

/** Generation knobs shared by POST /tracklists and POST /me/tracklists (SPEC §5.1). */
const generationFields = {
  seedSong: songIdSchema.meta({ description: 'song the tracklist starts with' }),
  length: z
    .number()
    .int()
    .min(LIMITS.length.min)
    .max(LIMITS.length.max)
    .optional()
    .meta({ description: 'songs after the seed (default 15); the tracklist holds length + 1 songs' }),
  temperature: z
    .array(z.number().positive().max(100))
    .min(1)
    .max(4)
    .optional()
    .meta({ description: 'per-level sampling temperature, coarsest level first (default [1, 1, 1])' }),
  userWeighting: z.number().min(0).max(1000).optional().meta({
    description: 'weight of the taste (DJ or likes) against similarity to the seed; 1 balances them',
  }),
  thresholds: z.array(z.number().min(0).max(1)).min(1).max(4).optional().meta({
    description: 'per-level probability thresholds, coarsest level first (default [0.1, 0.05, 0.05, 0.005])',
  }),
  rngSeed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .optional()
    .meta({ description: 'seed for a reproducible tracklist' }),
};

export const tracklistRequest = z.strictObject({
  ...generationFields,
  dj: djIdSchema.optional().meta({ description: 'taste of this DJ' }),
  likes: likesSchema.optional().meta({ description: 'taste as liked songs (cold start)' }),
});

export const myTracklistRequest = z.strictObject({
  ...generationFields,
  name: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .meta({ description: 'title to save the tracklist under' }),
});

export const preferencesPut = z.strictObject({ likes: likesSchema });

export const preferencesPatch = z.strictObject({
  add: likesSchema.optional().meta({ description: 'likes to add or update' }),
  remove: z.array(songIdSchema).max(LIMITS.likes).optional().meta({ description: 'song ids to remove' }),
});

// Responses (documentation only).

const ref = z.object({ id: z.string(), name: z.string() });
export const songOut = z.object({ id: z.string(), name: z.string(), artists: z.array(ref) });
const scored = { score: z.number() };

export const songsOut = z.object({ items: z.array(songOut.extend(scored)) });
export const songDetailOut = songOut.extend({ plays: z.number(), acappella: z.boolean() });
export const refsOut = z.object({ items: z.array(ref.extend(scored)) });
export const refOut = ref;

export const modelRef = z.object({ version: z.string() });

export const healthOut = z.object({
  status: z.enum(['ok', 'degraded', 'loading']),
  model: z
    .object({ version: z.string(), publishedAt: z.string().nullable(), loadedAt: z.string() })
    .nullable()
    .meta({ description: 'the version being served, null before the first one has loaded' }),
  checkedAt: z.string().nullable().meta({ description: 'when models/latest.json was last read' }),
  error: z.string().optional().meta({ description: 'why the status is not ok' }),
});

const logProb = z.object({ l3: z.number(), l2: z.number(), l1: z.number(), song: z.number() });
export const tracklistSong = songOut.extend({
  userScore: z.number(),
  songScore: z.number(),
  logProb: logProb.meta({ description: "the model's log-probability of the choice at each level" }),
});
export const tracklistOut = z.object({ tracklist: z.array(tracklistSong), model: modelRef });

export const likeOut = z.object({
  song: z.string(),
  score: z.number(),
  name: z.string().nullable().meta({ description: 'null when the current model no longer has the song' }),
});
export const likesOut = z.object({ likes: z.array(likeOut) });
export const meOut = z.object({
  id: z.string(),
  name: z.string().nullable(),
  identityProvider: z.string().nullable(),
  likes: z.array(likeOut),
});

export const savedTracklistOut = z.object({
  id: z.string(),
  name: z.string().nullable(),
  createdAt: z.string(),
  request: z.record(z.string(), z.unknown()).meta({ description: 'the request body it was generated from' }),
  tracklist: z.array(tracklistSong),
  model: modelRef,
});
export const savedTracklistsOut = z.object({
  items: z.array(
    z.object({
      id: z.string(),
      name: z.string().nullable(),
      createdAt: z.string(),
      seedSong: z.string().nullable(),
      songs: z.number().meta({ description: 'songs in the tracklist, seed included' }),
      model: modelRef,
    }),
  ),
});

export const errorOut = z.object({
  error: z.looseObject({ message: z.string(), field: z.string().optional() }),
});
