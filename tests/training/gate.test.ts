import { describe, expect, it } from 'vitest';
import { baselineChecks, failedLines, gateReport, servedChecks } from '../../training/gate.ts';

const metrics = (recall: number, hr10: number, nll: number) => ({
  recommendation: {
    model: { 'recall@20': recall, 'ndcg@20': recall / 2 },
    baselines: { popularity: { 'recall@20': 0.3 } },
  },
  nextSong: {
    model: { 'hr@10': hr10, 'hr@100': 0.7, mrr: 0.1, nllBits: nll },
    baselines: { popularity: { 'hr@10': 0.2, nllBits: 10 } },
  },
});

describe('quality gate checks', () => {
  it('requires the candidate to beat popularity in its own run, strictly, on recall, HR and NLL', () => {
    expect(baselineChecks(metrics(0.31, 0.21, 9.9)).map((c) => c.ok)).toEqual([true, true, true]);
    expect(baselineChecks(metrics(0.3, 0.2, 10)).map((c) => c.ok)).toEqual([false, false, false]);
    const missing = baselineChecks({ recommendation: { model: null, baselines: {} } });
    expect(missing.every((c) => !c.ok)).toBe(true);
    expect(missing[0].detail).toBe('the candidate has no recall@20 vs popularity');
  });

  it('allows the tolerance against the served version, on the metrics and catalogue both have', () => {
    const served = { metrics: metrics(0.4, 0.3, 8), counts: { songs: 1000, artists: 500, djs: 50 } };
    const within = { metrics: metrics(0.381, 0.286, 8.39), counts: { songs: 951, artists: 500, djs: 48 } };
    expect(servedChecks(within, served, 'V1', 0.05).filter((c) => !c.ok)).toEqual([]);
    const worse = { metrics: metrics(0.379, 0.3, 8.41), counts: { songs: 400, artists: 500, djs: 50 } };
    const report = gateReport('V2', 'V1', 0.05, servedChecks(worse, served, 'V1', 0.05));
    expect(report.decision).toBe('reject');
    expect(failedLines(report)).toEqual([
      'gate: recall@20 vs served: 0.3790 not ≥ 0.3800 (V1 0.4000 − 5 %)',
      'gate: ndcg@20 vs served: 0.1895 not ≥ 0.1900 (V1 0.2000 − 5 %)',
      'gate: nllBits vs served: 8.4100 not ≤ 8.4000 (V1 8 + 5 %)',
      'gate: songs vs served: 400 not ≥ 950 (V1 1000 − 5 %)',
    ]);
    // A metric the served version was never scored on is not compared.
    const old = { metrics: { recommendation: { model: { 'recall@20': 0.4 } } }, counts: null };
    expect(servedChecks(worse, old, 'V0', 0.05).map((c) => c.name)).toEqual(['recall@20 vs served']);
  });
});
