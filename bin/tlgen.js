#!/usr/bin/env node
// Entry point of the `tlgen` CLI. The CLI is TypeScript run by Node 22's type stripping.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  const message = `tlgen needs Node.js 22 or later (this is ${process.version}); run it through npx or npm run, which use the project's node@22.`;
  process.stderr.write(message + '\n');
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify({ error: { message, field: null } }) + '\n');
  process.exit(2);
}
const { main } = await import('../training/cli.ts');
process.exitCode = await main(process.argv.slice(2));
