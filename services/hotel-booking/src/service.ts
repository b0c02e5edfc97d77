import {
  Gauge,
  RedisCache,
  isEmbedded,
  openService,
  type Infra,
  type Lifecycle,
  type Logger,
  type Metrics,
  type ReadinessCheck,
  type RunningServer,
} from '@platform/kit';
import { startApi } from './api.ts';
import { BookingService } from './bookings.ts';
import type { Config } from './config.ts';
import { addDays, todayIn } from './domain/dates.ts';
import { DEFAULT_PAYMENT_SECRET } from './domain/payment-signature.ts';
import { HoldReleaser, InventoryExtender } from './hold-releaser.ts';
import { HoldKeys } from './holds.ts';
import { bookingMetrics } from './metrics.ts';
import { BookingArchive } from './store/booking-archive.ts';
import { BookingStore } from './store/booking.store.ts';
import { HotelStore } from './store/hotel.store.ts';
import { migrate } from './store/migrations.ts';
import { HOTEL_INDEX, HotelIndexer, HotelSearch } from './search.ts';
import { Archiver } from './workers/archiver.ts';
import { EventRelay } from './workers/event-relay.ts';
import { NotificationStore, Notifier } from './workers/notifier.ts';
import { startProbeServer } from './workers/probe-server.ts';

export const ROLES = [
  'api',
  'hold-releaser',
  'event-relay',
  'notifier',
  'archiver',
  'search-indexer',
] as const;
export type Role = (typeof ROLES)[number];

export interface RunningHotelBooking {
  servers: Partial<Record<Role, RunningServer>>;
  bookings: BookingService;
  releaser: HoldReleaser | undefined;
  relay: EventRelay | undefined;
  archiver: Archiver | undefined;
  indexer: HotelIndexer | undefined;
  notifications: NotificationStore;
  infra: Infra;
  logger: Logger;
  lifecycle: Lifecycle;
  stop(): Promise<void>;
}

/** The days ahead over which the availability gauges sum the rooms. */
const AVAILABILITY_DAYS = 30;

/**
 * Starts the chosen processes of the hotel booking system: the API; the hold
 * releaser (expiry events, the sweeper, and the nights opened ahead); the
 * event relay (outbox to Kafka); the notifier (booking events to guests); the
 * archiver (terminal bookings to Cassandra); the search indexer (hotel
 * events to the search index). Each is its own process in a
 * cluster; embedded mode runs them all here.
 */
