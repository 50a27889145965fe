import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { synthesize } from '../../shared/corpus/synth.ts';
import { prepare } from '../../shared/graph/prepare.ts';
import { readArtifact } from '../../shared/model/artifact.ts';
import { InputError } from '../../shared/util/errors.ts';
import { mgccfConfigFromOptions } from '../../training/commands/train.ts';
import {
  DEFAULT_MGCCF_CONFIG,
  learningRateAt,
  mgccfConfigFor,
  type MgccfConfig,
} from '../../training/mgccf/config.ts';
import { EMBEDDINGS_KIND, setLearningRate, trainMgccf } from '../../training/mgccf/train.ts';
import { loadTf } from '../../training/tf.ts';

const quiet = () => {};

describe('learning-rate schedule', () => {
  const base: MgccfConfig = {
    ...DEFAULT_MGCCF_CONFIG,
    steps: 1000,
    learningRate: 2e-3,
    warmupShare: 0.03,
    finalLrShare: 0.1,
  };

  it('constant keeps the peak at every step', () => {
    for (const step of [0, 1, 500, 999])
      expect(learningRateAt({ ...base, schedule: 'constant' }, step)).toBe(2e-3);
  });

  for (const schedule of ['cosine', 'linear'] as const) {
    it(`${schedule}: warms up to the peak, then decays monotonically to the final share at the last step`, () => {
      const config = { ...base, schedule };
      const lrs = Array.from({ length: config.steps }, (_, s) => learningRateAt(config, s));
      const warmup = Math.round(config.warmupShare * config.steps);
      expect(lrs[0]).toBeLessThan(lrs[1]);
      expect(lrs[0]).toBeLessThan(0.1 * config.learningRate);
      for (let s = 1; s < warmup; s++) expect(lrs[s]).toBeGreaterThan(lrs[s - 1]);
      expect(lrs[warmup]).toBeCloseTo(config.learningRate, 12);
      expect(Math.max(...lrs)).toBeCloseTo(config.learningRate, 12);
      for (let s = warmup + 1; s < lrs.length; s++) expect(lrs[s]).toBeLessThanOrEqual(lrs[s - 1]);
      expect(lrs.at(-1)).toBeCloseTo(config.finalLrShare * config.learningRate, 12);
      // A function of the step number only: the same step gives the same rate in any order.
      expect(learningRateAt(config, 617)).toBe(lrs[617]);
    });
  }

  it('cosine stays above linear in the first half of the decay and below it in the second', () => {
    const at = (schedule: 'cosine' | 'linear', s: number) => learningRateAt({ ...base, schedule }, s);
    expect(at('cosine', 300)).toBeGreaterThan(at('linear', 300));
    expect(at('cosine', 800)).toBeLessThan(at('linear', 800));
  });
});

describe('setLearningRate', () => {
  it('changes the step Adam takes (its first step moves each weight by about the learning rate)', async () => {
    const { tf } = await loadTf(quiet);
    const firstStep = (lr: number | null) => {
      const x = tf.variable(tf.tensor1d([1, -2, 3]));
      const optimizer = tf.train.adam(1e-3);
      if (lr !== null) setLearningRate(optimizer, lr);
      optimizer.minimize(() => tf.sum(tf.mul(x, tf.tensor1d([0.5, -4, 2]))), false, [x]);
      const moved = Array.from(x.dataSync()).map((v, k) => Math.abs(v - [1, -2, 3][k]));
      optimizer.dispose();
      x.dispose();
      return Math.max(...moved);
    };
    expect(firstStep(null)).toBeCloseTo(1e-3, 5);
    expect(firstStep(0.1)).toBeCloseTo(0.1, 4);
    expect(firstStep(0.02)).toBeCloseTo(0.02, 4);
  });

  it('refuses an optimizer without a learning-rate field', async () => {
    const { tf } = await loadTf(quiet);
    const optimizer = tf.train.adam(1e-3);
    const broken = Object.create(optimizer, { learningRate: { value: undefined } });
    expect(() => setLearningRate(broken, 0.1)).toThrow(/learningRate/);
  });
});

