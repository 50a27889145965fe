import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tinyModelRoot } from './e2e/tinyModel.ts';

/** A run id for fixtures shared between test files (tests/e2e/tinyModel.ts), removed afterwards. */
export default function setup(): () => void {
  process.env.TRACKLIST_TEST_RUN = randomUUID();
  return () => rmSync(tinyModelRoot(), { recursive: true, force: true });
}
