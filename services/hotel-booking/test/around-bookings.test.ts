import { randomUUID } from 'node:crypto';
import { decodeEvent, encodeEvent, type Envelope, type Relational } from '@platform/kit';
import { TOPICS, type BookingEventData } from '../src/events.ts';
import { ROLES } from '../src/service.ts';
import { BookingStore } from '../src/store/booking.store.ts';
import { DEFAULT_PAYMENT_SECRET, paymentSignature } from '../src/domain/payment-signature.ts';
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

type BookingBody = {
  id: string;
  status: string;
  amount: number;
  createdAt: string;
  startDate: string;
  endDate: string;
};
type Outcome = { outcome: string; booking: BookingBody; refund: { reason: string } | null };
type Invoice = {
  invoiceId: string;
  total: number;
  lines: { night: string; quantity: number; amount: number }[];
  refunds: { reason: string }[];
};
type Notifications = { notifications: { bookingId: string; kind: string; message: string }[] };
type Page = { bookings: BookingBody[]; nextCursor: string | null };

/** Polls until check returns a value, or fails after the deadline with what it last saw. */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe.each<[string, Servers]>([
  ['Kafka, Cassandra, MySQL and Redis', 'all-real'],
  ['the embedded stand-ins', 'embedded'],
])('events, notifications, invoices and the archive on %s', (_name, servers) => {
  let data: Storage;
  let db: Relational;
  let system: TestSystem;
  let api: ReturnType<typeof client>;
  const user = `guest-${randomUUID().slice(0, 8)}`;
  const seen: Envelope<unknown>[] = [];
  let closeWatch: () => Promise<void>;

  const book = (roomId: string, from: number, nights = 2, quantity = 1) =>
    api.post<BookingBody>(
      '/bookings',
      { userId: user, roomId, quantity, startDate: inDays(from), endDate: inDays(from + nights) },
      { 'idempotency-key': randomUUID() },
    );
  const pay = (id: string, reference: string) =>
    api.pay<Outcome>(id, { status: 'succeeded', reference });

  beforeAll(async () => {
    data = await storage(servers);
    db = data.open();
    system = await startSystem(
      data,
      { ARCHIVE_INTERVAL_MS: '3600000', ARCHIVE_CANCELLED_AFTER_MS: '1', HOLD_TTL_MS: '60000' },
      [...ROLES],
    );
    api = client(system.url);
    const { eventLog } = system.running.infra;
    const watch = await eventLog.subscribe({
      group: `watch-${randomUUID()}`,
      topics: [TOPICS.hotels, TOPICS.bookings],
      handleBatch: async (batch) => {
        for (const record of batch.records) seen.push(decodeEvent(record));
      },
    });
    closeWatch = () => watch.close();
  }, 120_000);

  afterAll(async () => {
    await closeWatch?.();
    await system?.stop();
    await db?.close();
    await data?.drop();
  }, 60_000);

  const eventsOf = (key: string) => seen.filter((event) => event.key === key);

  it('puts hotel and room changes, and every step of a booking, on the log in order', async () => {
    const { hotelId, roomIds } = await hotelWithRooms(system.url, [{ id: 'ev-room', quantity: 3 }]);
    const renamed = await api.put(`/hotels/${hotelId}`, {
      name: 'Renamed Hotel',
      locality: 'Porto',
      facilities: ['wifi', 'pool'],
    });
    expect(renamed.status).toBe(200);
    const held = await book(roomIds[0]!, 5);
    expect(held.status).toBe(201);
    expect((await pay(held.body.id, 'pay-ev')).body.outcome).toBe('booked');

    const hotelEvents = await eventually('three hotel events', async () => {
      const events = eventsOf(hotelId);
      return events.length >= 3 ? events : undefined;
    });
    expect(hotelEvents.map((event) => event.type)).toEqual([
      'hotel.changed',
      'room.changed',
      'hotel.changed',
    ]);
    const last = hotelEvents[2]!.data as { hotel: { name: string; version: number } };
    expect(last.hotel).toMatchObject({ name: 'Renamed Hotel', version: 2 });

    const bookingEvents = await eventually('two booking events', async () => {
      const events = eventsOf(held.body.id);
      return events.length >= 2 ? events : undefined;
    });
    expect(bookingEvents.map((event) => [event.type, event.version])).toEqual([
      ['booking.reserved', 1],
      ['booking.booked', 1],
    ]);
    const versions = bookingEvents.map((event) => (event.data as BookingEventData).booking.version);
    expect(versions).toEqual([1, 2]);
    expect(new Set(bookingEvents.map((event) => event.id)).size).toBe(2);
    // Relayed events leave the outbox.
    await eventually('an empty outbox', async () => {
      const [row] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM outbox');
      return Number(row!.n) === 0 ? true : undefined;
    });
  });

  it('notifies the guest once per booking event, even when an event comes twice', async () => {
    const { roomIds } = await hotelWithRooms(system.url, [{ id: 'nt-room', quantity: 2 }]);
    const held = await book(roomIds[0]!, 8);
    await pay(held.body.id, 'pay-nt');
    const mine = async () => {
      const answer = await api.get<Notifications>(`/users/${user}/notifications?limit=100`);
      return answer.body.notifications.filter((n) => n.bookingId === held.body.id);
    };
    const notes = await eventually('two notifications', async () => {
      const found = await mine();
      return found.length >= 2 ? found : undefined;
    });
    expect(notes.map((note) => note.kind)).toEqual(['booking.booked', 'booking.reserved']);
    expect(notes[0]!.message).toContain('confirmed');

    // The log delivers at least once: the same event again changes nothing.
    const booked = eventsOf(held.body.id).find((event) => event.type === 'booking.booked')!;
    await system.running.infra.eventLog.publish(TOPICS.bookings, [encodeEvent(booked)]);
    await eventually('the duplicate to be consumed', async () =>
      seen.filter((event) => event.id === booked.id).length >= 2 ? true : undefined,
    );
    await sleep(500);
    expect(await mine()).toHaveLength(2);
  });

  it('invoices a paid stay night by night, and has no invoice before payment', async () => {
    const { roomIds } = await hotelWithRooms(system.url, [
      { id: 'inv-room', quantity: 2, minPrice: 10_000, maxPrice: 30_000 },
    ]);
    const first = await book(roomIds[0]!, 4, 3);
    const unpaid = await api.get(`/bookings/${first.body.id}/invoice?userId=${user}`);
    expect(unpaid.status).toBe(404);
    expect((unpaid.body as { error: { code: string } }).error.code).toBe('invoice_not_found');

    await pay(first.body.id, 'pay-inv');
    const invoice = await api.get<Invoice>(`/bookings/${first.body.id}/invoice?userId=${user}`);
    expect(invoice.status).toBe(200);
    expect(invoice.body.lines.map((line) => line.night)).toEqual([inDays(4), inDays(5), inDays(6)]);
    // The first of two rooms sells at the minimum price.
    expect(invoice.body.lines.map((line) => line.amount)).toEqual([10_000, 10_000, 10_000]);
    expect(invoice.body.total).toBe(first.body.amount);

    // The second room sells at the maximum, and its invoice says so.
    const second = await book(roomIds[0]!, 4, 1);
    await pay(second.body.id, 'pay-inv-2');
    const dearer = await api.get<Invoice>(`/bookings/${second.body.id}/invoice?userId=${user}`);
    expect(dearer.body.lines).toEqual([{ night: inDays(4), quantity: 1, amount: 30_000 }]);
    const stranger = await api.get(`/bookings/${second.body.id}/invoice?userId=someone-else`);
    expect(stranger.status).toBe(404);
  });

  it('archives terminal bookings and still serves them, merged with live ones', async () => {
    const { roomIds } = await hotelWithRooms(system.url, [{ id: 'ar-room', quantity: 5 }]);
    const room = roomIds[0]!;
    const cancelled = await book(room, 10);
    await api.post(`/bookings/${cancelled.body.id}/cancel?userId=${user}`);
    const stayed = await book(room, 12);
    await pay(stayed.body.id, 'pay-stayed');
    // The stay is over: move it into the past, as time would.
    await db.execute('UPDATE bookings SET start_date = ?, end_date = ? WHERE id = ?', [
      inDays(-5),
      inDays(-3),
      stayed.body.id,
    ]);
    const upcoming = await book(room, 14);
    await pay(upcoming.body.id, 'pay-upcoming');
    const holding = await book(room, 16);

    await system.running.archiver!.archiveDue();

    const live = await db.query<{ id: string }>('SELECT id FROM bookings WHERE user_id = ?', [
      user,
    ]);
    const liveIds = live.map((row) => row.id);
    expect(liveIds).not.toContain(cancelled.body.id);
    expect(liveIds).not.toContain(stayed.body.id);
    expect(liveIds).toEqual(expect.arrayContaining([upcoming.body.id, holding.body.id]));

    const archived = await api.get<BookingBody>(`/bookings/${stayed.body.id}?userId=${user}`);
    expect(archived.body).toMatchObject({ id: stayed.body.id, status: 'BOOKED' });
    const hidden = await api.get(`/bookings/${stayed.body.id}?userId=someone-else`);
    expect(hidden.status).toBe(404);

    // One booking per page, across live and archived rows: all, newest first, once each.
    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : '';
      const page = await api.get<Page>(`/users/${user}/bookings?limit=1${query}`);
      expect(page.status).toBe(200);
      pages.push(...page.body.bookings.map((booking) => booking.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    const all = await api.get<Page>(`/users/${user}/bookings?limit=100`);
    expect(pages).toEqual(all.body.bookings.map((booking) => booking.id));
    expect(new Set(pages).size).toBe(pages.length);
    for (const id of [cancelled, stayed, upcoming, holding].map((b) => b.body.id)) {
      expect(pages).toContain(id);
    }
    const created = all.body.bookings.map((booking) => Date.parse(booking.createdAt));
    expect([...created].sort((a, b) => b - a)).toEqual(created);

    // A payment for an archived cancellation is refunded, never re-reserved.
    const late = await pay(cancelled.body.id, 'pay-too-late');
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({
      outcome: 'refunded',
      refund: { reason: 'cancelled_after_payment' },
    });
  });

  it('finds hotels by fuzzy text, locality, facilities, price and free dates', async () => {
    const town = `Town-${randomUUID().slice(0, 8)}`;
    const hotel = async (
      name: string,
      facilities: string[],
      room: { id: string; quantity: number; minPrice: number; maxPrice: number },
    ) => {
      const created = await api.post<{ id: string }>('/hotels', {
        name,
        locality: town,
        facilities,
      });
      expect(created.status).toBe(201);
      const { id, ...fields } = room;
      const put = await api.put(`/hotels/${created.body.id}/rooms/${id}`, fields);
      expect(put.status).toBe(201);
      return created.body.id;
    };
    const palace = await hotel('Grand Azure Palace', ['Pool', 'wifi'], {
      id: `palace-${town}`,
      quantity: 3,
      minPrice: 10_000,
      maxPrice: 20_000,
    });
    const inn = await hotel('Azure Budget Inn', ['wifi'], {
      id: `inn-${town}`,
      quantity: 2,
      minPrice: 3_000,
      maxPrice: 5_000,
    });
    const lodge = await hotel('Mountain Lodge', ['spa'], {
      id: `lodge-${town}`,
      quantity: 1,
      minPrice: 8_000,
      maxPrice: 9_000,
    });
    type Found = { hits: { id: string; name: string; minPrice: number }[]; total: number };
    const find = async (query: string) => {
      const answer = await api.get<Found>(`/search?locality=${town}&${query}`);
      expect(answer.status).toBe(200);
      return answer.body.hits.map((hit) => hit.id).sort();
    };
    // The index follows the events: wait until all three are there.
    await eventually('the three hotels in the index', async () =>
      (await find('')).length === 3 ? true : undefined,
    );
    expect(await find('q=azuer')).toEqual([palace, inn].sort());
    expect(await find('q=mountin%20lodge')).toEqual([lodge]);
    expect(await find('q=azure&facilities=pool')).toEqual([palace]);
    expect(await find('maxPrice=6000')).toEqual([inn]);
    expect(await find('minPrice=15000')).toEqual([palace]);
    expect(await find('minPrice=8500&maxPrice=8600')).toEqual([lodge]);

    // The lodge's one room sold for two nights: gone from searches for them.
    const stay = await api.post(
      '/bookings',
      {
        userId: user,
        roomId: `lodge-${town}`,
        quantity: 1,
        startDate: inDays(6),
        endDate: inDays(8),
      },
      { 'idempotency-key': randomUUID() },
    );
    expect(stay.status).toBe(201);
    expect(await find(`startDate=${inDays(7)}&endDate=${inDays(9)}`)).toEqual([palace, inn].sort());
    expect(await find(`startDate=${inDays(8)}&endDate=${inDays(9)}`)).toHaveLength(3);
    expect(await find(`startDate=${inDays(7)}&endDate=${inDays(8)}&quantity=3`)).toEqual([palace]);

    // A renamed hotel is found by its new name.
    await api.put(`/hotels/${lodge}`, {
      name: 'Alpine Chalet',
      locality: town,
      facilities: ['spa'],
    });
    await eventually('the new name in the index', async () =>
      (await find('q=chalet')).length === 1 ? true : undefined,
    );
    expect(await find('q=mountain')).toEqual([]);
  });

  it('takes payment callbacks only signed by the provider, for the right amount', async () => {
    const { roomIds } = await hotelWithRooms(system.url, [{ id: 'sig-room', quantity: 2 }]);
    const held = await book(roomIds[0]!, 9);
    const id = held.body.id;
    const body = { status: 'succeeded', reference: 'pay-forged' };
    const refusal = async (answer: Promise<{ status: number; body: unknown }>) => {
      const { status, body: error } = await answer;
      return [status, (error as { error: { code: string } }).error.code];
    };
    // No signature, a made-up one, one made with another secret, one for other fields.
    expect(await refusal(api.post(`/bookings/${id}/payment`, body))).toEqual([
      401,
      'payment_signature_required',
    ]);
    const forged = { 'x-payment-signature': 'ab'.repeat(32) };
    expect(await refusal(api.post(`/bookings/${id}/payment`, body, forged))).toEqual([
      401,
      'payment_signature_invalid',
    ]);
    expect(await refusal(api.pay(id, body, 'someone-elses-secret-value'))).toEqual([
      401,
      'payment_signature_invalid',
    ]);
    const signedFailure = {
      'x-payment-signature': paymentSignature(DEFAULT_PAYMENT_SECRET, id, { status: 'failed' }),
    };
    expect(await refusal(api.post(`/bookings/${id}/payment`, body, signedFailure))).toEqual([
      401,
      'payment_signature_invalid',
    ]);
    // Signed, but not what the booking costs.
    expect(
      await refusal(api.pay(id, { ...body, reference: 'pay-short', amount: held.body.amount - 1 })),
    ).toEqual([409, 'amount_mismatch']);
    // Nothing of that was written: the hold is still a hold, with no refund.
    const still = await api.get<BookingBody & { status: string }>(`/bookings/${id}?userId=${user}`);
    expect(still.body.status).toBe('RESERVED');
    const [refunds] = await db.query<{ n: number }>(
      'SELECT COUNT(*) AS n FROM refunds WHERE booking_id = ?',
      [id],
    );
    expect(Number(refunds!.n)).toBe(0);

    const paid = await api.pay<Outcome>(id, { ...body, amount: held.body.amount });
    expect(paid.body.outcome).toBe('booked');
  });

  it('names the search parameter it cannot use', async () => {
    const refused = async (query: string) => {
      const answer = await api.get<{ error: { field: string } }>(`/search?${query}`);
      return [answer.status, answer.body.error.field];
    };
    expect(await refused(`startDate=${inDays(3)}`)).toEqual([400, 'endDate']);
    expect(await refused(`startDate=${inDays(3)}&endDate=${inDays(2)}`)).toEqual([400, 'endDate']);
    expect(await refused(`startDate=${inDays(-3)}&endDate=${inDays(-1)}`)).toEqual([
      400,
      'startDate',
    ]);
    expect(await refused('minPrice=500&maxPrice=100')).toEqual([400, 'maxPrice']);
    expect(await refused('limit=0')).toEqual([400, 'limit']);
    // A forged cursor of the bookings list: too big a time for any store.
    // (JSON text: 2^53 + 1 is no exact number in JavaScript.)
    for (const forged of ['[1e300,"x"]', '[9007199254740993,"x"]', '[-1,"x"]', '["1","x"]']) {
      const cursor = Buffer.from(forged).toString('base64url');
      const answer = await api.get<{ error: { field: string } }>(
        `/users/${user}/bookings?cursor=${cursor}`,
      );
      expect([answer.status, answer.body.error.field]).toEqual([400, 'cursor']);
    }
    expect(await refused('minPrice=cheap')).toEqual([400, 'minPrice']);
    expect(await refused(`q=${'x'.repeat(501)}`)).toEqual([400, 'q']);
    expect((await api.get('/search?cursor=not-a-cursor')).status).toBe(400);
  });

  it('does not archive a booking that changed after it was read', async () => {
    const { roomIds } = await hotelWithRooms(system.url, [{ id: 'ar-race', quantity: 2 }]);
    const held = await book(roomIds[0]!, 20);
    const paid = await pay(held.body.id, 'pay-race');
    expect(paid.body.outcome).toBe('booked');
    const bookings = new BookingStore(db);
    const before = (await bookings.find(held.body.id))!;
    await api.post(`/bookings/${held.body.id}/cancel?userId=${user}`);
    expect(await bookings.removeArchived(before)).toBe(false);
    expect(await bookings.find(held.body.id)).toMatchObject({ status: 'CANCELLED' });
  });
});

describe('the outbox with no relay running (Kafka and MySQL)', () => {
  it('keeps events of acknowledged changes until a relay starts, then delivers them', async () => {
    const data = await storage('all-real');
    const db = data.open();
    const user = `outbox-${randomUUID().slice(0, 8)}`;
    // The API alone: changes commit with their events, and nothing relays them.
    const apiOnly = await startSystem(data, {}, ['api']);
    let relayOnly: TestSystem | undefined;
    try {
      const api = client(apiOnly.url);
      const { roomIds } = await hotelWithRooms(apiOnly.url, [{ id: 'ob-room', quantity: 1 }]);
      const held = await api.post<BookingBody>(
        '/bookings',
        { userId: user, roomId: roomIds[0], quantity: 1, startDate: inDays(3), endDate: inDays(4) },
        { 'idempotency-key': randomUUID() },
      );
      expect(held.status).toBe(201);
      await apiOnly.stop();
      const [waiting] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM outbox');
      // hotel.changed, room.changed, booking.reserved
      expect(Number(waiting!.n)).toBe(3);

      relayOnly = await startSystem(data, {}, ['event-relay']);
      const seen: Envelope<unknown>[] = [];
      const watch = await relayOnly.running.infra.eventLog.subscribe({
        group: `watch-${randomUUID()}`,
        topics: [TOPICS.bookings],
        handleBatch: async (batch) => {
          for (const record of batch.records) seen.push(decodeEvent(record));
        },
      });
      try {
        const reserved = await eventually('the reservation event', async () =>
          seen.find((event) => event.key === held.body.id),
        );
        expect(reserved.type).toBe('booking.reserved');
        await eventually('an empty outbox', async () => {
          const [row] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM outbox');
          return Number(row!.n) === 0 ? true : undefined;
        });
      } finally {
        await watch.close();
      }
    } finally {
      await apiOnly.stop().catch(() => undefined);
      await relayOnly?.stop();
      await db.close();
      await data.drop();
    }
  }, 120_000);
});
