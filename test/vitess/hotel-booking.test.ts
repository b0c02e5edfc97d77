/**
 * Hotel booking's SQL against Vitess's own query planner (vtexplain, built by
 * scripts/tools.sh), with no cluster: the stores run for real on SQLite behind
 * a recorder that says it is MySQL, every statement they send is recorded with
 * its parameters, and vtexplain plans the recording against the migrations'
 * final schema and charts/hotel-booking/vschema.json on four shards. Every
 * transaction must reach one shard, and only the reads docs/systems/hotel-booking.md
 * names may reach several.
 */
import { readFileSync } from 'node:fs';
import { createLogger, createMetrics, MemoryEventLog, SqliteRelational } from '@platform/kit';
import {
  BookingStore,
  type ReserveRequest,
} from '../../services/hotel-booking/src/store/booking.store.ts';
import { HotelStore } from '../../services/hotel-booking/src/store/hotel.store.ts';
import { migrate, MIGRATIONS } from '../../services/hotel-booking/src/store/migrations.ts';
import { EventRelay } from '../../services/hotel-booking/src/workers/event-relay.ts';
import { ROOT } from '../observability/tools.ts';
import {
  finalSchema,
  inline,
  lookupTables,
  RecordingRelational,
  vtexplain,
  type Explained,
  type KeyspaceVSchema,
  type Unit,
} from './vtexplain.ts';

const KEYSPACE = 'hotel_booking';
const SHARDS = 4;
const VSCHEMA = JSON.parse(
  readFileSync(`${ROOT}charts/hotel-booking/vschema.json`, 'utf8'),
) as KeyspaceVSchema;
const LOOKUP_TABLES = new Set(
  Object.values(VSCHEMA.vindexes)
    .filter((vindex) => vindex.type.includes('lookup'))
    .map((vindex) => vindex.params!.table!.split('.').at(-1)!),
);

/**
 * The reads that may reach several shards, as docs/systems/hotel-booking.md names them. The
 * search-date check is routed by hotel id through rooms_hotel_lookup: one shard per room type.
 */
const MULTI_SHARD_READS = [
  'sweeper',
  'relay',
  'archiver',
  'inventory extension',
  'retiring nights',
  'search indexer start',
  'availability gauge',
];

/** Every transaction the stores run, which must each stay on one shard. */
const TRANSACTIONS = [
  'createHotel',
  'updateHotel',
  'putRoom (new)',
  'putRoom (quantity changed)',
  'reserve',
  // A retried booking: the INSERT meets the request key's UNIQUE and the transaction rolls back.
  'reserve replayed',
  'confirm',
  'cancelBooked',
  'release (cancelled)',
  'release (expired)',
  'rereserve (booked)',
  'rereserve (refunded)',
  'recordRefund',
  'inventory extension',
  'retiring nights',
];

function schema(): string[] {
  const tables = finalSchema(MIGRATIONS);
  return [...tables.values(), ...lookupTables(VSCHEMA, tables)];
}

/** The table a query sent to a shard reads or writes. */
function tableOf(sql: string): string | undefined {
  return /\b(?:from|into|update)\s+`?(\w+)`?/i.exec(sql)?.[1];
}

const DATA = /^\s*(select|insert|update|delete)\b/i;

/**
 * The shards the unit's own statements reach, lookup-table traffic aside.
 * Consistent lookup vindexes read and write their tables in sessions of their
 * own, committed before (writes, locking reads) or after (deletes) the
 * transaction, which is how Vitess keeps them out of it. vtexplain's stand-in
 * tablets answer a lookup with a made-up keyspace id, so a statement routed by
 * bookings.id is counted on the shard its booking's INSERT went to: the
 * lookup row holds that row's keyspace id, which is its room's.
 */
function shardsOf(explains: Explained[], bookingShard: Map<string, string>): Set<string> {
  const shards = new Set<string>();
  for (const explain of explains) {
    const lookedUp = new Set<string>();
    for (const queries of explain.shards.values()) {
      for (const sql of queries) {
        const id = /from bookings_id_lookup where id in \('([^']+)'\)/.exec(sql)?.[1];
        if (id) lookedUp.add(id);
      }
    }
    if (lookedUp.size > 1) throw new Error(`several bookings looked up in ${explain.sql}`);
    const [bookingId] = lookedUp;
    for (const [tablet, queries] of explain.shards) {
      const shard = tablet.split('/')[1]!;
      for (const sql of queries) {
        if (!DATA.test(sql) || LOOKUP_TABLES.has(tableOf(sql) ?? '')) continue;
        const inserted = /^insert into bookings\(id, [^)]*\) values \('([^']+)'/.exec(sql)?.[1];
        if (inserted) bookingShard.set(inserted, shard);
        if (bookingId === undefined) {
          shards.add(shard);
        } else {
          const real = bookingShard.get(bookingId);
          if (!real) throw new Error(`booking ${bookingId} read before it was inserted`);
          shards.add(real);
        }
      }
    }
  }
  return shards;
}

