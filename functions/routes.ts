/**
 * THE route table: every HTTP endpoint of the API, once. functions/index.ts registers it with the
 * Functions host (`app.http`), functions/localHost.ts serves it locally, functions/openapi.ts
 * documents it. Routes are relative to /api. Catalogue and generation are public; /me* needs a
 * signed-in user and only ever touches that user's documents (the user id comes from the
 * principal, never from the URL or body).
 */
import { HttpError, notFound } from './errors.ts';
import { defineRoute, MODEL_RETRY_AFTER_SECONDS } from './http.ts';
import type { Route } from './http.ts';
import { openApiDocument } from './openapi.ts';
import { EXPORT_FORMATS, exportTracklist } from '../shared/formats/tracklistExport.ts';
import type { ExportSong } from '../shared/formats/tracklistExport.ts';
import {
  likesJson,
  likesToIndices,
  refsJson,
  resolve,
  songIdsToIndices,
  songJson,
  songsJson,
  storedLikesToIndices,
  tracklistFile,
  tracklistFromInput,
  tracklistJson,
  savedTracklistJson,
  savedTracklistSummary,
} from './present.ts';
import {
  artistOut,
  artistsOut,
  djOut,
  djsOut,
  exportQuery,
  exportRequest,
  generationDefaultsOut,
  healthOut,
  idParams,
  kQuery,
  LIMITS,
  likesOut,
  matchOut,
  matchRequest,
  meOut,
  myTracklistRequest,
  preferencesPatch,
  preferencesPut,
  renameTracklistRequest,
  savedTracklistOut,
  savedTracklistsOut,
  searchQuery,
  sessionOut,
  songDetailOut,
  songsOut,
  tracklistOut,
  tracklistRequest,
} from './schemas.ts';
import type { Principal } from './identity.ts';
import type { ServedModel } from './services.ts';
import type { TracklistDoc } from './services.ts';

function searchItems(model: ServedModel, kind: 'artists' | 'djs', q: string, limit: number) {
  return {
    items: model.search(kind, q, limit).map((h) => ({ id: h.id, name: h.name, score: h.score })),
  };
}

function profileOf(p: Principal): { name?: string; idp?: string } {
  return { ...(p.name ? { name: p.name } : {}), ...(p.identityProvider ? { idp: p.identityProvider } : {}) };
}

/** Suggestions shown for a line that matches no song exactly. */
const MATCH_SUGGESTIONS = 3;

const EXPORT_FILE = {
  description: 'The tracklist as a file (Content-Disposition: attachment)',
  contentTypes: EXPORT_FORMATS.map((f) => exportTracklist({ name: null, songs: [] }, f).contentType.split(';')[0]),
};

async function savedOr404(services: { users: { getTracklist(u: string, id: string): Promise<TracklistDoc | null> } }, user: string, id: string) {
  const doc = await services.users.getTracklist(user, id);
  if (!doc) throw notFound(`no saved tracklist "${id}"`, 'id');
  return doc;
}

/** Generation needs the tracklist model; a version exported without one still serves the rest. */
function requireGeneration(m: ServedModel): void {
  if (!m.hasTracklistModel)
    throw new HttpError(
      503,
      `model version ${m.versionId} has no tracklist model; generation is unavailable`,
    );
}

