import type { Logger } from '@platform/kit';
import type { BookingService } from './bookings.ts';
import type { HoldKeys } from './holds.ts';
import { addDays } from './domain/dates.ts';
import { saleWindow } from './domain/inventory.ts';
import type { HotelStore } from './store/hotel.store.ts';

export interface HoldReleaserOptions {
  bookings: BookingService;
  holds: HoldKeys;
  logger: Logger;
  /** Listen for Redis expiry events; the sweeper runs either way. */
  notifications: boolean;
  sweepIntervalMs: number;
  sweepBatch: number;
}

/**
 * Releases holds that ran out. Redis expiry events make it prompt; they are
 * lost while the subscriber is down and can come late, so a sweeper also
 * releases whatever is overdue every sweepIntervalMs. Releases are
 * conditional, so an event and the sweeper racing for one hold release it once.
 */
export class HoldReleaser {
  readonly #options: HoldReleaserOptions;
  #unsubscribe: (() => Promise<void>) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: HoldReleaserOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    if (this.#options.notifications) {
      try {
        this.#unsubscribe = await this.#options.holds.onExpired((id) => this.#onExpired(id));
      } catch (error) {
        this.#options.logger.warn(
          { err: error },
          'no hold expiry events: the sweeper alone releases holds',
        );
      }
    }
    this.#schedule();
  }

  /** Stops listening for expiry events, as when the subscriber dies; the sweeper goes on. */
  async stopNotifications(): Promise<void> {
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    await unsubscribe?.();
  }

  /** Releases every overdue hold now; resolves with how many this sweep released. */
  sweep(): Promise<number> {
    const run = this.#sweeping.then(() => this.#sweepAll());
    this.#sweeping = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.stopNotifications();
    await this.#sweeping;
  }

  #onExpired(bookingId: string): void {
    this.#options.bookings.expire(bookingId, 'notification').catch((error: unknown) => {
      this.#options.logger.warn({ err: error, bookingId }, 'release on expiry event failed');
    });
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.sweep()
        .catch((error: unknown) => this.#options.logger.warn({ err: error }, 'sweep failed'))
        .finally(() => this.#schedule());
    }, this.#options.sweepIntervalMs);
  }

  async #sweepAll(): Promise<number> {
    let released = 0;
    for (;;) {
      const batch = await this.#options.bookings.releaseOverdue(this.#options.sweepBatch);
      released += batch;
      if (batch < this.#options.sweepBatch || this.#closed) return released;
    }
  }
}

const HOUR = 3_600_000;

/**
 * Keeps `inventoryDays` nights on sale ahead of today: opens the new nights
 * of every room type at start and every hour. Nights more than
 * `pastNightsKeptDays` before the first one on sale are deleted then too.
 */
export class InventoryExtender {
  readonly #hotels: HotelStore;
  readonly #inventoryDays: number;
  readonly #pastNightsKeptDays: number;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> = Promise.resolve();

  constructor(
    hotels: HotelStore,
    days: { inventoryDays: number; pastNightsKeptDays: number },
    logger: Logger,
  ) {
    this.#hotels = hotels;
    this.#inventoryDays = days.inventoryDays;
    this.#pastNightsKeptDays = days.pastNightsKeptDays;
    this.#logger = logger;
  }

  start(): void {
    const run = () => {
      this.#running = this.#runOnce().catch((error: unknown) =>
        this.#logger.warn({ err: error }, 'opening or retiring nights failed'),
      );
    };
    run();
    this.#timer = setInterval(run, HOUR);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  async #runOnce(): Promise<void> {
    const window = saleWindow(Date.now(), this.#inventoryDays);
    const opened = await this.#hotels.extendInventory(window);
    const retired = await this.#hotels.retireNights(
      addDays(window.from, -this.#pastNightsKeptDays),
    );
    this.#logger.info({ nights: opened, retired }, 'nights opened');
  }
}
