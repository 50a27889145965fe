/**
 * The training job's quality gate (ARCHITECTURE "gate"): a candidate model version is published
 * only when every check passes —
 *   (a) it beats popularity in its own `tlgen eval` run (Recall@20, HR@10 and NLL): a floor that
 *       catches a broken or untrained model. Beating the strong baselines is the models' target
 *       (README, Evaluation), not a publishing condition: under the leak-free protocol TL-MGCCF
 *       trails BPR-MF on `small` and `medium`, and the gate would then never publish;
 *   (b) it is not worse than the served version, beyond `tolerance` (a share), on what both were
 *       scored on: the hold-out metrics both recorded and the catalogue each can serve (songs,
 *       artists, DJs; a corpus upload with sets missing shrinks it);
 *   (c) the serving code loads it and answers sensibly (training/servingSmokeTest.ts).
 */

export interface GateCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface GateReport {
  versionId: string;
  decision: 'publish' | 'reject';
  /** The version served when the candidate was judged (null: none yet). */
  served: string | null;
  tolerance: number;
  checks: GateCheck[];
  judgedAt: string;
}

/** What the gate reads of a version: its manifest's `metrics` (the eval result) and `counts`. */
export interface GateInput {
  metrics: unknown;
  counts: unknown;
}

type Direction = 'higher' | 'lower';

/** Metrics compared with the served version: [section, metric, which way is better]. */
const SERVED_METRICS: [section: 'recommendation' | 'nextSong', metric: string, better: Direction][] = [
  ['recommendation', 'recall@20', 'higher'],
  ['recommendation', 'ndcg@20', 'higher'],
  ['nextSong', 'hr@10', 'higher'],
  ['nextSong', 'hr@100', 'higher'],
  ['nextSong', 'mrr', 'higher'],
  ['nextSong', 'nllBits', 'lower'],
];
/** Metrics the candidate must beat popularity on, in its own run: [section, metric, label, which way is better]. */
const FLOOR_METRICS: [section: 'recommendation' | 'nextSong', metric: string, label: string, better: Direction][] = [
  ['recommendation', 'recall@20', 'recall@20', 'higher'],
  ['nextSong', 'hr@10', 'HR@10', 'higher'],
  ['nextSong', 'nllBits', 'NLL', 'lower'],
];
const CATALOGUE = ['songs', 'artists', 'djs'] as const;

function field(value: unknown, ...path: string[]): unknown {
  let v = value;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function metric(value: unknown, ...path: string[]): number | null {
  const v = field(value, ...path);
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(4));

function compare(
  name: string,
  candidate: number | null,
  reference: number | null,
  better: Direction,
  strict: boolean,
  what: string,
): GateCheck {
  if (candidate === null) return { name, ok: false, detail: `the candidate has no ${name}` };
  if (reference === null) return { name, ok: false, detail: `${what} has no ${name}` };
  const ok =
    better === 'higher'
      ? strict
        ? candidate > reference
        : candidate >= reference
      : strict
        ? candidate < reference
        : candidate <= reference;
  const sign = better === 'higher' ? (strict ? '>' : '≥') : strict ? '<' : '≤';
  return { name, ok, detail: `${fmt(candidate)} ${ok ? sign : `not ${sign}`} ${fmt(reference)} (${what})` };
}

/** (a) The candidate against the baselines of its own evaluation run. */
export function baselineChecks(metrics: unknown): GateCheck[] {
  return FLOOR_METRICS.map(([section, name, label, better]) =>
    compare(
      `${label} vs popularity`,
      metric(metrics, section, 'model', name),
      metric(metrics, section, 'baselines', 'popularity', name),
      better,
      true,
      'popularity, same run',
    ),
  );
}

/** (b) The candidate against the served version, `tolerance` allowed, on what both recorded. */
export function servedChecks(
  candidate: GateInput,
  served: GateInput,
  servedId: string,
  tolerance: number,
): GateCheck[] {
  const checks: GateCheck[] = [];
  const allowed = (reference: number, better: Direction): number =>
    better === 'higher' ? reference * (1 - tolerance) : reference * (1 + tolerance);
  for (const [section, name, better] of SERVED_METRICS) {
    const reference = metric(served.metrics, section, 'model', name);
    if (reference === null) continue; // the served version was not scored on it
    checks.push(
      compare(
        `${name} vs served`,
        metric(candidate.metrics, section, 'model', name),
        allowed(reference, better),
        better,
        false,
        `${servedId} ${fmt(reference)} ${better === 'higher' ? '−' : '+'} ${Math.round(tolerance * 100)} %`,
      ),
    );
  }
  for (const kind of CATALOGUE) {
    const reference = metric(served.counts, kind);
    if (reference === null) continue;
    checks.push(
      compare(
        `${kind} vs served`,
        metric(candidate.counts, kind),
        allowed(reference, 'higher'),
        'higher',
        false,
        `${servedId} ${reference} − ${Math.round(tolerance * 100)} %`,
      ),
    );
  }
  return checks;
}

export function gateReport(
  versionId: string,
  served: string | null,
  tolerance: number,
  checks: GateCheck[],
): GateReport {
  return {
    versionId,
    decision: checks.every((c) => c.ok) ? 'publish' : 'reject',
    served,
    tolerance,
    checks,
    judgedAt: new Date().toISOString(),
  };
}

/** One readable line per failed check. */
export function failedLines(report: GateReport): string[] {
  return report.checks.filter((c) => !c.ok).map((c) => `gate: ${c.name}: ${c.detail}`);
}

/** A candidate the gate turned down; its message is one line per failed check. */
export class GateRejectedError extends Error {
  readonly report: GateReport;
  constructor(report: GateReport) {
    super(
      [
        `model version ${report.versionId} rejected by the quality gate (kept under models/rejected/)`,
        ...failedLines(report),
      ].join('\n'),
    );
    this.name = 'GateRejectedError';
    this.report = report;
  }
}