export const routes: Route[] = [
  defineRoute({
    name: 'health',
    methods: ['GET'],
    route: 'health',
    auth: 'public',
    summary: 'Service and model status (the readiness probe)',
    description:
      'Also starts loading the model when none is loaded yet ("loading"). 503 with the same body while no model can be served, so a load balancer sends no traffic to this instance.',
    tags: ['service'],
    response: healthOut,
    handler({ services }) {
      services.model.get().catch(() => undefined); // load in the background; status() reports the outcome
      const s = services.model.status();
      const { versionId, ...rest } = s.model ?? { versionId: undefined };
      return {
        // Not ready without a model: every model route would answer 503.
        ...(s.model ? {} : { status: 503, headers: { 'retry-after': String(MODEL_RETRY_AFTER_SECONDS) } }),
        body: {
          status: s.status,
          model: s.model ? { version: versionId, ...rest } : null,
          checkedAt: s.checkedAt,
          ...(s.error !== undefined ? { error: s.error } : {}),
        },
      };
    },
  }),
  defineRoute({
    name: 'openapi',
    methods: ['GET'],
    route: 'openapi.json',
    auth: 'public',
    summary: 'This API as an OpenAPI 3.1 document',
    tags: ['service'],
    handler: () => ({ body: openApiDocument(routes) }),
  }),

  // Songs
  defineRoute({
    name: 'searchSongs',
    methods: ['GET'],
    route: 'songs',
    auth: 'public',
    summary: 'Search songs by name',
    tags: ['songs'],
    query: searchQuery,
    response: songsOut,
    async handler({ query, model }) {
      const m = await model();
      return {
        body: {
          items: m
            .search('songs', query.q, query.limit)
            .map((h) => ({ ...songJson(m, h.index), score: h.score })),
        },
      };
    },
  }),
  defineRoute({
    name: 'getSong',
    methods: ['GET'],
    route: 'songs/{id}',
    auth: 'public',
    summary: 'One song',
    tags: ['songs'],
    params: idParams,
    response: songDetailOut,
    errors: [404],
    async handler({ params, model }) {
      const m = await model();
      const s = m.song(resolve(m, 'songs', params.id, 'id'));
      return {
        body: {
          id: s.id,
          name: s.name,
          artists: s.artists.map((a) => ({ id: a.id, name: a.name })),
          plays: s.plays,
          acappella: s.acappella,
        },
      };
    },
  }),
  defineRoute({
    name: 'similarSongs',
    methods: ['GET'],
    route: 'songs/{id}/similar',
    auth: 'public',
    summary: 'Songs similar to a song',
    tags: ['songs'],
    params: idParams,
    query: kQuery,
    response: songsOut,
    errors: [404],
    async handler({ params, query, model }) {
      const m = await model();
      return { body: songsJson(m, m.similarSongs(resolve(m, 'songs', params.id, 'id'), query.k)) };
    },
  }),

  defineRoute({
    name: 'matchSongs',
    methods: ['POST'],
    route: 'songs/match',
    auth: 'public',
    summary: 'Match "Artist - Title" lines against the catalogue',
    description:
      'For importing playlists: each line gets the song with the same identity (case, accents and ft. variants ignored) or null, and close names as suggestions when there is no exact match.',
    tags: ['songs'],
    body: matchRequest,
    response: matchOut,
    errors: [413],
    async handler({ body, model }) {
      const m = await model();
      return {
        body: {
          items: body.queries.map((query) => {
            const index = query.trim() === '' ? undefined : m.findSong(query.trim());
            return {
              query,
              song: index === undefined ? null : songJson(m, index),
              suggestions:
                index !== undefined || query.trim() === ''
                  ? []
                  : m.search('songs', query.slice(0, LIMITS.queryLength), MATCH_SUGGESTIONS).map((h) => songJson(m, h.index)),
            };
          }),
        },
      };
    },
  }),

  // Artists
  defineRoute({
    name: 'searchArtists',
    methods: ['GET'],
    route: 'artists',
    auth: 'public',
    summary: 'Search artists by name',
    tags: ['artists'],
    query: searchQuery,
    response: artistsOut,
    async handler({ query, model }) {
      return { body: searchItems(await model(), 'artists', query.q, query.limit) };
    },
  }),
  defineRoute({
    name: 'getArtist',
    methods: ['GET'],
    route: 'artists/{id}',
    auth: 'public',
    summary: 'One artist',
    tags: ['artists'],
    params: idParams,
    response: artistOut,
    errors: [404],
    async handler({ params, model }) {
      const m = await model();
      const i = resolve(m, 'artists', params.id, 'id');
      return { body: { ...m.artist(i), songs: m.artistSongCount(i) } };
    },
  }),
  defineRoute({
    name: 'artistSongs',
    methods: ['GET'],
    route: 'artists/{id}/songs',
    auth: 'public',
    summary: "An artist's songs (any credit), most played first",
    description: 'score = plays in the corpus the model was trained on',
    tags: ['artists'],
    params: idParams,
    query: kQuery,
    response: songsOut,
    errors: [404],
    async handler({ params, query, model }) {
      const m = await model();
      return { body: songsJson(m, m.artistSongs(resolve(m, 'artists', params.id, 'id'), query.k)) };
    },
  }),
  defineRoute({
    name: 'similarArtists',
    methods: ['GET'],
    route: 'artists/{id}/similar',
    auth: 'public',
    summary: 'Artists similar to an artist',
    tags: ['artists'],
    params: idParams,
    query: kQuery,
    response: artistsOut,
    errors: [404],
    async handler({ params, query, model }) {
      const m = await model();
      return {
        body: refsJson(m, 'artists', m.similarArtists(resolve(m, 'artists', params.id, 'id'), query.k)),
      };
    },
  }),

  // DJs
  defineRoute({
    name: 'searchDjs',
    methods: ['GET'],
    route: 'djs',
    auth: 'public',
    summary: 'Search DJs by name',
    tags: ['djs'],
    query: searchQuery,
    response: djsOut,
    async handler({ query, model }) {
      return { body: searchItems(await model(), 'djs', query.q, query.limit) };
    },
  }),
  defineRoute({
    name: 'getDj',
    methods: ['GET'],
    route: 'djs/{id}',
    auth: 'public',
    summary: 'One DJ',
    tags: ['djs'],
    params: idParams,
    response: djOut,
    errors: [404],
    async handler({ params, model }) {
      const m = await model();
      const i = resolve(m, 'djs', params.id, 'id');
      return { body: { ...m.dj(i), songs: m.djSongCount(i) } };
    },
  }),
  defineRoute({
    name: 'djSongs',
    methods: ['GET'],
    route: 'djs/{id}/songs',
    auth: 'public',
    summary: 'Songs a DJ played, most played first',
    description: 'score = plays in the corpus the model was trained on',
    tags: ['djs'],
    params: idParams,
    query: kQuery,
    response: songsOut,
    errors: [404],
    async handler({ params, query, model }) {
      const m = await model();
      return { body: songsJson(m, m.djSongs(resolve(m, 'djs', params.id, 'id'), query.k)) };
    },
  }),
  defineRoute({
    name: 'djRecommendations',
    methods: ['GET'],
    route: 'djs/{id}/recommendations',
    auth: 'public',
    summary: "Songs for a DJ (not already in the DJ's crate)",
    tags: ['djs'],
    params: idParams,
    query: kQuery,
    response: songsOut,
    errors: [404],
    async handler({ params, query, model }) {
      const m = await model();
      return { body: songsJson(m, m.recommendForDj(resolve(m, 'djs', params.id, 'id'), query.k)) };
    },
  }),
  defineRoute({
    name: 'similarDjs',
    methods: ['GET'],
    route: 'djs/{id}/similar',
    auth: 'public',
    summary: 'DJs similar to a DJ',
    tags: ['djs'],
    params: idParams,
    query: kQuery,
    response: djsOut,
    errors: [404],
    async handler({ params, query, model }) {
      const m = await model();
      return { body: refsJson(m, 'djs', m.similarDjs(resolve(m, 'djs', params.id, 'id'), query.k)) };
    },
  }),

  // Generation
  defineRoute({
    name: 'generateTracklist',
    methods: ['POST'],
    route: 'tracklists',
    auth: 'public',
    summary: 'Generate a tracklist from a seed song (and a DJ or liked songs)',
    description:
      'The seed comes first. An unknown seedSong or dj is a 404 naming the field; an unknown song in likes is a 400 naming it (likes[3].song).',
    tags: ['tracklists'],
    body: tracklistRequest,
    response: tracklistOut,
    errors: [404, 413],
    generation: true,
    async handler({ body, model, generate }) {
      const m = await model();
      requireGeneration(m);
      const { seedSong, dj, likes, prefix, exclude, ...knobs } = body;
      const size = { length: body.length ?? LIMITS.length.default, likes: likes?.length ?? 0 };
      const songs = await generate(size, () =>
        m.generate({
          ...knobs,
          seedSong: resolve(m, 'songs', seedSong, 'seedSong'),
          dj: dj === undefined ? undefined : resolve(m, 'djs', dj, 'dj'),
          likes: likes === undefined ? undefined : likesToIndices(m, likes, 'likes'),
          prefix: songIdsToIndices(m, prefix, 'prefix'),
          exclude: songIdsToIndices(m, exclude, 'exclude'),
        }),
      );
      return { body: { tracklist: tracklistJson(m, songs), model: { version: m.versionId } } };
    },
  }),
  defineRoute({
    name: 'generationDefaults',
    methods: ['GET'],
    route: 'tracklists/defaults',
    auth: 'public',
    summary: "The served model's default for every generation knob",
    description:
      'Training tunes some defaults per model (temperature, adventurousness, artist-repeat penalty) so its sets read like its corpus; a form shows these and sends only what the user changed.',
    tags: ['tracklists'],
    response: generationDefaultsOut,
    async handler({ model }) {
      const m = await model();
      requireGeneration(m);
      const { defaults, moved: tuned } = m.publicGenerationDefaults();
      return { body: { defaults, tuned, model: { version: m.versionId } } };
    },
  }),
  defineRoute({
    name: 'exportTracklist',
    methods: ['POST'],
    route: 'tracklists/export',
    auth: 'public',
    summary: 'Export an unsaved tracklist as M3U8, CSV, text or JSON',
    description: 'Names and artists are looked up again by id; an unknown id is a 400 naming tracklist[i].id.',
    tags: ['tracklists'],
    query: exportQuery,
    body: exportRequest,
    fileResponse: EXPORT_FILE,
    errors: [413],
    async handler({ query, body, model }) {
      const m = await model();
      const songs = tracklistFromInput(m, body.tracklist);
      return { file: tracklistFile({ name: body.name ?? null, songs, modelVersion: m.versionId }, query.format) };
    },
  }),

  // The signed-in user
  defineRoute({
    name: 'getSession',
    methods: ['GET'],
    route: 'session',
    auth: 'optional',
    summary: 'Who is signed in, if anyone',
    description: 'Never a 401: apps ask this before calling /me (user is null when signed out).',
    tags: ['me'],
    response: sessionOut,
    handler({ principal }) {
      return {
        body: {
          user: principal ? { id: principal.id, name: principal.name, identityProvider: principal.identityProvider } : null,
        },
      };
    },
  }),
  defineRoute({
    name: 'getMe',
    methods: ['GET'],
    route: 'me',
    auth: 'user',
    summary: 'My profile and liked songs',
    tags: ['me'],
    response: meOut,
    errors: [401],
    async handler({ principal, services }) {
      const user = await services.users.getUser(principal.id);
      const m = await services.model.get().catch(() => null); // names are a nicety; likes are served without a model
      return {
        body: {
          id: principal.id,
          name: principal.name,
          identityProvider: principal.identityProvider,
          likes: likesJson(m, user?.likes ?? []),
        },
      };
    },
  }),
  defineRoute({
    name: 'putPreferences',
    methods: ['PUT'],
    route: 'me/preferences',
    auth: 'user',
    summary: 'Replace my liked songs',
    tags: ['me'],
    body: preferencesPut,
    response: likesOut,
    errors: [401, 413],
    async handler({ principal, body, services, model }) {
      const m = await model();
      likesToIndices(m, body.likes, 'likes');
      const user = await services.users.putLikes(principal.id, body.likes, profileOf(principal));
      return { body: { likes: likesJson(m, user.likes) } };
    },
  }),
  defineRoute({
    name: 'patchPreferences',
    methods: ['PATCH'],
    route: 'me/preferences',
    auth: 'user',
    summary: 'Add (or rescore) and remove liked songs',
    description: `A song both added and removed is a 400; at most ${LIMITS.likes} likes in all.`,
    tags: ['me'],
    body: preferencesPatch,
    response: likesOut,
    errors: [401, 413],
    async handler({ principal, body, services, model }) {
      const m = await model();
      const add = body.add ?? [];
      const remove = body.remove ?? [];
      likesToIndices(m, add, 'add');
      const user = await services.users.patchLikes(principal.id, { add, remove }, profileOf(principal));
      return { body: { likes: likesJson(m, user.likes) } };
    },
  }),
  defineRoute({
    name: 'deleteMe',
    methods: ['DELETE'],
    route: 'me',
    auth: 'user',
    summary: 'Delete my account and all my data (likes, saved tracklists)',
    tags: ['me'],
    status: 204,
    errors: [401],
    async handler({ principal, services }) {
      await services.users.deleteUser(principal.id);
      return { status: 204 };
    },
  }),
  defineRoute({
    name: 'myRecommendations',
    methods: ['GET'],
    route: 'me/recommendations',
    auth: 'user',
    summary: 'Songs for me, from my liked songs (liked songs excluded)',
    tags: ['me'],
    query: kQuery,
    response: songsOut,
    errors: [401],
    async handler({ principal, query, services, model }) {
      const m = await model();
      const likes = storedLikesToIndices(m, (await services.users.getUser(principal.id))?.likes ?? []);
      return { body: likes.length === 0 ? { items: [] } : songsJson(m, m.recommendForLikes(likes, query.k)) };
    },
  }),
  defineRoute({
    name: 'createMyTracklist',
    methods: ['POST'],
    route: 'me/tracklists',
    auth: 'user',
    summary: 'Save a tracklist: the one given, or a new one generated with my taste',
    description:
      'With `tracklist`, that list is saved as generated (names looked up again by id) and the other fields record how it was made; without it a tracklist is generated from the fields with my likes as taste.',
    tags: ['me'],
    body: myTracklistRequest,
    response: savedTracklistOut,
    status: 201,
    errors: [401, 404, 413],
    generation: true,
    async handler({ principal, body, services, model, generate }) {
      const m = await model();
      const { name, tracklist: given, ...generation } = body;
      let tracklist;
      if (given) {
        tracklist = tracklistFromInput(m, given);
      } else {
        requireGeneration(m);
        const { seedSong, prefix, exclude, ...knobs } = generation;
        const likes = storedLikesToIndices(m, (await services.users.getUser(principal.id))?.likes ?? []);
        const size = { length: generation.length ?? LIMITS.length.default, likes: likes.length };
        const songs = await generate(size, () =>
          m.generate({
            ...knobs,
            seedSong: resolve(m, 'songs', seedSong, 'seedSong'),
            likes: likes.length > 0 ? likes : undefined,
            prefix: songIdsToIndices(m, prefix, 'prefix'),
            exclude: songIdsToIndices(m, exclude, 'exclude'),
          }),
        );
        tracklist = tracklistJson(m, songs);
      }
      const saved = await services.users.saveTracklist(principal.id, {
        name: name ?? null,
        request: generation,
        tracklist,
        modelVersion: m.versionId,
      });
      return {
        status: 201,
        body: savedTracklistJson(saved),
        headers: { location: `/api/me/tracklists/${encodeURIComponent(saved.id)}` },
      };
    },
  }),
  defineRoute({
    name: 'listMyTracklists',
    methods: ['GET'],
    route: 'me/tracklists',
    auth: 'user',
    summary: 'My saved tracklists, newest first',
    tags: ['me'],
    response: savedTracklistsOut,
    errors: [401],
    async handler({ principal, services }) {
      const docs = await services.users.listTracklists(principal.id, { limit: LIMITS.savedTracklists });
      return { body: { items: docs.map(savedTracklistSummary) } };
    },
  }),
  defineRoute({
    name: 'getMyTracklist',
    methods: ['GET'],
    route: 'me/tracklists/{id}',
    auth: 'user',
    summary: 'One of my saved tracklists',
    tags: ['me'],
    params: idParams,
    response: savedTracklistOut,
    errors: [401, 404],
    async handler({ principal, params, services }) {
      return { body: savedTracklistJson(await savedOr404(services, principal.id, params.id)) };
    },
  }),
  defineRoute({
    name: 'renameMyTracklist',
    methods: ['PATCH'],
    route: 'me/tracklists/{id}',
    auth: 'user',
    summary: 'Rename one of my saved tracklists',
    tags: ['me'],
    params: idParams,
    body: renameTracklistRequest,
    response: savedTracklistOut,
    errors: [401, 404, 409, 413],
    async handler({ principal, params, body, services }) {
      const doc = await services.users.renameTracklist(principal.id, params.id, body.name);
      if (!doc) throw notFound(`no saved tracklist "${params.id}"`, 'id');
      return { body: savedTracklistJson(doc) };
    },
  }),
  defineRoute({
    name: 'exportMyTracklist',
    methods: ['GET'],
    route: 'me/tracklists/{id}/export',
    auth: 'user',
    summary: 'Export one of my saved tracklists as M3U8, CSV, text or JSON',
    tags: ['me'],
    params: idParams,
    query: exportQuery,
    fileResponse: EXPORT_FILE,
    errors: [401, 404],
    async handler({ principal, params, query, services }) {
      const doc = await savedOr404(services, principal.id, params.id);
      const songs = Array.isArray(doc.tracklist) ? (doc.tracklist as ExportSong[]) : [];
      return {
        file: tracklistFile(
          { name: doc.name, songs, modelVersion: doc.modelVersion, createdAt: doc.createdAt },
          query.format,
        ),
      };
    },
  }),
  defineRoute({
    name: 'deleteMyTracklist',
    methods: ['DELETE'],
    route: 'me/tracklists/{id}',
    auth: 'user',
    summary: 'Delete one of my saved tracklists',
    tags: ['me'],
    params: idParams,
    status: 204,
    errors: [401, 404],
    async handler({ principal, params, services }) {
      if (!(await services.users.deleteTracklist(principal.id, params.id)))
        throw notFound(`no saved tracklist "${params.id}"`, 'id');
      return { status: 204 };
    },
  }),
];
