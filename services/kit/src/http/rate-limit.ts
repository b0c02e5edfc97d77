import { rateLimit, type Options, type Store, type ClientRateLimitInfo } from 'express-rate-limit';
import type { RequestHandler } from 'express';
import type { Cache } from '../ports/cache/cache.ts';
import { httpError } from './errors.ts';

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
    const window = Math.floor(Date.now() / this.#windowMs);
    const counter = `${this.prefix}${key}:${window}`;
    const totalHits = await this.#cache.incrBy(counter, 1);
    if (totalHits === 1) await this.#cache.expire(counter, this.#windowMs * 2);
    return { totalHits, resetTime: new Date((window + 1) * this.#windowMs) };
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
