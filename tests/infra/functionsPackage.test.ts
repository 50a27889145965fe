/**
 * The Function App package as azd deploys it: `npm run build`'s folder (scripts/buildFunctions.ts),
 * zipped by azd's rules (tests/infra/azdZip.ts), unpacked into an empty folder with nothing
 * installed, and its entry loaded by Node 22 without type stripping, @azure/functions in test mode:
 * every function of the route table, the web app and the timer must register. Prints the sizes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../functions/routes.ts';
import { buildFunctionsPackage, PACKAGE_ENTRY, type FunctionsPackage } from '../../scripts/buildFunctions.ts';
import { tempDir } from '../tempDirs.ts';
import { azdPackageFiles, azdRemoteBuild, azdZip, unzipInto } from './azdZip.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const TARGET_BYTES = 25 * 2 ** 20;

let built: FunctionsPackage;
let unpacked: string;
let unpackedBytes: number;
let zipBytes: number;

beforeAll(async () => {
  built = await buildFunctionsPackage({
    outDir: join(tempDir('tracklist-pkg-build-'), 'api'),
    log: () => undefined,
  });
  const zip = azdZip(built.dir);
  zipBytes = zip.byteLength;
  unpacked = tempDir('tracklist-pkg-unpacked-');
  unpackedBytes = unzipInto(zip, unpacked);
  process.stdout.write(
    `functions package: ${azdPackageFiles(built.dir).length} files, zip ${(zipBytes / 2 ** 20).toFixed(2)} MB, unpacked ${(unpackedBytes / 2 ** 20).toFixed(2)} MB (target ≤ 25 MB); entry ${(built.entryBytes / 2 ** 20).toFixed(2)} MB\n`,
  );
}, 180_000);

describe('Functions package', () => {
  it('is small, holds no dependencies to install and no training code, and azd builds it locally', () => {
    expect(unpackedBytes).toBeLessThanOrEqual(TARGET_BYTES);
    const manifest = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest).toMatchObject({ type: 'module', main: PACKAGE_ENTRY });
    expect(manifest.dependencies).toBeUndefined();
    expect(existsSync(join(unpacked, 'node_modules'))).toBe(false);
    expect(existsSync(join(unpacked, 'host.json'))).toBe(true);
    expect(existsSync(join(unpacked, 'web', 'dist', 'index.html'))).toBe(true);
    expect(existsSync(join(unpacked, '.funcignore'))).toBe(false);
    const entry = readFileSync(join(unpacked, PACKAGE_ENTRY), 'utf8');
    expect(entry).not.toMatch(/@tensorflow|tfjs-backend/);
    // The root .funcignore keeps node_modules, so azd does not ask Flex for a remote build.
    expect(azdRemoteBuild(ROOT)).toBe(false);
  });

  it('registers every route, the web app and the timer from the unpacked folder on Node 22', () => {
    const main = join(
      unpacked,
      (JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8')) as { main: string }).main,
    );
    const run = spawnSync(
      process.execPath,
      [
        '--no-experimental-strip-types',
        '--input-type=module',
        '-e',
        `await import(${JSON.stringify(pathToFileURL(main).href)})`,
      ],
      { cwd: unpacked, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 60_000 },
    );
    expect(process.versions.node.split('.')[0]).toBe('22');
    expect(run.status, run.stderr).toBe(0);
    const output = `${run.stdout}${run.stderr}`;
    expect(output).toContain('"@azure/functions" package to test mode');
    const registered = [...output.matchAll(/Skipping call to register function "([^"]+)"/g)].map((m) => m[1]);
    expect(registered.sort()).toEqual([...routes.map((r) => r.name), 'webApp', 'retrainTimer'].sort());
    expect(output).not.toMatch(/Error|ERR_/);
  });
});
