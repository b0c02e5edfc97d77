import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { env, infraSchema, loadConfig, parseConfig, telemetrySchema } from '@platform/kit';
import { ROUTERS, type RouterKind } from './routers.ts';

/**
 * Where the extracts are looked for by default: the repository's own `data/osm`, or the shared
 * data folder beside the repository (`<repo>/../shared/data/osm`), whichever exists.
 */
export function defaultOsmDir(): string {
  const candidates = ['../../../data/osm', '../../../../shared/data/osm'].map((relative) =>
    fileURLToPath(new URL(relative, import.meta.url)),
  );
  return candidates.find((dir) => existsSync(dir)) ?? candidates[0]!;
}

const routerKinds = Object.keys(ROUTERS) as [RouterKind, ...RouterKind[]];

/** Every variable the navigation service reads, validated once at start. */
export const configSchema = z
  .object({
    ...infraSchema.shape,
    ...telemetrySchema.shape,
    PORT: env.port(8084),
    /** The folder a relative OSM_FILE is found in. */
    OSM_DIR: z.string().default(defaultOsmDir),
    OSM_FILE: z.string().default('andorra.osm.pbf'),
    ROUTER: z.enum(routerKinds).default('overlay'),
    /** The extract's time zone: historical speeds are kept by its weekdays and hours. */
    TIME_ZONE: z
      .string()
      .default('Europe/Andorra')
      .refine(isTimeZone, { message: 'not an IANA time zone such as Europe/Andorra' }),
    /**
     * Routes kept for pairs asked again (least recently used out; cleared by traffic); 0 is off.
     * A route across Andorra with its steps holds about 50 kB of heap.
     */
    ROUTE_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(1000),
    /** A point farther than this from every road is refused. */
    SNAP_MAX_M: env.positiveInt(1000).pipe(z.number().max(50_000)),
    ETA_MAX_PAIRS: env.positiveInt(50).pipe(z.number().max(1000)),
    PLACES_MAX_LIMIT: env.positiveInt(50).pipe(z.number().max(100)),
    /** Off the route by more than this many metres… */
    DEVIATION_M: env.positiveInt(50).pipe(z.number().max(5000)),
    /** …for this many pings in a row, and the session reroutes. */
    DEVIATION_PINGS: env.positiveInt(3).pipe(z.number().max(100)),
    ARRIVAL_M: env.positiveInt(25).pipe(z.number().max(1000)),
    WS_MAX_MESSAGE_BYTES: env.positiveInt(4096).pipe(z.number().min(256).max(1_048_576)),
    /** A session sending this many unusable messages is closed. */
    WS_MAX_BAD_MESSAGES: env.positiveInt(5).pipe(z.number().max(1000)),
    WS_MAX_SESSIONS: env.positiveInt(1000).pipe(z.number().max(100_000)),
    /** Messages a session may send per second (a burst of as many); beyond, each is a bad one. */
    WS_MAX_MESSAGES_PER_S: env.positiveInt(20).pipe(z.number().max(10_000)),
    /** A client that leaves this many bytes of answers unread is cut off. */
    WS_MAX_BUFFERED_BYTES: env.positiveInt(1_048_576).pipe(z.number().min(4096).max(67_108_864)),
    /** Ping interval; a client that has not answered the last ping by the next is cut off. */
    WS_HEARTBEAT_MS: env.positiveInt(30_000).pipe(z.number().min(100).max(600_000)),
    /** A session that sends nothing for this long is closed, so silent ones cannot hold slots. */
    WS_IDLE_MS: env.positiveInt(300_000).pipe(z.number().min(1000).max(86_400_000)),
  })
  .superRefine((config, ctx) => {
    const file = osmFile(config);
    if (!existsSync(file)) {
      ctx.addIssue({
        code: 'custom',
        path: ['OSM_FILE'],
        message: `no such file ${file} (set OSM_FILE, or OSM_DIR for a relative name)`,
      });
    }
  });

export type Config = z.infer<typeof configSchema>;

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The extract's path: OSM_FILE as given when absolute, else inside OSM_DIR. */
export function osmFile(config: Pick<Config, 'OSM_DIR' | 'OSM_FILE'>): string {
  return isAbsolute(config.OSM_FILE) ? config.OSM_FILE : resolve(config.OSM_DIR, config.OSM_FILE);
}

export function readConfig(environment: Record<string, string | undefined> = process.env): Config {
  return loadConfig(configSchema, environment);
}

/** Like readConfig, but a bad value throws instead of ending the process (for tests). */
export function parseNavigationConfig(environment: Record<string, string | undefined>): Config {
  return parseConfig(configSchema, environment);
}
