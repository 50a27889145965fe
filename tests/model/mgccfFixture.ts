import { join } from 'node:path';
import { synthesize } from '../../shared/corpus/synth.ts';
import { prepare, type Prepared } from '../../shared/graph/prepare.ts';
import { writePrepared } from '../../shared/graph/preparedStore.ts';
import { type Artifact, readArtifact } from '../../shared/model/artifact.ts';
import { DEFAULT_MGCCF_CONFIG, type MgccfConfig } from '../../training/mgccf/config.ts';
import { EMBEDDINGS_KIND, trainMgccf } from '../../training/mgccf/train.ts';
import { tempDir } from '../tempDirs.ts';

export interface TinyModel {
  dir: string;
  prepared: Prepared;
  embeddings: Artifact;
  config: MgccfConfig;
}

/** A briefly trained TL-MGCCF on the tiny synthetic corpus, laid out as `train` writes a model folder. */
export async function buildTinyModel(seed = 11, overrides: Partial<MgccfConfig> = {}): Promise<TinyModel> {
  const { tracklists } = synthesize('tiny', seed);
  const prepared = await prepare(tracklists, { seed: 1 });
  const dir = tempDir('coldstart-');
  writePrepared(join(dir, 'prepared'), prepared);
  const config: MgccfConfig = {
    ...DEFAULT_MGCCF_CONFIG,
    dim: 16,
    batch: 64,
    steps: 30,
    averagingPasses: 2,
    factorColumns: 0,
    ...overrides,
  };
  await trainMgccf(prepared, config, {
    out: join(dir, 'embeddings'),
    checkpointDir: join(dir, 'checkpoint'),
    log: () => {},
  });
  return {
    dir,
    prepared,
    embeddings: readArtifact(join(dir, 'embeddings'), { kind: EMBEDDINGS_KIND }),
    config,
  };
}
