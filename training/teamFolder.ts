import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..');

/**
 * The team folder (real DJ sets, reference datasets), read-only: `TEAM_SHARED` when set, else
 * `shared/` beside this checkout, else `shared/` beside the checkout this one was cloned from
 * (CI tests a fresh clone of the working copy, away from the team folder). When none exists the
 * first candidate is returned, so a missing-file error names where it was expected.
 */
export function teamFolder(): string {
  const candidates: string[] = [];
  if (process.env.TEAM_SHARED) candidates.push(resolve(process.env.TEAM_SHARED));
  candidates.push(resolve(REPO, '../shared'));
  const origin = localOrigin();
  if (origin) candidates.push(resolve(origin, '../shared'));
  return candidates.find((dir) => existsSync(dir)) ?? candidates[0];
}

/** The path of this checkout's origin when it is a local repository, else null. */
function localOrigin(): string | null {
  try {
    const url = execFileSync('git', ['-C', REPO, 'config', '--get', 'remote.origin.url'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const path = url.startsWith('file://') ? url.slice('file://'.length) : url;
    return isAbsolute(path) && existsSync(join(path, '.git')) ? path : null;
  } catch {
    return null;
  }
}
