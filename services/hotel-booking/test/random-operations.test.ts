import { randomUUID } from 'node:crypto';
import type { Relational } from '@platform/kit';
import { seeded } from '@platform/kit/testing';
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
  type Answer,
  type Servers,
  type Storage,
  type TestSystem,
} from './system.ts';

const CLIENTS = 20;
const OPERATIONS = 10_000;
const HOLD_TTL_MS = 300;
const QUANTITIES = [1, 3, 10, 40];
const NIGHTS = 14;
const SEED = Number(process.env.HOTEL_TEST_SEED ?? Date.now() % 1_000_000);

interface Known {
  id: string;
  expiresAt: number;
  lastReference?: string;
}

/** A payment the API answered 200 to: its money is either in a booking or in a refund. */
interface Acknowledged {
  bookingId: string;
  reference: string;
  outcome: string;
}

interface Tally {
  acknowledged: Acknowledged[];
  /** Answers by status and error code, such as `409 rooms_unavailable`. */
  answers: Map<string, number>;
}

/**
 * One client: books (and mostly pays at once), pays again, fails payments,
 * cancels, and pays around the moment a hold runs out, at random, on its six
 * most recent bookings.
 */
async function runClient(
  base: string,
  user: string,
  rooms: string[],
  operations: number,
  random: () => number,
  tally: Tally,
): Promise<void> {
  const api = client(base);
  const known: Known[] = [];
  let previous: { key: string; body: Record<string, unknown> } | undefined;
  const count = (answer: Answer<unknown>) => {
    const code = (answer.body as { error?: { code?: string } } | undefined)?.error?.code;
    const key = code ? `${answer.status} ${code}` : String(answer.status);
    tally.answers.set(key, (tally.answers.get(key) ?? 0) + 1);
  };
  const within = <T>(items: T[], last: number): T =>
    items[items.length - 1 - Math.floor(random() * Math.min(last, items.length))]!;

  const pay = async (booking: Known, reference: string) => {
    const answer = await api.pay<{ outcome: string }>(booking.id, {
      status: 'succeeded',
      reference,
    });
    count(answer);
    if (answer.status !== 200) return;
    tally.acknowledged.push({ bookingId: booking.id, reference, outcome: answer.body.outcome });
    booking.lastReference = reference;
  };
  const fail = async (booking: Known) => {
    count(await api.pay(booking.id, { status: 'failed' }));
  };

  for (let op = 0; op < operations; op += 1) {
    const roll = random();
    const booking = known.length > 0 ? within(known, 6) : undefined;

    if (roll < 0.4 || !booking) {
      // Book; most guests pay straight away, some fail to, the rest leave the hold running.
      const replay = previous !== undefined && random() < 0.05;
      const start = inDays(1 + Math.floor(random() * (NIGHTS - 3)));
      const request = replay
        ? previous!
        : {
            key: randomUUID(),
            body: {
              userId: user,
              roomId: within(rooms, rooms.length),
              quantity: 1 + Math.floor(random() * 2),
              startDate: start,
              endDate: addDays(start, 1 + Math.floor(random() * 3)),
              price: 1,
            },
          };
      const answer = await api.post<{ id: string; expiresAt: string }>('/bookings', request.body, {
        'idempotency-key': request.key,
      });
      count(answer);
      previous = request;
      if (answer.status !== 201 || known.some((k) => k.id === answer.body.id)) continue;
      const held = { id: answer.body.id, expiresAt: Date.parse(answer.body.expiresAt) };
      known.push(held);
      const then = random();
      if (then < 0.6) await pay(held, `psp-${randomUUID()}`);
      else if (then < 0.7) await fail(held);
    } else if (roll < 0.55) {
      const again = booking.lastReference !== undefined && random() < 0.3;
      await pay(booking, again ? booking.lastReference! : `psp-${randomUUID()}`);
    } else if (roll < 0.6) {
      await fail(booking);
    } else if (roll < 0.8) {
      count(await api.post(`/bookings/${booking.id}/cancel?userId=${user}`));
    } else {
      // Pay around the moment a hold runs out: on time, late, or racing its release.
      const running = known.filter((k) => k.expiresAt > Date.now() - 100).at(-1) ?? booking;
      const at = running.expiresAt - 50 + random() * 200;
      await sleep(Math.max(0, at - Date.now()));
      await pay(running, `psp-${randomUUID()}`);
    }
  }
}

