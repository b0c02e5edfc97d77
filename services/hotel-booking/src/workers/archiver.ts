import { Counter, type Logger, type Metrics } from '@platform/kit';
import { addDays, todayIn } from '../domain/dates.ts';
import type { BookingArchive } from '../store/booking-archive.ts';
import type { BookingStore } from '../store/booking.store.ts';
import { RepeatingTask } from './repeating-task.ts';

export interface ArchiverOptions {
  bookings: BookingStore;
  archive: BookingArchive;
  logger: Logger;
  metrics: Metrics;
  intervalMs: number;
  batchSize: number;
  /** How long a cancelled booking stays live (a late payment may still arrive). */
  cancelledAfterMs: number;
  now?: () => number;
}

/**
 * Moves terminal bookings to the archive: writes the booking to Cassandra,
 * then deletes the MySQL row if it has not changed since it was read. A crash
 * between the two leaves the booking in both places, which reads merge by id;
 * the next pass finishes the move.
 */
export class Archiver {
  readonly #options: ArchiverOptions;
  readonly #task: RepeatingTask;
  readonly #archived: Counter<'status'>;
  readonly #now: () => number;

  constructor(options: ArchiverOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#task = new RepeatingTask(
      'archiver',
      () => this.#archiveBatch(),
      options.intervalMs,
      options.logger,
    );
    this.#archived = new Counter({
      name: 'hotelbooking_bookings_archived_total',
      help: 'Terminal bookings moved from MySQL to the Cassandra archive, by status.',
      labelNames: ['status'],
      registers: [options.metrics.registry],
    });
  }

  start(): void {
    this.#task.start();
  }

  /** Archives everything due now. */
  archiveDue(): Promise<void> {
    return this.#task.runNow();
  }

  close(): Promise<void> {
    return this.#task.close();
  }

  async #archiveBatch(): Promise<boolean> {
    const { bookings, archive, batchSize, cancelledAfterMs } = this.#options;
    const now = this.#now();
    // A day's slack past the last night covers every hotel's time zone.
    const endedBefore = addDays(todayIn('UTC', now), -1);
    const due = await bookings.terminal(now - cancelledAfterMs, endedBefore, batchSize);
    let moved = 0;
    for (const booking of due) {
      await archive.put(booking);
      if (await bookings.removeArchived(booking)) {
        moved += 1;
        this.#archived.inc({ status: booking.status });
      }
    }
    if (moved > 0) this.#options.logger.info({ moved }, 'bookings archived');
    return due.length >= batchSize && moved > 0;
  }
}
