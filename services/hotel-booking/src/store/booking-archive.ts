import type { TableSpec, WideColumn, WideRow } from '@platform/kit';
import type { Booking } from '../domain/booking.ts';

const BY_ID: TableSpec = {
  name: 'hotel_booking_archive',
  columns: { id: 'text', user_id: 'text', created_at: 'timestamp', doc: 'text' },
  partitionKey: ['id'],
};

const BY_USER: TableSpec = {
  name: 'hotel_booking_archive_by_user',
  columns: { user_id: 'text', created_at: 'timestamp', id: 'text', doc: 'text' },
  partitionKey: ['user_id'],
  clustering: [
    { column: 'created_at', order: 'desc' },
    { column: 'id', order: 'desc' },
  ],
};

/**
 * Terminal bookings moved out of MySQL, in Cassandra: one table to find a
 * booking by id, one holding each user's bookings newest first. A row holds
 * the booking as JSON, exactly as it left MySQL.
 */
export class BookingArchive {
  readonly #store: WideColumn;

  constructor(store: WideColumn) {
    this.#store = store;
  }

  define(): Promise<void> {
    return this.#store.defineTables([BY_ID, BY_USER]);
  }

  /** Writes both rows; writing a booking again writes the same rows. */
  async put(booking: Booking): Promise<void> {
    const doc = JSON.stringify(booking);
    const row = { id: booking.id, user_id: booking.userId, created_at: booking.createdAt, doc };
    await this.#store.insert(BY_USER.name, row);
    await this.#store.insert(BY_ID.name, row);
  }

  async find(id: string): Promise<Booking | undefined> {
    const row = await this.#store.get(BY_ID.name, { id });
    return row && toBooking(row);
  }

  /** A user's archived bookings, newest first, strictly after the cursor's booking. */
  async listByUser(
    userId: string,
    limit: number,
    after?: { createdAt: number; id: string },
  ): Promise<Booking[]> {
    const found: Booking[] = [];
    let cursor = after;
    let window = limit + 1;
    // Bounds apply to created_at alone, so a read starts at the cursor's own
    // millisecond and skips what sorts before the cursor in it.
    for (;;) {
      const rows = await this.#store.select(
        BY_USER.name,
        { user_id: userId },
        { limit: window, ...(cursor ? { before: cursor.createdAt + 1 } : {}) },
      );
      const fresh = rows.map(toBooking).filter((booking) => !cursor || olderThan(booking, cursor));
      for (const booking of fresh) {
        found.push(booking);
        if (found.length === limit) return found;
      }
      if (rows.length < window) return found;
      const last = fresh.at(-1);
      if (last) cursor = { createdAt: last.createdAt, id: last.id };
      else window *= 2;
    }
  }
}

/** Newest-first order: createdAt descending, then id descending. */
export function olderThan(booking: Booking, cursor: { createdAt: number; id: string }): boolean {
  return (
    booking.createdAt < cursor.createdAt ||
    (booking.createdAt === cursor.createdAt && booking.id < cursor.id)
  );
}

function toBooking(row: WideRow): Booking {
  return JSON.parse(String(row.doc)) as Booking;
}
