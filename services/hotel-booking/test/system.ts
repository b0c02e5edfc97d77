import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { MysqlRelational, SqliteRelational, type Relational } from '@platform/kit';
import {
  dropSearchIndexes,
  dropTopics,
  scratchDatabase,
  serverAddress,
} from '@platform/kit/testing';
import { parseHotelConfig, runHotelBooking, type RunningHotelBooking } from '../src/index.ts';
import type { Role } from '../src/service.ts';
import {
  DEFAULT_PAYMENT_SECRET,
  paymentSignature,
  SIGNATURE_HEADER,
  type SignedPayment,
} from '../src/domain/payment-signature.ts';
import { addDays, nightsOf, todayIn, type CalendarDate } from '../src/domain/dates.ts';
import { freePort } from '@platform/kit/testing';

export { freePort };

/**
 * Which servers a suite runs on. `mysql+redis` and `mysql+cluster` are the
 * real servers the booking transaction and the holds use (a scratch MySQL
 * database and a key prefix of its own each), with the event log and the
 * archive embedded; `all-real` adds Kafka and Cassandra; `embedded` is SQLite
 * and the in-process cache and log.
 */
export type Servers = 'mysql+redis' | 'mysql+cluster' | 'all-real' | 'embedded';

/** Where a suite's data lives; open() gives a store on it for setup and checks. */
export interface Storage {
  env: Record<string, string>;
  open(): Relational;
  drop(): Promise<void>;
}

export async function storage(
  servers: Servers,
  options: { holdDatabase?: number } = {},
): Promise<Storage> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hotel-booking-'));
  if (servers === 'embedded') {
    return {
      env: { DATA_DIR: dataDir },
      open: () => new SqliteRelational(join(dataDir, 'relational.sqlite')),
      drop: async () => undefined,
    };
  }
  const database = await scratchDatabase('hotel_test');
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    MYSQL_URL: database.url,
    NAME_PREFIX: `hotel-test-${randomBytes(4).toString('hex')}.`,
  };
  if (servers === 'mysql+cluster') env.REDIS_CLUSTER_NODES = serverAddress('REDIS_CLUSTER_NODES');
  else env.REDIS_URL = serverAddress('REDIS_URL');
  if (servers === 'all-real') {
    env.KAFKA_BROKERS = serverAddress('KAFKA_BROKERS');
    env.CASSANDRA_CONTACT_POINTS = serverAddress('CASSANDRA_CONTACT_POINTS');
    // Rows are keyed by ids and users each suite makes up, so suites can share it.
    env.CASSANDRA_KEYSPACE = 'hotel_booking_test';
    env.OPENSEARCH_URL = serverAddress('OPENSEARCH_URL');
  }
  if (options.holdDatabase !== undefined) {
    const url = new URL(serverAddress('REDIS_URL'));
    url.pathname = `/${options.holdDatabase}`;
    env.HOLD_REDIS_URL = url.toString();
  }
  return {
    env,
    open: () => new MysqlRelational(database.url),
    drop: async () => {
      await Promise.all([
        database.drop(),
        forgetKeys(env),
        env.KAFKA_BROKERS ? dropTopics(env.NAME_PREFIX!) : undefined,
        env.OPENSEARCH_URL ? dropSearchIndexes(env.NAME_PREFIX!) : undefined,
      ]);
    },
  };
}

/**
 * Deletes the keys a suite left under its prefix. Idempotency records live a
 * day, and every key with a time to live slows the server's search for
 * expired keys, which is what the hold expiry events wait on.
 */
export async function forgetKeys(env: Record<string, string>): Promise<void> {
  const servers: Redis[] = [];
  let cluster: Cluster | undefined;
  if (env.REDIS_URL) servers.push(new Redis(env.REDIS_URL));
  if (env.HOLD_REDIS_URL) servers.push(new Redis(env.HOLD_REDIS_URL));
  if (env.REDIS_CLUSTER_NODES) {
    cluster = new Cluster(
      env.REDIS_CLUSTER_NODES.split(',').map((node) => {
        const [host, port] = node.split(':');
        return { host: host!, port: Number(port) };
      }),
    );
    await cluster.ping();
    servers.push(...cluster.nodes('master'));
  }
  for (const server of servers) {
    for await (const keys of server.scanStream({ match: `${env.NAME_PREFIX}*`, count: 1000 })) {
      // One key per command: in a cluster, keys of different slots cannot share one.
      await Promise.all((keys as string[]).map((key) => server.unlink(key)));
    }
  }
  await Promise.all(servers.filter((s) => !cluster?.nodes().includes(s)).map((s) => s.quit()));
  await cluster?.quit();
}

export interface TestSystem {
  url: string;
  running: RunningHotelBooking;
  stop(): Promise<void>;
}

