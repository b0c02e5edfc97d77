import {
  RedisCache,
  openService,
  type Infra,
  type Lifecycle,
  type Logger,
  type ReadinessCheck,
  type RunningServer,
} from '@platform/kit';
import { startApi } from './api.ts';
import { BookingService } from './bookings.ts';
import type { Config } from './config.ts';
import { HoldReleaser, InventoryExtender, startReleaserServer } from './hold-releaser.ts';
import { HoldKeys } from './holds.ts';
import { bookingMetrics } from './metrics.ts';
import { BookingStore } from './store/booking.store.ts';
import { HotelStore } from './store/hotel.store.ts';
import { migrate } from './store/migrations.ts';

export const ROLES = ['api', 'hold-releaser'] as const;
export type Role = (typeof ROLES)[number];

export interface RunningHotelBooking {
  servers: Partial<Record<Role, RunningServer>>;
  bookings: BookingService;
  releaser: HoldReleaser | undefined;
  infra: Infra;
  logger: Logger;
  lifecycle: Lifecycle;
  stop(): Promise<void>;
}

/**
 * Starts the chosen processes of the hotel booking system: the API, and the
 * hold releaser (expiry events, the sweeper, and the nights opened ahead).
 * Each is its own process in a cluster; embedded mode runs both here.
 */
export async function runHotelBooking(config: Config, roles: Role[]): Promise<RunningHotelBooking> {
  const { logger, metrics, lifecycle, infra } = openService('hotel-booking', roles, config);

  await migrate(infra.relational);
  const hotels = new HotelStore(infra.relational);
  const readiness: Record<string, ReadinessCheck> = {
    relational: infra.readiness.relational!,
    cache: infra.readiness.cache!,
  };
  const holdCache = config.HOLD_REDIS_URL
    ? new RedisCache({ url: config.HOLD_REDIS_URL, prefix: config.NAME_PREFIX })
    : infra.cache;
  if (holdCache !== infra.cache) {
    lifecycle.onShutdown('hold-cache', () => holdCache.close());
    readiness.holdCache = () => holdCache.ping();
  }
  const holds = new HoldKeys(holdCache, logger);
  const bookings = new BookingService({
    hotels,
    bookings: new BookingStore(infra.relational),
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
  let releaser: HoldReleaser | undefined;

  if (roles.includes('hold-releaser')) {
    const extender = new InventoryExtender(hotels, config.INVENTORY_DAYS, logger);
    extender.start();
    lifecycle.onShutdown('inventory', () => extender.close());
    releaser = new HoldReleaser({
      bookings,
      holds,
      logger,
      notifications: config.HOLD_NOTIFICATIONS,
      sweepIntervalMs: config.SWEEP_INTERVAL_MS,
      sweepBatch: config.SWEEP_BATCH,
    });
    await releaser.start();
    lifecycle.onShutdown('hold-releaser', () => releaser!.close());
    // In one process with the API, the API's port answers for both.
    if (!roles.includes('api')) {
      const server = await startReleaserServer({
        port: config.RELEASER_PORT,
        logger,
        metrics,
        readiness,
      });
      servers['hold-releaser'] = server;
      lifecycle.onShutdown('hold-releaser-http', () => server.close());
    }
  }

  if (roles.includes('api')) {
    const server = await startApi({
      port: config.PORT,
      logger,
      metrics,
      cache: infra.cache,
      readiness,
      hotels,
      bookings,
      inventoryDays: config.INVENTORY_DAYS,
    });
    servers.api = server;
    lifecycle.onShutdown('api', () => server.close());
  }

  return {
    servers,
    bookings,
    releaser,
    infra,
    logger,
    lifecycle,
    stop: () => lifecycle.shutdown(),
  };
}
