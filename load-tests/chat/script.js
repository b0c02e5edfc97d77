/* global __ENV */
// Load test of chat: pairs of users talking 1:1 over WebSockets, a little REST
// traffic, and a few clients that misbehave. The thresholds are its SLOs, the
// same numbers as charts/chat/rules/slo.rules.yaml.
//
//   k6 run --no-usage-report -e BASE_URL=http://127.0.0.1:8085 -e PAIRS=10 -e DURATION=30s script.js
//
// Each chatting VU signs up a pair of users of its own (POST /users), signs
// them in for tokens (POST /sessions) and looks up their conversation; setup()
// does the same for one pair the REST and refusal scenarios share. Sign-ups
// and sign-ins are rate limited per client (SIGN_IN_RATE_LIMIT, 60 a minute by
// default): keep PAIRS at 14 or fewer, or raise the limit. For DURATION:
//
//   chatters  (PAIRS VUs, closed model): each VU's pair of users both
//             open /ws with their token and, once both are `ready`, send
//             each other a message every MESSAGE_EVERY_MS (default: RATE
//             messages a second over all pairs, 50), in turn, for
//             SESSION seconds, then close and reconnect. The recipient
//             acknowledges every message (delivery_ack) and records the time
//             from its sender's send_message to its own receipt
//             (chat_send_to_deliver); a message the server acknowledged that
//             does not reach its recipient within DELIVERY_TIMEOUT_MS counts
//             as a failed delivery (chat_delivery_failed). A connection the
//             server closes (1012: a drain) reconnects and resends what got no
//             ack (chat_reconnects counts them).
//   rest      (open model, REST_RATE a second, on setup's pair): a send over
//             REST (POST /messages, tag op:send; one in ten carries the image
//             setup uploaded as an attachment) or a history page (GET
//             /conversations/{id}/messages, op:history).
//   refusals  (one every 5 s): what must be refused is: an upgrade without a
//             token (401), an event missing its fields (error invalid_event),
//             a REST send with no body (400 naming the field).
import http from 'k6/http';
import exec from 'k6/execution';
import { check, fail } from 'k6';
import { Counter, Rate, Trend } from 'k6/metrics';
import { WebSocket } from 'k6/websockets';
import { setInterval, clearInterval, setTimeout, clearTimeout } from 'k6/timers';
import { constantArrivals, positiveNumber, seconds } from '../shared.js';

const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8085').replace(/\/+$/, '');
const WS_URL = `${BASE_URL.replace(/^http/, 'ws')}/ws`;
const PAIRS = Math.round(positiveNumber('PAIRS', 10));
const DURATION_S = seconds('DURATION', '30s');
const SESSION_S = Math.min(DURATION_S, seconds('SESSION', '10s'));
// RATE (npm run load -- chat --rate N) is messages a second over every pair; MESSAGE_EVERY_MS
// sets each pair's pace directly.
const MESSAGE_EVERY_MS = Math.round(
  positiveNumber('MESSAGE_EVERY_MS', (1000 * PAIRS) / positiveNumber('RATE', 50)),
);
const DELIVERY_TIMEOUT_MS = Math.round(positiveNumber('DELIVERY_TIMEOUT_MS', 5000));
const REST_RATE = Math.round(positiveNumber('REST_RATE', 2));
const PASSWORD = 'load-test-password';

const JSON_HEADERS = { 'content-type': 'application/json' };
const REFUSED = http.expectedStatuses(400);

/** From the sender's send_message to the recipient's receipt of the message, in ms. */
const sendToDeliver = new Trend('chat_send_to_deliver', true);
/** Messages the server acknowledged that did not reach their recipient in time. */
const deliveryFailed = new Rate('chat_delivery_failed');
/** Connections the server closed (a drain's 1012, mostly) and the client opened again. */
const reconnects = new Counter('chat_reconnects');

