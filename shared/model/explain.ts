import { get, type Csr } from '../graph/csr.ts';
import type { GeneratedSong } from './generate.ts';
import type { SessionPrior } from './sessionPrior.ts';
import type { LstmState, SequenceContext, TracklistModel } from './tracklistInference.ts';

/**
 * Why each song of a generated tracklist is there (SPEC §5): how it was picked, its path down the
 * learned tree with the clusters named by their most played artists, and the song-level evidence
 * terms the model added up for it. Computed after generation by replaying the set, so a request
 * that does not ask for explanations pays nothing.
 */

export type ClusterLevel = 'l3' | 'l2' | 'l1';
const CLUSTER_LEVELS: readonly ClusterLevel[] = ['l3', 'l2', 'l1'];
/** Artists a cluster's name lists. */
const NAME_ARTISTS = 3;
/** Songs of the closest training set an explanation lists. */
const SHARED_SHOWN = 5;

/** One evidence term for the chosen song: its weighted logit and its rank among the options. */
export interface TermEvidence {
  logit: number;
  /** 1 = this term favoured the chosen song over every other option of its cluster. */
  rank: number;
  of: number;
}

export interface SongExplanation {
  /** seed: the request's; prefix: given by the client; warmStart: drawn from the top of the seed × taste ranking; model: sampled down the tree. */
  pickedBy: 'seed' | 'prefix' | 'warmStart' | 'model';
  /** Coarsest first; probability = the model's own at that level (before steering). */
  path: { level: ClusterLevel; cluster: number; name: string; probability: number }[];
  /** The song level's terms (absent for the seed, which nothing chose). */
  terms: {
    /** The LSTM's output (with the taste and the song's bias). */
    network: TermEvidence;
    /** The n-gram transition from the previous song, and how often training sets played it. */
    transition: (TermEvidence & { seen: number }) | null;
    /**
     * The session-kNN term: the song's share of the neighbours' votes, and the training set that
     * shares most songs with this set and plays this song (its shared songs, up to five).
     */
    session: (TermEvidence & { voteShare: number; closestSet: { shared: number[]; sharedCount: number } | null }) | null;
  } | null;
  userScore: number;
  seedScore: number;
}

/**
 * The names of the learned clusters: their NAME_ARTISTS most played artists, most played first.
 * A cluster below the top level leaves out the artists that already name its ancestors, so a path
 * reads as three different lists rather than the same big names three times.
 */
export function clusterNames(
  model: TracklistModel,
  songArtists: Csr,
  plays: ArrayLike<number>,
  artistName: (artist: number) => string,
): Record<ClusterLevel, string[]> {
  const top = {} as Record<ClusterLevel, number[][]>;
  /** The artists naming a cluster's ancestors. */
  const ancestorsNamed = (level: ClusterLevel, cluster: number): number[] => {
    if (level === 'l3') return [];
    const l2 = level === 'l2' ? cluster : model.parent.l1[cluster];
    const l3Named = top.l3[model.parent.l2[l2]];
    return level === 'l2' ? l3Named : [...l3Named, ...top.l2[l2]];
  };
  for (const level of CLUSTER_LEVELS) {
    const byCluster = Array.from({ length: model.sizes[level] }, () => new Map<number, number>());
    for (let s = 0; s < model.songs; s++) {
      const artistPlays = byCluster[model.path(s)[level]];
      for (let p = songArtists.indptr[s]; p < songArtists.indptr[s + 1]; p++) {
        const a = songArtists.indices[p];
        artistPlays.set(a, (artistPlays.get(a) ?? 0) + plays[s] * songArtists.values[p]);
      }
    }
    top[level] = byCluster.map((m, cluster) => {
      const ranked = [...m.entries()].sort((x, y) => y[1] - x[1] || x[0] - y[0]).map(([a]) => a);
      const named = new Set(ancestorsNamed(level, cluster));
      const own = ranked.filter((a) => !named.has(a));
      return (own.length > 0 ? own : ranked).slice(0, NAME_ARTISTS);
    });
  }
  const names = {} as Record<ClusterLevel, string[]>;
  for (const level of CLUSTER_LEVELS) names[level] = top[level].map((artists) => artists.map(artistName).join(', '));
  return names;
}

