import type { Logger } from '@platform/kit';
import type { CounterRange } from './store/token-range.store.ts';

export type LeaseRange = (size: number) => Promise<CounterRange>;

/**
 * The counters one API process spends: a leased range used locally, the next
 * lease fetched in the background once a fifth of the current one is left.
 * Whatever is unspent when the process dies is skipped, never reused.
 */
export class CounterPool {
  readonly #lease: LeaseRange;
  readonly #size: number;
  #next = 0;
  #end = 0;
  #upcoming: Promise<CounterRange> | undefined;

  constructor(lease: LeaseRange, size: number) {
    this.#lease = lease;
    this.#size = size;
  }

  async next(): Promise<number> {
    for (;;) {
      if (this.#next < this.#end) {
        const counter = this.#next++;
        if (this.#end - this.#next < this.#size / 5) this.#prefetch();
        return counter;
      }
      const range = await this.#prefetch();
      if (this.#next >= this.#end) {
        this.#upcoming = undefined;
        this.#next = range.start;
        this.#end = range.end;
      }
    }
  }

  #prefetch(): Promise<CounterRange> {
    if (!this.#upcoming) {
      const pending = this.#lease(this.#size);
      this.#upcoming = pending;
      pending.catch(() => {
        if (this.#upcoming === pending) this.#upcoming = undefined;
      });
    }
    return this.#upcoming;
  }
}

/**
 * Leases from the token services over HTTP, trying each in turn, so one
 * replica down costs a retry and not an error.
 */
export function tokenServiceLeaser(urls: string[], holder: string, logger: Logger): LeaseRange {
  let preferred = 0;
  return async (size) => {
    let lastError: unknown;
    for (let attempt = 0; attempt < urls.length * 3; attempt += 1) {
      const url = urls[(preferred + attempt) % urls.length]!;
      try {
        const response = await fetch(`${url}/leases`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ size, holder }),
          signal: AbortSignal.timeout(3000),
        });
        if (!response.ok) throw new Error(`${url} answered ${response.status}`);
        preferred = (preferred + attempt) % urls.length;
        return (await response.json()) as CounterRange;
      } catch (error) {
        lastError = error;
        logger.warn({ err: error, url }, 'token service lease failed');
        if (attempt >= urls.length - 1) await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
    throw new Error('no token service could lease a range', { cause: lastError });
  };
}
