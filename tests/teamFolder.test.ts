import { afterEach, describe, expect, it } from 'vitest';
import { teamFolder } from '../training/teamFolder.ts';
import { tempDir } from './tempDirs.ts';

describe('team folder lookup', () => {
  const saved = process.env.TEAM_SHARED;
  afterEach(() => {
    if (saved === undefined) delete process.env.TEAM_SHARED;
    else process.env.TEAM_SHARED = saved;
  });

  it('takes TEAM_SHARED when it exists, else falls back to a folder that exists', () => {
    const dir = tempDir('team-');
    process.env.TEAM_SHARED = dir;
    expect(teamFolder()).toBe(dir);
    process.env.TEAM_SHARED = `${dir}/missing`;
    const found = teamFolder();
    expect(found).not.toBe(`${dir}/missing`);
    // The project's own checks need the real sets there (this checkout or its origin's neighbour).
    expect(found.endsWith('shared')).toBe(true);
  });
});
