/**
 * `npm run build` (what azd runs before it zips the api service): the Function App's deployable
 * folder, dist/api, holding only what serving needs at run time:
 *
 *   functions/index.js   the entry (package.json "main"), functions/index.ts and everything it
 *                        imports bundled by esbuild into one ES module, the Azure SDKs and zod
 *                        included, so the folder needs no node_modules and no type stripping;
 *   web/dist/            the built web app (scripts/buildWeb.ts), served at / by functions/webApp.ts,
 *                        which finds it at ../web/dist from the entry in both layouts;
 *   host.json, package.json (no dependencies), .funcignore.
 *
 * `@azure/functions-core` stays external: the Functions worker provides it through `require`, and
 * without it @azure/functions runs in its test mode. A bundle that pulled in tfjs fails the build.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { writeDirAtomically } from '../shared/util/atomicDir.ts';
import { ensureWebBuild, WEB_DIST } from './buildWeb.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const FUNCTIONS_PACKAGE_DIR = join(ROOT, 'dist', 'api');
export const PACKAGE_ENTRY = 'functions/index.js';
/** Provided by the Functions worker at run time; never bundled. */
const WORKER_MODULE = '@azure/functions-core';
/** Packages that must never reach the serving bundle. */
const TRAINING_ONLY = /node_modules\/@tensorflow\//;

export interface FunctionsPackage {
  dir: string;
  files: number;
  bytes: number;
  entryBytes: number;
  ms: number;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]))
    .sort();
}

/** Builds the package into `outDir` (default dist/api), swapped in as a whole. */
export async function buildFunctionsPackage(
  options: { outDir?: string; log?: (line: string) => void } = {},
): Promise<FunctionsPackage> {
  const outDir = options.outDir ?? FUNCTIONS_PACKAGE_DIR;
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const started = performance.now();
  await ensureWebBuild({ log });
  mkdirSync(dirname(outDir), { recursive: true });
  await writeDirAtomically(outDir, async (staging) => {
    const result = await build({
      entryPoints: [join(ROOT, 'functions', 'index.ts')],
      outfile: join(staging, PACKAGE_ENTRY),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      minify: true,
      keepNames: true,
      legalComments: 'none',
      metafile: true,
      external: [WORKER_MODULE],
      // CommonJS dependencies call require(); an ES module has none unless it makes one.
      banner: {
        js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
      },
      logLevel: 'silent',
      absWorkingDir: ROOT,
    });
    for (const warning of result.warnings) log(`functions: esbuild: ${warning.text}`);
    const training = Object.keys(result.metafile.inputs).filter((p) => TRAINING_ONLY.test(p));
    if (training.length > 0)
      throw new Error(
        `functions: the serving bundle imports training-only code: ${training.slice(0, 3).join(', ')}`,
      );

    cpSync(WEB_DIST, join(staging, 'web', 'dist'), { recursive: true });
    cpSync(join(ROOT, 'host.json'), join(staging, 'host.json'));
    if (existsSync(join(ROOT, '.funcignore'))) cpSync(join(ROOT, '.funcignore'), join(staging, '.funcignore'));
    const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      name: string;
      version: string;
    };
    const manifest = {
      name: `${root.name}-api`,
      version: root.version,
      private: true,
      type: 'module',
      main: PACKAGE_ENTRY,
      engines: { node: '>=22' },
    };
    writeFileSync(join(staging, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  });

  const files = filesUnder(outDir);
  const bytes = files.reduce((sum, f) => sum + statSync(f).size, 0);
  const entryBytes = statSync(join(outDir, PACKAGE_ENTRY)).size;
  const ms = performance.now() - started;
  log(
    `functions: ${files.length} files, ${(bytes / 2 ** 20).toFixed(1)} MB (entry ${(entryBytes / 2 ** 20).toFixed(1)} MB) in ${relative(ROOT, outDir) || outDir} in ${(ms / 1000).toFixed(1)} s`,
  );
  return { dir: outDir, files: files.length, bytes, entryBytes, ms };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildFunctionsPackage().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
