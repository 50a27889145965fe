import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commands } from '../../training/cli.ts';
import { COMMON_OPTIONS, helpText } from '../../shared/cli/command.ts';
import { tempDir } from '../tempDirs.ts';
import { runTlgen } from './runTlgen.ts';

const root = resolve(import.meta.dirname, '../..');
const bin = join(root, 'bin/tlgen.js');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

function spawnNode(...args: string[]) {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000, cwd: root });
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    last: r.stdout.trim().split('\n').pop() ?? '',
  };
}

/** A Node stack frame: what an operator must never get for bad input. */
const STACK = /^\s+at .+:\d+:\d+\)?$/m;

describe('tlgen operator ergonomics', () => {
  const dir = tempDir('tlgen-ergonomics-');
  afterEach(() => {
    delete commands.boom;
  });

  it('prints its version', () => {
    const plain = spawnNode(bin, '--version');
    expect(plain.code).toBe(0);
    expect(plain.stdout.trim()).toBe(`tlgen ${pkg.version}`);
    expect(JSON.parse(spawnNode(bin, '--version', '--json').last)).toEqual({ version: pkg.version });
  });

  it('documents every option of every command, with its default', async () => {
    for (const [name, load] of Object.entries(commands)) {
      const command = await load();
      const text = helpText(name, command);
      const r = await runTlgen({}, ...name.split(' '), '--help');
      expect(r.code, name).toBe(0);
      expect(r.stdout.trim(), name).toBe(text);
      for (const [key, spec] of Object.entries({ ...command.options, ...COMMON_OPTIONS })) {
        expect(spec.help.length, `${name} --${key}`).toBeGreaterThan(5);
        const row = text.split('\n').find((l) => l.includes(`--${key}`) && l.includes(spec.help));
        expect(row, `${name} --${key}`).toBeDefined();
        if (spec.default !== undefined)
          expect(row, `${name} --${key}`).toContain(`[default: ${spec.default}]`);
      }
      for (const p of command.positionals ?? []) expect(text, name).toContain(p.name.toUpperCase());
    }
    // Options whose default is a number are documented with it.
    const synth = helpText('synth', await commands.synth());
    expect(synth).toMatch(/--seed N +.*\[default: 1\]/);
    expect(helpText('generate', await commands.generate())).toMatch(/--length N +.*\[default: 15\]/);
    // Groups and the top level list their commands.
    expect((await runTlgen({}, 'registry', '--help')).stdout).toMatch(/registry promote/);
    expect((await runTlgen({}, '--help')).stdout).toMatch(/registry prune/);
  });

  it('ends stdout with {"error": {"message", "field"}} under --json for every kind of failure', async () => {
    const cases: [string[], number, string | null, RegExp][] = [
      [
        ['synth', '--profile', 'huge', '--out', join(dir, 'x.jsonl')],
        2,
        'profile',
        /--profile must be one of/,
      ],
      [['synth', '--bogus'], 2, 'bogus', /Unknown option '--bogus'/],
      [['search', '--limit'], 2, 'limit', /--limit/],
      [['nonsense'], 2, 'command', /unknown command "nonsense"/],
      [['registry'], 2, 'command', /needs a subcommand/],
      [['registry', 'promote'], 2, 'version', /VERSION is required/],
      [['registry', 'list', 'extra'], 2, 'arguments', /unexpected argument "extra"/],
      [
        ['prepare', '--corpus', join(dir, 'missing.jsonl'), '--out', join(dir, 'p')],
        2,
        'corpus',
        /no such file/,
      ],
    ];
    for (const [args, code, field, message] of cases) {
      const r = await runTlgen({}, ...args, '--json');
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.last, args.join(' ')).toEqual({ error: { message: expect.stringMatching(message), field } });
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    // A bug: exit 1, the error object on stdout, the stack on stderr only.
    commands.boom = async () => ({
      summary: 'fails',
      usage: '',
      options: {},
      run: async () => {
        throw new TypeError('something broke');
      },
    });
    const bug = await runTlgen({}, 'boom', '--json');
    expect(bug.code).toBe(1);
    expect(bug.last).toEqual({ error: { message: 'something broke', field: null } });
    expect(bug.stderr).toMatch(STACK);
    expect(bug.stdout).not.toMatch(STACK);
  });

  it('creates the folder of an --out that does not exist, and names --out when it cannot', () => {
    const out = join(dir, 'new', 'dir', 'x.jsonl');
    const r = spawnNode(bin, 'synth', '--profile', 'tiny', '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(out) && existsSync(join(dir, 'new', 'dir', 'x.truth.json'))).toBe(true);
    const prepared = join(dir, 'other', 'deeper', 'prepared');
    const p = spawnNode(bin, 'prepare', '--corpus', out, '--out', prepared, '--json');
    expect(p.code, p.stderr).toBe(0);
    expect(existsSync(join(prepared, 'manifest.json'))).toBe(true);

    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const bad = spawnNode(bin, 'synth', '--profile', 'tiny', '--out', join(file, 'sub', 'x.jsonl'), '--json');
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.last)).toMatchObject({
      error: { field: 'out', message: expect.stringMatching(/cannot create the folder/) },
    });
    expect(bad.stderr).not.toMatch(STACK);
  });

  it('npm start -- --help prints the options; a bad option gets the message and usage, not a stack', () => {
    const stack = join(root, 'functions/localStack.ts');
    const help = spawnNode(stack, '--help');
    expect(help.code).toBe(0);
    for (const option of ['--port N', '--workers N', '--data DIR', '--help'])
      expect(help.stdout).toContain(option);
    const bad = spawnNode(stack, '--bogus');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^npm start: Unknown option '--bogus'/);
    expect(bad.stderr).toContain('--workers N');
    expect(bad.stderr).not.toMatch(STACK);
  });
});
