import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  EXPORT_FORMATS,
  exportTracklist,
  type ExportFormat,
  type ExportSong,
} from '../../formats/tracklistExport.ts';
import { ArtifactError } from '../../model/artifact.ts';
import type { Like } from '../../model/coldStart.ts';
import { ensureModelVersion } from '../../model/modelVersion.ts';
import { ServingModel } from '../../model/serving.ts';
import type { SongExplanation } from '../../model/explain.ts';
import { InputError } from '../../util/errors.ts';
import { LIMITS } from '../../limits.ts';
import { outputPath, requireOption, type Command, type CommandContext, type OptionSpec } from '../command.ts';

type Values = Record<string, string | boolean | undefined>;

/**
 * `tlgen generate` and the helpers the other serving commands share (recommend, search, bench).
 *
 * `--model DIR` is either a model version folder (what `tlgen export` writes and serving loads) or
 * a model folder from `tlgen train` (prepared/ + embeddings/ [+ tracklist/]); a model folder is
 * exported into DIR/version first and that copy is reused until the model is retrained.
 */

export const MODEL_OPTION: OptionSpec = {
  type: 'string',
  value: 'DIR',
  required: true,
  help: 'model version folder (tlgen export) or model folder (tlgen train; exported into DIR/version once)',
};

export const LIKES_OPTION: OptionSpec = {
  type: 'string',
  value: 'FILE',
  help: 'JSON array of {"song": "Artist - Title" or id, "score": 0..1 (default 1)}; unknown songs are skipped',
};

export function loadServingModel(
  values: Values,
  ctx: CommandContext,
): { model: ServingModel; dir: string; loadMs: number } {
  const dir = requireOption(values, 'model');
  if (!existsSync(dir)) throw new InputError(`--model: no such folder ${dir}`, 'model');
  try {
    const version = ensureModelVersion(dir, ctx.say);
    const started = performance.now();
    const model = ServingModel.load(version.dir);
    return { model, dir: version.dir, loadMs: performance.now() - started };
  } catch (e) {
    // A missing, truncated or corrupted file is reported like bad input: exit 2, the reason named.
    if (e instanceof ArtifactError) throw new InputError(`--model: ${e.message}`, 'model');
    throw e;
  }
}

/** A name the model does not know, with the closest names of its kind. */
function unknownName(model: ServingModel, kind: 'songs' | 'djs', noun: string, text: string, flag: string): InputError {
  const close = model.search(kind, text, 3).map((h) => `"${h.name}"`);
  return new InputError(
    `--${flag}: unknown ${noun} "${text}"${close.length ? ` (closest: ${close.join(', ')})` : ''}`,
    flag,
  );
}

/** A song from "Artist - Title" or a song id; unknown → InputError with the closest names. */
export function resolveSong(model: ServingModel, text: string, flag: string): number {
  const index = model.findSong(text);
  if (index === undefined) throw unknownName(model, 'songs', 'song', text, flag);
  return index;
}

export function resolveDj(model: ServingModel, text: string, flag: string): number {
  const index = model.findDj(text);
  if (index === undefined) throw unknownName(model, 'djs', 'DJ', text, flag);
  return index;
}

/**
 * `--likes FILE`: a JSON array of { "song": "Artist - Title" or a song id, "score": 0..1 } (score
 * optional, default 1). Songs the model does not know are skipped and reported.
 */
export function readLikesFile(
  model: ServingModel,
  file: string,
  flag = 'likes',
): { likes: Like[]; unknown: string[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(`--${flag}: cannot read ${file} as JSON (${(e as Error).message})`, flag);
  }
  if (!Array.isArray(parsed))
    throw new InputError(`--${flag}: ${file} must hold a JSON array of {"song", "score"}`, flag);
  const likes: Like[] = [];
  const unknown: string[] = [];
  parsed.forEach((entry: unknown, i) => {
    const e = entry as { song?: unknown; score?: unknown } | null;
    if (e === null || typeof e !== 'object' || typeof e.song !== 'string')
      throw new InputError(
        `--${flag}: entry ${i} of ${file} needs "song": "Artist - Title" or a song id`,
        flag,
      );
    const score = e.score === undefined ? 1 : e.score;
    if (typeof score !== 'number' || !(score >= 0 && score <= 1))
      throw new InputError(`--${flag}: entry ${i} of ${file} has a score outside [0, 1]`, flag);
    const song = model.findSong(e.song);
    if (song === undefined) unknown.push(e.song);
    else likes.push({ song, score });
  });
  return { likes, unknown };
}

