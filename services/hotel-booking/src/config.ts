import { z } from 'zod';
import { env, infraSchema, loadConfig, parseConfig, telemetrySchema } from '@platform/kit';
import { DEFAULT_PAYMENT_SECRET } from './domain/payment-signature.ts';

/** Every variable the hotel booking processes read, validated once at start. */
export const configSchema = z.object({
  ...infraSchema.shape,
  ...telemetrySchema.shape,
  PORT: env.port(8082),
  RELEASER_PORT: env.port(9111),
  RELAY_PORT: env.port(9112),
  NOTIFIER_PORT: env.port(9113),
  ARCHIVER_PORT: env.port(9114),
  SEARCH_INDEXER_PORT: env.port(9115),
  HOLD_TTL_MS: env.positiveInt(300_000).pipe(z.number().min(100).max(86_400_000)),
  LATE_PAYMENT_POLICY: z.enum(['rereserve', 'refund']).default('rereserve'),
  HOLD_NOTIFICATIONS: env.bool(true),
  /** A Redis for hold keys alone, where few keys carry a TTL (see the system's page). */
  HOLD_REDIS_URL: z
    .url({ protocol: /^rediss?$/, hostname: /./, message: 'expected redis://host:port[/db]' })
    .optional(),
  SWEEP_INTERVAL_MS: env.positiveInt(5_000).pipe(z.number().min(50).max(3_600_000)),
  SWEEP_BATCH: env.positiveInt(200).pipe(z.number().max(10_000)),
  INVENTORY_DAYS: env.positiveInt(365).pipe(z.number().max(1_100)),
  /** Nights that ended this many days before the first on sale are deleted (the hold releaser). */
  PAST_NIGHTS_KEPT_DAYS: env.positiveInt(30).pipe(z.number().max(3_650)),
  MAX_NIGHTS: env.positiveInt(30).pipe(z.number().max(365)),
  /** Shared with the payment provider, which signs its callbacks with it. */
  PAYMENT_WEBHOOK_SECRET: z
    .string()
    .min(16, 'must be at least 16 characters')
    .default(DEFAULT_PAYMENT_SECRET),
  EVENT_PARTITIONS: env.positiveInt(6).pipe(z.number().max(256)),
  RELAY_INTERVAL_MS: env.positiveInt(250).pipe(z.number().min(10).max(60_000)),
  RELAY_BATCH: env.positiveInt(500).pipe(z.number().max(5_000)),
  ARCHIVE_INTERVAL_MS: env.positiveInt(60_000).pipe(z.number().min(100).max(86_400_000)),
  ARCHIVE_BATCH: env.positiveInt(200).pipe(z.number().max(5_000)),
  /** How long a cancelled booking stays in MySQL before it is archived (7 days). */
  ARCHIVE_CANCELLED_AFTER_MS: env.positiveInt(604_800_000),
});

export type Config = z.infer<typeof configSchema>;

export function readConfig(environment: Record<string, string | undefined> = process.env): Config {
  return loadConfig(configSchema, environment);
}

/** Like readConfig, but a bad value throws instead of ending the process (for tests). */
export function parseHotelConfig(environment: Record<string, string | undefined>): Config {
  return parseConfig(configSchema, environment);
}
