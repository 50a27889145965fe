/**
 * The zod schemas of every request (validation) and response (documentation). /api/openapi.json is
 * generated from these same objects, so the document cannot drift from what the API accepts. Every
 * limit comes from shared/limits.ts, which the engine, the store and the CLI read too. Shapes that
 * clients see in more than one place are registered under a name (`named`): they become the
 * document's component schemas and the typed client's named types.
 */
import { z } from 'zod';
import { EXPORT_FORMATS } from '../shared/formats/tracklistExport.ts';
import { LIMITS } from '../shared/limits.ts';

export { LIMITS };

/** A component schema of the OpenAPI document: `id` in zod's global registry, where `.meta()` puts descriptions. */
function named<T extends z.ZodType>(id: string, description: string, schema: T): T {
  return schema.meta({ id, description }) as T;
}

/** Public ids (contract A): 's'/'a'/'d' + 12 hex; any other string is simply an unknown id (404). */
const idString = (what: string) =>
  z
    .string()
    .min(1)
    .max(200)
    .meta({ description: `${what} id`, example: `${what === 'song' ? 's' : what === 'DJ' ? 'd' : 'a'}0123456789ab` });

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

export const exportQuery = z.object({
  format: z.enum(EXPORT_FORMATS).meta({
    description:
      'm3u8: #EXTINF playlist; csv: one row per song with scores; txt: numbered 1001Tracklists-style lines; json: the list with scores',
  }),
});

export const likeSchema = named(
  'LikeInput',
  'A liked song as a client sends it',
  z.strictObject({
    song: songIdSchema,
    score: z.number().min(0).max(1).meta({ description: 'how much the song is liked, 0..1' }),
  }),
);

export const likesSchema = z.array(likeSchema).max(LIMITS.likes);

const songIds = (description: string) =>
  z.array(songIdSchema).max(LIMITS.tracklistSongs).optional().meta({ description });

const { temperature: T, thresholds: H, userWeighting: W, rngSeed: R, steering: G, artistRepeatPenalty: A, adventurousness: V } = LIMITS;

/** Generation knobs shared by POST /tracklists and POST /me/tracklists (SPEC §5.1). */
const generationFields = {
  seedSong: songIdSchema.meta({ description: 'song the tracklist starts with' }),
  length: z
    .number()
    .int()
    .min(LIMITS.length.min)
    .max(LIMITS.length.max)
    .optional()
    .meta({
      description: `songs after the seed (default ${LIMITS.length.default}); the tracklist holds length + 1 songs`,
    }),
  temperature: z
    .array(z.number().min(T.min).max(T.max))
    .length(T.count)
    .optional()
    .meta({
      description: `per-level multiplier of the model's logits (l3, l2, l1), coarsest first; higher sharpens (default [${T.default.join(', ')}])`,
    }),
  userWeighting: z
    .number()
    .min(W.min)
    .max(W.max)
    .optional()
    .meta({
      description: `weight of the taste (DJ or likes) against similarity to the seed; 1 balances them (default ${W.default})`,
    }),
  thresholds: z
    .array(z.number().min(H.min).lt(H.below))
    .length(H.count)
    .optional()
    .meta({
      description: `per-level probability thresholds (l3, l2, l1, song), coarsest first; options below are never drawn (default [${H.default.join(', ')}])`,
    }),
  steering: z
    .number()
    .min(G.min)
    .max(G.max)
    .optional()
    .meta({
      description: `how strongly taste and seed similarity reshape the model's own choices: 0 samples the model alone, 1 applies them fully (default ${G.default})`,
    }),
  artistRepeatPenalty: z
    .number()
    .min(A.min)
    .max(A.max)
    .optional()
    .meta({
      description: `share of probability taken from a song whose artist already played in the set; 0 allows repeats freely (default ${A.default})`,
    }),
  adventurousness: z
    .number()
    .min(V.min)
    .max(V.max)
    .optional()
    .meta({
      description: `how far each song may move from the one before (in the embedding): 0 keeps every step close, 1 lets the model jump anywhere (default ${V.default})`,
    }),
  rngSeed: z
    .number()
    .int()
    .min(R.min)
    .max(R.max)
    .optional()
    .meta({ description: 'seed for a reproducible tracklist (random when absent)' }),
  prefix: songIds(
    'songs that follow the seed as given before generation goes on (re-rolling position i: the songs before it); at most length songs',
  ),
  exclude: songIds('songs that must not be chosen (re-rolling position i: the songs from i on)'),
};

