/* global __ENV */
// Load test of hotel booking: guests browsing, guests booking rooms of their
// own, and a crowd fighting over one room. The thresholds are its SLOs, the
// same numbers as charts/hotel-booking/rules/slo.rules.yaml.
//
//   k6 run --no-usage-report -e BASE_URL=http://127.0.0.1:8082 -e RATE=20 -e DURATION=30s script.js
//
// setup() creates HOTELS hotels of ROOM_TYPES room types (ROOM_QUANTITY rooms
// each) through the API, one hot room type of HOT_QUANTITY rooms, and a few
// paid bookings to read. Then, for DURATION:
//
//   browse     (open model, 60 % of RATE, ramping up over the first fifth):
//              a hotel, a room's availability, a guest's bookings, one booking.
//   search     (open model, SEARCH_RATE a second, 15 % of RATE unless set,
//              ramping up the same way): GET /search with a misspelt word in
//              one locality. Its own rate, so a short run can take enough
//              searches for their p95 to say something.
//   book       (open model, 40 % of RATE): a stay of 1-3 nights on the room
//              types in turn, at random dates, so bookers rarely meet. Then the
//              guest pays (70 %), the payment fails (10 %), the guest cancels
//              the hold (10 %) or walks away and lets it run out (10 %); one
//              paid booking in ten is cancelled later, with a refund.
//   hot-room   (closed model, HOT_VUS VUs): every VU books the same night of
//              the hot room again and again. Most are refused with 409
//              rooms_unavailable, which is the right answer and counted as
//              such, not as a failure. A winner holds the room while "paying"
//              (1-2 s), then pays and cancels (a refund) or its payment fails;
//              either way the room comes back for the next round.
//
// The stays fall within STAY_WINDOW_DAYS days from today, which must stay
// below the system's INVENTORY_DAYS (365 by default), the nights on sale.
import http from 'k6/http';
import crypto from 'k6/crypto';
import { check, fail, sleep } from 'k6';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';
import { constantArrivals, positiveNumber, rampingArrivals, seconds } from '../shared.js';

const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8082').replace(/\/+$/, '');
const RATE = Math.max(2, Math.round(positiveNumber('RATE', 20)));
const DURATION_S = seconds('DURATION', '30s');
const HOTELS = Math.round(positiveNumber('HOTELS', 4));
const ROOM_TYPES = Math.round(positiveNumber('ROOM_TYPES', 5));
const ROOM_QUANTITY = Math.round(positiveNumber('ROOM_QUANTITY', 20));
const HOT_QUANTITY = Math.round(positiveNumber('HOT_QUANTITY', 1));
const HOT_VUS = Math.round(positiveNumber('HOT_VUS', 10));
const STAY_WINDOW_DAYS = Math.round(positiveNumber('STAY_WINDOW_DAYS', 45));

const BOOK_RATE = Math.max(1, Math.round((RATE * 2) / 5));
const BROWSE_RATE = Math.max(1, RATE - BOOK_RATE);
const SEARCH_RATE = Math.max(1, Math.round(positiveNumber('SEARCH_RATE', (RATE * 3) / 20)));
const RAMP_S = Math.max(1, Math.round(DURATION_S / 5));
const JSON_HEADERS = { 'content-type': 'application/json' };
// A refusal of the hot room is an answer, not a failed request.
const BOOKED_OR_REFUSED = http.expectedStatuses(201, 409);

let sequence = 0;

const hotRoomWins = new Counter('hot_room_wins');
const hotRoomRefusals = new Counter('hot_room_refusals');
const searches = new Counter('searches');