/** An explanation as indented lines under its song. */
function explanationLines(model: ServingModel, e: SongExplanation): string[] {
  const lines = [`picked by ${e.pickedBy}: ${e.path.map((p) => `${p.name || `cluster ${p.cluster}`} (${(100 * p.probability).toFixed(0)}%)`).join(' › ')}`];
  const t = e.terms;
  if (!t) return lines;
  const rank = (x: { rank: number; of: number }) => `rank ${x.rank}/${x.of}`;
  let evidence = `network ${rank(t.network)}`;
  if (t.transition) evidence += `; after the previous song ${t.transition.seen}× in training (${rank(t.transition)})`;
  if (t.session) evidence += `; similar sets ${(100 * t.session.voteShare).toFixed(1)}% of votes (${rank(t.session)})`;
  lines.push(evidence);
  const closest = t.session?.closestSet;
  if (closest) lines.push(`closest training set shares ${closest.sharedCount}: ${closest.shared.map((s) => model.song(s).name).join(', ')}`);
  return lines;
}

/** "a,b,c" → numbers (the count is checked by the serving layer). */
export function numberList(values: Values, name: string): number[] | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const parts = String(v)
    .split(',')
    .map((p) => (p.trim() === '' ? NaN : Number(p)));
  if (parts.some((x) => !Number.isFinite(x)))
    throw new InputError(`--${name} must be comma-separated numbers, got "${String(v)}"`, name);
  return parts;
}

export function numberOption(values: Values, name: string): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new InputError(`--${name} must be a number, got "${String(v)}"`, name);
  return n;
}

/** Serving-layer argument names → CLI flags, so errors name what the user typed. */
const FLAGS: Record<string, string> = {
  seedSong: 'seed-song',
  dj: 'dj',
  likes: 'likes',
  length: 'length',
  temperature: 'temperature',
  thresholds: 'thresholds',
  userWeighting: 'user-weighting',
  steering: 'steering',
  adventurousness: 'adventurousness',
  artistRepeatPenalty: 'artist-repeat-penalty',
  rngSeed: 'rng-seed',
  k: 'k',
  limit: 'limit',
  model: 'model',
};

export function asCliError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof InputError && e.field && FLAGS[e.field] && !e.message.startsWith('--'))
      throw new InputError(`--${FLAGS[e.field]}: ${e.message}`, FLAGS[e.field]);
    throw e;
  }
}

