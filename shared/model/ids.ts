import { createHash } from 'node:crypto';

/**
 * Stable public ids (contract A). Vocabulary indices change between model versions, so the API
 * and stored user likes use ids derived from identity keys: the normalised song and artist keys
 * of prepared `vocab`, and DJ names lower-cased and trimmed. The same record keeps its id across
 * retraining as long as its key is unchanged.
 */
function hashId(prefix: string, key: string): string {
  return prefix + createHash('sha256').update(key).digest('hex').slice(0, 12);
}

export function songId(songKey: string): string {
  return hashId('s', songKey);
}

export function artistId(artistKey: string): string {
  return hashId('a', artistKey);
}

/** The identity key of a DJ name. */
export function djKey(name: string): string {
  return name.trim().toLowerCase();
}

export function djId(name: string): string {
  return hashId('d', djKey(name));
}

/**
 * id → index over one vocabulary. Two entries with the same id (DJ names differing only in case)
 * resolve to the first, which prepare ranks higher.
 */
export function indexIds(ids: readonly string[]): Map<string, number> {
  const map = new Map<string, number>();
  for (let i = 0; i < ids.length; i++) if (!map.has(ids[i])) map.set(ids[i], i);
  return map;
}
