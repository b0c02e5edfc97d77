import { existsSync } from 'node:fs';
import { z } from 'zod';
import { planCodeLength } from './domain/code-length.ts';
import { env, infraSchema, loadConfig, telemetrySchema } from '@platform/kit';

/** Public, so codes made with it are predictable: fine on a laptop, not in a deployment. */
export const DEFAULT_CODE_SECRET = 'embedded-development-secret';

/** Every variable the URL shortener's processes read, validated once at start. */
export const configSchema = z
  .object({
    ...infraSchema.shape,
    ...telemetrySchema.shape,
    PORT: env.port(8081),
    // Defaults to http://localhost:<PORT>.
    PUBLIC_BASE_URL: z
      .url({ protocol: /^https?$/, hostname: /./, message: 'expected an http(s) URL' })
      .optional(),
    WRITE_RPS: env.number(1160).pipe(z.number().positive()),
    RETENTION_DAYS: env.number(3650).pipe(z.number().positive()),
    CODE_SECRET: z.string().min(8).default(DEFAULT_CODE_SECRET),
    REDIRECT_STATUS: z.enum(['301', '302']).default('301').transform(Number),
    REDIRECT_MAX_AGE: z.coerce.number().int().min(0).default(0),
    MAX_URL_LENGTH: env.positiveInt(2048),
    BLOCKED_HOSTS: env.list().default([]),
    SELF_HOSTS: env.list().default([]),
    CREATE_RATE_LIMIT: env.positiveInt(600),
    CREATE_RATE_WINDOW_SECONDS: env.positiveInt(60),
    TRUST_PROXY: z
      .string()
      .transform((value) =>
        value === 'true'
          ? true
          : value === 'false'
            ? false
            : /^\d+$/.test(value)
              ? Number(value)
              : value,
      )
      .optional(),
    TOKEN_ALLOCATOR: z.enum(['mysql', 'redis']).default('mysql'),
    TOKEN_SERVICE_URLS: env.list().pipe(z.array(z.url())).optional(),
    TOKEN_SERVICE_PORT: env.port(9101),
    LEASE_SIZE: env.positiveInt(1000).pipe(z.number().max(100_000)),
    AGGREGATOR_PORT: env.port(9103),
    CLICK_FLUSH_MS: env.positiveInt(2000).pipe(z.number().max(3_600_000)),
    CLICK_FLUSH_SIZE: env.positiveInt(20_000),
    COUNTRY_HEADER: z.string().toLowerCase().optional(),
    GEOIP_DB: z
      .string()
      .refine((path) => existsSync(path), { message: 'no such file' })
      .optional(),
    NEAR_CACHE_SIZE: env.positiveInt(10_000),
    NEAR_CACHE_TTL_MS: env.positiveInt(60_000),
  })
  .superRefine((config, ctx) => {
    try {
      planCodeLength(config.WRITE_RPS, config.RETENTION_DAYS * 24 * 3600);
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['WRITE_RPS'], message: (error as Error).message });
    }
  });

export type Config = z.infer<typeof configSchema> & { PUBLIC_BASE_URL: string };

export function readConfig(environment: Record<string, string | undefined> = process.env): Config {
  const config = loadConfig(configSchema, environment);
  return {
    ...config,
    PUBLIC_BASE_URL: config.PUBLIC_BASE_URL ?? `http://localhost:${config.PORT}`,
  };
}
