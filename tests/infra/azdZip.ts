/**
 * What `azd package` puts in a Function App's zip for a TypeScript service (azd's
 * createDeployableZip): every file under the package root except `.azure/`, the ignore file itself,
 * `local.settings.json` and whatever `<root>/.funcignore` excludes (gitignore syntax); without a
 * `.funcignore`, `node_modules` folders are left out. And the remote-build decision azd makes on
 * Flex Consumption: a remote build exactly when the service folder's `.funcignore` excludes
 * node_modules (resolveFunctionAppRemoteBuild).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import ignore, { type Ignore } from 'ignore';

const IGNORE_FILE = '.funcignore';

function readIgnore(root: string): Ignore | null {
  const file = join(root, IGNORE_FILE);
  if (!existsSync(file)) return null;
  return ignore().add(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
}

/** The package's files as azd selects them (POSIX paths relative to `root`). */
export function azdPackageFiles(root: string): string[] {
  const rules = readIgnore(root);
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      const isDir = entry.isDirectory();
      if (isDir && entry.name === '.azure') continue;
      if (!isDir && (entry.name === IGNORE_FILE || entry.name === 'local.settings.json')) continue;
      if (rules ? rules.ignores(isDir ? `${path}/` : path) : isDir && entry.name === 'node_modules') continue;
      if (isDir) walk(join(dir, entry.name), path);
      else out.push(path);
    }
  };
  walk(root, '');
  return out.sort();
}

/** The zip azd would upload. */
export function azdZip(root: string): Uint8Array {
  const entries: Zippable = {};
  for (const file of azdPackageFiles(root)) entries[file] = readFileSync(join(root, ...file.split('/')));
  return zipSync(entries, { level: 6 });
}

/** Unpacks a zip into `dir`; returns the unpacked bytes. */
export function unzipInto(zip: Uint8Array, dir: string): number {
  let bytes = 0;
  for (const [name, data] of Object.entries(unzipSync(zip))) {
    const target = join(dir, ...name.split('/'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, data);
    bytes += data.byteLength;
  }
  return bytes;
}

/** azd's remote-build decision for a Node service on Flex Consumption without `remoteBuild` set. */
export function azdRemoteBuild(serviceDir: string): boolean {
  const rules = readIgnore(serviceDir);
  return rules ? rules.ignores('node_modules/') : true;
}
