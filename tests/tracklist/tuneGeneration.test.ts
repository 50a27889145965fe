import { beforeAll, describe, expect, it } from 'vitest';
import { generationTasks } from '../../training/eval/generation.ts';
import { MIN_TUNING_SETS, TUNING_GRID, tuneGeneration, validationView } from '../../training/tracklist/tuneGeneration.ts';
import { buildServingFixture, type ServingFixture } from '../serving/fixtures.ts';

describe('generation defaults tuned on the validation sets (issue 20)', () => {
  let f: ServingFixture;
  let training: number[];
  let test: number[];
  beforeAll(async () => {
    f = await buildServingFixture();
    const split = f.tiny.prepared.sequences.split;
    training = [...split.keys()].filter((t) => split[t] === 0);
    test = [...split.keys()].filter((t) => split[t] === 1);
  });

  it('reads only the validation sets as real sets, and neither them nor the test sets as training', () => {
    const validation = training.slice(0, 10);
    const view = validationView(f.tiny.prepared, validation);
    expect(view.sequences.split.filter((s) => s === 1).length).toBe(validation.length);
    for (const t of test) expect(view.sequences.split[t]).toBe(2);
    const tasks = generationTasks(view, 1000);
    expect(tasks.length).toBeGreaterThan(0);
    for (const task of tasks) expect(validation).toContain(task.tracklist);
    expect(() => validationView(f.tiny.prepared, [test[0]])).toThrow(/not a training set/);
  });

  it('keeps the global defaults when too few validation sets can be generated for', () => {
    const lines: string[] = [];
    expect(tuneGeneration(f.modelDir, f.tiny.prepared, training.slice(0, MIN_TUNING_SETS - 1), (l) => lines.push(l))).toBeNull();
    expect(lines.join('\n')).toMatch(/global defaults stay/);
  });

  it('chooses knobs from the grid that the two-sample test tells no better from real sets than the global defaults', () => {
    expect(training.length).toBeGreaterThanOrEqual(MIN_TUNING_SETS + 10);
    const lines: string[] = [];
    const r = tuneGeneration(f.modelDir, f.tiny.prepared, training.slice(0, MIN_TUNING_SETS + 10), (l) => lines.push(l));
    expect(r).not.toBeNull();
    expect(r!.auc).toBeLessThanOrEqual(r!.aucGlobalDefaults);
    expect(r!.candidates).toBeGreaterThanOrEqual(Object.values(TUNING_GRID).reduce((n, v) => n + v.length, 0) - 4);
    for (const [key, values] of Object.entries(TUNING_GRID)) expect(values).toContainEqual(r!.defaults[key as keyof NonNullable<typeof r>["defaults"]]);
    expect(lines.some((l) => /ETA/.test(l))).toBe(true);
  });
});
