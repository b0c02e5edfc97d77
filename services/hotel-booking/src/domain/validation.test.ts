import type { z } from 'zod';
import {
  bookingRequest,
  hotelRequest,
  paymentRequest,
  roomRequest,
  stayProblem,
  type StayRules,
} from './validation.ts';

/** The path of the first problem, as the API names the field, or undefined when valid. */
function fieldAtFault(schema: z.ZodType, input: unknown): string | undefined {
  const result = schema.safeParse(input);
  return result.success ? undefined : result.error.issues[0]!.path.join('.') || 'body';
}

const booking = {
  userId: 'guest-1',
  roomId: 'deluxe-double',
  quantity: 2,
  startDate: '2027-03-10',
  endDate: '2027-03-12',
};

describe('booking request', () => {
  it('accepts a booking and drops a price the client sent', () => {
    const parsed = bookingRequest.parse({ ...booking, price: 1, amount: 1 });
    expect(parsed).toEqual(booking);
  });

  it.each([
    ['quantity', { quantity: 0 }],
    ['quantity', { quantity: -1 }],
    ['quantity', { quantity: 1.5 }],
    ['quantity', { quantity: '2' }],
    ['quantity', { quantity: 21 }],
    ['userId', { userId: undefined }],
    ['userId', { userId: 'has space' }],
    ['roomId', { roomId: '' }],
    ['roomId', { roomId: 'x'.repeat(65) }],
    ['startDate', { startDate: '2027-02-30' }],
    ['endDate', { endDate: '12/03/2027' }],
    ['endDate', { endDate: undefined }],
  ])('names %s when it is %j', (field, change) => {
    expect(fieldAtFault(bookingRequest, { ...booking, ...change })).toBe(field);
  });
});

describe('stayProblem', () => {
  const rules: StayRules = { today: '2027-03-01', maxNights: 30, lastNight: '2027-12-31' };

  it('accepts a stay starting today', () => {
    expect(stayProblem('2027-03-01', '2027-03-02', rules)).toBeUndefined();
  });

  it.each([
    ['startDate', '2027-02-28', '2027-03-02', 'must not be in the past'],
    ['endDate', '2027-03-05', '2027-03-05', 'must be after startDate'],
    ['endDate', '2027-03-05', '2027-03-04', 'must be after startDate'],
    ['endDate', '2027-03-01', '2027-04-01', 'at most 30 nights'],
    ['endDate', '2027-12-30', '2028-01-02', 'up to 2027-12-31'],
  ])('names %s for %s to %s', (field, start, end, message) => {
    expect(stayProblem(start, end, rules)).toEqual({
      field,
      message: expect.stringContaining(message),
    });
  });

  it('accepts exactly the longest stay and the last bookable night', () => {
    expect(stayProblem('2027-03-01', '2027-03-31', rules)).toBeUndefined();
    expect(stayProblem('2027-12-31', '2028-01-01', rules)).toBeUndefined();
  });
});

describe('payment request', () => {
  it('takes a success with its reference and a failure without one', () => {
    expect(paymentRequest.parse({ status: 'succeeded', reference: 'psp-1' })).toEqual({
      status: 'succeeded',
      reference: 'psp-1',
    });
    expect(paymentRequest.parse({ status: 'failed' })).toEqual({ status: 'failed' });
  });

  it.each([
    ['status', { status: 'pending' }],
    ['status', {}],
    ['reference', { status: 'succeeded' }],
    ['reference', { status: 'succeeded', reference: 'has space' }],
  ])('names %s in %j', (field, body) => {
    expect(fieldAtFault(paymentRequest, body)).toBe(field);
  });
});

describe('hotel request', () => {
  const hotel = { name: 'Casa Azul', locality: 'Lisbon' };

  it('fills defaults and removes repeated facilities', () => {
    expect(hotelRequest.parse({ ...hotel, facilities: ['wifi', 'pool', 'wifi'] })).toEqual({
      ...hotel,
      facilities: ['wifi', 'pool'],
      imageUrls: [],
      currency: 'EUR',
      timeZone: 'UTC',
    });
  });

  it.each([
    ['name', { name: '  ' }],
    ['locality', { locality: undefined }],
    ['imageUrls.0', { imageUrls: ['javascript:alert(1)'] }],
    ['imageUrls.1', { imageUrls: ['https://cdn.example/a.jpg', 'ftp://cdn.example/b.jpg'] }],
    ['currency', { currency: 'euro' }],
    ['timeZone', { timeZone: 'Lisbon' }],
    ['facilities', { facilities: 'wifi' }],
    ['body', { stars: 5 }],
  ])('names %s in %j', (field, change) => {
    expect(fieldAtFault(hotelRequest, { ...hotel, ...change })).toBe(field);
  });
});

describe('room request', () => {
  it('accepts a closed room type and equal bounds', () => {
    expect(roomRequest.safeParse({ quantity: 0, minPrice: 100, maxPrice: 100 }).success).toBe(true);
  });

  it.each([
    ['maxPrice', { quantity: 3, minPrice: 200, maxPrice: 100 }],
    ['minPrice', { quantity: 3, minPrice: -1, maxPrice: 100 }],
    ['quantity', { quantity: -1, minPrice: 1, maxPrice: 2 }],
    ['quantity', { minPrice: 1, maxPrice: 2 }],
    ['maxPrice', { quantity: 1, minPrice: 1, maxPrice: 2.5 }],
  ])('names %s in %j', (field, body) => {
    expect(fieldAtFault(roomRequest, body)).toBe(field);
  });
});
