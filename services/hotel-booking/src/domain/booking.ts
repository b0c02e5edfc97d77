import type { CalendarDate } from './dates.ts';

/**
 * RESERVED: rooms held until expiresAt while the guest pays. BOOKED: paid.
 * CANCELLED: the rooms went back; cancelReason says why.
 */
export type BookingStatus = 'RESERVED' | 'BOOKED' | 'CANCELLED';
export type CancelReason = 'expired' | 'payment_failed' | 'cancelled';
export type RefundReason = 'late_payment' | 'duplicate_payment' | 'cancelled_after_payment';

/** What happens to a payment that succeeds after its hold expired. */
export type LatePaymentPolicy = 'rereserve' | 'refund';

export interface Booking {
  id: string;
  userId: string;
  hotelId: string;
  roomId: string;
  quantity: number;
  startDate: CalendarDate;
  endDate: CalendarDate;
  /** Minor units of the currency, computed when the rooms were held. */
  amount: number;
  currency: string;
  status: BookingStatus;
  /** Epoch ms; the hold's truth, whatever Redis says. */
  expiresAt: number;
  invoiceId: string | null;
  paymentReference: string | null;
  cancelReason: CancelReason | null;
  createdAt: number;
  updatedAt: number;
  /** Starts at 1 and grows by one with every change of state: events are ordered by it. */
  version: number;
  /** What the rooms cost on each night of the stay, in minor units (sums to amount). */
  nightPrices: number[];
}

export interface Refund {
  id: string;
  bookingId: string;
  paymentReference: string;
  amount: number;
  currency: string;
  reason: RefundReason;
  createdAt: number;
}

/** The next step for a successful payment, decided from the booking as last read. */
export type PaymentStep =
  | { kind: 'confirm' }
  | { kind: 'release-expired' }
  | { kind: 'already-booked' }
  | { kind: 'rereserve' }
  | { kind: 'refund'; reason: RefundReason };

/**
 * A hold still running is confirmed; an overdue one is released first and the
 * payment is then late. A late payment re-reserves the rooms under the
 * rereserve policy (the store falls back to a refund when they are gone);
 * every other payment that cannot confirm the booking is refunded.
 */
export function nextPaymentStep(
  booking: Booking,
  reference: string,
  now: number,
  policy: LatePaymentPolicy,
): PaymentStep {
  switch (booking.status) {
    case 'RESERVED':
      return booking.expiresAt > now ? { kind: 'confirm' } : { kind: 'release-expired' };
    case 'BOOKED':
      return booking.paymentReference === reference
        ? { kind: 'already-booked' }
        : { kind: 'refund', reason: 'duplicate_payment' };
    case 'CANCELLED':
      if (booking.cancelReason !== 'expired') {
        return { kind: 'refund', reason: 'cancelled_after_payment' };
      }
      return policy === 'rereserve'
        ? { kind: 'rereserve' }
        : { kind: 'refund', reason: 'late_payment' };
  }
}

export type CancelStep =
  | { kind: 'release' }
  | { kind: 'cancel-booked' }
  | { kind: 'already-cancelled' }
  | { kind: 'stay-started' };

/** A hold is released; a paid booking is cancelled with a refund until the stay begins. */
export function nextCancelStep(booking: Booking, hotelToday: CalendarDate): CancelStep {
  switch (booking.status) {
    case 'RESERVED':
      return { kind: 'release' };
    case 'BOOKED':
      return booking.startDate > hotelToday ? { kind: 'cancel-booked' } : { kind: 'stay-started' };
    case 'CANCELLED':
      return { kind: 'already-cancelled' };
  }
}
