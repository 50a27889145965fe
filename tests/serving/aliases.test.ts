import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writePrepared } from '../../shared/graph/preparedStore.ts';
import type { Prepared } from '../../shared/graph/prepare.ts';
import { songId } from '../../shared/model/ids.ts';
import { exportModelVersion } from '../../shared/model/modelVersion.ts';
import { ServingModel } from '../../shared/model/serving.ts';
import { parseTrack } from '../../shared/corpus/trackString.ts';
import { buildTinyModel } from '../model/mgccfFixture.ts';

function keyOf(s: string): string {
  const p = parseTrack(s);
  if (p.kind !== 'song') throw new Error(s);
  return p.key;
}

/** Re-exports the tiny model folder with `vocab` as given (the prepared artifact rewritten). */
function exportWith(
  dir: string,
  prepared: Prepared,
  vocab: Prepared['vocab'],
  versionId: string,
): ServingModel {
  writePrepared(join(dir, 'prepared'), { ...prepared, vocab });
  exportModelVersion(dir, join(dir, versionId), { versionId, metrics: {} });
  return ServingModel.load(join(dir, versionId));
}

describe('serving: merged spellings (vocab aliases)', () => {
  it('finds a song by an alias or a new spelling; versions without aliases still load', async () => {
    const tiny = await buildTinyModel(11, { steps: 5 });
    const { songAliases: _s, artistAliases: _a, ...old } = tiny.prepared.vocab;
    const before = exportWith(tiny.dir, tiny.prepared, old, 'v-old');
    const name = old.songs[0];
    expect(before.findSong(name)).toBe(0);

    const alias = `${name.split(' - ')[0]} - Misspelt Title`;
    const withAliases = {
      ...old,
      songAliases: { 0: [{ name: alias, key: keyOf(alias) }] },
      artistAliases: {},
    };
    const after = exportWith(tiny.dir, tiny.prepared, withAliases, 'v-new');
    expect(after.findSong(alias)).toBe(0);
    expect(after.findSong(alias.toUpperCase() + '!')).toBe(0);
    expect(after.findSong(`${name} (1997)`)).toBe(0);
    expect(after.findSong(name)).toBe(0);
    // Ids come from the representative key: the same as before merging.
    expect(after.song(0).id).toBe(before.song(0).id);
    expect(after.catalogue().songs('misspelt title', 3)[0]?.index).toBe(0);
    // A like stored under the merged spelling's id still finds the song.
    expect(after.songIndex(songId(keyOf(alias)))).toBe(0);
    expect(before.songIndex(songId(keyOf(alias)))).toBeUndefined();
  });
});
