import { randomUUID } from 'node:crypto';
import type { Relational } from '@platform/kit';
import { addDays } from '../src/domain/dates.ts';
import {
  client,
  hotelWithRooms,
  inDays,
  sleep,
  startSystem,
  storage,
  type Answer,
  type Servers,
  type Storage,
  type TestSystem,
} from './system.ts';

type Json = Record<string, unknown>;
type ErrorBody = { error: { code: string; field?: string; message: string } };
type BookingBody = {
  id: string;
  status: string;
  amount: number;
  expiresAt: string;
  invoiceId: string | null;
  cancelReason: string | null;
  createdAt: string;
};
type Outcome = { outcome: string; booking: BookingBody; refund: { reason: string } | null };

const problem = (answer: Answer<unknown>) => {
  const { error } = answer.body as ErrorBody;
  return { status: answer.status, code: error.code, field: error.field };
};

describe.each<[string, Servers]>([
  ['MySQL and Redis', 'mysql+redis'],
  ['the embedded stand-ins', 'embedded'],
])('the hotel booking API on %s', (_name, servers) => {
  let data: Storage;
  let db: Relational;
  let system: TestSystem;
  let api: ReturnType<typeof client>;
  const suffix = randomUUID().slice(0, 6);
  const user = `guest-${suffix}`;

  /** A booking request for one of the test's rooms, with a fresh Idempotency-Key. */
  const book = (body: Json, key: string = randomUUID()) =>
    api.post<BookingBody>('/bookings', body, { 'idempotency-key': key });
  const stay = (roomId: string, from = 3, nights = 2, quantity = 1) => ({
    userId: user,
    roomId,
    quantity,
    startDate: inDays(from),
    endDate: inDays(from + nights),
  });
  const pay = (id: string, body: Json) => api.pay<Outcome>(id, body);
  const bookingRows = async () =>
    Number(
      (
        await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM bookings WHERE user_id = ?', [
          user,
        ])
      )[0]?.n,
    );

  beforeAll(async () => {
    data = await storage(servers);
    db = data.open();
    system = await startSystem(data, { HOLD_TTL_MS: '60000', SWEEP_INTERVAL_MS: '200' });
    api = client(system.url);
  });
  afterAll(async () => {
    await system.stop();
    await db.close();
    await data.drop();
  });

  describe('hotels and rooms', () => {
    it('creates, reads and replaces a hotel with its rooms', async () => {
      const created = await api.post<{ id: string; facilities: string[] }>('/hotels', {
        name: 'Casa Azul',
        locality: 'Lisbon',
        facilities: ['wifi', 'pool', 'wifi'],
        imageUrls: ['https://cdn.example/casa-azul/front.jpg'],
        timeZone: 'Europe/Lisbon',
      });
      expect(created.status).toBe(201);
      expect(created.body.facilities).toEqual(['wifi', 'pool']);
      const id = created.body.id;

      const room = await api.put(`/hotels/${id}/rooms/azul-double-${suffix}`, {
        name: 'Double',
        quantity: 4,
        minPrice: 9_000,
        maxPrice: 15_000,
      });
      expect(room.status).toBe(201);
      const replaced = await api.put<Json>(`/hotels/${id}`, {
        name: 'Casa Azul Alfama',
        locality: 'Lisbon',
      });
      expect(replaced.status).toBe(200);
      expect(replaced.body).toMatchObject({ name: 'Casa Azul Alfama', facilities: [] });

      const read = await api.get<Json>(`/hotels/${id}`);
      expect(read.body).toMatchObject({
        name: 'Casa Azul Alfama',
        currency: 'EUR',
        rooms: [{ id: `azul-double-${suffix}`, name: 'Double', quantity: 4, minPrice: 9_000 }],
      });
    });

    it('answers 404 for hotels that do not exist and names bad fields', async () => {
      expect(problem(await api.get(`/hotels/${randomUUID()}`))).toMatchObject({ status: 404 });
      expect(problem(await api.get('/hotels/not-an-id'))).toMatchObject({ status: 404 });
      expect(
        problem(await api.put(`/hotels/${randomUUID()}`, { name: 'x', locality: 'y' })),
      ).toMatchObject({ status: 404, code: 'hotel_not_found' });
      const bad = await api.post('/hotels', { name: 'x', locality: 'y', imageUrls: ['file:///'] });
      expect(problem(bad)).toEqual({ status: 400, code: 'invalid_request', field: 'imageUrls.0' });
    });

    it('keeps a room id to its hotel and refuses a quantity below what is held', async () => {
      const roomId = `contested-${suffix}`;
      const { hotelId } = await hotelWithRooms(system.url, [{ id: roomId, quantity: 2 }]);
      const other = await hotelWithRooms(system.url, []);
      const stolen = await api.put(`/hotels/${other.hotelId}/rooms/${roomId}`, {
        quantity: 1,
        minPrice: 1,
        maxPrice: 2,
      });
      expect(problem(stolen)).toMatchObject({ status: 409, code: 'room_in_other_hotel' });

      expect((await book(stay(roomId, 5, 1, 2))).status).toBe(201);
      const shrunk = await api.put(`/hotels/${hotelId}/rooms/${roomId}`, {
        quantity: 1,
        minPrice: 10_000,
        maxPrice: 20_000,
      });
      expect(problem(shrunk)).toEqual({
        status: 409,
        code: 'quantity_below_held',
        field: 'quantity',
      });
      const grown = await api.put(`/hotels/${hotelId}/rooms/${roomId}`, {
        quantity: 3,
        minPrice: 10_000,
        maxPrice: 20_000,
      });
      expect(grown.status).toBe(200);
      const nights = await api.get<{ nights: { available: number; total: number }[] }>(
        `/rooms/${roomId}/availability?startDate=${inDays(5)}&endDate=${inDays(7)}`,
      );
      expect(nights.body.nights.map((n) => [n.available, n.total])).toEqual([
        [1, 3],
        [3, 3],
      ]);
    });
  });

  describe('booking', () => {
    let roomId: string;

    beforeAll(async () => {
      roomId = `booking-room-${suffix}`;
      await hotelWithRooms(system.url, [
        { id: roomId, quantity: 3, minPrice: 10_000, maxPrice: 16_000 },
      ]);
    });

    it('holds rooms at the price the server computes, whatever the body says', async () => {
      const answer = await book({ ...stay(roomId, 10, 2, 2), price: 1, amount: 1 });
      expect(answer.status).toBe(201);
      // Two nights of an empty room type of three: the first room at 100.00, the second at 130.00.
      expect(answer.body).toMatchObject({ status: 'RESERVED', amount: 2 * (10_000 + 13_000) });
      const held = Date.parse(answer.body.expiresAt) - Date.parse(answer.body.createdAt);
      expect(held).toBe(60_000);
    });

    it.each([
      ['Idempotency-Key', 400, 'invalid_request', undefined],
      ['roomId', 404, 'room_not_found', { roomId: 'no-such-room' }],
      ['endDate', 400, 'invalid_request', { endDate: inDays(2) }],
      ['endDate', 400, 'invalid_request', { endDate: inDays(3) }],
      ['quantity', 400, 'invalid_request', { quantity: 0 }],
      ['quantity', 400, 'invalid_request', { quantity: -2 }],
      ['startDate', 400, 'invalid_request', { startDate: inDays(-1) }],
      ['startDate', 400, 'invalid_request', { startDate: '2027-02-30' }],
      ['endDate', 400, 'invalid_request', { endDate: inDays(70) }],
      ['userId', 400, 'invalid_request', { userId: undefined }],
    ])('names %s for %j and writes nothing', async (field, status, code, change) => {
      const before = await bookingRows();
      const body = { ...stay(roomId, 3, 2), ...change };
      const answer = change ? await book(body) : await api.post('/bookings', body);
      expect(problem(answer)).toEqual({ status, code, field });
      expect(await bookingRows()).toBe(before);
    });

    it('refuses oversized and non-JSON bodies', async () => {
      const huge = { ...stay(roomId), note: 'x'.repeat(20_000) };
      expect(problem(await book(huge))).toMatchObject({ status: 413, field: 'body' });
      const text = await fetch(`${system.url}/bookings`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'idempotency-key': randomUUID() },
        body: 'book me a room',
      });
      expect(text.status).toBe(415);
    });

    it('answers a replay with the first booking, and a changed body with 422', async () => {
      const key = randomUUID();
      const first = await book(stay(roomId, 12, 1), key);
      const again = await book(stay(roomId, 12, 1), key);
      expect(again.status).toBe(201);
      expect(again.body.id).toBe(first.body.id);
      expect(problem(await book(stay(roomId, 13, 1), key))).toMatchObject({ status: 422 });
    });

    it('refuses what is not free with 409', async () => {
      expect((await book(stay(roomId, 20, 1, 3))).status).toBe(201);
      expect(problem(await book(stay(roomId, 20, 1, 1)))).toMatchObject({
        status: 409,
        code: 'rooms_unavailable',
      });
    });

    it('shows a booking to its guest only, and lists bookings newest first', async () => {
      const made = await book(stay(roomId, 25, 1));
      expect((await api.get(`/bookings/${made.body.id}?userId=${user}`)).status).toBe(200);
      const header = await api.get(`/bookings/${made.body.id}`, { 'x-user-id': user });
      expect(header.status).toBe(200);
      expect(problem(await api.get(`/bookings/${made.body.id}?userId=someone-else`))).toEqual({
        status: 404,
        code: 'booking_not_found',
        field: undefined,
      });
      expect(problem(await api.get(`/bookings/${made.body.id}`))).toMatchObject({
        status: 400,
        field: 'userId',
      });

      const pages: string[][] = [];
      let cursor: string | null = null;
      do {
        const page: Answer<{ bookings: BookingBody[]; nextCursor: string | null }> = await api.get(
          `/users/${user}/bookings?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        );
        pages.push(page.body.bookings.map((b) => b.createdAt));
        cursor = page.body.nextCursor;
      } while (cursor);
      const times = pages.flat();
      expect(times.length).toBe(await bookingRows());
      expect([...times].sort().reverse()).toEqual(times);
      expect(pages[0]!.length).toBe(3);
    });
  });

  describe('payment and cancellation', () => {
    let roomId: string;

    beforeAll(async () => {
      roomId = `paid-room-${suffix}`;
      await hotelWithRooms(system.url, [{ id: roomId, quantity: 2 }]);
    });

    it('books on success, replays a repeated callback and refunds a second payment', async () => {
      const held = await book(stay(roomId, 4, 2));
      const paid = await pay(held.body.id, { status: 'succeeded', reference: 'psp-a' });
      expect(paid.body.outcome).toBe('booked');
      expect(paid.body.booking).toMatchObject({ status: 'BOOKED', paymentReference: 'psp-a' });
      expect(paid.body.booking.invoiceId).toEqual(expect.any(String));

      const again = await pay(held.body.id, { status: 'succeeded', reference: 'psp-a' });
      expect(again.body.outcome).toBe('already_booked');
      const second = await pay(held.body.id, { status: 'succeeded', reference: 'psp-b' });
      expect(second.body).toMatchObject({
        outcome: 'refunded',
        refund: { reason: 'duplicate_payment' },
      });
      expect(problem(await pay(held.body.id, { status: 'failed' }))).toMatchObject({
        status: 409,
        code: 'already_paid',
      });
    });

    it('gives the rooms back once when a payment fails', async () => {
      const nights = `/rooms/${roomId}/availability?startDate=${inDays(8)}&endDate=${inDays(9)}`;
      const held = await book(stay(roomId, 8, 1, 2));
      const failures = await Promise.all(
        Array.from({ length: 5 }, () => pay(held.body.id, { status: 'failed' })),
      );
      expect(failures.map((f) => f.body.outcome).sort()).toEqual([
        'already_cancelled',
        'already_cancelled',
        'already_cancelled',
        'already_cancelled',
        'cancelled',
      ]);
      const after = await api.get<{ nights: { available: number }[] }>(nights);
      expect(after.body.nights[0]!.available).toBe(2);
    });

    it('cancels a hold, and a paid booking with a refund', async () => {
      const hold = await book(stay(roomId, 15, 1));
      const cancelled = await api.post<Outcome>(`/bookings/${hold.body.id}/cancel?userId=${user}`);
      expect(cancelled.body).toMatchObject({ outcome: 'cancelled', refund: null });
      expect(cancelled.body.booking.cancelReason).toBe('cancelled');

      const paid = await book(stay(roomId, 16, 1));
      await pay(paid.body.id, { status: 'succeeded', reference: 'psp-c' });
      const refunded = await api.post<Outcome>(`/bookings/${paid.body.id}/cancel`, undefined, {
        'x-user-id': user,
      });
      expect(refunded.body).toMatchObject({
        outcome: 'cancelled',
        refund: { reason: 'cancelled_after_payment' },
      });
      const late = await pay(paid.body.id, { status: 'succeeded', reference: 'psp-d' });
      expect(late.body.outcome).toBe('refunded');
      expect(
        problem(await api.post(`/bookings/${paid.body.id}/cancel?userId=other`)),
      ).toMatchObject({ status: 404 });
    });

    it('names a payment body it cannot read', async () => {
      const hold = await book(stay(roomId, 18, 1));
      expect(problem(await pay(hold.body.id, { status: 'pending' }))).toMatchObject({
        status: 400,
        field: 'status',
      });
      expect(problem(await pay(hold.body.id, { status: 'succeeded' }))).toMatchObject({
        status: 400,
        field: 'reference',
      });
      expect(problem(await pay(randomUUID(), { status: 'failed' }))).toMatchObject({
        status: 404,
      });
    });
  });

  it('creates a room type once when many put it at the same moment', async () => {
    for (let trial = 0; trial < 10; trial += 1) {
      const { hotelId } = await hotelWithRooms(system.url, []);
      const roomId = `race-${suffix}-${trial}`;
      const answers = await Promise.all(
        Array.from({ length: 16 }, () =>
          api.put(`/hotels/${hotelId}/rooms/${roomId}`, {
            quantity: 3,
            minPrice: 100,
            maxPrice: 200,
          }),
        ),
      );
      const statuses = answers.map((answer) => answer.status).sort();
      expect(statuses).toEqual([...Array(15).fill(200), 201]);
    }
  });

  it('keeps keys that differ only in case apart: rooms, users, request keys', async () => {
    const upper = `Case-${suffix}`;
    const lower = upper.toLowerCase();
    const { hotelId } = await hotelWithRooms(system.url, [
      { id: upper, quantity: 1 },
      { id: lower, quantity: 2 },
    ]);
    const rooms = await api.get<{ rooms: { id: string }[] }>(`/hotels/${hotelId}`);
    expect(rooms.body.rooms.map((room) => room.id).sort()).toEqual([upper, lower].sort());

    // Two request keys that differ in case are two bookings, not a replay.
    const ann = `Ann-${suffix}`;
    const first = await book({ ...stay(lower, 30, 1), userId: ann }, `Key-${suffix}`);
    const second = await book({ ...stay(lower, 30, 1), userId: ann }, `key-${suffix}`);
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body.id).not.toBe(first.body.id);
    // The room 'Case-…' still has its own room after 'case-…' sold out.
    const third = await book({ ...stay(upper, 30, 1), userId: ann });
    expect(third.status).toBe(201);

    // 'ann' does not see what 'Ann' booked.
    const other = `ann-${suffix}`;
    expect((await api.get(`/bookings/${first.body.id}?userId=${other}`)).status).toBe(404);
    const theirs = await api.get<{ bookings: unknown[] }>(`/users/${other}/bookings`);
    expect(theirs.body.bookings).toEqual([]);
  });
});

describe.each([
  ['rereserve', 'rereserved'],
  ['refund', 'refunded'],
])('a payment after expiry with LATE_PAYMENT_POLICY=%s', (policy, outcome) => {
  let data: Storage;
  let system: TestSystem;

  beforeAll(async () => {
    data = await storage('mysql+redis');
    system = await startSystem(data, {
      HOLD_TTL_MS: '300',
      SWEEP_INTERVAL_MS: '100',
      LATE_PAYMENT_POLICY: policy,
    });
  });
  afterAll(async () => {
    await system.stop();
    await data.drop();
  });

  it(`answers ${outcome} while the rooms are free, and refunds once they are sold`, async () => {
    const api = client(system.url);
    const roomId = `late-${randomUUID().slice(0, 8)}`;
    await hotelWithRooms(system.url, [{ id: roomId, quantity: 1 }]);
    const stay = (userId: string, from: number) => ({
      userId,
      roomId,
      quantity: 1,
      startDate: inDays(from),
      endDate: addDays(inDays(from), 1),
    });
    const hold = (userId: string, from: number) =>
      api.post<BookingBody>('/bookings', stay(userId, from), { 'idempotency-key': randomUUID() });

    const free = await hold('late-payer', 2);
    await sleep(600);
    const paidLate = await api.pay<Outcome>(free.body.id, {
      status: 'succeeded',
      reference: 'psp-late-1',
    });
    expect(paidLate.body.outcome).toBe(outcome);
    expect(paidLate.body.booking.status).toBe(outcome === 'rereserved' ? 'BOOKED' : 'CANCELLED');

    const taken = await hold('late-payer', 3);
    await sleep(600);
    const rival = await hold('rival', 3);
    expect(rival.status).toBe(201);
    const tooLate = await api.pay<Outcome>(taken.body.id, {
      status: 'succeeded',
      reference: 'psp-late-2',
    });
    expect(tooLate.body).toMatchObject({
      outcome: 'refunded',
      booking: { status: 'CANCELLED' },
      refund: { reason: 'late_payment' },
    });
    const replayed = await api.pay<Outcome>(taken.body.id, {
      status: 'succeeded',
      reference: 'psp-late-2',
    });
    expect(replayed.body.outcome).toBe('refunded');
  });
});