export const tracklistRequest = named(
  'TracklistRequest',
  'How to generate a tracklist: a seed song, and a DJ or liked songs as taste (or neither)',
  z.strictObject({
    ...generationFields,
    explain: z.boolean().optional().meta({ description: 'add why each song was picked (costs a little more time)' }),
    dj: djIdSchema.optional().meta({ description: 'taste of this DJ' }),
    likes: likesSchema.optional().meta({ description: 'taste as liked songs (cold start)' }),
  }),
);

const tracklistName = z
  .string()
  .trim()
  .min(1)
  .max(LIMITS.tracklistName)
  .meta({ description: 'title of the tracklist' });

/** A song of a tracklist a client sends back (export, save): the server looks its names up again. */
export const tracklistItemInput = named(
  'TracklistItemInput',
  'A song of an existing tracklist as sent back by a client; a TracklistItem from a response fits as is',
  z.object({
    id: songIdSchema,
    userScore: z.number().optional(),
    songScore: z.number().optional(),
    logProb: z.object({ l3: z.number(), l2: z.number(), l1: z.number(), song: z.number() }).optional(),
  }),
);

const tracklistInput = z
  .array(tracklistItemInput)
  .min(1)
  .max(LIMITS.tracklistSongs)
  .meta({ description: 'the songs, seed first' });

export const myTracklistRequest = named(
  'SaveTracklistRequest',
  'Save a tracklist: the one given in `tracklist` (as generated), or without it a new one generated with my likes from the generation fields',
  z.strictObject({
    ...generationFields,
    name: tracklistName.optional(),
    tracklist: tracklistInput.optional(),
  }),
);

export const renameTracklistRequest = named(
  'RenameTracklistRequest',
  'A new title, or null to clear it',
  z.strictObject({ name: tracklistName.nullable() }),
);

export const exportRequest = named(
  'ExportRequest',
  'An unsaved tracklist to export',
  z.strictObject({ name: tracklistName.nullable().optional(), tracklist: tracklistInput }),
);

export const matchRequest = named(
  'MatchRequest',
  'Lines to match against the catalogue (e.g. an imported playlist)',
  z.strictObject({
    queries: z
      .array(z.string().max(LIMITS.matchQueryLength))
      .min(1)
      .max(LIMITS.matchQueries)
      .meta({ description: '"Artist - Title" lines' }),
  }),
);

export const preferencesPut = z.strictObject({ likes: likesSchema });

export const preferencesPatch = z.strictObject({
  add: likesSchema.optional().meta({ description: 'likes to add or update' }),
  remove: z.array(songIdSchema).max(LIMITS.likes).optional().meta({ description: 'song ids to remove' }),
});

// Responses (documentation only).

