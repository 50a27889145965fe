import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadPrepared } from '../../shared/graph/preparedStore.ts';
import { readArtifact } from '../../shared/model/artifact.ts';
import { EmbeddingIndex } from '../../shared/model/embeddings.ts';
import { topK } from '../../shared/model/similarity.ts';
import type { Command } from '../../shared/cli/command.ts';
import { EMBEDDINGS_KIND } from '../mgccf/train.ts';
import { synthCommand } from './synth.ts';
import { trainCommand } from './train.ts';

/**
 * What `npm start` runs at this stage: synthesise the `small` corpus into .data/demo, train the
 * embeddings on it (skipped when an earlier run already did), and show recommendations and
 * similar songs. Later stages grow it into the full local stack.
 */
export const demoCommand: Command = {
  summary: 'Synthesises the small demo corpus into .data/demo, trains TL-MGCCF on it and prints sample answers.',
  usage: '[--dir DIR] [--json]',
  options: { dir: { type: 'string', value: 'DIR', default: '.data/demo', help: 'folder of the demo corpus and model (created)' } },
  async run(values, ctx) {
    const dir = typeof values.dir === 'string' ? values.dir : join('.data', 'demo');
    mkdirSync(dir, { recursive: true });
    const corpus = join(dir, 'corpus.jsonl');
    const modelDir = join(dir, 'model');
    if (!existsSync(corpus)) await synthCommand.run({ profile: 'small', seed: '1', out: corpus }, ctx);
    const embeddingsDir = join(modelDir, 'embeddings');
    const trained = existsSync(join(embeddingsDir, 'manifest.json'))
      ? { reused: true }
      : await trainCommand.run({ corpus, out: modelDir, stage: 'embeddings', budget: 'fast' }, ctx);
    const prepared = loadPrepared(join(modelDir, 'prepared'));
    const index = new EmbeddingIndex(readArtifact(embeddingsDir, { kind: EMBEDDINGS_KIND }));
    const { songs, djs } = prepared.vocab;
    const dj = 0;
    const played = new Set(prepared.click.indices.subarray(prepared.click.indptr[dj], prepared.click.indptr[dj + 1]));
    const scores = index.scoreDj(dj, new Float32Array(songs.length));
    const recommended = topK(scores, 5, (s) => played.has(s)).map((r) => songs[r.index]);
    const similar = index.similarSongs(0, 5).map((r) => `${songs[r.index]} (${r.score.toFixed(3)})`);
    ctx.say(`\nSongs for ${djs[dj]} (not yet in their crate):\n  ${recommended.join('\n  ')}`);
    ctx.say(`Songs similar to ${songs[0]}:\n  ${similar.join('\n  ')}`);
    ctx.say(`\nModel folder: ${modelDir} — try: npx tlgen eval --model ${modelDir} --corpus ${corpus}`);
    return { corpus, model: modelDir, trained, sample: { dj: djs[dj], recommended, similarTo: songs[0], similar } };
  },
};
