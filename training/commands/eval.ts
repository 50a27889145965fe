import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { truthPath } from '../../shared/corpus/synth.ts';
import { truthSection } from '../eval/truth.ts';
import { loadPrepared } from '../../shared/graph/preparedStore.ts';
import { readArtifact } from '../../shared/model/artifact.ts';
import { EmbeddingIndex } from '../../shared/model/embeddings.ts';
import { InputError } from '../../shared/util/errors.ts';
import { intOption, requireOption, type Command } from '../../shared/cli/command.ts';
import { evaluateRecommendation, fitBaselines, formatRecommendationTable } from '../eval/recommendation.ts';
import { EMBEDDINGS_KIND } from '../mgccf/train.ts';
import { fitOriginalProtocolSongGraph, fitStrongBaselines } from '../baselines/strong.ts';
import { readCorpusAll } from '../../shared/corpus/jsonl.ts';
import { fitNextSongBaselines } from '../nextsong/baselines.ts';
import { formatStanParams } from '../nextsong/stanTuning.ts';
import { evaluateNextSong, formatNextSongTable } from '../nextsong/evaluate.ts';
import { formatCoverage, heldOutCoverage } from '../eval/coverage.ts';
import { readSplitTracklists } from '../nextsong/oracle.ts';
import { fileDigest } from './train.ts';
import { TRACKLIST_KIND, TracklistModel, type TracklistMeta } from '../../shared/model/tracklistInference.ts';
import { TracklistPredictor } from '../nextsong/tracklistPredictor.ts';
import { replacementChooser, setContext } from '../tracklist/windows.ts';
import { clusteringSection } from '../tracklist/report.ts';
import { formatGenerationTable } from '../eval/generation.ts';
import { GENERATION_SETS, runGeneration } from '../eval/generationRun.ts';

const SECTIONS = ['recommendation', 'next-song', 'clustering', 'generation'] as const;

/** `--only a,b`: the sections to run (default all). */
function sectionsOf(value: string | boolean | undefined): Set<string> {
  if (value === undefined) return new Set(SECTIONS);
  const names = String(value).split(',').map((s) => s.trim());
  const unknown = names.find((n) => !(SECTIONS as readonly string[]).includes(n));
  if (unknown !== undefined) throw new InputError(`--only: unknown section "${unknown}" (one of ${SECTIONS.join(', ')})`, 'only');
  return new Set(names);
}

/**
 * `tlgen eval`: scores a trained model folder on the held-out data recorded in its prepared
 * splits, beside the baselines fitted on the same training data in the same run.
 */
