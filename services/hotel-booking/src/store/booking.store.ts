import { randomUUID } from 'node:crypto';
import { ConstraintViolation, type Queryable, type Relational } from '@platform/kit';
import type {
  Booking,
  BookingStatus,
  CancelReason,
  Refund,
  RefundReason,
} from '../domain/booking.ts';
import { nightsOf, type CalendarDate } from '../domain/dates.ts';
import { nightPrices } from '../domain/pricing.ts';
import { enqueueBookingEvent } from '../events.ts';

export interface ReserveRequest {
  id: string;
  userId: string;
  roomId: string;
  quantity: number;
  startDate: CalendarDate;
  endDate: CalendarDate;
  currency: string;
  /** The client's Idempotency-Key: a second booking with it returns the first. */
  requestKey: string;
  expiresAt: number;
  now: number;
}

export type ReserveRefusal = 'rooms_unavailable' | 'dates_not_open' | 'room_not_found';

export type ReserveResult =
  { ok: true; booking: Booking; replayed: boolean } | { ok: false; reason: ReserveRefusal };

/** Holds rooms for a booking; the invariant tests run other implementations against it. */
export interface RoomReserver {
  reserve(request: ReserveRequest): Promise<ReserveResult>;
}

export type RereserveResult =
  | { kind: 'booked'; booking: Booking }
  | { kind: 'refunded'; booking: Booking; refund: Refund }
  | { kind: 'changed' };

type BookingRow = {
  id: string;
  room_id: string;
  hotel_id: string;
  user_id: string;
  request_key: string;
  quantity: number;
  start_date: string;
  end_date: string;
  amount: number;
  currency: string;
  status: BookingStatus;
  expires_at: number;
  invoice_id: string | null;
  payment_reference: string | null;
  cancel_reason: CancelReason | null;
  created_at: number;
  updated_at: number;
  version: number;
  night_prices: string | null;
};

type RefundRow = {
  id: string;
  booking_id: string;
  payment_reference: string;
  amount: number;
  currency: string;
  reason: RefundReason;
  created_at: number;
};

type NightRow = {
  night: string;
  total_quantity: number;
  available_quantity: number;
};

const LOCK_NIGHTS =
  'SELECT night, total_quantity, available_quantity FROM room_availability ' +
  'WHERE room_id = ? AND night >= ? AND night < ? ORDER BY night FOR UPDATE';

const TAKE_ROOMS =
  'UPDATE room_availability SET available_quantity = available_quantity - ? ' +
  'WHERE room_id = ? AND night >= ? AND night < ? AND available_quantity >= ?';

const RETURN_ROOMS =
  'UPDATE room_availability SET available_quantity = available_quantity + ? ' +
  'WHERE room_id = ? AND night >= ? AND night < ?';

const BOOKING_COLUMNS = [
  'id',
  'room_id',
  'hotel_id',
  'user_id',
  'request_key',
  'quantity',
  'start_date',
  'end_date',
  'amount',
  'currency',
  'status',
  'expires_at',
  'invoice_id',
  'payment_reference',
  'cancel_reason',
  'created_at',
  'updated_at',
  'version',
  'night_prices',
];

const INSERT_BOOKING =
  `INSERT INTO bookings (${BOOKING_COLUMNS.join(', ')}) ` +
  `VALUES (${BOOKING_COLUMNS.map(() => '?').join(', ')})`;

/**
 * Bookings and the availability they hold. Every transaction here touches the
 * rows of one room type only (its nights, its bookings, their refunds), which
 * is what lets Vitess keep it on one shard. Each change of status is an UPDATE
 * conditional on the status it leaves, so it takes effect once however many
 * callers race for it, and availability moves only with the row that won.
 */
export class BookingStore implements RoomReserver {
  readonly #db: Relational;

  constructor(db: Relational) {
    this.#db = db;
  }

