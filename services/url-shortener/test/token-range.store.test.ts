import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MemoryCache,
  MysqlRelational,
  RedisCache,
  SqliteRelational,
  type Cache,
  type Relational,
} from '@platform/kit';
import { serverAddress } from '@platform/kit/testing';
import {
  CodeSpaceExhausted,
  RedisRangeAllocator,
  RelationalRangeAllocator,
  type CounterRange,
  type RangeAllocator,
} from '../src/store/token-range.store.ts';

/** Two allocators on one store stand for two token service replicas. */
type Replicas = { allocators: [RangeAllocator, RangeAllocator]; close: () => Promise<void> };

const counter = () => `test-${randomBytes(4).toString('hex')}`;

async function relational(open: () => Relational, capacity: number): Promise<Replicas> {
  const name = counter();
  const dbs = [open(), open()];
  const allocators = dbs.map((db) => new RelationalRangeAllocator(db, capacity, name));
  await Promise.all(allocators.map((a) => a.init()));
  return {
    allocators: [allocators[0]!, allocators[1]!],
    close: async () => {
      await Promise.all(dbs.map((db) => db.close()));
    },
  };
}

async function redis(open: () => Cache, capacity: number): Promise<Replicas> {
  const key = counter();
  const caches = [open(), open()];
  const allocators = caches.map((c) => new RedisRangeAllocator(c, capacity, key));
  return {
    allocators: [allocators[0]!, allocators[1]!],
    close: async () => {
      await Promise.all(caches.map((c) => c.close()));
    },
  };
}

const shared = new MemoryCache();
const sqlitePath = join(tmpdir(), `token-ranges-${randomBytes(4).toString('hex')}.sqlite`);

describe.each([
  [
    'mysql',
    (capacity: number) =>
      relational(() => new MysqlRelational(serverAddress('MYSQL_URL')), capacity),
  ],
  ['sqlite', (capacity: number) => relational(() => new SqliteRelational(sqlitePath), capacity)],
  [
    'redis',
    (capacity: number) =>
      redis(() => new RedisCache({ url: serverAddress('REDIS_URL') }), capacity),
  ],
  ['in-process cache', (capacity: number) => redis(() => shared, capacity)],
])('token ranges on %s', (_name, replicas) => {
  it('hands concurrent replicas disjoint ranges that cover the counter without gaps', async () => {
    const { allocators, close } = await replicas(1e9);
    const leases: CounterRange[] = await Promise.all(
      Array.from({ length: 60 }, (_, i) => allocators[i % 2]!.lease(7 + (i % 5), `holder-${i}`)),
    );
    await close();

    const sorted = [...leases].sort((a, b) => a.start - b.start);
    expect(sorted[0]!.start).toBe(0);
    for (let i = 1; i < sorted.length; i += 1) expect(sorted[i]!.start).toBe(sorted[i - 1]!.end);
    for (const lease of leases) expect(lease.end).toBeGreaterThan(lease.start);
  });

  it('refuses to lease past the code space', async () => {
    const { allocators, close } = await replicas(25);
    const first = await allocators[0].lease(20, 'a');
    const last = await allocators[1].lease(20, 'b');
    await expect(allocators[0].lease(20, 'c')).rejects.toBeInstanceOf(CodeSpaceExhausted);
    await close();
    expect(first).toEqual({ start: 0, end: 20 });
    expect(last).toEqual({ start: 20, end: 25 });
  });
});