interface Routed {
  unit: Unit;
  shards: Set<string>;
}

/** Plans every unit in one vtexplain session (transactions as BEGIN ... COMMIT). */
async function route(units: Unit[]): Promise<Routed[]> {
  const sql = units.flatMap((unit) => {
    const statements = unit.statements.map(inline);
    return unit.transaction ? ['begin', ...statements, 'commit'] : statements;
  });
  const explains = await vtexplain({
    keyspace: KEYSPACE,
    vschema: VSCHEMA,
    schema: schema(),
    sql,
    shards: SHARDS,
  });
  expect(explains).toHaveLength(sql.length);
  const bookingShard = new Map<string, string>();
  let at = 0;
  return units.map((unit) => {
    const count = unit.statements.length + (unit.transaction ? 2 : 0);
    const mine = explains.slice(at, at + count);
    at += count;
    return { unit, shards: shardsOf(mine, bookingShard) };
  });
}

/** Runs every store method and worker query once, recorded and labelled. */
async function record(): Promise<RecordingRelational> {
  const sqlite = new SqliteRelational(':memory:');
  await migrate(sqlite);
  const db = new RecordingRelational(sqlite);
  const hotels = new HotelStore(db);
  const bookings = new BookingStore(db);
  const now = Date.parse('2030-01-01T00:00:00Z');
  const window = { from: '2030-01-01', until: '2030-01-15' };
  const fields = {
    name: 'Harbour View',
    locality: 'Lisbon',
    facilities: ['wifi'],
    imageUrls: [],
    currency: 'EUR',
    timeZone: 'Europe/Lisbon',
  };
  const rates = { minPrice: 8000, maxPrice: 12000 };
  const stay = { startDate: '2030-01-03', endDate: '2030-01-06', currency: 'EUR', now };
  const request = (id: string, roomId: string, expiresAt: number): ReserveRequest => ({
    ...stay,
    id,
    userId: 'ann',
    roomId,
    quantity: 1,
    requestKey: `key-${id}`,
    expiresAt,
  });
  const payment = (n: number) => ({ reference: `pay-${n}`, invoiceId: `inv-${n}`, now: now + n });

  const hotel = await db.as('createHotel', () => hotels.createHotel(fields, now));
  await db.as('updateHotel', () =>
    hotels.updateHotel(hotel.id, { ...fields, name: 'Harbour' }, now),
  );
  await db.as('putRoom (new)', async () => {
    await hotels.putRoom(hotel.id, 'deluxe', { ...rates, quantity: 2 }, window, now);
    await hotels.putRoom(hotel.id, 'twin', { ...rates, quantity: 1 }, window, now);
  });
  await db.as('putRoom (quantity changed)', () =>
    hotels.putRoom(hotel.id, 'deluxe', { ...rates, quantity: 3 }, window, now),
  );

  // Paid, then cancelled: refunded.
  const paid = request('b-paid', 'deluxe', now + 600_000);
  await db.as('reserve', () => bookings.reserve(paid));
  await db.as('reserve replayed', () => bookings.reserve(paid));
  expect(await db.as('confirm', () => bookings.confirm(paid.id, payment(1)))).toBeDefined();
  expect(await db.as('cancelBooked', () => bookings.cancelBooked(paid.id, now + 2))).toBeDefined();
  const [booking] = await db.as('find', async () => [await bookings.find(paid.id)]);
  await db.as('recordRefund', () =>
    bookings.recordRefund(booking!, 'pay-twice', 'duplicate_payment', now + 3),
  );

  // Cancelled by the guest while held.
  await db.as('reserve', () => bookings.reserve(request('b-held', 'deluxe', now + 600_000)));
  const released = { now: now + 4, overdueOnly: false };
  expect(
    await db.as('release (cancelled)', () => bookings.release('b-held', 'cancelled', released)),
  ).toBeDefined();

  // Expired, paid late while the room is still free: booked again.
  await db.as('reserve', () => bookings.reserve(request('b-late', 'twin', now + 5)));
  expect(await db.as('sweeper', () => bookings.overdueHolds(now + 10, 100))).toEqual(['b-late']);
  const overdue = { now: now + 10, overdueOnly: true };
  expect(
    await db.as('release (expired)', () => bookings.release('b-late', 'expired', overdue)),
  ).toBeDefined();
  expect(
    await db.as('rereserve (booked)', () => bookings.rereserve('b-late', payment(11))),
  ).toMatchObject({ kind: 'booked' });

  // Expired, and the suite sold to someone else before the late payment: refunded.
  await db.as('cancelBooked', () => bookings.cancelBooked('b-late', now + 12));
  await db.as('reserve', () => bookings.reserve(request('b-lost', 'twin', now + 13)));
  await db.as('release (expired)', () =>
    bookings.release('b-lost', 'expired', { now: now + 14, overdueOnly: true }),
  );
  await db.as('reserve', () => bookings.reserve(request('b-other', 'twin', now + 600_000)));
  expect(
    await db.as('rereserve (refunded)', () => bookings.rereserve('b-lost', payment(15))),
  ).toMatchObject({ kind: 'refunded' });

  // Reads of the API, the workers and the gauges.
  await db.as('listByUser', async () => {
    await bookings.listByUser('ann', 20);
    await bookings.listByUser('ann', 20, { createdAt: now, id: 'b-paid' });
  });
  await db.as('refundsOf', () => bookings.refundsOf(booking!));
  await db.as('findHotel', () => hotels.findHotel(hotel.id));
  await db.as('roomsOf', () => hotels.roomsOf(hotel.id));
  await db.as('findRoom', () => hotels.findRoom('deluxe'));
  await db.as('availability', () => hotels.availability('deluxe', '2030-01-01', '2030-01-10'));
  await db.as('search indexer start', () => hotels.hotelIds('', 200));
  await db.as('search-date check', () =>
    hotels.hotelsWithFreeRooms([hotel.id, 'other-hotel'], '2030-01-03', '2030-01-06', 1),
  );
  await db.as('availability gauge', () => hotels.roomNights('2030-01-01', '2030-01-31'));
  await db.as('inventory extension', () =>
    hotels.extendInventory({ from: '2030-01-01', until: '2030-01-20' }),
  );
  await db.as('retiring nights', () => hotels.retireNights('2030-01-02'));
  await db.as('archiver', async () => {
    const due = await bookings.terminal(now + 1_000_000, '2030-02-01', 100);
    expect(due.length).toBeGreaterThan(0);
    for (const terminal of due) await bookings.removeArchived(terminal);
  });
  const relay = new EventRelay({
    db,
    eventLog: new MemoryEventLog(),
    logger: createLogger('vtexplain-test', 'silent'),
    metrics: createMetrics('vtexplain-test'),
    intervalMs: 3_600_000,
    batchSize: 500,
    partitions: 1,
  });
  await db.as('relay', async () => {
    await relay.start();
    await relay.flush();
    await relay.close();
  });
  await sqlite.close();
  return db;
}