export const evalCommand: Command = {
  summary:
    'Evaluates a model folder on its recorded held-out split: recommendation (model vs popularity, item-kNN, BPR-MF, EASE, RP3beta, iALS, song-graph neighbours; the original recall protocol) and next song (model vs popularity, markov, sr, vsknn, stan, vstan, vstan-dj, and the exact oracle on synthetic corpora).',
  usage:
    '--model DIR --corpus FILE [--truth FILE] [--max-positions N] [--only recommendation|next-song|clustering|generation[,…]] [--generation-sets 300] [--json]',
  options: {
    model: { type: 'string', value: 'DIR', required: true, help: 'model folder from tlgen train' },
    corpus: { type: 'string', value: 'FILE', required: true, help: 'the corpus the model was trained on' },
    truth: {
      type: 'string',
      value: 'FILE',
      default: 'FILE.truth.json beside the corpus when present',
      help: 'ground truth: a synthetic-corpus truth (planted clusters and the exact oracle) or {"songCluster": …} (planted clusters only)',
    },
    'max-positions': { type: 'string', value: 'N', default: 'all', help: 'cap on the next-song positions scored' },
    only: { type: 'string', value: 'SECTIONS', default: SECTIONS.join(','), help: 'comma-separated sections to run' },
    'generation-sets': {
      type: 'string',
      value: 'N',
      default: GENERATION_SETS,
      help: 'held-out sets the generation section generates for',
    },
  },
  async run(values, ctx) {
    const modelDir = requireOption(values, 'model');
    const corpus = requireOption(values, 'corpus');
    const preparedDir = join(modelDir, 'prepared');
    if (!existsSync(join(preparedDir, 'manifest.json')))
      throw new InputError(`--model: ${modelDir} holds no prepared data (run tlgen train first)`, 'model');
    if (!existsSync(corpus)) throw new InputError(`--corpus: no such file ${corpus}`, 'corpus');
    const meta = JSON.parse(readFileSync(join(preparedDir, 'manifest.json'), 'utf8')).meta as { corpusDigest?: string };
    if (meta.corpusDigest && meta.corpusDigest !== (await fileDigest(corpus)))
      throw new InputError(`--corpus: ${corpus} is not the corpus this model was trained on (digest differs)`, 'corpus');
    // A synthetic corpus carries its ground truth beside it; use it unless told otherwise.
    const truthFile = typeof values.truth === 'string' ? values.truth : existsSync(truthPath(corpus)) ? truthPath(corpus) : null;
    if (truthFile && !existsSync(truthFile)) throw new InputError(`--truth: no such file ${truthFile}`, 'truth');
    const maxPositions = intOption(values, 'max-positions', Number.MAX_SAFE_INTEGER, 1);
    const generationSets = intOption(values, 'generation-sets', GENERATION_SETS, 10);
    const only = sectionsOf(values.only);
    const started = performance.now();
    const prepared = loadPrepared(preparedDir);
    // An unusable truth file is reported here and in the result; the evaluation goes on without it.
    const { report: truthReport, planted, oracle, lines } = truthSection(truthFile, prepared.vocab.songKeys);
    for (const line of lines) ctx.say(line);

    const embeddingsDir = join(modelDir, 'embeddings');
    const embeddings = existsSync(join(embeddingsDir, 'manifest.json')) ? readArtifact(embeddingsDir, { kind: EMBEDDINGS_KIND }) : null;
    const index = embeddings ? new EmbeddingIndex(embeddings) : null;
    const log = (line: string) => process.stderr.write(line + '\n');
    const strong = only.has('recommendation') ? fitStrongBaselines(prepared, { log }) : null;
    const leaky = strong ? await fitOriginalProtocolSongGraph(await readCorpusAll(corpus), prepared, log) : null;
    if (strong && leaky) strong.params['songgraph-leaky'] = leaky.params;
    const recommendation = strong
      ? evaluateRecommendation(
          prepared,
          {
            model: index ? { name: 'model', scoreDj: (dj, out) => index.scoreDj(dj, out) } : null,
            baselines: [...fitBaselines(prepared.click), ...strong.recommenders, ...(leaky ? [leaky.recommender] : [])],
          },
          { progress: true },
        )
      : null;
    if (recommendation && strong) {
      ctx.say('\nRecommendation (per-DJ 20 % hold-out; original protocol on held-out pairs)');
      ctx.say(formatRecommendationTable(recommendation));
      const tuned = Object.entries(strong.params).map(([name, t]) => `${name} ${JSON.stringify(t.params)} (${t.seconds.toFixed(1)}s)`);
      ctx.say(`tuned on an inner split of the training clicks (fit time incl. tuning): ${tuned.join('; ')}`);
    }

    const tracklistDir = join(modelDir, 'tracklist');
    const tracklist = existsSync(join(tracklistDir, 'manifest.json'))
      ? new TracklistModel(readArtifact<TracklistMeta>(tracklistDir, { kind: TRACKLIST_KIND }))
      : null;
    const modelPredictor = tracklist && embeddings ? new TracklistPredictor(tracklist, replacementChooser(embeddings), setContext(embeddings)) : null;
    const fitted = fitNextSongBaselines(prepared, { seed: 1, stan: only.has('next-song'), log: (line) => process.stderr.write(line + '\n') });
    const raw = oracle ? await readSplitTracklists(corpus, prepared.sequences) : null;
    const coverage = only.has('next-song')
      ? heldOutCoverage((raw ?? (await readSplitTracklists(corpus, prepared.sequences))).values(), prepared.vocab)
      : null;
    const nextSong = only.has('next-song')
      ? evaluateNextSong(
          prepared,
          { model: modelPredictor, baselines: [...fitted.predictors, ...fitted.stan], oracle },
          { maxPositions, seed: 1, progress: true, ...(raw ? { raw: (t: number) => raw.get(t) } : {}) },
        )
      : null;
    if (nextSong) {
      ctx.say('\nNext song (held-out tracklists)');
      ctx.say(formatNextSongTable(nextSong));
      if (coverage) ctx.say(formatCoverage(coverage));
      ctx.say(formatStanParams(fitted.params.stan, fitted.tuning?.positions ?? null));
    }
    const clustering = tracklist && only.has('clustering')
      ? clusteringSection(prepared.songSong, tracklist, planted)
      : null;
    if (clustering) {
      ctx.say('\nClustering (finest level first)');
      ctx.say(
        clustering.levels
          .map((l, i) => `  level ${i + 1}: ${l.clusters} clusters, modularity ${l.modularity.toFixed(3)}, conductance ${l.conductance.toFixed(3)}, NMI ${l.nmi === null ? '—' : l.nmi.toFixed(3)}`)
          .join('\n'),
      );
    }
    const generation = only.has('generation')
      ? runGeneration({
          modelDir,
          prepared,
          index,
          tracklist,
          baselines: fitted.predictors,
          truth: oracle ? oracle.truth : null,
          oracle,
          planted,
          raw: raw ? (t) => raw.get(t) : null,
          sets: generationSets,
          say: ctx.say,
        }).report
      : null;
    if (generation) {
      ctx.say('\nGenerated tracklists beside the real held-out sets (means per set)');
      ctx.say(formatGenerationTable(generation));
    }
    return {
      recommendation: recommendation && strong ? { ...recommendation, baselineParams: strong.params } : null,
      nextSong: nextSong ? { ...nextSong, coverage, baselineParams: fitted.params } : null,
      clustering,
      generation,
      truth: truthReport,
      seconds: (performance.now() - started) / 1000,
    };
  },
};