export const options = {
  scenarios: {
    chatters: {
      executor: 'constant-vus',
      exec: 'chatters',
      vus: PAIRS,
      duration: `${DURATION_S}s`,
      gracefulStop: `${Math.ceil(DELIVERY_TIMEOUT_MS / 1000) + 5}s`,
    },
    rest: constantArrivals('rest', REST_RATE, DURATION_S),
    refusals: {
      executor: 'constant-arrival-rate',
      exec: 'refusals',
      rate: 1,
      timeUnit: '5s',
      duration: `${DURATION_S}s`,
      preAllocatedVUs: 1,
      maxVUs: 2,
    },
  },
  thresholds: {
    // SLO: 95 % of messages delivered within 200 ms.
    chat_send_to_deliver: ['p(95)<200'],
    // SLO: at most 0.1 % of deliveries fail.
    chat_delivery_failed: ['rate<0.001'],
    // ... and at most 0.1 % of REST requests.
    http_req_failed: ['rate<0.001'],
    // Every answer is the right one: acks, messages, refusals.
    checks: ['rate>0.999'],
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(95)', 'p(99)', 'max'],
};

/**
 * A check that chat is up, the pair of users the REST and refusal scenarios use, and an
 * image one of them uploaded, which either may attach (its id is all it takes).
 */
export function setup() {
  const ready = http.get(`${BASE_URL}/readyz`, { tags: { op: 'setup' } });
  if (ready.status !== 200) {
    fail(`${BASE_URL}/readyz: ${ready.status || ready.error}; is chat running?`);
  }
  const pair = newPair('rest');
  const image = http.post(`${BASE_URL}/assets`, `k6 image ${Math.random()}`, {
    headers: { authorization: `Bearer ${pair.users[0].token}`, 'content-type': 'image/png' },
    tags: { op: 'setup', name: 'POST /assets' },
  });
  if (image.status !== 201) fail(`POST /assets: ${image.status} ${image.body}`);
  return { pair, assetId: image.json('assetId') };
}

/** Two new users, signed in, and their conversation. */
function newPair(name) {
  const prefix = `k6-${Math.random().toString(36).slice(2, 8)}-${name}`;
  const [a, b] = [signUp(`${prefix}a`), signUp(`${prefix}b`)];
  const response = http.get(`${BASE_URL}/conversations/direct/${b.id}`, {
    headers: { authorization: `Bearer ${a.token}` },
    tags: { op: 'setup', name: 'GET /conversations/direct/{userId}' },
  });
  if (response.status !== 200) fail(`conversation lookup: ${response.status} ${response.body}`);
  return { conversationId: response.json('conversationId'), users: [a, b] };
}

function signUp(name) {
  const body = JSON.stringify({ name, password: PASSWORD });
  const params = { headers: JSON_HEADERS, tags: { op: 'setup' } };
  const user = http.post(`${BASE_URL}/users`, body, params);
  if (user.status !== 201) fail(`POST /users: ${user.status} ${user.body}`);
  const session = http.post(`${BASE_URL}/sessions`, body, params);
  if (session.status !== 201) fail(`POST /sessions: ${session.status} ${session.body}`);
  return { id: user.json('id'), token: session.json('token') };
}

// A chatting VU's own pair of users, signed up on its first session: no other VU connects as
// them, so every acknowledgement a user sends is this VU's (one device's delivery_ack would
// clear a message for every device of the user).
let mine;
// Its numbering of its messages, across its sessions: a clientSeq is sent once.
let sent = 0;

/**
 * One session of a pair: both connect, talk in turn for SESSION seconds, then hang up. As the
 * client contract asks, a connection the server closes (1012 for a drain: the rebalancer moving
 * connections, or a handler stopping) reconnects after a jittered backoff, and a send that got
 * no ack is sent again with the same clientSeq; what the recipient missed meanwhile comes from
 * its pending messages when it is back.
 */
export function chatters() {
  mine = mine || newPair(`vu${exec.vu.idInTest}`);
  const pair = mine;
  const { conversationId } = pair;
  const sockets = [];
  const ready = new Set();
  const everReady = new Set();
  // `${sender}:${clientSeq}` of every message on its way, with the time it was sent.
  const inFlight = new Map();
  // Sends not acknowledged yet, by the same key: resent after a reconnect.
  const unacked = new Map();
  let turn = 0;
  let ticker;
  let stopping = false;
  let finished = false;

  function connect(index) {
    const user = pair.users[index];
    const ws = new WebSocket(WS_URL, null, { headers: { authorization: `Bearer ${user.token}` } });
    sockets[index] = ws;
    ws.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === 'ready') {
        ready.add(index);
        everReady.add(index);
        for (const unsent of unacked.values()) if (unsent.from === index) ws.send(unsent.frame);
        if (ready.size === 2 && !ticker && !stopping) ticker = setInterval(send, MESSAGE_EVERY_MS);
      } else if (message.type === 'ack') {
        unacked.delete(`${user.id}:${message.clientSeq}`);
      } else if (message.type === 'message') {
        ws.send(
          JSON.stringify({ type: 'delivery_ack', conversationId, messageId: message.messageId }),
        );
        const key = `${message.sender}:${message.clientSeq}`;
        const sentAt = inFlight.get(key);
        // Messages of earlier sessions or of the REST scenario, come again, are not timed.
        if (sentAt === undefined || message.sender === user.id) return;
        inFlight.delete(key);
        sendToDeliver.add(Date.now() - sentAt);
        deliveryFailed.add(false);
        if (stopping && inFlight.size === 0) finish();
      } else if (message.type === 'error') {
        check(message, { 'a send is never refused': () => false });
      }
    };
    ws.onclose = () => {
      ready.delete(index);
      // Closed by the server (a drain's 1012, or anything else): back after a backoff.
      if (finished) return;
      reconnects.add(1);
      // Full jitter from 250 ms, as a client whose handler drains does.
      setTimeout(
        () => {
          if (!finished) connect(index);
        },
        250 + Math.random() * 500,
      );
    };
    ws.onerror = (event) => {
      // k6 reports a close with any code but 1000 as an error too; a drain's 1012 is expected.
      if (/close 1012\b/.test(String(event.error))) return;
      check(event, { 'a connection has no socket error': () => false });
    };
  }

  function send() {
    const index = turn % 2;
    turn += 1;
    // A sender that is reconnecting skips its turn.
    if (!ready.has(index)) return;
    const from = pair.users[index];
    const clientSeq = ++sent;
    const key = `${from.id}:${clientSeq}`;
    const frame = JSON.stringify({
      type: 'send_message',
      conversationId,
      clientSeq,
      body: `message ${clientSeq} from ${from.id}`,
    });
    inFlight.set(key, Date.now());
    unacked.set(key, { from: index, frame });
    sockets[index].send(frame);
  }

  connect(0);
  connect(1);

  // After SESSION seconds: stop sending, wait for what is on its way, then hang up.
  let guard;
  const stopper = setTimeout(() => {
    stopping = true;
    clearInterval(ticker);
    check(everReady.size, { 'both users of a pair get ready': (n) => n === 2 });
    if (inFlight.size === 0) finish();
    else guard = setTimeout(finish, DELIVERY_TIMEOUT_MS);
  }, SESSION_S * 1000);

  function finish() {
    if (finished) return;
    finished = true;
    clearInterval(ticker);
    clearTimeout(stopper);
    clearTimeout(guard);
    for (let i = 0; i < inFlight.size; i++) deliveryFailed.add(true);
    for (const ws of sockets) ws.close();
  }
}

