import { ServingModel, type ItemScore } from '../shared/model/serving.ts';
import type { GeneratedSong } from '../shared/model/generate.ts';
import type { GateCheck } from './gate.ts';

/**
 * The gate's check (c): the exported version loaded by the serving code (what the API runs), then
 * recommendations and a 15-song tracklist for a few DJs (first, middle, last) and for a like list
 * (the first DJ's most played songs). Every score and log-probability must be finite and no list
 * may name a song twice. One check per request, so a failure says which request broke.
 */
const DJS_TRIED = 3;
const LIKES = 10;
const K = 20;
const LENGTH = 15;

function listProblem(items: { index: number; score: number }[], empty: string): string | null {
  if (items.length === 0) return empty;
  const seen = new Set<number>();
  for (const item of items) {
    if (!Number.isFinite(item.score)) return `a non-finite score (${item.score}) for song ${item.index}`;
    if (seen.has(item.index)) return `song ${item.index} twice`;
    seen.add(item.index);
  }
  return null;
}

function tracklistProblem(list: GeneratedSong[]): string | null {
  if (list.length !== LENGTH + 1) return `${list.length} songs instead of ${LENGTH + 1}`;
  const seen = new Set<number>();
  for (const s of list) {
    const numbers = [s.userScore, s.songScore, s.logProb.l3, s.logProb.l2, s.logProb.l1, s.logProb.song];
    if (numbers.some((x) => Number.isNaN(x))) return `NaN at song ${s.song}`;
    if (seen.has(s.song)) return `song ${s.song} twice`;
    seen.add(s.song);
  }
  return null;
}

export function servingSmokeTest(versionDir: string): GateCheck[] {
  let model: ServingModel;
  try {
    model = ServingModel.load(versionDir);
  } catch (e) {
    return [{ name: 'serving: load', ok: false, detail: e instanceof Error ? e.message : String(e) }];
  }
  const checks: GateCheck[] = [{ name: 'serving: load', ok: true, detail: `${model.counts.songs} songs` }];
  const run = (name: string, answer: () => string | null): void => {
    try {
      const problem = answer();
      checks.push({ name: `serving: ${name}`, ok: problem === null, detail: problem ?? 'ok' });
    } catch (e) {
      checks.push({
        name: `serving: ${name}`,
        ok: false,
        detail: e instanceof Error ? e.message : String(e),
      });
    }
  };
  const n = model.counts.djs;
  const djs = [...new Set([0, Math.floor(n / 2), n - 1])].filter((d) => d >= 0 && d < n).slice(0, DJS_TRIED);
  if (djs.length === 0) checks.push({ name: 'serving: DJs', ok: false, detail: 'the version has no DJs' });
  for (const dj of djs) {
    const name = model.dj(dj).name;
    let recs: ItemScore[] = [];
    run(`recommend for DJ "${name}"`, () => listProblem((recs = model.recommendForDj(dj, K)), 'no songs'));
    if (model.hasTracklistModel && recs.length > 0)
      run(`generate for DJ "${name}"`, () =>
        tracklistProblem(model.generate({ seedSong: recs[0].index, dj, length: LENGTH, rngSeed: 1 })),
      );
  }
  if (djs.length > 0) {
    const likes = model.djSongs(djs[0], LIKES).map((s) => ({ song: s.index, score: 1 }));
    run(`recommend for ${likes.length} likes`, () =>
      listProblem(model.recommendForLikes(likes, K), 'no songs'),
    );
    if (model.hasTracklistModel && likes.length > 0)
      run(`generate for ${likes.length} likes`, () =>
        tracklistProblem(model.generate({ seedSong: likes[0].song, likes, length: LENGTH, rngSeed: 2 })),
      );
  }
  if (!model.hasTracklistModel)
    checks.push({
      name: 'serving: tracklist model',
      ok: false,
      detail: 'the version has no tracklist model',
    });
  return checks;
}
