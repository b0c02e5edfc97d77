import {
  Counter,
  consumerLagGauge,
  decodeEvent,
  type EventLog,
  type Logger,
  type Metrics,
  type Subscription,
  type TableSpec,
  type WideColumn,
} from '@platform/kit';
import { TOPICS, type BookingEventData, type BookingEventType } from '../events.ts';

export const NOTIFIER_GROUP = 'hotel-booking.notifier';

const NOTIFICATIONS: TableSpec = {
  name: 'hotel_booking_notifications',
  columns: {
    user_id: 'text',
    sent_at: 'timestamp',
    event_id: 'text',
    booking_id: 'text',
    kind: 'text',
    message: 'text',
  },
  partitionKey: ['user_id'],
  clustering: [
    { column: 'sent_at', order: 'desc' },
    { column: 'event_id', order: 'desc' },
  ],
};

export interface Notification {
  eventId: string;
  bookingId: string;
  kind: BookingEventType;
  message: string;
  sentAt: number;
}

/** What the guest is told about each booking event. */
export function notificationText(type: BookingEventType, data: BookingEventData): string {
  const { booking, refund } = data;
  const stay = `${booking.quantity} room(s) from ${booking.startDate} to ${booking.endDate}`;
  const money = (amount: number) => `${(amount / 100).toFixed(2)} ${booking.currency}`;
  switch (type) {
    case 'booking.reserved':
      return (
        `${stay} held for you until ${new Date(booking.expiresAt).toISOString()}; ` +
        `pay ${money(booking.amount)} to confirm.`
      );
    case 'booking.booked':
    case 'booking.rereserved':
      return `Your booking of ${stay} is confirmed; invoice ${booking.invoiceId ?? '-'}.`;
    case 'booking.cancelled':
      return refund
        ? `Your booking of ${stay} is cancelled; ${money(refund.amount)} will be refunded.`
        : `Your hold on ${stay} is cancelled (${booking.cancelReason ?? 'cancelled'}).`;
    case 'booking.refunded':
      return (
        `A payment of ${money(refund?.amount ?? booking.amount)} for ${stay} ` + 'will be refunded.'
      );
  }
}

/** The guests' notifications in Cassandra, newest first per user. */
export class NotificationStore {
  readonly #store: WideColumn;

  constructor(store: WideColumn) {
    this.#store = store;
  }

  define(): Promise<void> {
    return this.#store.defineTables([NOTIFICATIONS]);
  }

  /** Records a notification unless one exists for this event; true when this call wrote it. */
  record(userId: string, notification: Notification): Promise<boolean> {
    return this.#store.insert(
      NOTIFICATIONS.name,
      {
        user_id: userId,
        sent_at: notification.sentAt,
        event_id: notification.eventId,
        booking_id: notification.bookingId,
        kind: notification.kind,
        message: notification.message,
      },
      { ifNotExists: true },
    );
  }

  async forUser(userId: string, limit: number): Promise<Notification[]> {
    const rows = await this.#store.select(NOTIFICATIONS.name, { user_id: userId }, { limit });
    return rows.map((row) => ({
      eventId: String(row.event_id),
      bookingId: String(row.booking_id),
      kind: row.kind as BookingEventType,
      message: String(row.message),
      sentAt: Number(row.sent_at),
    }));
  }
}

/**
 * The notification consumer: a consumer group on booking events that records
 * one notification per event for the guest (where a mail or push gateway
 * would be called). The row's key holds the event's id and time and is
 * written only if absent, so a redelivered event notifies once.
 */
export class Notifier {
  readonly #store: NotificationStore;
  readonly #eventLog: EventLog;
  readonly #logger: Logger;
  readonly #sent: Counter<'kind'>;
  #subscription: Subscription | undefined;

  constructor(deps: {
    store: NotificationStore;
    eventLog: EventLog;
    logger: Logger;
    metrics: Metrics;
  }) {
    this.#store = deps.store;
    this.#eventLog = deps.eventLog;
    this.#logger = deps.logger;
    const registers = [deps.metrics.registry];
    this.#sent = new Counter({
      name: 'hotelbooking_notifications_sent_total',
      help: 'Guest notifications sent, by booking event (redeliveries excluded).',
      labelNames: ['kind'],
      registers,
    });
    consumerLagGauge({
      name: 'hotelbooking_notifier_lag',
      help: 'Booking events on the log not yet committed by the notifier group.',
      registry: deps.metrics.registry,
      eventLog: deps.eventLog,
      group: NOTIFIER_GROUP,
      topic: TOPICS.bookings,
    });
  }

  async start(options: { partitions: number; onStopped?: (error: Error) => void }): Promise<void> {
    await this.#eventLog.createTopic(TOPICS.bookings, { partitions: options.partitions });
    this.#subscription = await this.#eventLog.subscribe({
      group: NOTIFIER_GROUP,
      topics: [TOPICS.bookings],
      ...(options.onStopped ? { onStopped: options.onStopped } : {}),
      handleBatch: async (batch) => {
        for (const record of batch.records) {
          const event = decodeEvent<BookingEventData>(record);
          const kind = event.type as BookingEventType;
          const { booking } = event.data;
          const fresh = await this.#store.record(booking.userId, {
            eventId: event.id,
            bookingId: booking.id,
            kind,
            message: notificationText(kind, event.data),
            sentAt: Date.parse(event.time),
          });
          if (!fresh) continue;
          this.#sent.inc({ kind });
          this.#logger.info({ bookingId: booking.id, kind }, 'guest notified');
        }
      },
    });
  }

  async close(): Promise<void> {
    await this.#subscription?.close();
  }
}
