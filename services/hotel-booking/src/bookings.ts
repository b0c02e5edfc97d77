import { randomUUID } from 'node:crypto';
import { httpError, invalidField, type Logger } from '@platform/kit';
import {
  nextCancelStep,
  nextPaymentStep,
  type Booking,
  type LatePaymentPolicy,
  type Refund,
} from './domain/booking.ts';
import { nightsOf, todayIn } from './domain/dates.ts';
import { saleWindow } from './domain/inventory.ts';
import { stayProblem, type BookingRequest, type PaymentRequest } from './domain/validation.ts';
import { hotelError } from './errors.ts';
import type { HoldKeys } from './holds.ts';
import type { BookingMetrics } from './metrics.ts';
import { olderThan, type BookingArchive } from './store/booking-archive.ts';
import type { BookingStore } from './store/booking.store.ts';
import type { HotelStore } from './store/hotel.store.ts';

export interface BookingSettings {
  holdTtlMs: number;
  latePaymentPolicy: LatePaymentPolicy;
  maxNights: number;
  inventoryDays: number;
}

/** What noticed that a hold ran out: Redis, the sweeper, or a payment arriving late. */
export type ReleaseTrigger = 'notification' | 'sweeper' | 'late-payment';

/** What a payment callback or a cancellation did. */
export interface BookingOutcome {
  outcome:
    'booked' | 'already_booked' | 'rereserved' | 'refunded' | 'cancelled' | 'already_cancelled';
  booking: Booking;
  refund?: Refund;
}

/** An invoice for a paid stay: a line per night, the payment, and any refunds. */
export interface Invoice {
  invoiceId: string;
  booking: Booking;
  hotelName: string;
  roomName: string;
  lines: { night: string; quantity: number; amount: number }[];
  total: number;
  refunds: Refund[];
}

export interface BookingServiceDeps {
  hotels: HotelStore;
  bookings: BookingStore;
  archive: BookingArchive;
  holds: HoldKeys;
  metrics: BookingMetrics;
  logger: Logger;
  settings: BookingSettings;
  now?: () => number;
}

/**
 * Reads of a booking can be outdated by the time a conditional update runs; a
 * request then reads again and decides again, a few times at most.
 */
const ATTEMPTS = 5;

/** Booking, payment, cancellation and hold expiry, over the stores and the hold keys. */
export class BookingService {
  readonly #hotels: HotelStore;
  readonly #bookings: BookingStore;
  readonly #archive: BookingArchive;
  readonly #holds: HoldKeys;
  readonly #metrics: BookingMetrics;
  readonly #logger: Logger;
  readonly #settings: BookingSettings;
  readonly #now: () => number;

  constructor(deps: BookingServiceDeps) {
    this.#hotels = deps.hotels;
    this.#bookings = deps.bookings;
    this.#archive = deps.archive;
    this.#holds = deps.holds;
    this.#metrics = deps.metrics;
    this.#logger = deps.logger;
    this.#settings = deps.settings;
    this.#now = deps.now ?? Date.now;
  }

  /** Holds the rooms as RESERVED until the hold expires, or throws why not. */
  async book(
    request: BookingRequest,
    requestKey: string,
  ): Promise<{ booking: Booking; replayed: boolean }> {
    const room = await this.#hotels.findRoom(request.roomId);
    const hotel = room && (await this.#hotels.findHotel(room.hotelId));
    if (!hotel) throw hotelError('room_not_found', { field: 'roomId' });

    const now = this.#now();
    const problem = stayProblem(request.startDate, request.endDate, {
      today: todayIn(hotel.timeZone, now),
      maxNights: this.#settings.maxNights,
      lastNight: saleWindow(now, this.#settings.inventoryDays).lastNight,
    });
    if (problem) throw invalidField(problem.field, problem.message);

    const result = await this.#bookings.reserve({
      ...request,
      id: randomUUID(),
      currency: hotel.currency,
      requestKey,
      expiresAt: now + this.#settings.holdTtlMs,
      now,
    });
    if (!result.ok) {
      this.#metrics.reservations.inc({ outcome: result.reason });
      const field = result.reason === 'room_not_found' ? 'roomId' : undefined;
      throw hotelError(result.reason, field ? { field } : {});
    }
    if (result.replayed) {
      if (!sameStay(result.booking, request)) throw httpError('idempotency_key_reused');
      return result;
    }

    this.#metrics.reservations.inc({ outcome: 'reserved' });
    await this.#holds.place(result.booking, now);
    return result;
  }

