/**
 * What the HTTP handlers need from the rest of the system, as narrow interfaces (Picks of the real
 * classes) so handler tests can pass fakes: the served model through the ModelProvider, and the
 * user store. `createServices` builds the real ones from app settings; nothing connects or loads
 * before the first request needs it.
 */
import type { ServingModel } from '../shared/model/serving.ts';
import { readSettings } from '../shared/store/config.ts';
import type { Settings } from '../shared/store/config.ts';
import { ModelProvider } from '../shared/store/modelProvider.ts';
import type { ModelStatus } from '../shared/store/modelProvider.ts';
import { UserStore } from '../shared/store/userStore.ts';

export type { Like, GeneratedSong } from '../shared/model/serving.ts';
export type { ItemScore as Ranked } from '../shared/model/serving.ts';
export type { StoredLike, TracklistDoc, UserDoc } from '../shared/store/userStore.ts';
export type { ModelStatus } from '../shared/store/modelProvider.ts';

/** The part of ServingModel (contract E) the API uses. */
export type ServedModel = Pick<
  ServingModel,
  | 'versionId'
  | 'loadedAt'
  | 'counts'
  | 'hasTracklistModel'
  | 'songIndex'
  | 'artistIndex'
  | 'djIndex'
  | 'findSong'
  | 'song'
  | 'artist'
  | 'dj'
  | 'search'
  | 'generate'
  | 'generationDefaults'
  | 'publicGenerationDefaults'
  | 'artistSongs'
  | 'artistSongCount'
  | 'djSongs'
  | 'djSongCount'
  | 'recommendForDj'
  | 'recommendForLikes'
  | 'similarSongs'
  | 'similarArtists'
  | 'similarDjs'
>;

export interface ModelSource {
  /** The current model; rejects when none can be served (the API answers 503). */
  get(): Promise<ServedModel>;
  status(): ModelStatus;
}

export type Users = Pick<
  UserStore,
  | 'getUser'
  | 'putLikes'
  | 'patchLikes'
  | 'deleteUser'
  | 'saveTracklist'
  | 'listTracklists'
  | 'getTracklist'
  | 'renameTracklist'
  | 'deleteTracklist'
>;

export interface Services {
  model: ModelSource;
  users: Users;
}

/** The real services over Blob (model registry) and Cosmos (users), from app settings. */
export function createServices(settings: Settings = readSettings()): Services {
  return { model: ModelProvider.fromSettings(settings), users: UserStore.fromSettings(settings) };
}

/** createServices(readSettings()) on first call, then the same object (the Functions app's services). */
export function lazyServices(make: () => Services = () => createServices()): () => Services {
  let services: Services | null = null;
  return () => (services ??= make());
}

/** A model source over one model already loaded (benchmarks serving a version folder directly). */
export function loadedModelSource(model: ServedModel): ModelSource {
  const status: ModelStatus = {
    status: 'ok',
    model: { versionId: model.versionId, publishedAt: null, loadedAt: model.loadedAt.toISOString() },
    checkedAt: null,
  };
  return { get: async () => model, status: () => status };
}
