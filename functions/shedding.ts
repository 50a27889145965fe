/**
 * Load shedding for the CPU-bound generation routes (generation runs on the event loop, so a queue
 * of heavy requests stalls every other request of the process, /health included):
 * - a token bucket per client (GENERATE_RATE_PER_MINUTE, GENERATE_BURST): 429 with Retry-After;
 * - a cost budget per request, length × max(1, likes) (GENERATE_MAX_COST): 400 naming `length`;
 * - a cap on generations in flight per process (GENERATE_CONCURRENCY): a quick 503 with
 *   Retry-After instead of a queue that grows without bound.
 */
import type { HttpRequest } from '@azure/functions';
import { readSettings, type Settings } from '../shared/store/config.ts';
import { InputError } from '../shared/util/errors.ts';
import { HttpError } from './errors.ts';

export interface SheddingSettings {
  /** Sustained generations per minute per client; 0 turns the rate limit off. */
  ratePerMinute: number;
  /** Generations a client may make at once after being idle. */
  burst: number;
  /** Largest length × max(1, likes) of one request. */
  maxCost: number;
  /** Generations in flight per process. */
  concurrency: number;
}

/** The GENERATE_* settings (shared/store/config.ts, where every setting is read). */
export function sheddingSettings(settings: Settings): SheddingSettings {
  return {
    ratePerMinute: settings.generateRatePerMinute,
    burst: settings.generateBurst,
    maxCost: settings.generateMaxCost,
    concurrency: settings.generateConcurrency,
  };
}

/** Buckets kept at most (an idle bucket is full, so dropping it loses nothing). */
const MAX_CLIENTS = 10_000;

/** What one generation costs, in the unit of GENERATE_MAX_COST. */
export function generationCost(length: number, likes: number): number {
  return length * Math.max(1, likes);
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

/**
 * The client's address: the last X-Forwarded-For entry, the one the front end in front of the app
 * appended (App Service's, or the local host's); earlier entries are whatever the client sent.
 */
export function clientAddress(request: HttpRequest): string | null {
  const last = request.headers.get('x-forwarded-for')?.split(',').pop()?.trim();
  if (!last) return null;
  // "1.2.3.4:5678" and "[::1]:5678" → the address alone.
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(last);
  if (bracketed) return bracketed[1];
  return /^[^:]+:\d+$/.test(last) ? last.slice(0, last.lastIndexOf(':')) : last;
}

export class Shedding {
  readonly settings: SheddingSettings;
  private readonly now: () => number;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private inFlight = 0;

  constructor(settings: Partial<SheddingSettings> = {}, now: () => number = Date.now) {
    this.settings = { ...sheddingSettings(readSettings({})), ...settings };
    this.now = now;
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env): Shedding {
    return new Shedding(sheddingSettings(readSettings(env)));
  }

  /** Refuses a request over the cost budget (400 naming `length`). */
  checkCost(length: number, likes: number): void {
    const cost = generationCost(length, likes);
    if (cost > this.settings.maxCost)
      throw new InputError(
        `length × likes is ${cost}, over the budget of ${this.settings.maxCost}: with ${likes} likes, length can be at most ${Math.floor(this.settings.maxCost / Math.max(1, likes))}`,
        'length',
      );
  }

  /**
   * Takes one token of the client's bucket, or answers 429 with the seconds until one is back.
   * The machine itself (loopback: npm start, the benchmarks) is not limited; in Azure no request
   * arrives from loopback.
   */
  take(client: string | null): void {
    const { ratePerMinute, burst } = this.settings;
    if (ratePerMinute === 0 || client === null || LOOPBACK.test(client)) return;
    const now = this.now();
    const perMs = ratePerMinute / 60_000;
    const bucket = this.buckets.get(client) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
    // Map order is insertion order: re-inserting keeps the most recent clients last.
    this.buckets.delete(client);
    this.buckets.set(client, bucket);
    if (this.buckets.size > MAX_CLIENTS) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
      throw new HttpError(429, `too many generations from this client; retry after ${wait} s`, {
        headers: { 'retry-after': String(wait) },
      });
    }
    bucket.tokens -= 1;
  }

  /**
   * Admits one generation request for its whole life in this process (call at arrival; the
   * returned function releases it), or answers 503 at once when the cap is reached.
   */
  enter(): () => void {
    if (this.inFlight >= this.settings.concurrency)
      throw new HttpError(503, `busy: ${this.inFlight} generations in progress on this instance; try again`, {
        headers: { 'retry-after': '1' },
        quiet: true,
      });
    this.inFlight++;
    let released = false;
    return () => {
      if (!released) this.inFlight--;
      released = true;
    };
  }

  /**
   * Runs the CPU-bound work of an admitted request: the cost check, then a turn of the event loop
   * first, so requests that arrived meanwhile are admitted (or refused) and the cap sees the
   * queue, instead of each one generating as soon as its body is in.
   */
  async generate<T>(size: { length: number; likes: number }, work: () => T): Promise<T> {
    this.checkCost(size.length, size.likes);
    await new Promise((resolve) => setImmediate(resolve));
    return work();
  }
}