let routed: Routed[];

beforeAll(async () => {
  const db = await record();
  routed = await route(db.units);
}, 120_000);

describe('hotel booking on Vitess (vtexplain, 4 shards)', () => {
  test('the generated schema has every table the VSchema shards', () => {
    const tables = new Set(schema().map((ddl) => /^CREATE TABLE (\w+)/.exec(ddl)![1]));
    expect([...tables].sort()).toEqual(Object.keys(VSCHEMA.tables).sort());
  });

  test('every transaction reaches one shard', () => {
    const transactions = routed.filter((entry) => entry.unit.transaction);
    const labels = new Set(transactions.map((entry) => entry.unit.label));
    expect([...labels].sort()).toEqual([...TRANSACTIONS].sort());
    const crossing = transactions
      .filter((entry) => entry.shards.size !== 1)
      .map((entry) => `${entry.unit.label}: ${[...entry.shards].join(', ') || 'none'}`);
    expect(crossing).toEqual([]);
  });

  test('a booking and everything it leads to stay on its room type’s shard', () => {
    const shardOf = (label: string) =>
      new Set(routed.filter((e) => e.unit.label === label).flatMap((e) => [...e.shards]));
    // deluxe: the paid booking, its refund, the guest's cancellation of a hold.
    const deluxe = ['confirm', 'recordRefund', 'release (cancelled)'];
    const reached = new Set(deluxe.flatMap((label) => [...shardOf(label)]));
    expect(reached.size).toBe(1);
    expect(shardOf('putRoom (quantity changed)')).toEqual(reached);
  });

  test('only the reads the docs name reach several shards', () => {
    const multi = routed.filter((entry) => !entry.unit.transaction && entry.shards.size > 1);
    const labels = [...new Set(multi.map((entry) => entry.unit.label))].sort();
    expect(labels).toEqual([...MULTI_SHARD_READS].sort());
  });

  test('a transaction touching two rooms on two shards is caught', async () => {
    const take = (room: string) => ({
      sql:
        'UPDATE room_availability SET available_quantity = available_quantity - ? ' +
        'WHERE room_id = ? AND night >= ? AND night < ?',
      params: [1, room, '2030-01-03', '2030-01-06'],
    });
    const [one, both] = await route([
      { label: 'one room', transaction: true, statements: [take('deluxe'), take('deluxe')] },
      { label: 'two rooms', transaction: true, statements: [take('deluxe'), take('twin')] },
    ]);
    expect(one!.shards.size).toBe(1);
    expect(both!.shards.size).toBe(2);
  });
});
