import { InputError } from '../../util/errors.ts';
import { intOption, type Command } from '../command.ts';
import {
  asCliError,
  LIKES_OPTION,
  loadServingModel,
  MODEL_OPTION,
  readLikesFile,
  resolveDj,
  resolveSong,
} from './generate.ts';

const MODES = ['dj', 'likes', 'song', 'artist', 'similar-dj'] as const;

/**
 * `tlgen recommend`: songs for a DJ (songs they played excluded), songs for a like list (cold
 * start, liked songs excluded), or the songs / artists / DJs most similar to one.
 */
export const recommendCommand: Command = {
  summary:
    'Recommends songs for a DJ (--dj, already played songs excluded) or a like list (--likes FILE: JSON array of {"song": "Artist - Title" or id, "score": 0..1}; liked songs excluded), or finds similar songs (--song), artists (--artist) or DJs (--similar-dj). Each item has a score: dot product for recommendations, 1 + cos for similarity.',
  usage:
    '--model DIR (--dj NAME | --likes FILE | --song "Artist - Title" | --artist NAME | --similar-dj NAME) [--k 20] [--json]',
  options: {
    model: MODEL_OPTION,
    dj: { type: 'string', value: 'NAME', help: 'songs for this DJ (name or id), songs they played excluded' },
    likes: LIKES_OPTION,
    song: { type: 'string', value: '"A - T"', help: 'songs similar to this one (name or id)' },
    artist: { type: 'string', value: 'NAME', help: 'artists similar to this one' },
    'similar-dj': { type: 'string', value: 'NAME', help: 'DJs similar to this one' },
    k: { type: 'string', value: 'N', default: 20, help: 'results (1-1000)' },
  },
  async run(values, ctx) {
    const given = MODES.filter((m) => typeof values[m] === 'string');
    if (given.length !== 1)
      throw new InputError(`give exactly one of ${MODES.map((m) => `--${m}`).join(', ')}`, given[1] ?? 'dj');
    const mode = given[0];
    const query = values[mode] as string;
    const k = intOption(values, 'k', 20, 1, 1000);
    const { model, dir } = loadServingModel(values, ctx);
    let unknownLikes: string[] | undefined;
    const scored = asCliError(() => {
      switch (mode) {
        case 'dj':
          return model.recommendForDj(resolveDj(model, query, 'dj'), k);
        case 'likes': {
          const { likes, unknown } = readLikesFile(model, query);
          unknownLikes = unknown;
          return model.recommendForLikes(likes, k);
        }
        case 'song':
          return model.similarSongs(resolveSong(model, query, 'song'), k);
        case 'artist': {
          const a = model.findArtist(query);
          if (a === undefined) throw new InputError(`--artist: unknown artist "${query}"`, 'artist');
          return model.similarArtists(a, k);
        }
        case 'similar-dj':
          return model.similarDjs(resolveDj(model, query, 'similar-dj'), k);
      }
    });
    const name = (i: number): string =>
      mode === 'artist'
        ? model.artist(i).name
        : mode === 'similar-dj'
          ? model.dj(i).name
          : model.song(i).name;
    const items = scored.map((s) => ({ index: s.index, id: s.id, name: name(s.index), score: s.score }));
    items.forEach((it, i) => ctx.say(`${String(i + 1).padStart(3)}  ${it.name}  ${it.score.toFixed(4)}`));
    return {
      versionId: model.versionId,
      model: dir,
      mode,
      query,
      ...(unknownLikes ? { unknownLikes } : {}),
      items,
    };
  },
};
