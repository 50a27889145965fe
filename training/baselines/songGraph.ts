import type { Csr } from '../../shared/graph/csr.ts';
import { scoreBySimilarity } from './itemProduct.ts';
import type { Recommender } from './recommender.ts';

/**
 * Song-graph neighbours: score[j] = Σ over the DJ's training songs i of G[i, j], G the prepared
 * song–song co-occurrence graph TL-MGCCF propagates over (raw `songSong` or its GCN
 * normalisation), the DJ's songs counted once or weighted by their click value. No fitting: it
 * sees exactly the graph the model sees, so it measures what a neighbour lookup in the model's
 * own input already gives. Which graph and weighting is tuned on the inner split.
 */
export interface SongGraphOptions {
  graph: 'raw' | 'normalised';
  weighting: 'binary' | 'clicks';
}

export const SONG_GRAPH_GRID: SongGraphOptions[] = (['raw', 'normalised'] as const).flatMap((graph) =>
  (['binary', 'clicks'] as const).map((weighting) => ({ graph, weighting })),
);

export interface SongGraphs {
  songSong: Csr;
  songSongNorm: Csr;
}

export function fitSongGraph(click: Csr, graphs: SongGraphs, options: SongGraphOptions = SONG_GRAPH_GRID[0]): Recommender {
  const g = options.graph === 'raw' ? graphs.songSong : graphs.songSongNorm;
  if (g.rows !== click.cols || g.cols !== click.cols)
    throw new Error(`songgraph: graph is ${g.rows}×${g.cols}, clicks have ${click.cols} songs`);
  const binary = options.weighting === 'binary';
  return { name: 'songgraph', scoreDj: (dj, out) => scoreBySimilarity(click, g, dj, out, binary) };
}
