import { rateLimit, type Options, type Store, type ClientRateLimitInfo } from 'express-rate-limit';
import type { RequestHandler } from 'express';
import type { Cache } from '../ports/cache/cache.ts';
import { httpError } from './errors.ts';

/**
 * Adds `by` to a fixed-window counter on the cache port (one per key and
 * window, expiring after the next): the window's total so far and when it ends.
 */
export async function countInWindow(
  cache: Cache,
  key: string,
  by: number,
  windowMs: number,
): Promise<{ total: number; resetAt: number }> {
  const window = Math.floor(Date.now() / windowMs);
  const counter = `${key}:${window}`;
  const total = await cache.incrBy(counter, by);
  if (total === by) await cache.expire(counter, windowMs * 2);
  return { total, resetAt: (window + 1) * windowMs };
}

/** Fixed-window counters on the cache port, so every replica shares one budget per client. */
export class CacheRateLimitStore implements Store {
  readonly localKeys = false;
  readonly prefix: string;
  readonly #cache: Cache;
  #windowMs = 60_000;

  constructor(cache: Cache, prefix: string) {
    this.#cache = cache;
    this.prefix = prefix;
  }

  init(options: Options): void {
    this.#windowMs = options.windowMs;
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    const { total, resetAt } = await countInWindow(
      this.#cache,
      `${this.prefix}${key}`,
      1,
      this.#windowMs,
    );
    return { totalHits: total, resetTime: new Date(resetAt) };
  }

  async decrement(key: string): Promise<void> {
    const window = Math.floor(Date.now() / this.#windowMs);
    await this.#cache.incrBy(`${this.prefix}${key}:${window}`, -1);
  }

  async resetKey(key: string): Promise<void> {
    const window = Math.floor(Date.now() / this.#windowMs);
    await this.#cache.delete(`${this.prefix}${key}:${window}`);
  }
}

/** Per-client limit (by client address) with the standard RateLimit headers and a JSON 429. */
export function clientRateLimit(options: {
  cache: Cache;
  name: string;
  limit: number;
  windowMs: number;
}): RequestHandler {
  return rateLimit({
    windowMs: options.windowMs,
    limit: options.limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // A cache outage must not take the API down with it: let requests through.
    passOnStoreError: true,
    store: new CacheRateLimitStore(options.cache, `ratelimit:${options.name}:`),
    handler: (_req, _res, next) => next(httpError('rate_limited')),
  });
}
