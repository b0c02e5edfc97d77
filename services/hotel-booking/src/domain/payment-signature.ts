import { createHmac, timingSafeEqual } from 'node:crypto';

/** The secret a development platform signs payment callbacks with; never one to deploy. */
export const DEFAULT_PAYMENT_SECRET = 'platform-dev-payment-webhook-secret';

/** The header a payment provider's callback carries its signature in. */
export const SIGNATURE_HEADER = 'x-payment-signature';

/** What a callback says, as signed: every field that changes what it does. */
export interface SignedPayment {
  status: string;
  reference?: string | undefined;
  amount?: number | undefined;
}

/**
 * The callback's signature: HMAC-SHA256, in hex, of the booking id and the
 * callback's fields, one per line, with the secret shared with the provider.
 * Signing the fields rather than the raw body lets any JSON encoding of them
 * verify.
 */
export function paymentSignature(secret: string, bookingId: string, payment: SignedPayment) {
  const message = [bookingId, payment.status, payment.reference ?? '', payment.amount ?? ''].join(
    '\n',
  );
  return createHmac('sha256', secret).update(message).digest('hex');
}

/** True when the signature is the one the secret gives, compared in constant time. */
export function validSignature(
  secret: string,
  bookingId: string,
  payment: SignedPayment,
  signature: string,
): boolean {
  const expected = Buffer.from(paymentSignature(secret, bookingId, payment), 'hex');
  const given = Buffer.from(signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