/** The whole system in this process, on a free port, with the given settings. */
export async function startSystem(
  data: Storage,
  settings: Record<string, string> = {},
  roles: Role[] = ['api', 'hold-releaser'],
): Promise<TestSystem> {
  const port = await freePort();
  const config = parseHotelConfig({
    LOG_LEVEL: 'warn',
    INVENTORY_DAYS: '60',
    ...data.env,
    ...settings,
    PORT: String(port),
    RELEASER_PORT: String(await freePort()),
    RELAY_PORT: String(await freePort()),
    NOTIFIER_PORT: String(await freePort()),
    ARCHIVER_PORT: String(await freePort()),
    SEARCH_INDEXER_PORT: String(await freePort()),
  });
  const running = await runHotelBooking(config, roles);
  return { url: `http://127.0.0.1:${port}`, running, stop: () => running.stop() };
}

/** A date `days` after today in UTC, the test hotels' time zone. */
export function inDays(days: number): CalendarDate {
  return addDays(todayIn('UTC', Date.now()), days);
}

export interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/** A JSON client for the API. */
export function client(base: string) {
  const call = async <T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer<T>> => {
    const response = await fetch(base + path, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  return {
    get: <T = Record<string, unknown>>(path: string, headers?: Record<string, string>) =>
      call<T>('GET', path, undefined, headers),
    post: <T = Record<string, unknown>>(
      path: string,
      body?: unknown,
      headers?: Record<string, string>,
    ) => call<T>('POST', path, body, headers),
    put: <T = Record<string, unknown>>(path: string, body: unknown) => call<T>('PUT', path, body),
    /** The payment provider's callback, signed as the provider signs it. */
    pay: <T = Record<string, unknown>>(
      bookingId: string,
      body: Record<string, unknown>,
      secret = DEFAULT_PAYMENT_SECRET,
    ) =>
      call<T>('POST', `/bookings/${bookingId}/payment`, body, {
        [SIGNATURE_HEADER]: paymentSignature(secret, bookingId, body as unknown as SignedPayment),
      }),
  };
}

/** Creates a hotel (UTC) with room types of the given quantities; returns the room ids. */
export async function hotelWithRooms(
  base: string,
  rooms: { id: string; quantity: number; minPrice?: number; maxPrice?: number }[],
): Promise<{ hotelId: string; roomIds: string[] }> {
  const api = client(base);
  const hotel = await api.post<{ id: string }>('/hotels', {
    name: 'Test Hotel',
    locality: 'Porto',
    facilities: ['wifi'],
  });
  if (hotel.status !== 201) throw new Error(`hotel not created: ${JSON.stringify(hotel.body)}`);
  for (const room of rooms) {
    const put = await api.put(`/hotels/${hotel.body.id}/rooms/${room.id}`, {
      quantity: room.quantity,
      minPrice: room.minPrice ?? 10_000,
      maxPrice: room.maxPrice ?? 20_000,
    });
    if (put.status !== 201) throw new Error(`room not created: ${JSON.stringify(put.body)}`);
  }
  return { hotelId: hotel.body.id, roomIds: rooms.map((room) => room.id) };
}

/**
 * The invariant, per room and night: the rooms the test put on sale equal
 * the rooms still available plus those held by RESERVED or BOOKED bookings.
 * Returns one line per night where it does not hold.
 */
export async function inventoryProblems(
  db: Relational,
  initial: Map<string, number>,
): Promise<string[]> {
  const rooms = [...initial.keys()];
  const marks = rooms.map(() => '?').join(', ');
  const nights = await db.query<{ room_id: string; night: string; available_quantity: number }>(
    `SELECT room_id, night, available_quantity FROM room_availability WHERE room_id IN (${marks})`,
    rooms,
  );
  const holding = await db.query<{
    room_id: string;
    start_date: string;
    end_date: string;
    quantity: number;
  }>(
    'SELECT room_id, start_date, end_date, quantity FROM bookings ' +
      `WHERE status IN ('RESERVED', 'BOOKED') AND room_id IN (${marks})`,
    rooms,
  );
  const held = new Map<string, number>();
  for (const booking of holding) {
    for (const night of nightsOf(booking.start_date, booking.end_date)) {
      const key = `${booking.room_id} ${night}`;
      held.set(key, (held.get(key) ?? 0) + Number(booking.quantity));
    }
  }

  const problems: string[] = [];
  for (const row of nights) {
    const key = `${row.room_id} ${row.night}`;
    const total = Number(row.available_quantity) + (held.get(key) ?? 0);
    if (total !== initial.get(row.room_id)) {
      problems.push(
        `${key}: put on sale ${initial.get(row.room_id)}, ` +
          `available ${row.available_quantity}, held ${held.get(key) ?? 0}`,
      );
    }
  }
  return problems;
}

/** Cancelled bookings whose payment has no refund recorded. */
export async function paidAndCancelledWithoutRefund(db: Relational): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    'SELECT b.id FROM bookings b ' +
      "WHERE b.status = 'CANCELLED' AND b.payment_reference IS NOT NULL " +
      'AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.booking_id = b.id ' +
      'AND r.payment_reference = b.payment_reference)',
  );
  return rows.map((row) => row.id);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
