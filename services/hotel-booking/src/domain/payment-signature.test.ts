import { paymentSignature, validSignature } from './payment-signature.ts';

const secret = 'a-secret-of-sixteen-or-more';
const payment = { status: 'succeeded', reference: 'psp-1', amount: 18_000 };

describe('payment callback signatures', () => {
  it('verifies what the secret signed, and nothing changed', () => {
    const signature = paymentSignature(secret, 'b1', payment);
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    expect(validSignature(secret, 'b1', payment, signature)).toBe(true);
    expect(validSignature(secret, 'b2', payment, signature)).toBe(false);
    expect(validSignature(secret, 'b1', { ...payment, amount: 1 }, signature)).toBe(false);
    expect(validSignature(secret, 'b1', { ...payment, reference: 'psp-2' }, signature)).toBe(false);
    expect(validSignature(secret, 'b1', { ...payment, status: 'failed' }, signature)).toBe(false);
    expect(validSignature('another-secret-entirely', 'b1', payment, signature)).toBe(false);
  });

  it('refuses signatures that are not hex of the right length', () => {
    expect(validSignature(secret, 'b1', payment, '')).toBe(false);
    expect(validSignature(secret, 'b1', payment, 'zz')).toBe(false);
    expect(validSignature(secret, 'b1', payment, 'ab'.repeat(31))).toBe(false);
  });
});
