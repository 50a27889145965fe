/**
 * Between public ids and the served model's indices: resolving ids (404 with search suggestions,
 * or 400 naming the field inside a body), turning indices into JSON, and mapping stored likes.
 */
import { exportTracklist } from '../shared/formats/tracklistExport.ts';
import type { ExportFormat, ExportSong } from '../shared/formats/tracklistExport.ts';
import { badRequest, notFound } from './errors.ts';
import type { DownloadFile } from './http.ts';
import type { GeneratedSong, Like, Ranked, ServedModel, StoredLike, TracklistDoc } from './services.ts';
import type { SongExplanation } from '../shared/model/explain.ts';

export type Kind = 'songs' | 'artists' | 'djs';

const NOUN: Record<Kind, string> = { songs: 'song', artists: 'artist', djs: 'DJ' };
const PUBLIC_ID = /^[sad][0-9a-f]{12}$/;

function indexOf(model: ServedModel, kind: Kind, id: string): number | undefined {
  if (kind === 'songs') return model.songIndex(id);
  if (kind === 'artists') return model.artistIndex(id);
  return model.djIndex(id);
}

/**
 * The index of a public id, or 404 naming `field`. When the "id" looks like a name rather than an
 * id (e.g. /songs/Eric%20Prydz%20-%20Opus), the answer suggests matching items.
 */
export function resolve(model: ServedModel, kind: Kind, id: string, field: string): number {
  const index = indexOf(model, kind, id);
  if (index !== undefined) return index;
  const suggestions = PUBLIC_ID.test(id)
    ? []
    : model.search(kind, id, 5).map((h) => ({ id: h.id, name: h.name }));
  throw notFound(
    `unknown ${NOUN[kind]} id "${id}"`,
    field,
    suggestions.length > 0 ? { suggestions } : undefined,
  );
}

export function songJson(
  model: ServedModel,
  index: number,
): { id: string; name: string; artists: { id: string; name: string }[] } {
  const s = model.song(index);
  return { id: s.id, name: s.name, artists: s.artists.map((a) => ({ id: a.id, name: a.name })) };
}

export function songsJson(model: ServedModel, ranked: Ranked[]) {
  return { items: ranked.map((r) => ({ ...songJson(model, r.index), score: r.score })) };
}

export function refsJson(model: ServedModel, kind: 'artists' | 'djs', ranked: Ranked[]) {
  return {
    items: ranked.map((r) => {
      const x = kind === 'artists' ? model.artist(r.index) : model.dj(r.index);
      return { id: x.id, name: x.name, score: r.score };
    }),
  };
}

/**
 * Likes given in a request → model indices. An unknown song id is a 400 naming its place
 * (`likes[3].song`); so is the same song twice.
 */
export function likesToIndices(model: ServedModel, likes: readonly StoredLike[], field: string): Like[] {
  const seen = new Set<number>();
  return likes.map((like, i) => {
    const song = model.songIndex(like.song);
    if (song === undefined) throw badRequest(`unknown song id "${like.song}"`, `${field}[${i}].song`);
    if (seen.has(song)) throw badRequest(`song "${like.song}" is liked twice`, `${field}[${i}].song`);
    seen.add(song);
    return { song, score: like.score };
  });
}

/** Song ids in a request body → indices; an unknown id is a 400 naming its place (`prefix[2]`). */
export function songIdsToIndices(model: ServedModel, ids: readonly string[] | undefined, field: string): number[] | undefined {
  return ids?.map((id, i) => {
    const song = model.songIndex(id);
    if (song === undefined) throw badRequest(`unknown song id "${id}"`, `${field}[${i}]`);
    return song;
  });
}

/** A tracklist item as a client sends it back (export, save). */
export interface TracklistItemInput {
  id: string;
  userScore?: number;
  songScore?: number;
  logProb?: GeneratedSong['logProb'];
}

const NO_LOG_PROB = { l3: 0, l2: 0, l1: 0, song: 0 };

/**
 * A tracklist sent back by a client, with names and artists looked up again in the model (an
 * unknown id is a 400 naming `tracklist[3].id`); missing scores become 0.
 */
export function tracklistFromInput(model: ServedModel, items: readonly TracklistItemInput[], field = 'tracklist') {
  return items.map((item, i) => {
    const song = model.songIndex(item.id);
    if (song === undefined) throw badRequest(`unknown song id "${item.id}"`, `${field}[${i}].id`);
    return {
      ...songJson(model, song),
      userScore: item.userScore ?? 0,
      songScore: item.songScore ?? 0,
      logProb: item.logProb ?? NO_LOG_PROB,
    };
  });
}

/** A tracklist as a downloadable file. */
export function tracklistFile(
  tracklist: { name: string | null; songs: ExportSong[]; modelVersion?: string | null; createdAt?: string | null },
  format: ExportFormat,
): DownloadFile {
  const file = exportTracklist(tracklist, format);
  return { body: file.body, contentType: file.contentType, filename: file.filename };
}

/** Stored likes → indices for generation/recommendation; songs the current model lacks are skipped. */
export function storedLikesToIndices(model: ServedModel, likes: readonly StoredLike[]): Like[] {
  const out: Like[] = [];
  for (const like of likes) {
    const song = model.songIndex(like.song);
    if (song !== undefined) out.push({ song, score: like.score });
  }
  return out;
}

/** Stored likes with display names (null when no model is loaded or it lacks the song). */
export function likesJson(model: ServedModel | null, likes: readonly StoredLike[]) {
  return likes.map((like) => {
    const index = model?.songIndex(like.song);
    return { song: like.song, score: like.score, name: index === undefined ? null : model!.song(index).name };
  });
}

export function tracklistJson(model: ServedModel, songs: (GeneratedSong & { explanation?: SongExplanation })[]) {
  return songs.map((g) => ({
    ...songJson(model, g.song),
    userScore: g.userScore,
    songScore: g.songScore,
    logProb: g.logProb,
    ...(g.explanation ? { explanation: explanationJson(model, g.explanation) } : {}),
  }));
}

/** An explanation as the API shows it: songs as references, scores left out (the item has them). */
function explanationJson(model: ServedModel, e: SongExplanation) {
  const session = e.terms?.session;
  return {
    pickedBy: e.pickedBy,
    path: e.path,
    terms: e.terms && {
      network: e.terms.network,
      transition: e.terms.transition,
      session: session
        ? {
            ...session,
            closestSet: session.closestSet && {
              shared: session.closestSet.shared.map((s) => songJson(model, s)),
              sharedCount: session.closestSet.sharedCount,
            },
          }
        : null,
    },
  };
}

/** A saved tracklist as the API shows it. */
export function savedTracklistJson(doc: TracklistDoc) {
  return {
    id: doc.id,
    name: doc.name,
    createdAt: doc.createdAt,
    request: doc.request,
    tracklist: doc.tracklist,
    model: { version: doc.modelVersion },
  };
}

export function savedTracklistSummary(doc: TracklistDoc) {
  const first = Array.isArray(doc.tracklist) ? (doc.tracklist[0] as { id?: unknown } | undefined) : undefined;
  return {
    id: doc.id,
    name: doc.name,
    createdAt: doc.createdAt,
    seedSong: typeof first?.id === 'string' ? first.id : null,
    songs: Array.isArray(doc.tracklist) ? doc.tracklist.length : 0,
    model: { version: doc.modelVersion },
  };
}
