import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { GenerateOptions } from '../shared/model/generate.ts';
import { ServingModel } from '../shared/model/serving.ts';
import { Random } from '../shared/util/random.ts';

/**
 * Guards a refactor of the serving engine: the same requests must give the same tracklists.
 * Runs ≥ 300 generate requests with varied options on one model version and either writes their
 * outputs (songs, scores, log-probabilities, explanations) or compares them with a file written
 * before the change: songs, scores and explanations exactly, log-probabilities within 1e-9.
 * `--ab ROOT` also times the engine of another checkout (e.g. a `git worktree` of the base
 * commit) against this one in the same process, alternating batches.
 *
 *   npm run bench:engine-equality -- [--model DIR] (--write F | --compare F) [--requests 400] [--ab ROOT [--rounds 10]]
 */
const { values } = parseArgs({
  options: {
    model: { type: 'string', default: '.data/bench/seed/version' },
    write: { type: 'string' },
    compare: { type: 'string' },
    requests: { type: 'string', default: '400' },
    ab: { type: 'string' },
    rounds: { type: 'string', default: '10' },
  },
});
const dir = resolve(values.model!);
const requests = Number(values.requests);
if (!(Number.isInteger(requests) && requests >= 1)) throw new Error('--requests must be a positive integer');

type Request = GenerateOptions & { explain?: boolean };
interface Engine {
  generate(o: Request): unknown[];
  readonly counts: { songs: number; djs: number };
}

/** Varied options, drawn from a fixed seed so every run asks the same requests. */
function draw(model: Engine, count: number): Request[] {
  const rng = new Random(19);
  const { songs, djs } = model.counts;
  const pick = (n: number, avoid: Set<number>): number[] => {
    const out: number[] = [];
    while (out.length < n) {
      const s = rng.int(songs);
      if (avoid.has(s)) continue;
      avoid.add(s);
      out.push(s);
    }
    return out;
  };
  return Array.from({ length: count }, (_, i): Request => {
    const seedSong = rng.int(songs);
    const length = 5 + rng.int(26);
    const o: Request = { seedSong, length, rngSeed: rng.int(2 ** 31) };
    const taste = i % 3;
    if (taste === 0) o.dj = rng.int(djs);
    else if (taste === 1)
      o.likes = pick(1 + rng.int(50), new Set([seedSong])).map((song) => ({ song, score: Math.round(rng.next() * 100) / 100 }));
    if (rng.next() < 0.5) o.temperature = [0.2 + rng.next() * 1.5, 0.2 + rng.next() * 1.5, 0.2 + rng.next() * 1.5];
    if (rng.next() < 0.3) o.thresholds = [rng.next() * 0.2, rng.next() * 0.2, rng.next() * 0.2, rng.next() * 0.05];
    if (rng.next() < 0.4) o.steering = rng.next();
    if (rng.next() < 0.4) o.adventurousness = rng.next();
    if (rng.next() < 0.4) o.artistRepeatPenalty = rng.next() * 0.99;
    if (rng.next() < 0.3) o.userWeighting = rng.next() * 5;
    if (rng.next() < 0.2) o.clusterFlow = rng.next();
    if (rng.next() < 0.2) {
      const used = new Set([seedSong]);
      o.prefix = pick(rng.int(Math.min(4, length) + 1), used);
      o.exclude = pick(rng.int(20), used);
    }
    if (i % 4 === 0) o.explain = true;
    return o;
  });
}

interface Output {
  song: number;
  userScore: number;
  songScore: number;
  logProb: { l3: number; l2: number; l1: number; song: number };
  explanation?: unknown;
}

const model = ServingModel.load(dir);
const asked = draw(model, requests);
const outputs = asked.map((o) => model.generate(o) as Output[]);
const pick = (s: Output) => ({ song: s.song, userScore: s.userScore, songScore: s.songScore, logProb: s.logProb, explanation: s.explanation });

if (values.write) {
  const staging = `${values.write}.${process.pid}.tmp`;
  writeFileSync(staging, JSON.stringify({ model: dir, requests: asked, outputs: outputs.map((list) => list.map(pick)) }));
  renameSync(staging, values.write);
  console.log(`wrote ${requests} requests (${outputs.reduce((n, l) => n + l.length, 0)} songs) to ${values.write}`);
}
if (values.compare) {
  const before = JSON.parse(readFileSync(values.compare, 'utf8')) as { requests: Request[]; outputs: ReturnType<typeof pick>[][] };
  if (JSON.stringify(before.requests) !== JSON.stringify(asked)) throw new Error(`${values.compare}: written for other requests`);
  let maxLogProb = 0;
  let songs = 0;
  let differences = 0;
  const LEVELS = ['l3', 'l2', 'l1', 'song'] as const;
  outputs.forEach((list, r) => {
    const old = before.outputs[r];
    if (old.length !== list.length) return void differences++;
    list.forEach((s, i) => {
      const o = old[i];
      songs++;
      for (const level of LEVELS) maxLogProb = Math.max(maxLogProb, Math.abs(s.logProb[level] - o.logProb[level]));
      const same =
        s.song === o.song &&
        s.userScore === o.userScore &&
        s.songScore === o.songScore &&
        LEVELS.every((level) => Math.abs(s.logProb[level] - o.logProb[level]) <= 1e-9) &&
        JSON.stringify(s.explanation) === JSON.stringify(o.explanation);
      if (!same) differences++;
    });
  });
  console.log(`compared ${requests} requests, ${songs} songs: ${differences} differences; max |Δ logProb| ${maxLogProb}`);
  if (differences > 0) process.exitCode = 1;
}

if (values.ab) {
  // The other checkout's engine on the same files; batches alternate so load drifts hit both.
  const root = resolve(values.ab);
  const other = (await import(pathToFileURL(join(root, 'shared/model/serving.ts')).href)) as { ServingModel: { load(d: string): Engine } };
  const engines: [string, Engine][] = [
    [`base (${root})`, other.ServingModel.load(dir)],
    ['this checkout', model],
  ];
  const timed = asked.filter((o) => !o.explain);
  const ms: number[][] = engines.map(() => []);
  for (const [, e] of engines) for (const o of timed.slice(0, 100)) e.generate(o);
  const rounds = Number(values.rounds);
  for (let round = 0; round < rounds; round++)
    for (let k = 0; k < engines.length; k++) {
      const e = engines[(k + round) % engines.length][1];
      const into = ms[(k + round) % engines.length];
      for (const o of timed) {
        const t = performance.now();
        e.generate(o);
        into.push(performance.now() - t);
      }
    }
  const at = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  engines.forEach(([name], k) => {
    const sorted = ms[k].sort((a, b) => a - b);
    const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
    console.log(`${name}: ${sorted.length} calls, p50 ${at(sorted, 0.5).toFixed(3)} ms, p99 ${at(sorted, 0.99).toFixed(3)} ms, mean ${mean.toFixed(3)} ms`);
  });
}
