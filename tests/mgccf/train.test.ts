import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { synthesize } from '../../shared/corpus/synth.ts';
import { prepare } from '../../shared/graph/prepare.ts';
import { readArtifact } from '../../shared/model/artifact.ts';
import { EmbeddingIndex } from '../../shared/model/embeddings.ts';
import { DEFAULT_MGCCF_CONFIG, type MgccfConfig } from '../../training/mgccf/config.ts';
import { EMBEDDINGS_KIND, trainMgccf } from '../../training/mgccf/train.ts';
import { evaluateRecommendation } from '../../training/eval/recommendation.ts';
import { fitPopularity } from '../../training/baselines/popularity.ts';

const quiet = () => {};

describe('TL-MGCCF training', async () => {
  const { tracklists } = synthesize('tiny', 11);
  const prepared = await prepare(tracklists, { seed: 1 });
  const config: MgccfConfig = {
    ...DEFAULT_MGCCF_CONFIG,
    dim: 16,
    batch: 64,
    steps: 6,
    averagingPasses: 2,
    checkpointEvery: 3,
    factorColumns: 0,
  };

  it('is reproducible and resumes from a checkpoint exactly where it stopped', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mgccf-'));
    const straight = await trainMgccf(prepared, config, { out: join(root, 'a'), checkpointDir: join(root, 'ca'), log: quiet });
    await trainMgccf(prepared, config, { out: join(root, 'b'), checkpointDir: join(root, 'cb'), log: quiet });
    const first = await trainMgccf(prepared, config, {
      out: join(root, 'c'),
      checkpointDir: join(root, 'cc'),
      log: quiet,
      maxStepsThisRun: 4,
    });
    expect(first.steps).toBe(4);
    const resumed = await trainMgccf(prepared, config, { out: join(root, 'c'), checkpointDir: join(root, 'cc'), log: quiet });
    expect(resumed.resumedFrom).toBe(4);
    expect(resumed.steps).toBe(2);
    const tensor = (dir: string) => Array.from(readArtifact(join(root, dir), { kind: EMBEDDINGS_KIND }).tensor('rec.song'));
    expect(tensor('b')).toEqual(tensor('a'));
    const a = tensor('a');
    const c = tensor('c');
    for (let k = 0; k < a.length; k++) expect(c[k]).toBeCloseTo(a[k], 4);
    expect(straight.history.at(-1)!.total).toBeGreaterThan(0);
  });

  it('learns: after a short run its held-out ranking beats popularity', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mgccf-'));
    await trainMgccf(prepared, { ...config, steps: 150, dim: 32, batch: 128 }, { out: join(root, 'm'), checkpointDir: join(root, 'ck'), log: quiet });
    const index = new EmbeddingIndex(readArtifact(join(root, 'm'), { kind: EMBEDDINGS_KIND }));
    const result = evaluateRecommendation(prepared, {
      model: { name: 'model', scoreDj: (d, out) => index.scoreDj(d, out) },
      baselines: [fitPopularity(prepared.click)],
    });
    expect(result.model!['recall@20']).toBeGreaterThan(result.baselines.popularity['recall@20']);
  }, 240_000);
});
