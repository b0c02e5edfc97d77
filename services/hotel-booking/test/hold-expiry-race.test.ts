import { randomUUID } from 'node:crypto';
import type { Relational } from '@platform/kit';
import { addDays } from '../src/domain/dates.ts';
import {
  client,
  hotelWithRooms,
  inDays,
  inventoryProblems,
  paidAndCancelledWithoutRefund,
  sleep,
  startSystem,
  storage,
  type Storage,
  type TestSystem,
} from './system.ts';

const TRIALS = 500;
const HOLD_TTL_MS = 2_000;
const ROOM_TYPES = 25;
/** Trials start this far apart, so 500 of them overlap without all landing at once. */
const STAGGER_MS = 12;

interface Trial {
  roomId: string;
  night: string;
  /** The first guest's booking and what the API said to its payment. */
  first: { id: string; outcome: string; paidAfterMs: number };
  /** Whether the second guest got the room (and paid for it at once). */
  secondBooked: boolean;
}

/**
 * One room for one night. The first guest holds it for two seconds and pays
 * between 1.9 s and 2.1 s after booking; the second guest tries for the same
 * room from 1.9 s on and pays the moment a booking succeeds.
 */
async function trial(base: string, roomId: string, night: string, index: number): Promise<Trial> {
  const api = client(base);
  const stay = { roomId, quantity: 1, startDate: night, endDate: addDays(night, 1) };
  const booked = await api.post<{ id: string; createdAt: string }>(
    '/bookings',
    { ...stay, userId: `first-${index}` },
    { 'idempotency-key': randomUUID() },
  );
  if (booked.status !== 201) throw new Error(`first booking refused: ${JSON.stringify(booked)}`);
  const heldAt = Date.parse(booked.body.createdAt);
  const payAt = heldAt + HOLD_TTL_MS - 100 + Math.random() * 200;

  const payment = (async () => {
    await sleep(payAt - Date.now());
    const paidAfterMs = Date.now() - heldAt;
    const paid = await api.pay<{ outcome: string }>(booked.body.id, {
      status: 'succeeded',
      reference: `psp-first-${index}`,
    });
    if (paid.status !== 200) throw new Error(`payment not taken: ${JSON.stringify(paid)}`);
    return { id: booked.body.id, outcome: paid.body.outcome, paidAfterMs };
  })();

  const second = (async () => {
    await sleep(heldAt + HOLD_TTL_MS - 100 + Math.random() * 200 - Date.now());
    const deadline = heldAt + HOLD_TTL_MS + 1_500;
    while (Date.now() < deadline) {
      const attempt = await api.post<{ id: string }>(
        '/bookings',
        { ...stay, userId: `second-${index}` },
        { 'idempotency-key': randomUUID() },
      );
      if (attempt.status === 201) {
        const paid = await api.pay<{ outcome: string }>(attempt.body.id, {
          status: 'succeeded',
          reference: `psp-second-${index}`,
        });
        return paid.body.outcome === 'booked';
      }
      await sleep(100);
    }
    return false;
  })();

  const [first, secondBooked] = await Promise.all([payment, second]);
  return { roomId, night, first, secondBooked };
}

describe('a payment racing its hold expiry', () => {
  let data: Storage;
  let db: Relational;
  let rereserving: TestSystem;
  let refunding: TestSystem;

  beforeAll(async () => {
    data = await storage('mysql+redis');
    db = data.open();
    const settings = { HOLD_TTL_MS: String(HOLD_TTL_MS), SWEEP_INTERVAL_MS: '250' };
    rereserving = await startSystem(data, { ...settings, LATE_PAYMENT_POLICY: 'rereserve' });
    refunding = await startSystem(data, { ...settings, LATE_PAYMENT_POLICY: 'refund' }, ['api']);
  });
  afterAll(async () => {
    await Promise.all([rereserving.stop(), refunding.stop()]);
    await db.close();
    await data.drop();
  });

  it(`never leaves a room paid for and sold again, over ${TRIALS} trials`, async () => {
    const suffix = randomUUID().slice(0, 6);
    const { roomIds } = await hotelWithRooms(
      rereserving.url,
      Array.from({ length: ROOM_TYPES }, (_, i) => ({ id: `race-${i}-${suffix}`, quantity: 1 })),
    );

    // Even trials pay through an API with the rereserve policy, odd ones with refund.
    const trials = await Promise.all(
      Array.from({ length: TRIALS }, async (_, i) => {
        await sleep(i * STAGGER_MS);
        const base = i % 2 === 0 ? rereserving.url : refunding.url;
        return trial(base, roomIds[i % ROOM_TYPES]!, inDays(1 + Math.floor(i / ROOM_TYPES)), i);
      }),
    );

    const held = await db.query<{ room_id: string; start_date: string; n: number }>(
      'SELECT room_id, start_date, COUNT(*) AS n FROM bookings ' +
        "WHERE status IN ('RESERVED', 'BOOKED') GROUP BY room_id, start_date HAVING COUNT(*) > 1",
    );
    expect(held).toEqual([]);
    const both = trials.filter(
      (t) => t.secondBooked && ['booked', 'rereserved'].includes(t.first.outcome),
    );
    expect(both).toEqual([]);
    expect(await inventoryProblems(db, new Map(roomIds.map((id) => [id, 1])))).toEqual([]);
    expect(await paidAndCancelledWithoutRefund(db)).toEqual([]);

    // Every acknowledged payment is in a booking or a refund, as the API said.
    const refunds = new Set(
      (await db.query<{ booking_id: string }>('SELECT booking_id FROM refunds')).map(
        (row) => row.booking_id,
      ),
    );
    for (const { first } of trials) {
      const [row] = await db.query<{ status: string }>('SELECT status FROM bookings WHERE id = ?', [
        first.id,
      ]);
      const expected = first.outcome === 'refunded' ? 'CANCELLED' : 'BOOKED';
      expect({ id: first.id, status: row?.status }).toEqual({ id: first.id, status: expected });
      expect(refunds.has(first.id)).toBe(first.outcome === 'refunded');
    }

    // The trials must have covered every side of the race, or they proved little.
    const outcomes = new Set(trials.map((t) => t.first.outcome));
    expect(outcomes).toEqual(new Set(['booked', 'rereserved', 'refunded']));
    expect(trials.some((t) => t.first.paidAfterMs < HOLD_TTL_MS)).toBe(true);
    expect(trials.some((t) => t.first.paidAfterMs >= HOLD_TTL_MS)).toBe(true);
    expect(trials.some((t) => t.secondBooked)).toBe(true);
  }, 120_000);
});
