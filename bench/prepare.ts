import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTlgen } from './run.ts';

/**
 * Synth + prepare at a profile (default `seed`), each in its own process so wall time and peak
 * RSS are per step. Targets (issue 2): each step under 60 s and 4 GB on this 2-core machine.
 */
const profile = process.argv[2] ?? 'seed';
const dir = mkdtempSync(join(tmpdir(), 'bench-prepare-'));
const corpus = join(dir, `${profile}.jsonl`);
const synth = await runTlgen(['synth', '--profile', profile, '--seed', '1', '--out', corpus]);
const prep = await runTlgen(['prepare', '--corpus', corpus, '--out', join(dir, 'prepared')]);
const rows = [
  ['synth', synth.wallSeconds, synth.peakRssMb, `${synth.tracklists} sets, ${synth.plays} plays`],
  ['prepare', prep.wallSeconds, prep.peakRssMb, `${prep.songs} songs, ${prep.artists} artists, ${prep.djs} DJs`],
] as const;
console.log(`\nbench:prepare (profile ${profile})`);
console.log('step      wall s   peak RSS MB   output');
for (const [step, s, mb, what] of rows)
  console.log(`${step.padEnd(9)} ${s.toFixed(1).padStart(6)}   ${String(mb).padStart(11)}   ${what}`);
const targets = { songs: 31214, artists: 10322, djs: 1275 };
if (profile === 'seed')
  for (const [k, t] of Object.entries(targets)) {
    const v = prep[k] as number;
    console.log(`${k}: ${v} vs original ${t} (${(((v - t) / t) * 100).toFixed(1)} %, band ±15 %)`);
  }
console.log(JSON.stringify({ profile, synth: { seconds: synth.wallSeconds, peakRssMb: synth.peakRssMb }, prepare: { seconds: prep.wallSeconds, peakRssMb: prep.peakRssMb } }));
rmSync(dir, { recursive: true, force: true });