  /**
   * Holds the rooms for every night of the stay and records the booking as
   * RESERVED, in one transaction: a locking read of the nights, the check,
   * the decrement, the insert. The price is computed from the rows as locked.
   */
  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    try {
      return await this.#db.transaction((tx) => this.#reserve(tx, request));
    } catch (error) {
      if (!(error instanceof ConstraintViolation && error.kind === 'unique')) throw error;
      const first = await this.#findByRequest(request);
      if (!first) throw error;
      return { ok: true, booking: first, replayed: true };
    }
  }

  async find(id: string): Promise<Booking | undefined> {
    const [row] = await this.#db.query<BookingRow>('SELECT * FROM bookings WHERE id = ?', [id]);
    return row && toBooking(row);
  }

  /** A user's bookings, newest first, after the cursor's booking when one is given. */
  async listByUser(
    userId: string,
    limit: number,
    after?: { createdAt: number; id: string },
  ): Promise<Booking[]> {
    const rows = after
      ? await this.#db.query<BookingRow>(
          'SELECT * FROM bookings WHERE user_id = ? AND ' +
            '(created_at < ? OR (created_at = ? AND id < ?)) ' +
            'ORDER BY created_at DESC, id DESC LIMIT ?',
          [userId, after.createdAt, after.createdAt, after.id, limit],
        )
      : await this.#db.query<BookingRow>(
          'SELECT * FROM bookings WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?',
          [userId, limit],
        );
    return rows.map(toBooking);
  }

  /**
   * Bookings that will not change again and can leave MySQL: cancelled before
   * `cancelledBefore` (epoch ms; a late payment can still come for a while),
   * or paid for a stay that ended before `endedBefore`.
   */
  async terminal(
    cancelledBefore: number,
    endedBefore: CalendarDate,
    limit: number,
  ): Promise<Booking[]> {
    const cancelled = await this.#db.query<BookingRow>(
      "SELECT * FROM bookings WHERE status = 'CANCELLED' AND updated_at < ? " +
        'ORDER BY updated_at LIMIT ?',
      [cancelledBefore, limit],
    );
    const ended = await this.#db.query<BookingRow>(
      "SELECT * FROM bookings WHERE status = 'BOOKED' AND end_date < ? LIMIT ?",
      [endedBefore, limit],
    );
    return [...cancelled, ...ended].map(toBooking);
  }

  /** Deletes an archived booking, unless it changed since it was read. */
  async removeArchived(booking: Booking): Promise<boolean> {
    const result = await this.#db.execute('DELETE FROM bookings WHERE id = ? AND version = ?', [
      booking.id,
      booking.version,
    ]);
    return result.affectedRows === 1;
  }

  /** Ids of holds past their expiry, oldest first. */
  async overdueHolds(now: number, limit: number): Promise<string[]> {
    const rows = await this.#db.query<{ id: string }>(
      "SELECT id FROM bookings WHERE status = 'RESERVED' AND expires_at <= ? " +
        'ORDER BY expires_at LIMIT ?',
      [now, limit],
    );
    return rows.map((row) => row.id);
  }

  /**
   * Cancels a hold and gives its rooms back, once: the booking that this call
   * moved from RESERVED, or undefined when it was not RESERVED (or, with
   * overdueOnly, not yet overdue).
   */
  async release(
    id: string,
    reason: CancelReason,
    options: { now: number; overdueOnly: boolean },
  ): Promise<Booking | undefined> {
    return this.#db.transaction(async (tx) => {
      const [row] = await tx.query<BookingRow>('SELECT * FROM bookings WHERE id = ?', [id]);
      // A booking that has left RESERVED never returns to it.
      if (!row || row.status !== 'RESERVED') return undefined;

      const cancelled = await tx.execute(
        "UPDATE bookings SET status = 'CANCELLED', cancel_reason = ?, updated_at = ?, " +
          "version = version + 1 WHERE id = ? AND status = 'RESERVED'" +
          (options.overdueOnly ? ' AND expires_at <= ?' : ''),
        options.overdueOnly ? [reason, options.now, id, options.now] : [reason, options.now, id],
      );
      if (cancelled.affectedRows !== 1) return undefined;

      await returnRooms(tx, row);
      const booking: Booking = {
        ...toBooking(row),
        status: 'CANCELLED',
        cancelReason: reason,
        updatedAt: options.now,
        version: Number(row.version) + 1,
      };
      await enqueueBookingEvent(tx, 'booking.cancelled', { booking }, options.now);
      return booking;
    });
  }

  /** Marks a running hold BOOKED; undefined when it is no longer RESERVED or has expired. */
  async confirm(
    id: string,
    payment: { reference: string; invoiceId: string; now: number },
  ): Promise<Booking | undefined> {
    return this.#db.transaction(async (tx) => {
      const result = await tx.execute(
        "UPDATE bookings SET status = 'BOOKED', invoice_id = ?, payment_reference = ?, " +
          "updated_at = ?, version = version + 1 WHERE id = ? AND status = 'RESERVED' " +
          'AND expires_at > ?',
        [payment.invoiceId, payment.reference, payment.now, id, payment.now],
      );
      if (result.affectedRows !== 1) return undefined;
      const [row] = await tx.query<BookingRow>('SELECT * FROM bookings WHERE id = ?', [id]);
      const booking = toBooking(row!);
      await enqueueBookingEvent(tx, 'booking.booked', { booking }, payment.now);
      return booking;
    });
  }

  /**
   * A payment that arrived after its hold expired: books the rooms again when
   * every night still has them, otherwise records a refund. Once per payment:
   * a payment already refunded stays refunded.
   */
  async rereserve(
    id: string,
    payment: { reference: string; invoiceId: string; now: number },
  ): Promise<RereserveResult> {
    return this.#db.transaction(async (tx) => {
      const [row] = await tx.query<BookingRow>('SELECT * FROM bookings WHERE id = ? FOR UPDATE', [
        id,
      ]);
      if (!row || row.status !== 'CANCELLED' || row.cancel_reason !== 'expired') {
        return { kind: 'changed' as const };
      }
      const booking = toBooking(row);
      const earlier = await findRefund(tx, row.room_id, id, payment.reference);
      if (earlier) return { kind: 'refunded' as const, booking, refund: earlier };

      const nights = await tx.query<NightRow>(LOCK_NIGHTS, [
        row.room_id,
        row.start_date,
        row.end_date,
      ]);
      const free =
        nights.length === nightsOf(row.start_date, row.end_date).length &&
        nights.every((night) => night.available_quantity >= row.quantity);
      if (!free) {
        const refund = await insertRefund(tx, booking, payment.reference, 'late_payment', payment);
        return { kind: 'refunded' as const, booking, refund };
      }

      await takeRooms(tx, row, nights.length);
      await tx.execute(
        "UPDATE bookings SET status = 'BOOKED', invoice_id = ?, payment_reference = ?, " +
          'cancel_reason = NULL, updated_at = ?, version = version + 1 ' +
          "WHERE id = ? AND status = 'CANCELLED'",
        [payment.invoiceId, payment.reference, payment.now, id],
      );
      const booked: Booking = {
        ...booking,
        status: 'BOOKED',
        invoiceId: payment.invoiceId,
        paymentReference: payment.reference,
        cancelReason: null,
        updatedAt: payment.now,
        version: booking.version + 1,
      };
      await enqueueBookingEvent(tx, 'booking.rereserved', { booking: booked }, payment.now);
      return { kind: 'booked' as const, booking: booked };
    });
  }

  /** Cancels a paid booking: its rooms go back and its payment is refunded, once. */
  async cancelBooked(
    id: string,
    now: number,
  ): Promise<{ booking: Booking; refund: Refund } | undefined> {
    return this.#db.transaction(async (tx) => {
      const [row] = await tx.query<BookingRow>('SELECT * FROM bookings WHERE id = ?', [id]);
      if (!row || row.status !== 'BOOKED' || row.payment_reference === null) return undefined;

      const cancelled = await tx.execute(
        "UPDATE bookings SET status = 'CANCELLED', cancel_reason = 'cancelled', updated_at = ?, " +
          "version = version + 1 WHERE id = ? AND status = 'BOOKED'",
        [now, id],
      );
      if (cancelled.affectedRows !== 1) return undefined;

      await returnRooms(tx, row);
      const booking: Booking = {
        ...toBooking(row),
        status: 'CANCELLED',
        cancelReason: 'cancelled',
        updatedAt: now,
        version: Number(row.version) + 1,
      };
      const refund = await insertRefund(
        tx,
        booking,
        row.payment_reference,
        'cancelled_after_payment',
        { now, announce: false },
      );
      await enqueueBookingEvent(tx, 'booking.cancelled', { booking, refund }, now);
      return { booking, refund };
    });
  }

  /** Records that a payment is to be refunded; a second record of one payment returns the first. */
  async recordRefund(
    booking: Booking,
    reference: string,
    reason: RefundReason,
    now: number,
  ): Promise<Refund> {
    return this.#db.transaction((tx) => insertRefund(tx, booking, reference, reason, { now }));
  }

  /** A booking's refunds; by its room too, which is the refunds' shard on Vitess. */
  async refundsOf(booking: Pick<Booking, 'id' | 'roomId'>): Promise<Refund[]> {
    const rows = await this.#db.query<RefundRow>(
      'SELECT * FROM refunds WHERE room_id = ? AND booking_id = ? ORDER BY created_at, id',
      [booking.roomId, booking.id],
    );
    return rows.map(toRefund);
  }

  async #reserve(tx: Queryable, request: ReserveRequest): Promise<ReserveResult> {
    const { roomId, startDate, endDate, quantity } = request;
    const nights = await tx.query<NightRow>(LOCK_NIGHTS, [roomId, startDate, endDate]);
    if (nights.length !== nightsOf(startDate, endDate).length) {
      return { ok: false, reason: 'dates_not_open' };
    }
    if (nights.some((night) => night.available_quantity < quantity)) {
      return { ok: false, reason: 'rooms_unavailable' };
    }
    const [room] = await tx.query<{ hotel_id: string; min_price: number; max_price: number }>(
      'SELECT hotel_id, min_price, max_price FROM rooms WHERE id = ?',
      [roomId],
    );
    if (!room) return { ok: false, reason: 'room_not_found' };

    const prices = nightPrices(
      { minPrice: Number(room.min_price), maxPrice: Number(room.max_price) },
      nights.map((night) => ({ total: night.total_quantity, available: night.available_quantity })),
      quantity,
    );
    const amount = prices.reduce((sum, price) => sum + price, 0);
    await takeRooms(
      tx,
      { room_id: roomId, start_date: startDate, end_date: endDate, quantity },
      nights.length,
    );

    const booking: Booking = {
      id: request.id,
      userId: request.userId,
      hotelId: room.hotel_id,
      roomId,
      quantity,
      startDate,
      endDate,
      amount,
      currency: request.currency,
      status: 'RESERVED',
      expiresAt: request.expiresAt,
      invoiceId: null,
      paymentReference: null,
      cancelReason: null,
      createdAt: request.now,
      updatedAt: request.now,
      version: 1,
      nightPrices: prices,
    };
    await tx.execute(INSERT_BOOKING, [
      booking.id,
      roomId,
      booking.hotelId,
      booking.userId,
      request.requestKey,
      quantity,
      startDate,
      endDate,
      amount,
      booking.currency,
      booking.status,
      booking.expiresAt,
      null,
      null,
      null,
      booking.createdAt,
      booking.updatedAt,
      booking.version,
      JSON.stringify(prices),
    ]);
    await enqueueBookingEvent(tx, 'booking.reserved', { booking }, request.now);
    return { ok: true, booking, replayed: false };
  }

  async #findByRequest(request: ReserveRequest): Promise<Booking | undefined> {
    const [row] = await this.#db.query<BookingRow>(
      'SELECT * FROM bookings WHERE room_id = ? AND user_id = ? AND request_key = ?',
      [request.roomId, request.userId, request.requestKey],
    );
    return row && toBooking(row);
  }
}

