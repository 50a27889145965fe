import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../functions/openapi.ts';
import { routes } from '../../functions/routes.ts';
import { tempDir } from '../tempDirs.ts';

/*
 * An external linter on the served document: Redocly CLI with its strict recommended rules (every
 * rule an error). Telemetry and update checks are off, so it runs offline.
 */
const REDOCLY = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'redocly');

function lint(doc: unknown): { errors: number; warnings: number; problems: { ruleId: string; message: string }[] } {
  const file = join(tempDir('openapi-lint-'), 'openapi.json');
  writeFileSync(file, JSON.stringify(doc, null, 2));
  const run = spawnSync(REDOCLY, ['lint', file, '--extends', 'recommended-strict', '--format', 'json'], {
    encoding: 'utf8',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
    timeout: 120_000,
  });
  const out = JSON.parse(run.stdout) as {
    totals: { errors: number; warnings: number };
    problems: { ruleId: string; message: string }[];
  };
  return { ...out.totals, problems: out.problems };
}

describe('OpenAPI document under Redocly lint (recommended-strict)', () => {
  it('has no errors and no warnings', () => {
    const result = lint(openApiDocument(routes));
    expect(result.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(result.errors).toBe(0);
    expect(result.warnings).toBe(0);
  });

  it('fails a document with a broken $ref and an operation without an id (the linter is live)', () => {
    const doc = structuredClone(openApiDocument(routes)) as {
      paths: Record<string, Record<string, { operationId?: string; responses: Record<string, unknown> }>>;
    };
    const op = doc.paths['/health'].get;
    delete op.operationId;
    op.responses['200'] = {
      description: 'x',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/NoSuchShape' } } },
    };
    const result = lint(doc);
    expect(result.errors).toBeGreaterThan(0);
    expect(result.problems.map((p) => p.ruleId)).toEqual(expect.arrayContaining(['operation-operationId', 'no-unresolved-refs']));
  });
});
