import type { Csr } from '../../shared/graph/csr.ts';
import { EASE_LAMBDAS, fitEase } from './ease.ts';
import { IALS_GRID, fitIals } from './ials.ts';
import { innerSplit, tuneOnInnerSplit, type Tuned } from './innerSplit.ts';
import type { Recommender } from './recommender.ts';
import { RP3BETA_GRID, fitRp3beta } from './rp3beta.ts';
import { SONG_GRAPH_GRID, fitSongGraph, type SongGraphs } from './songGraph.ts';

/**
 * The strong recommendation baselines of issue 18 (EASE, RP3beta, iALS, song-graph neighbours),
 * each tuned by NDCG@20 on one inner split of the training clicks (20 % of each DJ's training
 * songs, seed 1) and refitted on all training clicks. Only `click` and the song graphs are read,
 * never the test hold-out.
 */
export interface StrongBaselineOptions {
  log: (line: string) => void;
}

export interface StrongBaselines {
  recommenders: Recommender[];
  /** Tuned settings, validation NDCG@20 and seconds (tuning + refit) per baseline. */
  params: Record<string, { params: unknown; validationNdcg: number; seconds: number }>;
}

export function fitStrongBaselines(data: SongGraphs & { click: Csr }, options: Partial<StrongBaselineOptions> = {}): StrongBaselines {
  const log = options.log ?? (() => {});
  const split = innerSplit(data.click);
  const params: StrongBaselines['params'] = {};
  const recommenders: Recommender[] = [];
  const add = <P>(name: string, tuned: Tuned<P>) => {
    const best = tuned.grid.find((g) => g.params === tuned.params);
    params[name] = { params: tuned.params, validationNdcg: best?.ndcg ?? 0, seconds: tuned.seconds };
    log(`${name}: tuned ${JSON.stringify(tuned.params)} (inner NDCG@20 ${(best?.ndcg ?? 0).toFixed(4)}; ${tuned.grid.length} settings, ${tuned.seconds.toFixed(1)}s)`);
    recommenders.push(tuned.recommender);
  };
  add('ease', tuneOnInnerSplit(data.click, EASE_LAMBDAS.map((lambda) => ({ lambda })), (c, p) => fitEase(c, p), split));
  add('rp3beta', tuneOnInnerSplit(data.click, RP3BETA_GRID, (c, p) => fitRp3beta(c, p), split));
  add('ials', tuneOnInnerSplit(data.click, IALS_GRID, (c, p) => fitIals(c, p), split));
  add('songgraph', tuneOnInnerSplit(data.click, SONG_GRAPH_GRID, (c, p) => fitSongGraph(c, data, p), split));
  return { recommenders, params };
}
