import { randomUUID } from 'node:crypto';
import type { Relational } from '@platform/kit';
import { addDays } from '../src/domain/dates.ts';
import { saleWindow } from '../src/domain/inventory.ts';
import { BookingStore, type RoomReserver } from '../src/store/booking.store.ts';
import { HotelStore } from '../src/store/hotel.store.ts';
import { migrate } from '../src/store/migrations.ts';
import { NaiveBookingStore } from './naive-booking.store.ts';
import { inDays, inventoryProblems, storage, type Servers, type Storage } from './system.ts';

const ROUNDS = 50;
const BOOKERS = 200;
const ROOMS = 5;

/**
 * One room type with five rooms. Each round takes a fresh night, sells four of
 * its rooms, then lets 200 bookers race for the last one at the same moment.
 */
class LastRoomRace {
  readonly roomId = `last-room-${randomUUID().slice(0, 8)}`;
  readonly #db: Relational;

  constructor(db: Relational) {
    this.#db = db;
  }

  async setUp(): Promise<void> {
    await migrate(this.#db);
    const hotels = new HotelStore(this.#db);
    const hotel = await hotels.createHotel(
      {
        name: 'Race',
        locality: 'Faro',
        facilities: [],
        imageUrls: [],
        currency: 'EUR',
        timeZone: 'UTC',
      },
      Date.now(),
    );
    const fields = { quantity: ROOMS, minPrice: 5_000, maxPrice: 9_000 };
    await hotels.putRoom(hotel.id, this.roomId, fields, saleWindow(Date.now(), 60), Date.now());
  }

  /** Winners per round; stops early once `enough` says so. */
  async run(reserver: RoomReserver, enough: (winners: number[]) => boolean = () => false) {
    const seller = new BookingStore(this.#db);
    const winners: number[] = [];
    for (let round = 0; round < ROUNDS && !enough(winners); round += 1) {
      const night = inDays(1 + round);
      const sold = await seller.reserve(this.#request(night, 'early-guest', ROOMS - 1));
      if (!sold.ok) throw new Error(`could not sell the first rooms: ${sold.reason}`);

      const attempts = await Promise.all(
        Array.from({ length: BOOKERS }, (_, i) =>
          reserver.reserve(this.#request(night, `booker-${i}`, 1)),
        ),
      );
      const refusals = attempts.filter((a) => !a.ok).map((a) => (a.ok ? '' : a.reason));
      if (refusals.some((reason) => reason !== 'rooms_unavailable')) {
        throw new Error(`unexpected refusal: ${refusals.find((r) => r !== 'rooms_unavailable')}`);
      }
      winners.push(BOOKERS - refusals.length);
    }
    return winners;
  }

  #request(night: string, userId: string, quantity: number) {
    const now = Date.now();
    return {
      id: randomUUID(),
      userId,
      roomId: this.roomId,
      quantity,
      startDate: night,
      endDate: addDays(night, 1),
      currency: 'EUR',
      requestKey: randomUUID(),
      expiresAt: now + 3_600_000,
      now,
    };
  }
}

describe.each<[string, Servers]>([
  ['MySQL', 'mysql+redis'],
  ['SQLite', 'embedded'],
])('the last room on %s', (_name, servers) => {
  let data: Storage;
  let db: Relational;

  beforeAll(async () => {
    data = await storage(servers);
    db = data.open();
  });
  afterAll(async () => {
    await db.close();
    await data.drop();
  });

  it(`goes to exactly one of ${BOOKERS} concurrent bookers, ${ROUNDS} times over`, async () => {
    const race = new LastRoomRace(db);
    await race.setUp();

    const winners = await race.run(new BookingStore(db));

    expect(winners).toEqual(Array.from({ length: ROUNDS }, () => 1));
    expect(await inventoryProblems(db, new Map([[race.roomId, ROOMS]]))).toEqual([]);
  }, 240_000);
});

describe('the same race against a read-then-write repository on MySQL', () => {
  let data: Storage;
  let db: Relational;

  beforeAll(async () => {
    data = await storage('mysql+redis');
    db = data.open();
  });
  afterAll(async () => {
    await db.close();
    await data.drop();
  });

  // SQLite runs one write transaction at a time, so the naive code cannot race there.
  it('oversells the last room, which the invariant check reports', async () => {
    const race = new LastRoomRace(db);
    await race.setUp();

    const winners = await race.run(new NaiveBookingStore(db), (w) => w.some((n) => n > 1));

    expect(Math.max(...winners)).toBeGreaterThan(1);
    expect(await inventoryProblems(db, new Map([[race.roomId, ROOMS]]))).not.toEqual([]);
  }, 240_000);
});
