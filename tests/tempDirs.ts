import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * Temporary folders for tests, removed after each test file (tests/setup.ts registers the
 * cleanup), so runs do not pile folders up in the system temp directory.
 */
const made: string[] = [];

/** A fresh folder under the system temp directory, deleted when the test file ends. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
