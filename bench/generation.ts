/**
 * `npm run bench:generation -- --model DIR --corpus F [--sets 300] [--variants NAME,…]`: the
 * generation evaluation of `tlgen eval` with generator variants beside the default model (the
 * ablations behind the generation defaults), in one run on the same held-out sets.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { truthPath } from '../shared/corpus/synth.ts';
import { loadPrepared } from '../shared/graph/preparedStore.ts';
import { readArtifact } from '../shared/model/artifact.ts';
import { EmbeddingIndex } from '../shared/model/embeddings.ts';
import type { GenerateOptions } from '../shared/model/generate.ts';
import { TRACKLIST_KIND, TracklistModel, type TracklistMeta } from '../shared/model/tracklistInference.ts';
import { formatGenerationTable } from '../training/eval/generation.ts';
import { truthSection } from '../training/eval/truth.ts';
import { runGeneration } from '../training/eval/generationRun.ts';
import { EMBEDDINGS_KIND } from '../training/mgccf/train.ts';
import { fitNextSongBaselines } from '../training/nextsong/baselines.ts';
import { readSplitTracklists } from '../training/nextsong/oracle.ts';

/** The variants: each changes one thing of the current defaults. */
const VARIANTS: Record<string, Partial<GenerateOptions>> = {
  'steer-0': { steering: 0 },
  'steer-0.5': { steering: 0.5 },
  'steer-1': { steering: 1 },
  'no-warm': { warmStart: 0 },
  'no-thresh': { thresholds: [0, 0, 0, 0] },
  'w-0': { userWeighting: 0 },
  'w-3': { userWeighting: 3 },
  'temp-0.5': { temperature: [0.5, 0.5, 0.5] },
  'artist-0.5': { artistRepeatPenalty: 0.5 },
  'artist-0.9': { artistRepeatPenalty: 0.9 },
};

const { values } = parseArgs({
  options: { model: { type: 'string' }, corpus: { type: 'string' }, sets: { type: 'string', default: '300' }, variants: { type: 'string' }, json: { type: 'boolean' } },
});
if (!values.model || !values.corpus) throw new Error('usage: --model DIR --corpus F [--sets N] [--variants a,b] [--json]');
const names = values.variants ? values.variants.split(/,(?![^{}]*\})/) : Object.keys(VARIANTS);
for (const n of names) if (!(n in VARIANTS) && !n.startsWith('{')) throw new Error(`unknown variant ${n}; known: ${Object.keys(VARIANTS).join(', ')} or a JSON object`);
const variants = names.map((n) => ({ name: n.startsWith('{') ? `v${names.indexOf(n)}` : n, options: n.startsWith('{') ? (JSON.parse(n) as Partial<GenerateOptions>) : VARIANTS[n] }));
const prepared = loadPrepared(join(values.model, 'prepared'));
const embeddings = readArtifact(join(values.model, 'embeddings'), { kind: EMBEDDINGS_KIND });
const tracklist = new TracklistModel(readArtifact<TracklistMeta>(join(values.model, 'tracklist'), { kind: TRACKLIST_KIND }));
const truthFile = truthPath(values.corpus);
// The same reading as tlgen eval: a planted-only or unusable file is reported, not fatal.
const { oracle, planted, lines } = truthSection(existsSync(truthFile) ? truthFile : null, prepared.vocab.songKeys);
for (const line of lines) process.stderr.write(line + '\n');
const raw = oracle ? await readSplitTracklists(values.corpus, prepared.sequences) : null;
const fitted = fitNextSongBaselines(prepared, { seed: 1, log: (l) => process.stderr.write(l + '\n') });
const { report } = runGeneration({
  modelDir: values.model,
  prepared,
  index: new EmbeddingIndex(embeddings),
  tracklist,
  baselines: fitted.predictors,
  truth: oracle ? oracle.truth : null,
  oracle,
  planted,
  raw: raw ? (t) => raw.get(t) : null,
  sets: Number(values.sets),
  variants,
  say: (l) => process.stderr.write(l + '\n'),
});
console.log(formatGenerationTable(report));
if (values.json) console.log(JSON.stringify(report));