describe('TL-MGCCF training with a schedule', async () => {
  const { tracklists } = synthesize('tiny', 11);
  const prepared = await prepare(tracklists, { seed: 1 });
  const config: MgccfConfig = {
    ...DEFAULT_MGCCF_CONFIG,
    dim: 8,
    batch: 32,
    steps: 20,
    learningRate: 0.01,
    averagingPasses: 1,
    checkpointEvery: 1000,
    factorColumns: 64,
    factorRows: 32,
  };
  const paramsAt = (dir: string) => {
    const a = readArtifact(dir, { kind: 'tracklist-ai/mgccf-checkpoint' });
    return Object.keys(a.manifest.tensors)
      .filter((name) => name.startsWith('param.'))
      .map((name) => a.tensor(name));
  };
  /** Largest weight change of the first step: Adam moves by about the step's learning rate. */
  const firstStepMove = async (c: MgccfConfig) => {
    const root = mkdtempSync(join(tmpdir(), 'mgccf-lr-'));
    await trainMgccf(prepared, c, {
      out: join(root, 'e'),
      checkpointDir: join(root, 'c0'),
      log: quiet,
      maxStepsThisRun: 0,
    });
    await trainMgccf(prepared, c, {
      out: join(root, 'e'),
      checkpointDir: join(root, 'c1'),
      log: quiet,
      maxStepsThisRun: 1,
    });
    const before = paramsAt(join(root, 'c0'));
    const after = paramsAt(join(root, 'c1'));
    let move = 0;
    before.forEach((b, t) => b.forEach((v, k) => (move = Math.max(move, Math.abs(after[t][k] - v)))));
    return move;
  };

  it("the trainer's first step follows the schedule's first learning rate", async () => {
    const warm = { ...config, schedule: 'cosine' as const, warmupShare: 0.2 };
    const constant = await firstStepMove({ ...config, schedule: 'constant' });
    const warming = await firstStepMove(warm);
    expect(constant).toBeCloseTo(config.learningRate, 3);
    expect(warming).toBeCloseTo(learningRateAt(warm, 0), 3);
    expect(constant / warming).toBeGreaterThan(3);
  }, 60_000);

  it('a resumed scheduled run ends where a straight one does, and logs the rate of each step', async () => {
    const c = { ...config, steps: 6, schedule: 'cosine' as const, warmupShare: 0.2, checkpointEvery: 3 };
    const root = mkdtempSync(join(tmpdir(), 'mgccf-lr-'));
    const straight = await trainMgccf(prepared, c, {
      out: join(root, 'a'),
      checkpointDir: join(root, 'ca'),
      log: quiet,
    });
    await trainMgccf(prepared, c, {
      out: join(root, 'b'),
      checkpointDir: join(root, 'cb'),
      log: quiet,
      maxStepsThisRun: 4,
    });
    const resumed = await trainMgccf(prepared, c, {
      out: join(root, 'b'),
      checkpointDir: join(root, 'cb'),
      log: quiet,
    });
    expect(resumed.resumedFrom).toBe(4);
    const rec = (dir: string) => readArtifact(join(root, dir), { kind: EMBEDDINGS_KIND }).tensor('rec.song');
    const a = rec('a');
    const b = rec('b');
    for (let k = 0; k < a.length; k++) expect(b[k]).toBeCloseTo(a[k], 4);
    for (const entry of [...straight.history, ...resumed.history])
      expect(entry.learningRate).toBe(learningRateAt(c, entry.step - 1));
  }, 60_000);
});

describe('tlgen train --batch / --lr', () => {
  const clicks = 19_139; // medium's training click entries: the full budget caps at 1,000 triplets
  const budget = mgccfConfigFor('full', clicks, 1);

  it('keeps the budget learning rate without flags', () => {
    expect(mgccfConfigFromOptions({}, 'full', clicks, 1).learningRate).toBe(budget.learningRate);
  });

  it('an explicit --batch rescales the learning rate by the square-root rule', () => {
    const c = mgccfConfigFromOptions({ batch: String(4 * budget.batch) }, 'full', clicks, 1);
    expect(c.batch).toBe(4 * budget.batch);
    expect(c.learningRate).toBeCloseTo(2 * budget.learningRate, 12);
    expect(c.schedule).toBe(budget.schedule);
    const small = mgccfConfigFromOptions({ batch: String(budget.batch / 4) }, 'full', clicks, 1);
    expect(small.learningRate).toBeCloseTo(budget.learningRate / 2, 12);
  });

  it('--lr wins over the rule, with or without --batch', () => {
    expect(mgccfConfigFromOptions({ batch: '4000', lr: '5e-4' }, 'full', clicks, 1).learningRate).toBe(5e-4);
    expect(mgccfConfigFromOptions({ lr: '0.003' }, 'full', clicks, 1)).toMatchObject({
      learningRate: 0.003,
      batch: budget.batch,
    });
  });

  it('rejects a bad --lr naming the flag', () => {
    for (const lr of ['0', '-1', 'abc', '', '2']) {
      expect(() => mgccfConfigFromOptions({ lr }, 'full', clicks, 1)).toThrow(InputError);
      try {
        mgccfConfigFromOptions({ lr }, 'full', clicks, 1);
      } catch (e) {
        expect((e as InputError).field).toBe('lr');
      }
    }
  });
});