  /** The booking, live or archived, when it belongs to the user; others get not-found. */
  async get(id: string, userId: string): Promise<Booking> {
    const { booking } = await this.#find(id);
    if (booking.userId !== userId) throw hotelError('booking_not_found');
    return booking;
  }

  /** The invoice of a paid booking, for its user. */
  async invoice(id: string, userId: string): Promise<Invoice> {
    const booking = await this.get(id, userId);
    if (!booking.invoiceId) throw hotelError('invoice_not_found');
    const [hotel, room, refunds] = await Promise.all([
      this.#hotels.findHotel(booking.hotelId),
      this.#hotels.findRoom(booking.roomId),
      this.#bookings.refundsOf(booking),
    ]);
    const nights = nightsOf(booking.startDate, booking.endDate);
    const lines =
      booking.nightPrices.length === nights.length
        ? nights.map((night, i) => ({
            night,
            quantity: booking.quantity,
            amount: booking.nightPrices[i]!,
          }))
        : [{ night: booking.startDate, quantity: booking.quantity, amount: booking.amount }];
    return {
      invoiceId: booking.invoiceId,
      booking,
      hotelName: hotel?.name ?? booking.hotelId,
      roomName: room?.name ?? booking.roomId,
      lines,
      total: booking.amount,
      refunds: refunds.filter((refund) => refund.paymentReference === booking.paymentReference),
    };
  }

  /** A user's bookings, live and archived together, newest first, a page at a time. */
  async listForUser(
    userId: string,
    limit: number,
    cursor?: string,
  ): Promise<{ bookings: Booking[]; nextCursor: string | null }> {
    const after = cursor === undefined ? undefined : readCursor(cursor);
    const [live, archived] = await Promise.all([
      this.#bookings.listByUser(userId, limit, after),
      this.#archive.listByUser(userId, limit, after),
    ]);
    // A booking being archived can be in both for a moment: the live row wins.
    const seen = new Set(live.map((booking) => booking.id));
    const bookings = [...live, ...archived.filter((booking) => !seen.has(booking.id))]
      .sort((a, b) => (olderThan(a, b) ? 1 : olderThan(b, a) ? -1 : 0))
      .slice(0, limit);
    const last = bookings.at(-1);
    const nextCursor =
      bookings.length === limit && last
        ? Buffer.from(JSON.stringify([last.createdAt, last.id])).toString('base64url')
        : null;
    return { bookings, nextCursor };
  }

  /** A payment provider's callback: succeeded with its reference, or failed. */
  async pay(id: string, payment: PaymentRequest): Promise<BookingOutcome> {
    const outcome =
      payment.status === 'failed'
        ? await this.#paymentFailed(id)
        : await this.#paymentSucceeded(id, payment.reference, payment.amount);
    this.#metrics.payments.inc({ outcome: outcome.outcome });
    if (outcome.refund) this.#metrics.refunds.inc({ reason: outcome.refund.reason });
    return outcome;
  }

  /** The guest cancels: a hold is released, a paid booking refunded until the stay begins. */
  async cancel(id: string, userId: string): Promise<BookingOutcome> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      const booking = await this.get(id, userId);
      const hotel = await this.#hotels.findHotel(booking.hotelId);
      const now = this.#now();
      const step = nextCancelStep(booking, todayIn(hotel?.timeZone ?? 'UTC', now));

