import { randomUUID } from 'node:crypto';
import type { Relational } from '@platform/kit';
import { addDays } from '../src/domain/dates.ts';
import { BookingStore, type ReserveRequest } from '../src/store/booking.store.ts';
import { HotelStore } from '../src/store/hotel.store.ts';
import { migrate } from '../src/store/migrations.ts';
import { inDays, inventoryProblems, storage, type Servers, type Storage } from './system.ts';

const QUANTITY = 3;

describe.each<[string, Servers]>([
  ['MySQL', 'mysql+redis'],
  ['SQLite', 'embedded'],
])('the stores on %s', (_name, servers) => {
  let data: Storage;
  let db: Relational;
  let hotels: HotelStore;
  let bookings: BookingStore;
  let hotelId: string;

  /** A room type of its own for one test, on sale from yesterday for 30 nights. */
  const room = async (quantity = QUANTITY) => {
    const id = `room-${randomUUID().slice(0, 8)}`;
    const window = { from: inDays(-1), until: inDays(30) };
    const fields = { quantity, minPrice: 100, maxPrice: 200 };
    await hotels.putRoom(hotelId, id, fields, window, Date.now());
    return id;
  };
  const request = (roomId: string, overrides: Partial<ReserveRequest> = {}): ReserveRequest => ({
    id: randomUUID(),
    userId: 'guest',
    roomId,
    quantity: 1,
    startDate: inDays(2),
    endDate: inDays(4),
    currency: 'EUR',
    requestKey: randomUUID(),
    expiresAt: Date.now() + 60_000,
    now: Date.now(),
    ...overrides,
  });
  const available = async (roomId: string) =>
    (await hotels.availability(roomId, inDays(2), inDays(4))).map((night) => night.available);

  beforeAll(async () => {
    data = await storage(servers);
    db = data.open();
    await migrate(db);
    hotels = new HotelStore(db);
    bookings = new BookingStore(db);
    const fields = { facilities: [], imageUrls: [], currency: 'EUR', timeZone: 'UTC' };
    hotelId = (await hotels.createHotel({ name: 'Stores', locality: 'Evora', ...fields }, 0)).id;
  });
  afterAll(async () => {
    await db.close();
    await data.drop();
  });

  it('holds nothing more for a second booking with the same request key', async () => {
    const roomId = await room();
    const first = request(roomId);
    const [a, b] = await Promise.all([
      bookings.reserve(first),
      bookings.reserve({ ...first, id: randomUUID() }),
    ]);
    expect(a.ok && b.ok && a.booking.id === b.booking.id).toBe(true);
    expect([a.ok && a.replayed, b.ok && b.replayed].sort()).toEqual([false, true]);
    expect(await available(roomId)).toEqual([QUANTITY - 1, QUANTITY - 1]);
  });

  it('refuses nights that are not on sale', async () => {
    const roomId = await room();
    const beyond = request(roomId, { startDate: inDays(29), endDate: inDays(31) });
    expect(await bookings.reserve(beyond)).toEqual({ ok: false, reason: 'dates_not_open' });
  });

  it('releases a hold once however many release it at the same time', async () => {
    const roomId = await room();
    const held = await bookings.reserve(request(roomId, { quantity: 2 }));
    if (!held.ok) throw new Error(held.reason);

    const releases = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        bookings.release(held.booking.id, i % 2 ? 'cancelled' : 'payment_failed', {
          now: Date.now(),
          overdueOnly: false,
        }),
      ),
    );

    expect(releases.filter(Boolean)).toHaveLength(1);
    expect(await available(roomId)).toEqual([QUANTITY, QUANTITY]);
  });

  it('lets either the payment or the expiry win a hold, never both', async () => {
    const roomId = await room(40);
    const expired = Date.now() - 1;
    const holds = await Promise.all(
      Array.from({ length: 40 }, async () => {
        // Due now by the sweeper's clock, still running by the payment's.
        const result = await bookings.reserve(request(roomId, { expiresAt: expired + 5 }));
        if (!result.ok) throw new Error(result.reason);
        return result.booking;
      }),
    );

    const races = await Promise.all(
      holds.map((hold) =>
        Promise.all([
          bookings.confirm(hold.id, { reference: 'p', invoiceId: 'i', now: expired }),
          bookings.release(hold.id, 'expired', { now: expired + 10, overdueOnly: true }),
        ]),
      ),
    );

    for (const [confirmed, released] of races) {
      expect(Boolean(confirmed) !== Boolean(released)).toBe(true);
    }
    expect(await inventoryProblems(db, new Map([[roomId, 40]]))).toEqual([]);
  });

  it('retires nights before a date, except those from the first a hold still covers', async () => {
    const window = { from: inDays(-40), until: inDays(5) };
    const fields = { quantity: 2, minPrice: 100, maxPrice: 200 };
    const [plain, held] = [`old-${randomUUID().slice(0, 8)}`, `old-${randomUUID().slice(0, 8)}`];
    for (const id of [plain, held]) await hotels.putRoom(hotelId, id, fields, window, Date.now());
    const hold = await bookings.reserve(
      request(held, { startDate: inDays(-35), endDate: inDays(-33) }),
    );
    if (!hold.ok) throw new Error(hold.reason);
    const firstNight = async (roomId: string) =>
      (await hotels.availability(roomId, inDays(-50), inDays(10)))[0]?.night;

    // 30 nights of the plain room (-40 to -11) and 5 of the held one (-40 to -36).
    expect(await hotels.retireNights(inDays(-10))).toBe(35);
    expect(await firstNight(plain)).toBe(inDays(-10));
    expect(await firstNight(held)).toBe(inDays(-35));
    // The hold's nights are there to take its rooms back.
    const released = await bookings.release(hold.booking.id, 'cancelled', {
      now: Date.now(),
      overdueOnly: false,
    });
    expect(released?.status).toBe('CANCELLED');
    expect(await hotels.retireNights(inDays(-10))).toBe(25);
    expect(await firstNight(held)).toBe(inDays(-10));
    expect(await hotels.retireNights(inDays(-10))).toBe(0);
  });

  it('opens new nights at the current quantity; a new quantity moves later nights', async () => {
    const roomId = await room();
    const held = await bookings.reserve(request(roomId));
    if (!held.ok) throw new Error(held.reason);
    const fields = { quantity: 5, minPrice: 100, maxPrice: 200 };
    const window = { from: inDays(-1), until: inDays(30) };
    await hotels.putRoom(hotelId, roomId, fields, window, Date.now());

    const opened = await hotels.extendInventory({ from: inDays(0), until: inDays(32) });

    expect(opened).toBeGreaterThanOrEqual(2);
    const nights = await hotels.availability(roomId, inDays(2), inDays(32));
    expect(nights).toHaveLength(30);
    expect(nights[0]).toEqual({ night: inDays(2), total: 5, available: 4 });
    expect(nights.at(-1)).toEqual({ night: addDays(inDays(30), 1), total: 5, available: 5 });
    const shrunk = await hotels.putRoom(hotelId, roomId, { ...fields, quantity: 0 }, window, 0);
    expect(shrunk).toEqual({ outcome: 'below-held' });
  });
});