export const options = {
  scenarios: {
    browse: rampingArrivals('browse', BROWSE_RATE, DURATION_S, RAMP_S),
    search: rampingArrivals('search', SEARCH_RATE, DURATION_S, RAMP_S),
    book: constantArrivals('book', BOOK_RATE, DURATION_S),
    'hot-room': {
      executor: 'constant-vus',
      exec: 'hotRoom',
      vus: HOT_VUS,
      duration: `${DURATION_S}s`,
    },
  },
  thresholds: {
    // SLO: 95 % of bookings (POST /bookings, refusals included) within 300 ms.
    'http_req_duration{op:book}': ['p(95)<300'],
    // SLO: 95 % of searches within 200 ms.
    'http_req_duration{op:search}': ['p(95)<200'],
    // SLO: at most 0.1 % of requests fail.
    http_req_failed: ['rate<0.001'],
    // Every answer is the right one: the booking made, paid, cancelled or refused as it should.
    checks: ['rate>0.999'],
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(95)', 'p(99)', 'max'],
};

/** Hotels and room types to book, the hot room, and bookings to read. */
export function setup() {
  const ready = http.get(`${BASE_URL}/readyz`, { tags: { op: 'setup' } });
  if (ready.status !== 200) {
    fail(`${BASE_URL}/readyz: ${ready.status || ready.error}; is hotel booking running?`);
  }
  const run = `k6-${Date.now().toString(36)}`;

  const hotels = [];
  const rooms = [];
  for (let h = 0; h < HOTELS; h++) {
    const hotel = createHotel(`${run} hotel ${h}`, h % 2 === 0 ? 'Lisbon' : 'Porto');
    const roomIds = [];
    for (let r = 0; r < ROOM_TYPES; r++) {
      const roomId = `${run}-h${h}-r${r}`;
      putRoom(hotel, roomId, ROOM_QUANTITY);
      roomIds.push(roomId);
      rooms.push(roomId);
    }
    hotels.push({ id: hotel, rooms: roomIds });
  }
  const hotRoom = `${run}-hot`;
  putRoom(hotels[0].id, hotRoom, HOT_QUANTITY);

  // A guest with paid bookings, for the browsing scenario to read.
  const guest = `${run}-guest`;
  const bookings = [];
  for (let i = 0; i < 5; i++) {
    const start = 2 + i * 3;
    const response = reserve(guest, rooms[i % rooms.length], start, start + 2, 'setup');
    if (response.status !== 201) {
      fail(`seeding bookings: POST /bookings answered ${response.status} ${response.body}`);
    }
    const id = response.json('id');
    const paid = pay(id, 'succeeded', 'setup');
    if (paid.status !== 200) fail(`seeding bookings: payment answered ${paid.status}`);
    bookings.push(id);
  }
  return { run, hotels, rooms, hotRoom, guest, bookings };
}

/** Text with a typo, in one locality: the fuzzy match and a filter. */
export function search() {
  searches.add(1);
  const locality = Math.random() < 0.5 ? 'Lisbon' : 'Porto';
  const response = http.get(`${BASE_URL}/search?q=hotl&locality=${locality}`, {
    tags: { op: 'search', name: 'GET /search' },
  });
  check(response, { 'search answers 200': (r) => r.status === 200 });
}

export function browse(data) {
  const hotel = data.hotels[Math.floor(Math.random() * data.hotels.length)];
  const choice = Math.random();
  if (choice < 0.4) {
    const response = http.get(`${BASE_URL}/hotels/${hotel.id}`, {
      tags: { op: 'browse', name: 'GET /hotels/:id' },
    });
    check(response, {
      'hotel answers 200 with its rooms': (r) =>
        r.status === 200 && r.json('rooms').length >= hotel.rooms.length,
    });
  } else if (choice < 0.7) {
    const room = hotel.rooms[Math.floor(Math.random() * hotel.rooms.length)];
    const start = 2 + Math.floor(Math.random() * (STAY_WINDOW_DAYS - 10));
    const response = http.get(
      `${BASE_URL}/rooms/${room}/availability?startDate=${day(start)}&endDate=${day(start + 7)}`,
      { tags: { op: 'browse', name: 'GET /rooms/:roomId/availability' } },
    );
    check(response, {
      'availability answers 200 for every night': (r) =>
        r.status === 200 && r.json('nights').length === 7,
    });
  } else if (choice < 0.9) {
    const response = http.get(`${BASE_URL}/users/${data.guest}/bookings?limit=10`, {
      tags: { op: 'browse', name: 'GET /users/:id/bookings' },
    });
    check(response, {
      "a guest's bookings answer 200": (r) =>
        r.status === 200 && r.json('bookings').length === data.bookings.length,
    });
  } else {
    const id = data.bookings[Math.floor(Math.random() * data.bookings.length)];
    const response = http.get(`${BASE_URL}/bookings/${id}?userId=${data.guest}`, {
      tags: { op: 'browse', name: 'GET /bookings/:id' },
    });
    check(response, {
      'a booking answers 200, BOOKED': (r) => r.status === 200 && r.json('status') === 'BOOKED',
    });
  }
}

export function book(data) {
  const iteration = exec.scenario.iterationInTest;
  const room = data.rooms[iteration % data.rooms.length];
  const guest = `${data.run}-vu${exec.vu.idInTest}`;
  const start = 2 + Math.floor(Math.random() * (STAY_WINDOW_DAYS - 5));
  const nights = 1 + Math.floor(Math.random() * 3);
  const response = reserve(guest, room, start, start + nights, 'book');
  const reserved = check(response, {
    'a free room is reserved (201 RESERVED)': (r) =>
      r.status === 201 && r.json('status') === 'RESERVED',
  });
  if (!reserved) return;
  const id = response.json('id');

  const fate = Math.random();
  if (fate < 0.7) {
    const paid = pay(id, 'succeeded', 'pay');
    check(paid, { 'payment books it': (r) => r.status === 200 && r.json('outcome') === 'booked' });
    if (fate < 0.07) {
      const cancelled = cancel(id, guest);
      check(cancelled, {
        'cancelling a paid booking refunds it': (r) =>
          r.status === 200 && r.json('outcome') === 'cancelled' && r.json('refund') !== null,
      });
    }
  } else if (fate < 0.8) {
    const failed = pay(id, 'failed', 'pay');
    check(failed, {
      'a failed payment releases the hold': (r) =>
        r.status === 200 && r.json('outcome') === 'cancelled',
    });
  } else if (fate < 0.9) {
    const cancelled = cancel(id, guest);
    check(cancelled, {
      'cancelling a hold releases it': (r) =>
        r.status === 200 && r.json('outcome') === 'cancelled' && r.json('refund') === null,
    });
  }
  // Otherwise the guest walks away: the hold runs out and the hold releaser frees the room.
}

export function hotRoom(data) {
  const guest = `${data.run}-hot${exec.vu.idInTest}`;
  const response = reserve(guest, data.hotRoom, 20, 21, 'book', BOOKED_OR_REFUSED);
  const answered = check(response, {
    'the hot room is reserved, or refused as rooms_unavailable': (r) =>
      (r.status === 201 && r.json('status') === 'RESERVED') ||
      (r.status === 409 && errorCode(r) === 'rooms_unavailable'),
  });
  if (answered && response.status === 201) {
    hotRoomWins.add(1);
    const id = response.json('id');
    // The guest takes a moment to pay; meanwhile everyone else is refused.
    sleep(1 + Math.random());
    if (Math.random() < 0.5) {
      const paid = pay(id, 'succeeded', 'pay');
      const cancelled = paid.status === 200 ? cancel(id, guest) : undefined;
      check(cancelled, {
        'the hot room is paid, then cancelled with a refund': (r) =>
          r !== undefined && r.status === 200 && r.json('refund') !== null,
      });
    } else {
      const failed = pay(id, 'failed', 'pay');
      check(failed, {
        'a failed payment gives the hot room back': (r) =>
          r.status === 200 && r.json('outcome') === 'cancelled',
      });
    }
  } else if (answered) {
    hotRoomRefusals.add(1);
    sleep(0.1 + Math.random() * 0.2);
  }
}

function createHotel(name, locality) {
  const response = http.post(
    `${BASE_URL}/hotels`,
    JSON.stringify({ name, locality, facilities: ['wifi'], timeZone: 'UTC' }),
    { headers: JSON_HEADERS, tags: { op: 'setup', name: 'POST /hotels' } },
  );
  if (response.status !== 201) {
    fail(`creating hotels: POST /hotels answered ${response.status} ${response.body}`);
  }
  return response.json('id');
}

function putRoom(hotel, roomId, quantity) {
  const response = http.put(
    `${BASE_URL}/hotels/${hotel}/rooms/${roomId}`,
    JSON.stringify({ quantity, minPrice: 9000, maxPrice: 15000 }),
    { headers: JSON_HEADERS, tags: { op: 'setup', name: 'PUT /hotels/:id/rooms/:roomId' } },
  );
  if (response.status !== 201) {
    fail(`creating rooms: PUT ${roomId} answered ${response.status} ${response.body}`);
  }
}

function reserve(userId, roomId, startDay, endDay, op, responseCallback) {
  // Unique per attempt: user ids name the VU, and the sequence counts within it.
  sequence += 1;
  const key = `${userId}.${sequence}.${Date.now().toString(36)}`;
  const params = {
    headers: { ...JSON_HEADERS, 'idempotency-key': key },
    tags: { op, name: 'POST /bookings' },
  };
  if (responseCallback) params.responseCallback = responseCallback;
  const body = { userId, roomId, quantity: 1, startDate: day(startDay), endDate: day(endDay) };
  return http.post(`${BASE_URL}/bookings`, JSON.stringify(body), params);
}

// The payment provider signs its callbacks (see services/hotel-booking/src/domain/
// payment-signature.ts):
// HMAC-SHA256 of the booking id and the fields, one per line, with the shared secret.
const PAYMENT_SECRET = __ENV.PAYMENT_WEBHOOK_SECRET || 'platform-dev-payment-webhook-secret';

function pay(id, status, op) {
  const body = status === 'succeeded' ? { status, reference: `psp-${id}` } : { status };
  const message = [id, body.status, body.reference || '', ''].join('\n');
  return http.post(`${BASE_URL}/bookings/${id}/payment`, JSON.stringify(body), {
    headers: {
      ...JSON_HEADERS,
      'x-payment-signature': crypto.hmac('sha256', PAYMENT_SECRET, message, 'hex'),
    },
    tags: { op, name: 'POST /bookings/:id/payment' },
  });
}

function cancel(id, userId) {
  return http.post(`${BASE_URL}/bookings/${id}/cancel?userId=${userId}`, null, {
    tags: { op: 'cancel', name: 'POST /bookings/:id/cancel' },
  });
}

function errorCode(response) {
  try {
    return response.json('error.code');
  } catch {
    return undefined;
  }
}

/** The calendar date `days` after today (UTC), as YYYY-MM-DD. */
function day(days) {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}
