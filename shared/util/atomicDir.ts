import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Fills a folder atomically: `fill` writes into a fresh sibling staging folder, which then replaces
 * `dir` by rename, so a reader of `dir` sees the old contents or the whole new ones. If `fill`
 * throws (or its promise rejects) the staging folder is removed and `dir` is left as it was.
 * Returns what `fill` returned (a promise when `fill` is async).
 */
export function writeDirAtomically<T>(dir: string, fill: (staging: string) => T): T {
  // A sibling, so the renames stay on one file system.
  const staging = join(dirname(dir), `.${basename(dir)}.tmp-${randomBytes(4).toString('hex')}`);
  mkdirSync(staging, { recursive: true });
  const discard = (e: unknown): never => {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  };
  let result: T;
  try {
    result = fill(staging);
    if (!(result instanceof Promise)) {
      swapIn(staging, dir);
      return result;
    }
  } catch (e) {
    return discard(e);
  }
  return result
    .then((value: unknown) => {
      swapIn(staging, dir);
      return value;
    })
    .catch(discard) as T;
}

function swapIn(staging: string, dir: string): void {
  const old = existsSync(dir) ? `${staging}.old` : null;
  if (old) renameSync(dir, old);
  renameSync(staging, dir);
  if (old) rmSync(old, { recursive: true, force: true });
}
