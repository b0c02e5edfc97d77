import { randomBytes } from 'node:crypto';

/**
 * Server time ids: 12 hex digits of epoch milliseconds, 4 of a counter within
 * the millisecond, 6 naming the process. They sort as text in the order they
 * were made by one process, and across processes by their clocks, so a
 * conversation's clustering order is the order its messages were accepted.
 */
export class TimeIdSource {
  readonly #node: string;
  readonly #now: () => number;
  #lastMs = 0;
  #counter = 0;

  constructor(options: { node?: string; now?: () => number } = {}) {
    this.#node = options.node ?? randomBytes(3).toString('hex');
    if (!/^[0-9a-f]{6}$/.test(this.#node)) throw new Error('node must be 6 hex digits');
    this.#now = options.now ?? Date.now;
  }

  /** A new id, greater than every id this source made before, even if the clock steps back. */
  next(): string {
    const now = this.#now();
    if (now > this.#lastMs) {
      this.#lastMs = now;
      this.#counter = 0;
    } else if (++this.#counter > 0xffff) {
      // A full millisecond: borrow the next one rather than repeat an id.
      this.#lastMs += 1;
      this.#counter = 0;
    }
    const ms = this.#lastMs.toString(16).padStart(12, '0');
    return `${ms}${this.#counter.toString(16).padStart(4, '0')}${this.#node}`;
  }
}

export const TIME_ID = /^[0-9a-f]{22}$/;

/** The epoch milliseconds a time id was made at. */
export function timeOfId(id: string): number {
  return parseInt(id.slice(0, 12), 16);
}