/** A send or a history page over REST, for one of the REST pair's users. */
export function rest(data) {
  const { pair, assetId } = data;
  const user = pair.users[Math.floor(Math.random() * 2)];
  const auth = { authorization: `Bearer ${user.token}`, ...JSON_HEADERS };
  if (Math.random() < 0.5) {
    // Random: several VUs send as the same user here.
    const clientSeq = 1 + Math.floor(Math.random() * 1e12);
    const attachments = Math.random() < 0.1 ? [assetId] : [];
    const response = http.post(
      `${BASE_URL}/messages`,
      JSON.stringify({
        conversationId: pair.conversationId,
        clientSeq,
        body: 'over REST',
        attachments,
      }),
      { headers: auth, tags: { op: 'send', name: 'POST /messages' } },
    );
    check(response, {
      'a REST send is stored': (r) => r.status === 201 && r.json('messageId') !== undefined,
      'its attachments come back': (r) =>
        r.status === 201 && String(r.json('attachments')) === String(attachments),
    });
  } else {
    const response = http.get(
      `${BASE_URL}/conversations/${pair.conversationId}/messages?limit=20`,
      { headers: auth, tags: { op: 'history', name: 'GET /conversations/{id}/messages' } },
    );
    check(response, {
      'a history page is a list': (r) => r.status === 200 && Array.isArray(r.json('messages')),
    });
  }
}

/** What must be refused is: an upgrade without a token, a malformed event, an empty send. */
export function refusals(data) {
  const user = data.pair.users[0];
  const response = http.post(`${BASE_URL}/messages`, '{}', {
    headers: { authorization: `Bearer ${user.token}`, ...JSON_HEADERS },
    tags: { op: 'refused', name: 'POST /messages' },
    responseCallback: REFUSED,
  });
  check(response, {
    'an empty send answers 400 naming the field': (r) =>
      r.status === 400 && typeof r.json('error.field') === 'string',
  });

  const anonymous = new WebSocket(WS_URL);
  let refused = false;
  anonymous.onerror = () => (refused = true);
  anonymous.onopen = () => anonymous.close();
  anonymous.onclose = () => check(refused, { 'an upgrade without a token is refused': (r) => r });

  const ws = new WebSocket(WS_URL, null, { headers: { authorization: `Bearer ${user.token}` } });
  const guard = setTimeout(() => {
    check(null, { 'a malformed event is answered invalid_event': () => false });
    ws.close();
  }, 5000);
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    // The REST sends wait here for this user: acknowledged, so they do not pile up.
    if (message.type === 'message') {
      ws.send(
        JSON.stringify({
          type: 'delivery_ack',
          conversationId: message.conversationId,
          messageId: message.messageId,
        }),
      );
    }
    if (message.type === 'ready') ws.send(JSON.stringify({ type: 'send_message' }));
    if (message.type === 'error') {
      check(message, {
        'a malformed event is answered invalid_event': (m) => m.code === 'invalid_event',
      });
      clearTimeout(guard);
      ws.close();
    }
  };
}