const ref = { id: z.string(), name: z.string() };
const scored = { score: z.number() };
export const artistRef = named('ArtistRef', 'An artist credited on a song', z.object(ref));
export const songOut = named(
  'Song',
  'A song; artists heaviest credit first (remixers weigh most)',
  z.object({ ...ref, artists: z.array(artistRef) }),
);
const scoredSong = named('ScoredSong', 'A song in a ranked list', songOut.extend(scored));
export const songsOut = named('SongList', 'Ranked songs', z.object({ items: z.array(scoredSong) }));
export const songDetailOut = named(
  'SongDetail',
  'One song and what the model knows of it',
  songOut.extend({
    plays: z.number().meta({ description: 'plays in the training sets' }),
    acappella: z.boolean().meta({ description: 'acappellas are never generated' }),
  }),
);
const scoredArtist = named('ScoredArtist', 'An artist in a ranked list', z.object({ ...ref, ...scored }));
export const artistsOut = named('ArtistList', 'Ranked artists', z.object({ items: z.array(scoredArtist) }));
export const artistOut = named(
  'Artist',
  'One artist',
  z.object({ ...ref, songs: z.number().meta({ description: 'songs that credit the artist' }) }),
);
const scoredDj = named('ScoredDj', 'A DJ in a ranked list', z.object({ ...ref, ...scored }));
export const djsOut = named('DjList', 'Ranked DJs', z.object({ items: z.array(scoredDj) }));
export const djOut = named(
  'Dj',
  'One DJ',
  z.object({ ...ref, songs: z.number().meta({ description: 'distinct songs the DJ played' }) }),
);

export const modelRef = named('ModelRef', 'The model version that answered', z.object({ version: z.string() }));

export const healthOut = named(
  'Health',
  'Service and model status',
  z.object({
    status: z.enum(['ok', 'degraded', 'loading']),
    model: z
      .object({ version: z.string(), publishedAt: z.string().nullable(), loadedAt: z.string() })
      .nullable()
      .meta({ description: 'the version being served, null before the first one has loaded' }),
    checkedAt: z.string().nullable().meta({ description: 'when models/latest.json was last read' }),
    error: z.string().optional().meta({ description: 'why the status is not ok' }),
  }),
);

const logProb = named(
  'LevelLogProbs',
  "The model's natural-log probability of a choice at each level of its cluster tree (coarsest first) and of the song within its cluster; they sum to log P(song)",
  z.object({ l3: z.number(), l2: z.number(), l1: z.number(), song: z.number() }),
);
const termEvidence = {
  logit: z.number().meta({ description: "the term's weighted contribution to the song's logit" }),
  rank: z.number().int().meta({ description: 'where the term ranked this song among its cluster (1 = favoured it most)' }),
  of: z.number().int().meta({ description: 'songs in the cluster' }),
};
const songExplanation = named(
  'SongExplanation',
  'Why a generated song is there (with "explain": true)',
  z.object({
    pickedBy: z.enum(['seed', 'prefix', 'warmStart', 'model']).meta({
      description: 'seed: the request\'s; prefix: given; warmStart: drawn from the top of the seed × taste ranking; model: sampled down the cluster tree',
    }),
    path: z
      .array(
        z.object({
          level: z.enum(['l3', 'l2', 'l1']),
          cluster: z.number().int(),
          name: z.string().meta({ description: "the cluster's most played artists (beyond its parents')" }),
          probability: z.number().meta({ description: "the model's probability of this cluster at its level" }),
        }),
      )
      .meta({ description: 'the song\'s clusters, coarsest first' }),
    terms: z
      .object({
        network: z.object(termEvidence).meta({ description: 'the LSTM with the taste' }),
        transition: z
          .object({ ...termEvidence, seen: z.number().meta({ description: 'training sets that played the previous song then this one' }) })
          .nullable()
          .meta({ description: 'the n-gram transition from the previous song (null: the model has no n-gram term)' }),
        session: z
          .object({
            ...termEvidence,
            voteShare: z.number().meta({ description: "the song's share of the similar training sets' votes" }),
            closestSet: z
              .object({
                shared: z.array(songOut).meta({ description: 'up to five songs it shares with this set' }),
                sharedCount: z.number().int(),
              })
              .nullable()
              .meta({ description: 'the training set playing this song that shares most songs with this set' }),
          })
          .nullable()
          .meta({ description: 'the session-kNN term (null: the model has none)' }),
      })
      .nullable()
      .meta({ description: 'the song-level evidence (null for the seed)' }),
  }),
);
export const tracklistSong = named(
  'TracklistItem',
  'A song of a generated tracklist with its reward breakdown',
  songOut.extend({
    userScore: z.number().meta({ description: 'taste score, min-max scaled to 0..1 (0 without a taste)' }),
    songScore: z.number().meta({ description: 'similarity to the seed, min-max scaled to 0..1' }),
    logProb,
    explanation: songExplanation.optional(),
  }),
);
export const generationDefaultsOut = named(
  'GenerationDefaults',
  "What a tracklist request gets for every knob it leaves out, for the model being served: the limits' defaults, with the values training tuned for this model on its own validation sets in place",
  z.object({
    defaults: z.object({
      length: z.number().int(),
      temperature: z.array(z.number()).length(T.count).meta({ description: 'l3, l2, l1' }),
      thresholds: z.array(z.number()).length(H.count).meta({ description: 'l3, l2, l1, song' }),
      userWeighting: z.number(),
      steering: z.number(),
      adventurousness: z.number(),
      artistRepeatPenalty: z.number(),
    }),
    tuned: z.array(z.string()).meta({ description: "the knobs whose default this model moved off the limits' defaults (tuned at training time)" }),
    model: modelRef,
  }),
);

