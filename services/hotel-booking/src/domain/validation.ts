import { z } from 'zod';
import { addDays, daysBetween, isCalendarDate, isTimeZone, type CalendarDate } from './dates.ts';

export const MAX_ROOMS_PER_BOOKING = 20;
export const MAX_ROOM_QUANTITY = 10_000;
/** Minor units: ten million in a currency with cents. */
export const MAX_PRICE = 1_000_000_000;

const NAME_ID = 'expected 1-64 characters of [A-Za-z0-9_-]';
const USER_ID = 'expected 1-64 characters of [A-Za-z0-9_.@:-]';

export const roomId = z.string({ message: 'is required' }).regex(/^[\w-]{1,64}$/, NAME_ID);
export const userId = z.string({ message: 'is required' }).regex(/^[\w.@:-]{1,64}$/, USER_ID);
/** A payment provider's reference for one payment. */
export const paymentReference = z
  .string({ message: 'is required' })
  .regex(/^[\w.:-]{1,128}$/, 'expected 1-128 characters of [A-Za-z0-9_.:-]');

const calendarDate = z
  .string({ message: 'expected a date as YYYY-MM-DD' })
  .refine(isCalendarDate, { message: 'expected a date as YYYY-MM-DD' });

const wholeNumber = (what: string, min: number, max: number) =>
  z
    .number({ message: `expected a whole number of ${what}` })
    .int(`expected a whole number of ${what}`)
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

/** Fields other than these, a price among them, are dropped: the server prices a booking. */
export const bookingRequest = z.object({
  userId,
  roomId,
  quantity: wholeNumber('rooms', 1, MAX_ROOMS_PER_BOOKING),
  startDate: calendarDate,
  endDate: calendarDate,
});
export type BookingRequest = z.infer<typeof bookingRequest>;

export const paymentRequest = z.discriminatedUnion(
  'status',
  [
    z.strictObject({
      status: z.literal('succeeded'),
      reference: paymentReference,
      /** What the provider charged, in minor units; when given it must be the booking's amount. */
      amount: wholeNumber('minor units', 0, MAX_PRICE).optional(),
    }),
    z.strictObject({ status: z.literal('failed'), reference: paymentReference.optional() }),
  ],
  { message: 'expected "succeeded" or "failed"' },
);
export type PaymentRequest = z.infer<typeof paymentRequest>;

const imageUrl = z
  .string()
  .max(2048, 'must be at most 2048 characters')
  .refine(isWebUrl, { message: 'expected an http(s) URL' });

export const hotelRequest = z.strictObject({
  name: z.string({ message: 'is required' }).trim().min(1, 'is required').max(200),
  locality: z.string({ message: 'is required' }).trim().min(1, 'is required').max(100),
  address: z.string().trim().max(300).optional(),
  description: z.string().trim().max(5000).optional(),
  facilities: z
    .array(z.string().trim().min(1).max(50))
    .max(50)
    .default([])
    .transform((items) => [...new Set(items)]),
  imageUrls: z.array(imageUrl).max(20).default([]),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as EUR')
    .default('EUR'),
  timeZone: z
    .string()
    .refine(isTimeZone, { message: 'expected an IANA time zone such as Europe/Lisbon' })
    .default('UTC'),
});
export type HotelRequest = z.infer<typeof hotelRequest>;

export const roomRequest = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    quantity: wholeNumber('rooms', 0, MAX_ROOM_QUANTITY),
    minPrice: wholeNumber('minor units', 0, MAX_PRICE),
    maxPrice: wholeNumber('minor units', 0, MAX_PRICE),
  })
  .refine((room) => room.minPrice <= room.maxPrice, {
    path: ['maxPrice'],
    message: 'must not be below minPrice',
  });
export type RoomRequest = z.infer<typeof roomRequest>;

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

const price = z.coerce
  .number({ message: 'expected a whole number of minor units' })
  .int('expected a whole number of minor units')
  .min(0)
  .max(MAX_PRICE);

/** GET /search: text, filters, and dates with free rooms (both dates or neither). */
export const searchQuery = z
  .object({
    q: z.string().max(500, 'must be at most 500 characters').optional(),
    locality: z.string().trim().min(1).max(100).optional(),
    minPrice: price.optional(),
    maxPrice: price.optional(),
    facilities: z
      .string()
      .max(1000)
      .transform((list) =>
        list
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().max(50)).max(20, 'at most 20 facilities'))
      .optional(),
    startDate: calendarDate.optional(),
    endDate: calendarDate.optional(),
    quantity: z.coerce.number().int().min(1).max(MAX_ROOM_QUANTITY).default(1),
    limit: z.coerce.number().int().min(1).max(50).default(10),
    cursor: z.string().max(2000).optional(),
  })
  .refine((query) => (query.startDate === undefined) === (query.endDate === undefined), {
    path: ['endDate'],
    message: 'startDate and endDate come together',
  })
  .refine(
    (query) =>
      query.minPrice === undefined ||
      query.maxPrice === undefined ||
      query.minPrice <= query.maxPrice,
    { path: ['maxPrice'], message: 'must not be below minPrice' },
  );
export type SearchQueryInput = z.infer<typeof searchQuery>;

export interface StayRules {
  /** The date at the hotel now. */
  today: CalendarDate;
  maxNights: number;
  /** The last night rooms can be booked for. */
  lastNight: CalendarDate;
}

/** The first thing wrong with the dates of a stay, naming the field, or undefined. */
export function stayProblem(
  startDate: CalendarDate,
  endDate: CalendarDate,
  rules: StayRules,
): { field: 'startDate' | 'endDate'; message: string } | undefined {
  if (startDate < rules.today) {
    return { field: 'startDate', message: `must not be in the past (it is ${rules.today})` };
  }
  if (endDate <= startDate) return { field: 'endDate', message: 'must be after startDate' };
  if (daysBetween(startDate, endDate) > rules.maxNights) {
    return { field: 'endDate', message: `a stay is at most ${rules.maxNights} nights` };
  }
  if (endDate > addDays(rules.lastNight, 1)) {
    return { field: 'endDate', message: `rooms can be booked up to ${rules.lastNight}` };
  }
  return undefined;
}

function isWebUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}