/** 1 + the number of options whose value beats the chosen one's. */
function rankOf(values: ArrayLike<number>, chosen: number): number {
  let rank = 1;
  for (let i = 0; i < values.length; i++) if (values[i] > values[chosen]) rank++;
  return rank;
}

/**
 * The training set that plays `song` and shares most distinct songs with the prefix (ties: the
 * more recent set), with those shared songs; null when no set playing it shares any.
 */
function closestSet(sessions: SessionPrior, prefix: readonly number[], song: number): { shared: number[]; sharedCount: number } | null {
  const { items, itemOffsets, recency } = sessions.knn.table;
  const inPrefix = new Set(prefix);
  let best = -1;
  let bestShared = 0;
  for (const n of sessions.knn.sessionsOf(song)) {
    let shared = 0;
    for (let q = itemOffsets[n]; q < itemOffsets[n + 1]; q++) if (inPrefix.has(items[q])) shared++;
    if (shared > 0 && (shared > bestShared || (shared === bestShared && recency[n] < recency[best]))) {
      best = n;
      bestShared = shared;
    }
  }
  if (best < 0) return null;
  const shared: number[] = [];
  for (let q = itemOffsets[best]; q < itemOffsets[best + 1] && shared.length < SHARED_SHOWN; q++)
    if (inPrefix.has(items[q])) shared.push(items[q]);
  return { shared, sharedCount: bestShared };
}

/** How the generator picked position i (see sampleTracklist: seed, prefix, warm start, model). */
function pickedBy(i: number, prefixLength: number, warmStart: number): SongExplanation['pickedBy'] {
  if (i === 0) return 'seed';
  if (i <= prefixLength) return 'prefix';
  return i - 1 < warmStart ? 'warmStart' : 'model';
}

/** Explanations for a generated tracklist, replaying it from the context generation used. */
export function explainTracklist(
  model: TracklistModel,
  context: SequenceContext,
  songs: readonly GeneratedSong[],
  how: { prefixLength: number; warmStart: number; names: Record<ClusterLevel, string[]> },
): SongExplanation[] {
  const { transitions, sessions } = model.directEvidence;
  const weights = model.termWeights('song');
  let state: LstmState = model.startState(context);
  const played: number[] = [];
  return songs.map((g, i) => {
    const tree = model.path(g.song);
    const path = CLUSTER_LEVELS.map((level) => ({
      level,
      cluster: tree[level],
      name: how.names[level][tree[level]],
      probability: Math.exp(g.logProb[level]),
    }));
    let terms: SongExplanation['terms'] = null;
    if (i > 0) {
      const { set, terms: raw } = model.setLogitTerms('song', state, tree.l1);
      const at = set ? set.indexOf(g.song) : g.song;
      const term = (values: Float64Array, weight: number): TermEvidence => ({
        logit: weight * values[at],
        rank: rankOf(values, at),
        of: values.length,
      });
      const previous = songs[i - 1].song;
      const evidence = sessions && raw.session ? sessions.evidence(played) : null;
      let votes = 0;
      if (evidence) for (let k = 0; k < evidence.count; k++) if (evidence.songs[k] === g.song) votes = evidence.scores[k];
      terms = {
        network: term(raw.network, 1),
        transition:
          transitions && raw.prior && weights.prior !== null
            ? { ...term(raw.prior, weights.prior), seen: get(transitions.counts, previous, g.song) }
            : null,
        session:
          sessions && evidence && raw.session && weights.session !== null
            ? {
                ...term(raw.session, weights.session),
                voteShare: evidence.total > 0 ? votes / evidence.total : 0,
                closestSet: closestSet(sessions, played, g.song),
              }
            : null,
      };
    }
    played.push(g.song);
    if (i + 1 < songs.length) state = model.step(state, g.song);
    return { pickedBy: pickedBy(i, how.prefixLength, how.warmStart), path, terms, userScore: g.userScore, seedScore: g.songScore };
  });
}