/** `--format`: one of EXPORT_FORMATS, else an InputError naming it. */
function formatOption(values: Values): ExportFormat | undefined {
  const v = values.format;
  if (v === undefined) return undefined;
  const known: readonly string[] = EXPORT_FORMATS;
  if (typeof v === 'string' && known.includes(v)) return v as ExportFormat;
  throw new InputError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got "${String(v)}"`, 'format');
}

/** Temp file beside the target, then rename: a reader never sees half a file. */
function writeAtomically(file: string, body: string): void {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(temp, body);
    renameSync(temp, file);
  } catch (e) {
    rmSync(temp, { force: true });
    throw new InputError(`--out: cannot write ${file} (${(e as Error).message})`, 'out');
  }
}

export const generateCommand: Command = {
  summary:
    'Generates a tracklist from a seed song (SPEC §5.2), shaped by a DJ\'s taste or a like list (cold start), and prints each song with its reward breakdown (user score, seed-song score, model log-probability per level). --likes FILE: JSON array of {"song": "Artist - Title" or id, "score": 0..1}.',
  usage:
    '--model DIR --seed-song "Artist - Title" [--dj NAME | --likes FILE] [--length 15] [--temperature a,b,c] [--user-weighting W] [--steering S] [--adventurousness A] [--artist-repeat-penalty P] [--thresholds a,b,c,d] [--rng-seed N] [--explain] [--format m3u8|csv|txt|json [--out FILE]] [--json]',
  options: {
    model: MODEL_OPTION,
    'seed-song': { type: 'string', value: '"A - T"', required: true, help: 'the first song (name or id)' },
    dj: { type: 'string', value: 'NAME', default: 'no taste', help: "shape the set by this DJ's taste (name or id)" },
    likes: LIKES_OPTION,
    length: {
      type: 'string',
      value: 'N',
      default: LIMITS.length.default,
      help: `songs after the seed (${LIMITS.length.min}-${LIMITS.length.max})`,
    },
    temperature: {
      type: 'string',
      value: 'a,b,c',
      default: `the model's own (tuned at training), else ${LIMITS.temperature.default.join(',')}`,
      help: `per-level (l3, l2, l1) logit multipliers, each ${LIMITS.temperature.min}-${LIMITS.temperature.max}; higher sharpens`,
    },
    'user-weighting': {
      type: 'string',
      value: 'W',
      default: LIMITS.userWeighting.default,
      help: `weight of the taste against the seed similarity (${LIMITS.userWeighting.min}-${LIMITS.userWeighting.max})`,
    },
    steering: {
      type: 'string',
      value: 'S',
      default: LIMITS.steering.default,
      help: "how strongly taste and seed similarity reshape the model's own choices (0 = the model alone, 1 = fully)",
    },
    adventurousness: {
      type: 'string',
      value: 'A',
      default: `the model's own (tuned at training), else ${LIMITS.adventurousness.default}`,
      help: 'how far each song may move from the one before (0 = close steps, 1 = anywhere)',
    },
    'artist-repeat-penalty': {
      type: 'string',
      value: 'P',
      default: `the model's own (tuned at training), else ${LIMITS.artistRepeatPenalty.default}`,
      help: `share of probability taken from a song whose artist already played (${LIMITS.artistRepeatPenalty.min}-${LIMITS.artistRepeatPenalty.max})`,
    },
    explain: { type: 'boolean', help: 'print (and return) why each song was picked: its clusters and evidence' },
    thresholds: {
      type: 'string',
      value: 'a,b,c,d',
      default: LIMITS.thresholds.default.join(','),
      help: 'per-level (l3, l2, l1, song) probability thresholds, each in [0, 1)',
    },
    'rng-seed': { type: 'string', value: 'N', default: 'random', help: 'seed of the sampling (same seed, same set)' },
    format: {
      type: 'string',
      value: EXPORT_FORMATS.join('|'),
      default: 'readable lines',
      help: 'write the tracklist as a file in this format (to --out, else to stdout)',
    },
    out: { type: 'string', value: 'FILE', default: 'stdout', help: 'file for --format (written atomically; its folder is created)' },
  },
  async run(values, ctx) {
    const seedText = requireOption(values, 'seed-song');
    if (values.dj !== undefined && values.likes !== undefined)
      throw new InputError('--dj and --likes exclude each other', 'likes');
    const temperature = numberList(values, 'temperature');
    const thresholds = numberList(values, 'thresholds');
    const length = numberOption(values, 'length');
    const userWeighting = numberOption(values, 'user-weighting');
    const steering = numberOption(values, 'steering');
    const adventurousness = numberOption(values, 'adventurousness');
    const artistRepeatPenalty = numberOption(values, 'artist-repeat-penalty');
    const explain = values.explain === true;
    const rngSeed = numberOption(values, 'rng-seed') ?? Math.floor(Math.random() * 2 ** 31);
    const format = formatOption(values);
    const out = typeof values.out === 'string' ? values.out : undefined;
    if (out === '') throw new InputError('--out needs a file name', 'out');
    if (out !== undefined && format === undefined) throw new InputError('--out needs --format', 'out');
    const { model, dir } = loadServingModel(values, ctx);
    const seedSong = resolveSong(model, seedText, 'seed-song');
    const dj = typeof values.dj === 'string' ? resolveDj(model, values.dj, 'dj') : undefined;
    const liked = typeof values.likes === 'string' ? readLikesFile(model, values.likes) : undefined;
    const tracklist = asCliError(() =>
      model.generate({
        seedSong,
        dj,
        likes: liked?.likes,
        length,
        temperature,
        userWeighting,
        steering,
        adventurousness,
        artistRepeatPenalty,
        thresholds,
        rngSeed,
        explain,
      }),
    );
    const infos = tracklist.map(({ song }) => model.song(song));
    const items = tracklist.map(({ song, userScore, songScore, logProb, explanation }, i) => {
      const info = infos[i];
      return { song: info.name, id: info.id, index: song, userScore, songScore, logProb, ...(explanation ? { explanation } : {}) };
    });
    const taste = dj !== undefined ? model.dj(dj).name : liked ? 'likes' : 'no taste';
    const file =
      format === undefined
        ? undefined
        : exportTracklist(
            {
              name: `${items[0].song} (${taste})`,
              modelVersion: model.versionId,
              createdAt: new Date().toISOString(),
              songs: items.map((t, i): ExportSong => ({
                id: t.id,
                name: t.song,
                artists: infos[i].artists,
                userScore: t.userScore,
                songScore: t.songScore,
                logProb: t.logProb,
              })),
            },
            format,
          );
    const result = {
      versionId: model.versionId,
      model: dir,
      rngSeed,
      taste:
        dj !== undefined
          ? { dj: model.dj(dj).name }
          : liked
            ? { likes: liked.likes.length, unknownLikes: liked.unknown }
            : null,
      tracklist: items,
      format: format ?? null,
      out: out ?? null,
    };
    if (file && out === undefined) {
      // The file is the output: written as is, not as lines that --json would move to stderr.
      process.stdout.write(file.body);
      return result;
    }
    if (file && out !== undefined) writeAtomically(outputPath(values, 'out'), file.body);
    items.forEach((t, i) => {
      ctx.say(
        `${String(i).padStart(3)}  ${t.song}  user ${t.userScore.toFixed(3)} seed ${t.songScore.toFixed(3)} logP ${(
          t.logProb.l3 +
          t.logProb.l2 +
          t.logProb.l1 +
          t.logProb.song
        ).toFixed(2)}`,
      );
      if (t.explanation) for (const line of explanationLines(model, t.explanation)) ctx.say(`       ${line}`);
    });
    if (out !== undefined) ctx.say(`wrote ${items.length} songs as ${format} to ${out}`);
    return result;
  },
};