/** Acknowledged payments whose money is neither in their booking nor in a refund. */
async function unaccountedPayments(db: Relational, acknowledged: Acknowledged[]) {
  const bookings = new Map(
    (
      await db.query<{ id: string; status: string; payment_reference: string | null }>(
        'SELECT id, status, payment_reference FROM bookings',
      )
    ).map((row) => [row.id, row]),
  );
  const refunds = new Set(
    (
      await db.query<{ booking_id: string; payment_reference: string }>(
        'SELECT booking_id, payment_reference FROM refunds',
      )
    ).map((row) => `${row.booking_id} ${row.payment_reference}`),
  );
  return acknowledged.filter(({ bookingId, reference }) => {
    const booking = bookings.get(bookingId);
    const inBooking = booking?.status === 'BOOKED' && booking.payment_reference === reference;
    return !inBooking && !refunds.has(`${bookingId} ${reference}`);
  });
}

describe.each<[string, Servers]>([
  ['MySQL and Redis', 'mysql+redis'],
  ['the embedded stand-ins', 'embedded'],
])('random bookings on %s', (_name, servers) => {
  let data: Storage;
  let db: Relational;
  let system: TestSystem;

  beforeAll(async () => {
    data = await storage(servers);
    db = data.open();
    system = await startSystem(data, {
      HOLD_TTL_MS: String(HOLD_TTL_MS),
      SWEEP_INTERVAL_MS: '200',
      LATE_PAYMENT_POLICY: 'rereserve',
    });
  });
  afterAll(async () => {
    await system.stop();
    await db.close();
    await data.drop();
  });

  it(`accounts for every room-night and every payment after ${OPERATIONS} operations`, async () => {
    const suffix = randomUUID().slice(0, 6);
    const { roomIds } = await hotelWithRooms(
      system.url,
      QUANTITIES.map((quantity) => ({ id: `rooms-of-${quantity}-${suffix}`, quantity })),
    );
    const initial = new Map(roomIds.map((id, i) => [id, QUANTITIES[i]!]));
    const tally: Tally = { acknowledged: [], answers: new Map() };

    const random = seeded(SEED);
    await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) =>
        runClient(
          system.url,
          `guest-${i}-${suffix}`,
          roomIds,
          OPERATIONS / CLIENTS,
          seeded(Math.floor(random() * 2 ** 32)),
          tally,
        ),
      ),
    );

    const answers = JSON.stringify([...tally.answers]);
    const failures = [...tally.answers.keys()].filter((answer) => answer.startsWith('5'));
    expect({ failures, seed: SEED, answers }).toEqual({ failures: [], seed: SEED, answers });
    expect(await inventoryProblems(db, initial)).toEqual([]);
    expect(await unaccountedPayments(db, tally.acknowledged)).toEqual([]);
    expect(await paidAndCancelledWithoutRefund(db)).toEqual([]);
    const outcomes = new Set(tally.acknowledged.map((a) => a.outcome));
    expect(outcomes).toEqual(new Set(['booked', 'already_booked', 'rereserved', 'refunded']));

    // Once the last holds have run out, nothing is left RESERVED and the rooms add up again.
    await sleep(HOLD_TTL_MS + 1_000);
    const [left] = await db.query<{ n: number }>(
      "SELECT COUNT(*) AS n FROM bookings WHERE status = 'RESERVED'",
    );
    expect(Number(left?.n)).toBe(0);
    expect(await inventoryProblems(db, initial)).toEqual([]);
  }, 240_000);
});
