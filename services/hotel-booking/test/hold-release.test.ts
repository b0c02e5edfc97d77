import { randomUUID } from 'node:crypto';
import { addDays } from '../src/domain/dates.ts';
import {
  client,
  hotelWithRooms,
  inDays,
  sleep,
  startSystem,
  storage,
  type Servers,
  type Storage,
  type TestSystem,
} from './system.ts';

const HOLDS = 12;

interface Hold {
  id: string;
  userId: string;
  expiresAt: number;
}

/** One hold per night on a single room, so each blocks its night until released. */
async function placeHolds(system: TestSystem): Promise<{ roomId: string; holds: Hold[] }> {
  const api = client(system.url);
  const roomId = `held-${randomUUID().slice(0, 8)}`;
  await hotelWithRooms(system.url, [{ id: roomId, quantity: 1 }]);
  const holds = await Promise.all(
    Array.from({ length: HOLDS }, async (_, i) => {
      const userId = `holder-${i}`;
      const night = inDays(1 + i);
      const answer = await api.post<{ id: string; expiresAt: string }>(
        '/bookings',
        { userId, roomId, quantity: 1, startDate: night, endDate: addDays(night, 1) },
        { 'idempotency-key': randomUUID() },
      );
      if (answer.status !== 201) throw new Error(`not held: ${JSON.stringify(answer.body)}`);
      return { id: answer.body.id, userId, expiresAt: Date.parse(answer.body.expiresAt) };
    }),
  );
  return { roomId, holds };
}

/** Milliseconds from each hold's expiry until the API showed it released, or -1. */
async function releaseDelays(system: TestSystem, holds: Hold[], giveUpMs: number) {
  const api = client(system.url);
  return Promise.all(
    holds.map(async (hold) => {
      while (Date.now() < hold.expiresAt + giveUpMs) {
        const answer = await api.get<{ status: string; cancelReason: string }>(
          `/bookings/${hold.id}?userId=${hold.userId}`,
        );
        if (answer.body.status === 'CANCELLED') {
          expect(answer.body.cancelReason).toBe('expired');
          return Math.max(0, Date.now() - hold.expiresAt);
        }
        await sleep(50);
      }
      return -1;
    }),
  );
}

/** hotelbooking_holds_released_total for expired holds, by trigger, from /metrics. */
async function releasedBy(system: TestSystem): Promise<Record<string, number>> {
  const text = await (await fetch(`${system.url}/metrics`)).text();
  const counts: Record<string, number> = {};
  const line = /^hotelbooking_holds_released_total\{([^}]*)\} (\d+)$/gm;
  for (const [, labels, value] of text.matchAll(line)) {
    if (!labels!.includes('reason="expired"')) continue;
    counts[/trigger="([^"]+)"/.exec(labels!)![1]!] = Number(value);
  }
  return counts;
}

describe.each<[string, Servers]>([
  ['Redis', 'mysql+redis'],
  ['the in-process cache', 'embedded'],
])('hold expiry events from %s', (_name, servers) => {
  let data: Storage;
  let system: TestSystem;

  beforeAll(async () => {
    // Hold keys in a Redis database of their own, where they are the only keys with a TTL.
    data = await storage(servers, { holdDatabase: 1 + Math.floor(Math.random() * 15) });
    // A sweeper that would not run for a minute: only the events can release in time.
    system = await startSystem(data, { HOLD_TTL_MS: '1000', SWEEP_INTERVAL_MS: '60000' });
  });
  afterAll(async () => {
    await system.stop();
    await data.drop();
  });

  it('release holds within moments of their expiry', async () => {
    const { holds } = await placeHolds(system);

    const delays = await releaseDelays(system, holds, 5_000);

    expect(delays.filter((delay) => delay < 0 || delay > 3_000)).toEqual([]);
    expect(await releasedBy(system)).toEqual({ notification: HOLDS });
  }, 30_000);
});

describe.each<[string, Servers]>([
  ['Redis', 'mysql+redis'],
  ['Redis Cluster', 'mysql+cluster'],
  ['the in-process cache', 'embedded'],
])('holds on %s with the expiry subscriber gone', (_name, servers) => {
  let data: Storage;
  let system: TestSystem;

  beforeAll(async () => {
    data = await storage(servers);
    system = await startSystem(data, { HOLD_TTL_MS: '500', SWEEP_INTERVAL_MS: '300' });
    await system.running.releaser!.stopNotifications();
  });
  afterAll(async () => {
    await system.stop();
    await data.drop();
  });

  it('are released by the sweeper, and their rooms sell again', async () => {
    const { roomId, holds } = await placeHolds(system);

    const delays = await releaseDelays(system, holds, 5_000);

    expect(delays.filter((delay) => delay < 0 || delay > 2_000)).toEqual([]);
    expect(await releasedBy(system)).toEqual({ sweeper: HOLDS });
    const night = inDays(1);
    const again = await client(system.url).post(
      '/bookings',
      { userId: 'next-guest', roomId, quantity: 1, startDate: night, endDate: addDays(night, 1) },
      { 'idempotency-key': randomUUID() },
    );
    expect(again.status).toBe(201);
  }, 30_000);
});