type Stay = Pick<BookingRow, 'room_id' | 'start_date' | 'end_date' | 'quantity'>;

/** The conditional decrement; with the nights locked and checked, every one of them matches. */
async function takeRooms(tx: Queryable, stay: Stay, nights: number): Promise<void> {
  const taken = await tx.execute(TAKE_ROOMS, [
    stay.quantity,
    stay.room_id,
    stay.start_date,
    stay.end_date,
    stay.quantity,
  ]);
  if (taken.affectedRows !== nights) throw new Error(`availability of ${stay.room_id} moved`);
}

async function returnRooms(tx: Queryable, stay: Stay): Promise<void> {
  const nights = nightsOf(stay.start_date, stay.end_date).length;
  const restored = await tx.execute(RETURN_ROOMS, [
    stay.quantity,
    stay.room_id,
    stay.start_date,
    stay.end_date,
  ]);
  if (restored.affectedRows !== nights) throw new Error(`nights of ${stay.room_id} are missing`);
}

// Refunds are read by their room as well, so the read stays on the transaction's shard.
async function findRefund(
  tx: Queryable,
  roomId: string,
  bookingId: string,
  reference: string,
): Promise<Refund | undefined> {
  const [row] = await tx.query<RefundRow>(
    'SELECT * FROM refunds WHERE room_id = ? AND booking_id = ? AND payment_reference = ?',
    [roomId, bookingId, reference],
  );
  return row && toRefund(row);
}