      if (step.kind === 'stay-started') throw hotelError('stay_started');
      if (step.kind === 'already-cancelled') return { outcome: 'already_cancelled', booking };
      if (step.kind === 'release') {
        const released = await this.#release(booking.id, 'cancelled', now);
        if (released) return { outcome: 'cancelled', booking: released };
        continue;
      }
      const cancelled = await this.#bookings.cancelBooked(booking.id, now);
      if (cancelled) {
        this.#metrics.refunds.inc({ reason: cancelled.refund.reason });
        return { outcome: 'cancelled', ...cancelled };
      }
    }
    throw hotelError('booking_contended');
  }

  /** Releases a hold whose time is up; true when this call released it. */
  async expire(id: string, trigger: ReleaseTrigger): Promise<boolean> {
    const now = this.#now();
    const released = await this.#bookings.release(id, 'expired', { now, overdueOnly: true });
    if (!released) return false;

    this.#metrics.releases.inc({ reason: 'expired', trigger });
    this.#metrics.releaseDelay.observe({ trigger }, Math.max(0, now - released.expiresAt) / 1000);
    this.#logger.debug({ bookingId: id, trigger }, 'hold expired');
    if (trigger !== 'notification') await this.#holds.clear(id);
    return true;
  }

  /** Releases up to `limit` overdue holds; returns how many this call released. */
  async releaseOverdue(limit: number): Promise<number> {
    const ids = await this.#bookings.overdueHolds(this.#now(), limit);
    let released = 0;
    for (const id of ids) if (await this.expire(id, 'sweeper')) released += 1;
    return released;
  }

  async #paymentSucceeded(
    id: string,
    reference: string,
    amount: number | undefined,
  ): Promise<BookingOutcome> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      const { booking, archived } = await this.#find(id);
      // The amount is fixed when the rooms are held, so one look settles it.
      if (amount !== undefined && amount !== booking.amount) {
        throw hotelError('amount_mismatch', {
          field: 'amount',
          message: `the booking costs ${booking.amount}, the payment was ${amount}`,
        });
      }
      const now = this.#now();
      // An archived booking is final: its rooms are not held again, the payment is refunded.
      const policy = archived ? 'refund' : this.#settings.latePaymentPolicy;
      const step = nextPaymentStep(booking, reference, now, policy);

      switch (step.kind) {
        case 'confirm': {
          const invoiceId = randomUUID();
          const booked = await this.#bookings.confirm(id, { reference, invoiceId, now });
          if (booked) {
            await this.#holds.clear(id);
            return { outcome: 'booked', booking: booked };
          }
          break;
        }
        case 'release-expired':
          await this.expire(id, 'late-payment');
          break;
        case 'already-booked':
          return { outcome: 'already_booked', booking };
        case 'rereserve': {
          const invoiceId = randomUUID();
          const result = await this.#bookings.rereserve(id, { reference, invoiceId, now });
          if (result.kind === 'booked') return { outcome: 'rereserved', booking: result.booking };
          if (result.kind === 'refunded') return { outcome: 'refunded', ...result };
          break;
        }
        case 'refund': {
          const refund = await this.#bookings.recordRefund(booking, reference, step.reason, now);
          return { outcome: 'refunded', booking, refund };
        }
      }
    }
    throw hotelError('booking_contended');
  }

  async #paymentFailed(id: string): Promise<BookingOutcome> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      const { booking } = await this.#find(id);
      if (booking.status === 'BOOKED') throw hotelError('already_paid');
      if (booking.status === 'CANCELLED') return { outcome: 'already_cancelled', booking };

      const released = await this.#release(id, 'payment_failed', this.#now());
      if (released) return { outcome: 'cancelled', booking: released };
    }
    throw hotelError('booking_contended');
  }

  async #release(
    id: string,
    reason: 'cancelled' | 'payment_failed',
    now: number,
  ): Promise<Booking | undefined> {
    const released = await this.#bookings.release(id, reason, { now, overdueOnly: false });
    if (!released) return undefined;
    this.#metrics.releases.inc({ reason, trigger: 'request' });
    await this.#holds.clear(id);
    return released;
  }

  async #find(id: string): Promise<{ booking: Booking; archived: boolean }> {
    const live = await this.#bookings.find(id);
    if (live) return { booking: live, archived: false };
    const archived = await this.#archive.find(id);
    if (!archived) throw hotelError('booking_not_found');
    return { booking: archived, archived: true };
  }
}

function sameStay(booking: Booking, request: BookingRequest): boolean {
  return (
    booking.quantity === request.quantity &&
    booking.startDate === request.startDate &&
    booking.endDate === request.endDate
  );
}

function readCursor(cursor: string): { createdAt: number; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown[];
    // Epoch milliseconds and a booking id, as written: anything else is not our cursor.
    const time = Number.isSafeInteger(createdAt) && (createdAt as number) >= 0;
    if (time && typeof id === 'string' && id.length <= 64) {
      return { createdAt: createdAt as number, id };
    }
  } catch {
    // answered below
  }
  throw invalidField('cursor', 'not a cursor this API returned');
}
