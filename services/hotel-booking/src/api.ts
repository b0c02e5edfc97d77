import type { Request } from 'express';
import { z } from 'zod';
import {
  createHttpApp,
  idempotency,
  invalidField,
  parseInput,
  serveApp,
  type Cache,
  type Logger,
  type Metrics,
  type ReadinessCheck,
  type RunningServer,
} from '@platform/kit';
import type { BookingOutcome, BookingService, Invoice } from './bookings.ts';
import type { Booking } from './domain/booking.ts';
import { daysBetween, isCalendarDate } from './domain/dates.ts';
import { saleWindow } from './domain/inventory.ts';
import { SIGNATURE_HEADER, validSignature } from './domain/payment-signature.ts';
import { roomNightPrice } from './domain/pricing.ts';
import {
  bookingRequest,
  hotelRequest,
  listQuery,
  paymentRequest,
  roomId,
  roomRequest,
  searchQuery,
  userId,
} from './domain/validation.ts';
import { hotelError } from './errors.ts';
import type { Hotel, HotelStore, Room } from './store/hotel.store.ts';
import type { HotelSearch } from './search.ts';
import type { NotificationStore } from './workers/notifier.ts';

export interface ApiDeps {
  port: number;
  host: string;
  logger: Logger;
  metrics: Metrics;
  cache: Cache;
  readiness: Record<string, ReadinessCheck>;
  hotels: HotelStore;
  bookings: BookingService;
  notifications: NotificationStore;
  search: HotelSearch;
  inventoryDays: number;
  /** The secret payment callbacks are signed with. */
  paymentSecret: string;
  now?: () => number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_AVAILABILITY_NIGHTS = 62;

const availabilityQuery = z.object({
  startDate: z.string({ message: 'is required' }).refine(isCalendarDate, 'expected YYYY-MM-DD'),
  endDate: z.string({ message: 'is required' }).refine(isCalendarDate, 'expected YYYY-MM-DD'),
});

/** The public API: hotels and rooms, availability, bookings, payments, cancellations. */
export async function startApi(deps: ApiDeps): Promise<RunningServer> {
  const { hotels, bookings } = deps;
  const now = deps.now ?? Date.now;
  const http = createHttpApp({
    logger: deps.logger,
    metrics: deps.metrics,
    readiness: deps.readiness,
  });
  const { app } = http;

  app.post(
    '/hotels',
    idempotency({ cache: deps.cache, scope: 'hotel-booking:hotels' }),
    async (req, res) => {
      const hotel = await hotels.createHotel(parseInput(hotelRequest, req.body), now());
      res.setHeader('location', `/hotels/${hotel.id}`);
      res.status(201).json(hotelJson(hotel, []));
    },
  );

  app.get('/hotels/:id', async (req, res) => {
    const hotel = await findHotel(hotels, String(req.params.id));
    res.json(hotelJson(hotel, await hotels.roomsOf(hotel.id)));
  });

  app.put('/hotels/:id', async (req, res) => {
    const id = String(req.params.id);
    const fields = parseInput(hotelRequest, req.body);
    const hotel = UUID.test(id) ? await hotels.updateHotel(id, fields, now()) : undefined;
    if (!hotel) throw hotelError('hotel_not_found');
    res.json(hotelJson(hotel, await hotels.roomsOf(hotel.id)));
  });

  app.put('/hotels/:id/rooms/:roomId', async (req, res) => {
    const room = parseInput(roomId, req.params.roomId, 'roomId');
    const fields = parseInput(roomRequest, req.body);
    const hotel = await findHotel(hotels, String(req.params.id));
    const window = saleWindow(now(), deps.inventoryDays);
    const result = await hotels.putRoom(hotel.id, room, fields, window, now());
    if (result.outcome === 'other-hotel') throw hotelError('room_in_other_hotel');
    if (result.outcome === 'below-held') {
      throw hotelError('quantity_below_held', { field: 'quantity' });
    }
    res.status(result.outcome === 'created' ? 201 : 200).json(roomJson(result.room));
  });

  app.get('/search', async (req, res) => {
    const query = parseInput(searchQuery, req.query, 'query');
    if (query.startDate && query.endDate) {
      // Nights on sale start yesterday in UTC (today somewhere west of Greenwich).
      if (query.startDate < saleWindow(now(), deps.inventoryDays).from) {
        throw invalidField('startDate', 'is in the past');
      }
      const nights = daysBetween(query.startDate, query.endDate);
      if (nights <= 0) throw invalidField('endDate', 'must be after startDate');
      if (nights > MAX_AVAILABILITY_NIGHTS) {
        throw invalidField('endDate', `at most ${MAX_AVAILABILITY_NIGHTS} nights at a time`);
      }
    }
    const page = await deps.search.search({
      text: query.q,
      locality: query.locality,
      minPrice: query.minPrice,
      maxPrice: query.maxPrice,
      facilities: query.facilities,
      startDate: query.startDate,
      endDate: query.endDate,
      quantity: query.quantity,
      limit: query.limit,
      cursor: query.cursor,
    });
    res.json(page);
  });

  app.get('/rooms/:roomId/availability', async (req, res) => {
    const query = parseInput(availabilityQuery, req.query, 'query');
    const nights = daysBetween(query.startDate, query.endDate);
    if (nights <= 0) throw invalidField('endDate', 'must be after startDate');
    if (nights > MAX_AVAILABILITY_NIGHTS) {
      throw invalidField('endDate', `at most ${MAX_AVAILABILITY_NIGHTS} nights at a time`);
    }
    const room = await hotels.findRoom(parseInput(roomId, req.params.roomId, 'roomId'));
    if (!room) throw hotelError('room_not_found');
    const rows = await hotels.availability(room.id, query.startDate, query.endDate);
    res.json({
      roomId: room.id,
      nights: rows.map((row) => ({
        night: row.night,
        available: row.available,
        total: row.total,
        price: roomNightPrice(room, row.total - row.available, row.total),
      })),
    });
  });

  app.post(
    '/bookings',
    idempotency({ cache: deps.cache, scope: 'hotel-booking:bookings', required: true }),
    async (req, res) => {
      const request = parseInput(bookingRequest, req.body);
      const { booking } = await bookings.book(request, req.get('idempotency-key')!);
      res.setHeader('location', `/bookings/${booking.id}`);
      res.status(201).json(bookingJson(booking));
    },
  );

  app.get('/bookings/:id', async (req, res) => {
    res.json(bookingJson(await bookings.get(bookingId(req), caller(req))));
  });

  app.get('/bookings/:id/invoice', async (req, res) => {
    res.json(invoiceJson(await bookings.invoice(bookingId(req), caller(req))));
  });

  app.post('/bookings/:id/payment', async (req, res) => {
    const id = bookingId(req);
    const payment = parseInput(paymentRequest, req.body);
    // Only the payment provider may say a booking is paid: it signs what it says.
    const signature = req.get(SIGNATURE_HEADER);
    if (!signature)
      throw hotelError('payment_signature_required', { field: 'X-Payment-Signature' });
    if (!validSignature(deps.paymentSecret, id, payment, signature)) {
      throw hotelError('payment_signature_invalid', { field: 'X-Payment-Signature' });
    }
    res.json(outcomeJson(await bookings.pay(id, payment)));
  });

  app.post('/bookings/:id/cancel', async (req, res) => {
    res.json(outcomeJson(await bookings.cancel(bookingId(req), caller(req))));
  });

  app.get('/users/:id/bookings', async (req, res) => {
    const user = parseInput(userId, req.params.id, 'userId');
    const query = parseInput(listQuery, req.query, 'query');
    const page = await bookings.listForUser(user, query.limit, query.cursor);
    res.json({ bookings: page.bookings.map(bookingJson), nextCursor: page.nextCursor });
  });

  app.get('/users/:id/notifications', async (req, res) => {
    const user = parseInput(userId, req.params.id, 'userId');
    const { limit } = parseInput(listQuery, req.query, 'query');
    const notifications = await deps.notifications.forUser(user, limit);
    res.json({
      notifications: notifications.map((notification) => ({
        ...notification,
        sentAt: new Date(notification.sentAt).toISOString(),
      })),
    });
  });

  return serveApp(http, { port: deps.port, host: deps.host, logger: deps.logger });
}

async function findHotel(hotels: HotelStore, id: string): Promise<Hotel> {
  const hotel = UUID.test(id) ? await hotels.findHotel(id) : undefined;
  if (!hotel) throw hotelError('hotel_not_found');
  return hotel;
}

/** A booking id is a UUID; anything else is a booking that does not exist. */
function bookingId(req: Request): string {
  const id = String(req.params.id);
  if (!UUID.test(id)) throw hotelError('booking_not_found');
  return id;
}

/** Who is asking: the userId query parameter, or the X-User-Id header an edge sets. */
function caller(req: Request): string {
  return parseInput(userId, req.query.userId ?? req.get('x-user-id'), 'userId');
}

function hotelJson(hotel: Hotel, rooms: Room[]) {
  return {
    id: hotel.id,
    name: hotel.name,
    locality: hotel.locality,
    address: hotel.address ?? null,
    description: hotel.description ?? null,
    facilities: hotel.facilities,
    imageUrls: hotel.imageUrls,
    currency: hotel.currency,
    timeZone: hotel.timeZone,
    rooms: rooms.map(roomJson),
    createdAt: new Date(hotel.createdAt).toISOString(),
    updatedAt: new Date(hotel.updatedAt).toISOString(),
  };
}

function roomJson(room: Room) {
  return {
    id: room.id,
    hotelId: room.hotelId,
    name: room.name,
    quantity: room.quantity,
    minPrice: room.minPrice,
    maxPrice: room.maxPrice,
  };
}

export function bookingJson(booking: Booking) {
  return {
    id: booking.id,
    userId: booking.userId,
    hotelId: booking.hotelId,
    roomId: booking.roomId,
    quantity: booking.quantity,
    startDate: booking.startDate,
    endDate: booking.endDate,
    nights: daysBetween(booking.startDate, booking.endDate),
    amount: booking.amount,
    currency: booking.currency,
    status: booking.status,
    expiresAt: new Date(booking.expiresAt).toISOString(),
    invoiceId: booking.invoiceId,
    paymentReference: booking.paymentReference,
    cancelReason: booking.cancelReason,
    createdAt: new Date(booking.createdAt).toISOString(),
    updatedAt: new Date(booking.updatedAt).toISOString(),
  };
}

function invoiceJson(invoice: Invoice) {
  return {
    invoiceId: invoice.invoiceId,
    bookingId: invoice.booking.id,
    userId: invoice.booking.userId,
    hotel: { id: invoice.booking.hotelId, name: invoice.hotelName },
    room: { id: invoice.booking.roomId, name: invoice.roomName },
    status: invoice.booking.status,
    lines: invoice.lines,
    total: invoice.total,
    currency: invoice.booking.currency,
    paymentReference: invoice.booking.paymentReference,
    refunds: invoice.refunds.map(refundJson),
  };
}

function refundJson(refund: NonNullable<BookingOutcome['refund']>) {
  return {
    id: refund.id,
    paymentReference: refund.paymentReference,
    amount: refund.amount,
    currency: refund.currency,
    reason: refund.reason,
    createdAt: new Date(refund.createdAt).toISOString(),
  };
}

function outcomeJson(result: BookingOutcome) {
  return {
    outcome: result.outcome,
    booking: bookingJson(result.booking),
    refund: result.refund ? refundJson(result.refund) : null,
  };
}