export const tracklistOut = named(
  'Tracklist',
  'A generated tracklist, seed first',
  z.object({ tracklist: z.array(tracklistSong), model: modelRef }),
);

export const likeOut = named(
  'Like',
  'A liked song',
  z.object({
    song: z.string().meta({ description: 'song id' }),
    score: z.number(),
    name: z.string().nullable().meta({ description: 'null when the current model no longer has the song' }),
  }),
);
export const likesOut = named('Likes', 'My liked songs', z.object({ likes: z.array(likeOut) }));
export const meOut = named(
  'Me',
  'The signed-in user',
  z.object({
    id: z.string(),
    name: z.string().nullable(),
    identityProvider: z.string().nullable(),
    likes: z.array(likeOut),
  }),
);

export const sessionOut = named(
  'Session',
  'The signed-in user, or null',
  z.object({
    user: z
      .object({ id: z.string(), name: z.string().nullable(), identityProvider: z.string().nullable() })
      .nullable(),
  }),
);

export const savedTracklistOut = named(
  'SavedTracklist',
  'A saved tracklist',
  z.object({
    id: z.string(),
    name: z.string().nullable(),
    createdAt: z.string(),
    request: z.record(z.string(), z.unknown()).meta({ description: 'the request it was generated from' }),
    tracklist: z.array(tracklistSong),
    model: modelRef,
  }),
);
const savedTracklistSummary = named(
  'SavedTracklistSummary',
  'A saved tracklist in a list',
  z.object({
    id: z.string(),
    name: z.string().nullable(),
    createdAt: z.string(),
    seedSong: z.string().nullable(),
    songs: z.number().meta({ description: 'songs in the tracklist, seed included' }),
    model: modelRef,
  }),
);
export const savedTracklistsOut = named(
  'SavedTracklistList',
  'My saved tracklists, newest first',
  z.object({ items: z.array(savedTracklistSummary) }),
);

const songMatch = named(
  'SongMatch',
  'One line matched against the catalogue',
  z.object({
    query: z.string(),
    song: songOut.nullable().meta({ description: 'the song with this identity (case, accents, ft. variants ignored), or null' }),
    suggestions: z.array(songOut).meta({ description: 'close names when there is no exact match' }),
  }),
);
export const matchOut = named('SongMatches', 'Matches in the order of the queries', z.object({ items: z.array(songMatch) }));

export const errorOut = named(
  'Error',
  'Every error answer',
  z.object({
    error: z.looseObject({
      message: z.string(),
      field: z.string().optional().meta({ description: 'the offending field as a client writes it, e.g. likes[3].song' }),
    }),
  }),
);