export async function runHotelBooking(config: Config, roles: Role[]): Promise<RunningHotelBooking> {
  const { logger, metrics, lifecycle, infra } = openService('hotel-booking', roles, config);
  const ready = infra.readiness as Record<keyof Infra['adapters'], ReadinessCheck>;

  await migrate(infra.relational);
  const archive = new BookingArchive(infra.wideColumn);
  const notifications = new NotificationStore(infra.wideColumn);
  await archive.define();
  await notifications.define();
  const hotels = new HotelStore(infra.relational);
  const bookingStore = new BookingStore(infra.relational);

  const holdCache = config.HOLD_REDIS_URL
    ? new RedisCache({ url: config.HOLD_REDIS_URL, prefix: config.NAME_PREFIX })
    : infra.cache;
  const holdReadiness: Record<string, ReadinessCheck> = { cache: ready.cache };
  if (holdCache !== infra.cache) {
    lifecycle.onShutdown('hold-cache', () => holdCache.close());
    holdReadiness.holdCache = () => holdCache.ping();
  }
  const holds = new HoldKeys(holdCache, logger);
  const bookings = new BookingService({
    hotels,
    bookings: bookingStore,
    archive,
    holds,
    metrics: bookingMetrics(metrics),
    logger,
    settings: {
      holdTtlMs: config.HOLD_TTL_MS,
      latePaymentPolicy: config.LATE_PAYMENT_POLICY,
      maxNights: config.MAX_NIGHTS,
      inventoryDays: config.INVENTORY_DAYS,
    },
  });
  const servers: RunningHotelBooking['servers'] = {};
  const running: RunningHotelBooking = {
    servers,
    bookings,
    releaser: undefined,
    relay: undefined,
    archiver: undefined,
    indexer: undefined,
    notifications,
    infra,
    logger,
    lifecycle,
    stop: () => lifecycle.shutdown(),
  };

  /** A worker's own probe port, unless the API's port answers for the whole process. */
  const probe = async (role: Role, port: number, readiness: Record<string, ReadinessCheck>) => {
    if (roles.includes('api')) return;
    const server = await startProbeServer({ port, host: config.HOST, logger, metrics, readiness });
    servers[role] = server;
    lifecycle.onShutdown(`${role}-http`, () => server.close());
  };

  if (roles.includes('hold-releaser')) {
    const extender = new InventoryExtender(
      hotels,
      { inventoryDays: config.INVENTORY_DAYS, pastNightsKeptDays: config.PAST_NIGHTS_KEPT_DAYS },
      logger,
    );
    extender.start();
    lifecycle.onShutdown('inventory', () => extender.close());
    availabilityGauges(metrics, hotels);
    const releaser = new HoldReleaser({
      bookings,
      holds,
      logger,
      notifications: config.HOLD_NOTIFICATIONS,
      sweepIntervalMs: config.SWEEP_INTERVAL_MS,
      sweepBatch: config.SWEEP_BATCH,
    });
    await releaser.start();
    running.releaser = releaser;
    lifecycle.onShutdown('hold-releaser', () => releaser.close());
    await probe('hold-releaser', config.RELEASER_PORT, {
      relational: ready.relational,
      ...holdReadiness,
    });
  }

  if (roles.includes('event-relay')) {
    const relay = new EventRelay({
      db: infra.relational,
      eventLog: infra.eventLog,
      logger,
      metrics,
      intervalMs: config.RELAY_INTERVAL_MS,
      batchSize: config.RELAY_BATCH,
      partitions: config.EVENT_PARTITIONS,
    });
    await relay.start();
    running.relay = relay;
    lifecycle.onShutdown('event-relay', () => relay.close());
    await probe('event-relay', config.RELAY_PORT, {
      relational: ready.relational,
      eventLog: ready.eventLog,
    });
  }

  if (roles.includes('notifier')) {
    const notifier = new Notifier({
      store: notifications,
      eventLog: infra.eventLog,
      logger,
      metrics,
    });
    await notifier.start({
      partitions: config.EVENT_PARTITIONS,
      onStopped: (error) => lifecycle.fail('notifier', error),
    });
    lifecycle.onShutdown('notifier', () => notifier.close());
    await probe('notifier', config.NOTIFIER_PORT, {
      eventLog: ready.eventLog,
      wideColumn: ready.wideColumn,
    });
  }

  if (roles.includes('archiver')) {
    const archiver = new Archiver({
      bookings: bookingStore,
      archive,
      logger,
      metrics,
      intervalMs: config.ARCHIVE_INTERVAL_MS,
      batchSize: config.ARCHIVE_BATCH,
      cancelledAfterMs: config.ARCHIVE_CANCELLED_AFTER_MS,
    });
    archiver.start();
    running.archiver = archiver;
    lifecycle.onShutdown('archiver', () => archiver.close());
    await probe('archiver', config.ARCHIVER_PORT, {
      relational: ready.relational,
      wideColumn: ready.wideColumn,
    });
  }

  const searchIndex =
    roles.includes('api') || roles.includes('search-indexer')
      ? await infra.search.openIndex(HOTEL_INDEX)
      : undefined;

  if (roles.includes('search-indexer')) {
    const indexer = new HotelIndexer({
      hotels,
      index: searchIndex!,
      eventLog: infra.eventLog,
      logger,
      metrics,
    });
    await indexer.start({
      partitions: config.EVENT_PARTITIONS,
      onStopped: (error) => lifecycle.fail('search-indexer', error),
    });
    running.indexer = indexer;
    lifecycle.onShutdown('search-indexer', () => indexer.close());
    indexer.backfill().then(
      (hotels) => logger.info({ hotels }, 'search index backfilled'),
      (error: unknown) => logger.warn({ err: error }, 'search backfill failed'),
    );
    await probe('search-indexer', config.SEARCH_INDEXER_PORT, {
      relational: ready.relational,
      eventLog: ready.eventLog,
      search: ready.search,
    });
  }

  if (roles.includes('api')) {
    if (config.PAYMENT_WEBHOOK_SECRET === DEFAULT_PAYMENT_SECRET && !isEmbedded(config)) {
      logger.warn('PAYMENT_WEBHOOK_SECRET is the public default: anyone can sign payments');
    }
    const server = await startApi({
      port: config.PORT,
      host: config.HOST,
      logger,
      metrics,
      cache: infra.cache,
      readiness: {
        relational: ready.relational,
        wideColumn: ready.wideColumn,
        search: ready.search,
        ...holdReadiness,
      },
      hotels,
      bookings,
      notifications,
      search: new HotelSearch(searchIndex!, hotels),
      paymentSecret: config.PAYMENT_WEBHOOK_SECRET,
      inventoryDays: config.INVENTORY_DAYS,
    });
    servers.api = server;
    lifecycle.onShutdown('api', () => server.close());
  }

  return running;
}

/** Room-nights on sale over the next days, and how many of them are unsold, read at scrape. */
function availabilityGauges(metrics: Metrics, hotels: HotelStore): void {
  let reading: Promise<{ available: number; total: number }> | undefined;
  // Both gauges are collected in one scrape; they share one query.
  const read = () => {
    if (!reading) {
      const today = todayIn('UTC', Date.now());
      reading = hotels
        .roomNights(today, addDays(today, AVAILABILITY_DAYS))
        .finally(() => setTimeout(() => (reading = undefined), 1000).unref());
    }
    return reading;
  };
  new Gauge({
    name: 'hotelbooking_room_nights_available',
    help: `Unsold room-nights over the next ${AVAILABILITY_DAYS} days.`,
    registers: [metrics.registry],
    collect: async function (this: Gauge) {
      this.set(
        await read().then(
          (nights) => nights.available,
          () => NaN,
        ),
      );
    },
  });
  new Gauge({
    name: 'hotelbooking_room_nights_total',
    help: `Room-nights on sale over the next ${AVAILABILITY_DAYS} days.`,
    registers: [metrics.registry],
    collect: async function (this: Gauge) {
      this.set(
        await read().then(
          (nights) => nights.total,
          () => NaN,
        ),
      );
    },
  });
}
