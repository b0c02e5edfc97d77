import { envelope, type Envelope, type Queryable } from '@platform/kit';
import type { Booking, Refund } from './domain/booking.ts';
import type { Hotel, Room } from './store/hotel.store.ts';

/** The system's topics; every event on them is an Envelope of schema version 1. */
export const TOPICS = {
  /** Hotel and room changes, keyed by hotel id: what search indexes. */
  hotels: 'hotel-booking.hotels',
  /** Every change of a booking's state, keyed by booking id. */
  bookings: 'hotel-booking.bookings',
} as const;

export const EVENT_SCHEMA_VERSION = 1;

export type BookingEventType =
  | 'booking.reserved'
  | 'booking.booked'
  | 'booking.rereserved'
  | 'booking.cancelled'
  | 'booking.refunded';

/** A booking event carries the booking as the change left it; `version` orders them. */
export interface BookingEventData {
  booking: Booking;
  refund?: Refund;
}

export type HotelEventType = 'hotel.changed' | 'room.changed';

export type HotelEventData = { hotel: Hotel } | { room: Room };

/**
 * Writes an event to the outbox inside the caller's transaction: it reaches
 * the log if and only if the change it reports commits. The relay publishes
 * it later, at least once; consumers dedupe on the envelope id and order by
 * the entity's version.
 */
export async function enqueue(
  tx: Queryable,
  event: {
    topic: string;
    type: string;
    key: string;
    shardKey: string;
    data: unknown;
    now: number;
  },
): Promise<Envelope<unknown>> {
  const message = {
    ...envelope(event.type, EVENT_SCHEMA_VERSION, event.key, event.data),
    time: new Date(event.now).toISOString(),
  };
  await tx.execute(
    'INSERT INTO outbox (id, shard_key, topic, event_key, payload, created_at) ' +
      'VALUES (?, ?, ?, ?, ?, ?)',
    [message.id, event.shardKey, event.topic, event.key, JSON.stringify(message), event.now],
  );
  return message;
}

export function enqueueBookingEvent(
  tx: Queryable,
  type: BookingEventType,
  data: BookingEventData,
  now: number,
): Promise<Envelope<unknown>> {
  return enqueue(tx, {
    topic: TOPICS.bookings,
    type,
    key: data.booking.id,
    shardKey: data.booking.roomId,
    data,
    now,
  });
}
