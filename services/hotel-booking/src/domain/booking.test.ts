import { nextCancelStep, nextPaymentStep, type Booking } from './booking.ts';

const now = Date.UTC(2027, 2, 1, 12);

function booking(overrides: Partial<Booking> = {}): Booking {
  return {
    id: 'b1',
    userId: 'u1',
    hotelId: 'h1',
    roomId: 'r1',
    quantity: 1,
    startDate: '2027-03-10',
    endDate: '2027-03-12',
    amount: 20_000,
    currency: 'EUR',
    status: 'RESERVED',
    expiresAt: now + 60_000,
    invoiceId: null,
    paymentReference: null,
    cancelReason: null,
    createdAt: now - 240_000,
    updatedAt: now - 240_000,
    version: 1,
    nightPrices: [10_000, 10_000],
    ...overrides,
  };
}

describe('nextPaymentStep', () => {
  it('confirms a hold that is still running', () => {
    expect(nextPaymentStep(booking(), 'pay-1', now, 'rereserve')).toEqual({ kind: 'confirm' });
  });

  it('releases an overdue hold first, also at the very millisecond it expires', () => {
    const overdue = booking({ expiresAt: now });
    expect(nextPaymentStep(overdue, 'pay-1', now, 'rereserve')).toEqual({
      kind: 'release-expired',
    });
  });

  it('answers a repeated payment for a paid booking as a replay', () => {
    const paid = booking({ status: 'BOOKED', paymentReference: 'pay-1', invoiceId: 'inv' });
    expect(nextPaymentStep(paid, 'pay-1', now, 'rereserve')).toEqual({ kind: 'already-booked' });
  });

  it('refunds a second, different payment for a paid booking', () => {
    const paid = booking({ status: 'BOOKED', paymentReference: 'pay-1', invoiceId: 'inv' });
    expect(nextPaymentStep(paid, 'pay-2', now, 'rereserve')).toEqual({
      kind: 'refund',
      reason: 'duplicate_payment',
    });
  });

  it.each([
    ['rereserve', { kind: 'rereserve' }],
    ['refund', { kind: 'refund', reason: 'late_payment' }],
  ] as const)('follows the %s policy for a payment after expiry', (policy, step) => {
    const expired = booking({ status: 'CANCELLED', cancelReason: 'expired', expiresAt: now - 1 });
    expect(nextPaymentStep(expired, 'pay-1', now, policy)).toEqual(step);
  });

  it.each(['cancelled', 'payment_failed'] as const)(
    'refunds a payment for a booking %s, whatever the policy',
    (reason) => {
      const cancelled = booking({ status: 'CANCELLED', cancelReason: reason });
      expect(nextPaymentStep(cancelled, 'pay-1', now, 'rereserve')).toEqual({
        kind: 'refund',
        reason: 'cancelled_after_payment',
      });
    },
  );
});

describe('nextCancelStep', () => {
  it('releases a hold', () => {
    expect(nextCancelStep(booking(), '2027-03-01')).toEqual({ kind: 'release' });
  });

  it('cancels a paid booking with a refund until the day of arrival', () => {
    const paid = booking({ status: 'BOOKED', paymentReference: 'pay-1' });
    expect(nextCancelStep(paid, '2027-03-09')).toEqual({ kind: 'cancel-booked' });
    expect(nextCancelStep(paid, '2027-03-10')).toEqual({ kind: 'stay-started' });
  });

  it('leaves a cancelled booking as it is', () => {
    const cancelled = booking({ status: 'CANCELLED', cancelReason: 'expired' });
    expect(nextCancelStep(cancelled, '2027-03-01')).toEqual({ kind: 'already-cancelled' });
  });
});
