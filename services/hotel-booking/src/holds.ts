import type { Cache, Logger } from '@platform/kit';
import type { Booking } from './domain/booking.ts';

const HOLD_KEY = 'hotelbooking:hold:';

/**
 * A Redis key per hold that expires with it. The booking row's expires_at is
 * what counts; the key exists so that Redis tells the hold releaser when a
 * hold runs out, which is prompt but not guaranteed, so failures here are
 * logged and left to the sweeper.
 */
export class HoldKeys {
  readonly #cache: Cache;
  readonly #logger: Logger;

  constructor(cache: Cache, logger: Logger) {
    this.#cache = cache;
    this.#logger = logger;
  }

  async place(booking: Booking, now: number): Promise<void> {
    try {
      const ttlMs = Math.max(1, booking.expiresAt - now);
      await this.#cache.set(HOLD_KEY + booking.id, booking.roomId, { ttlMs });
    } catch (error) {
      this.#logger.warn({ err: error, bookingId: booking.id }, 'hold key not placed');
    }
  }

  async clear(bookingId: string): Promise<void> {
    try {
      await this.#cache.delete(HOLD_KEY + bookingId);
    } catch (error) {
      this.#logger.warn({ err: error, bookingId }, 'hold key not cleared');
    }
  }

  /** Calls onExpired with the booking id of each hold key Redis expires. */
  onExpired(onExpired: (bookingId: string) => void): Promise<() => Promise<void>> {
    return this.#cache.subscribeExpirations(HOLD_KEY, (key) =>
      onExpired(key.slice(HOLD_KEY.length)),
    );
  }
}