async function insertRefund(
  tx: Queryable,
  booking: Booking,
  reference: string,
  reason: RefundReason,
  at: { now: number; announce?: boolean },
): Promise<Refund> {
  const id = randomUUID();
  await tx.upsert({
    table: 'refunds',
    row: {
      id,
      booking_id: booking.id,
      room_id: booking.roomId,
      payment_reference: reference,
      amount: booking.amount,
      currency: booking.currency,
      reason,
      created_at: at.now,
    },
    key: ['booking_id', 'payment_reference'],
  });
  // A locking read sees the row a concurrent transaction committed, which a snapshot may not.
  const [row] = await tx.query<RefundRow>(
    'SELECT * FROM refunds WHERE room_id = ? AND booking_id = ? AND payment_reference = ? ' +
      'FOR UPDATE',
    [booking.roomId, booking.id, reference],
  );
  if (!row) throw new Error(`refund of ${booking.id} was not recorded`);
  const refund = toRefund(row);
  // The first record of a payment's refund is news; a repeat of it is not.
  if (refund.id === id && at.announce !== false) {
    await enqueueBookingEvent(tx, 'booking.refunded', { booking, refund }, at.now);
  }
  return refund;
}

function toBooking(row: BookingRow): Booking {
  return {
    id: row.id,
    userId: row.user_id,
    hotelId: row.hotel_id,
    roomId: row.room_id,
    quantity: Number(row.quantity),
    startDate: row.start_date,
    endDate: row.end_date,
    amount: Number(row.amount),
    currency: row.currency,
    status: row.status,
    expiresAt: Number(row.expires_at),
    invoiceId: row.invoice_id,
    paymentReference: row.payment_reference,
    cancelReason: row.cancel_reason,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    version: Number(row.version),
    nightPrices: row.night_prices === null ? [] : (JSON.parse(row.night_prices) as number[]),
  };
}

function toRefund(row: RefundRow): Refund {
  return {
    id: row.id,
    bookingId: row.booking_id,
    paymentReference: row.payment_reference,
    amount: Number(row.amount),
    currency: row.currency,
    reason: row.reason,
    createdAt: Number(row.created_at),
  };
}
