import type { Relational } from '@platform/kit';
import { nightsOf } from '../src/domain/dates.ts';
import type { ReserveRequest, ReserveResult, RoomReserver } from '../src/store/booking.store.ts';

/**
 * A booking repository written the way that looks right and is not: it reads
 * the nights with a plain SELECT, checks them, and writes back the number it
 * computed. Under REPEATABLE READ two bookers can read the same last room and
 * both write "0": a lost update that no CHECK constraint notices. The
 * invariant tests run against it to show that they catch this.
 */
export class NaiveBookingStore implements RoomReserver {
  readonly #db: Relational;

  constructor(db: Relational) {
    this.#db = db;
  }

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    return this.#db.transaction(async (tx) => {
      const nights = await tx.query<{ night: string; available_quantity: number }>(
        'SELECT night, available_quantity FROM room_availability ' +
          'WHERE room_id = ? AND night >= ? AND night < ? ORDER BY night',
        [request.roomId, request.startDate, request.endDate],
      );
      if (nights.length !== nightsOf(request.startDate, request.endDate).length) {
        return { ok: false, reason: 'dates_not_open' };
      }
      if (nights.some((night) => night.available_quantity < request.quantity)) {
        return { ok: false, reason: 'rooms_unavailable' };
      }

      for (const night of nights) {
        await tx.execute(
          'UPDATE room_availability SET available_quantity = ? WHERE room_id = ? AND night = ?',
          [night.available_quantity - request.quantity, request.roomId, night.night],
        );
      }
      await tx.execute(
        'INSERT INTO bookings (id, room_id, hotel_id, user_id, request_key, quantity, ' +
          'start_date, end_date, amount, currency, status, expires_at, created_at, updated_at) ' +
          "VALUES (?, ?, 'naive', ?, ?, ?, ?, ?, 0, ?, 'RESERVED', ?, ?, ?)",
        [
          request.id,
          request.roomId,
          request.userId,
          request.requestKey,
          request.quantity,
          request.startDate,
          request.endDate,
          request.currency,
          request.expiresAt,
          request.now,
          request.now,
        ],
      );
      const booking = {
        ...request,
        hotelId: 'naive',
        amount: 0,
        status: 'RESERVED' as const,
        invoiceId: null,
        paymentReference: null,
        cancelReason: null,
        createdAt: request.now,
        updatedAt: request.now,
        version: 1,
        nightPrices: [],
      };
      return { ok: true, booking, replayed: false };
    });
  }
}
