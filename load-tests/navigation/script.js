/* global __ENV */
// Load test of navigation: drivers asking for routes, apps asking for ETA
// batches, people searching places, traffic reports now and then, and a few
// navigation sessions over WebSocket. The thresholds are its SLOs, the same
// numbers as charts/navigation/rules/slo.rules.yaml.
//
//   k6 run --no-usage-report -e BASE_URL=http://127.0.0.1:8084 -e RATE=10 -e DURATION=30s script.js
//
// EXTRACT names the extract the service runs on (andorra, the chart's default,
// or monaco); the points are drawn inside its populated area, where the
// service snaps them onto the nearest road. For DURATION:
//
//   routes    (open model, 55 % of RATE): GET /route between two random points,
//             half of them one of POPULAR_PAIRS pairs drawn in setup (the trips
//             everyone makes, which the route cache answers); one in twenty
//             taps a point off the map, answered 422 as it should be. A 422
//             for a point outside the extract (near a border), far from every
//             road (a mountainside), or for no road between two points, is a
//             correct answer too.
//   etas      (open model, 20 % of RATE): POST /eta with ETA_BATCH pairs.
//   places    (open model, 25 % of RATE): GET /places with a misspelt name.
//   traffic   (one every TRAFFIC_EVERY seconds): a jam slowing a circle of
//             300 m to a random share of its speed; every fourth time weather
//             over a circle of 1 km instead (a random condition), and every
//             fourth time after that both resets (traffic to free flow, no
//             weather). Each one empties the route cache.
//   sessions  (SESSION_VUS VUs, closed model): a WebSocket session on
//             /navigate: start on a popular pair, drive along the route, leave
//             it sideways for a few pings (the session reroutes, or answers
//             no_route when no road leads on from there), then close.
import http from 'k6/http';
import { check, fail } from 'k6';
import { WebSocket } from 'k6/websockets';
import { setInterval, clearInterval, setTimeout, clearTimeout } from 'k6/timers';
import { constantArrivals, positiveNumber, seconds } from '../shared.js';

const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8084').replace(/\/+$/, '');
const RATE = Math.max(3, Math.round(positiveNumber('RATE', 10)));
const DURATION_S = seconds('DURATION', '30s');
const POPULAR_PAIRS = Math.round(positiveNumber('POPULAR_PAIRS', 8));
const ETA_BATCH = Math.round(positiveNumber('ETA_BATCH', 5));
const TRAFFIC_EVERY = Math.round(positiveNumber('TRAFFIC_EVERY', 5));
const SESSION_VUS = Math.round(positiveNumber('SESSION_VUS', 2));

// Where people are: town centres of each extract, points drawn within about
// 700 m of one. Places are asked for with a typo.
const EXTRACTS = {
  andorra: {
    towns: [
      [42.5063, 1.5218],
      [42.5097, 1.5386],
      [42.5347, 1.5801],
      [42.5676, 1.5979],
      [42.545, 1.5148],
      [42.5562, 1.5332],
      [42.4637, 1.4913],
      [42.5428, 1.7336],
      [42.5766, 1.6676],
      [42.5721, 1.4846],
    ],
    places: ['andora', 'escaldes', 'canilo', 'encamp', 'ordno', 'soldeu', 'massana', 'sant julia'],
  },
  monaco: {
    towns: [
      [43.7396, 7.4281],
      [43.7275, 7.4156],
      [43.7311, 7.4197],
      [43.7372, 7.4208],
      [43.7445, 7.4318],
      [43.7347, 7.4167],
    ],
    places: ['monaco', 'casino', 'larvoto', 'fontvielle', 'condamine', 'moneghetti', 'jardin'],
  },
};
const EXTRACT = EXTRACTS[__ENV.EXTRACT || 'andorra'];
if (!EXTRACT)
  throw new Error(`EXTRACT must be one of ${Object.keys(EXTRACTS)}, not "${__ENV.EXTRACT}"`);
// Null Island, off every extract.
const OFF_THE_MAP = { lat: 0.5, lng: 0.5 };

const JSON_HEADERS = { 'content-type': 'application/json' };
const ROUTED_OR_REFUSED = http.expectedStatuses(200, 422);
// Why a route may rightly be refused: a point near a border outside the extract, far from
// every road (a mountainside), or no road between the two.
const REFUSALS = ['outside_extract', 'no_road_nearby', 'no_route'];

const share = (part) => Math.max(1, Math.round(RATE * part));

export const options = {
  scenarios: {
    routes: constantArrivals('route', share(0.55), DURATION_S),
    etas: constantArrivals('eta', share(0.2), DURATION_S),
    places: constantArrivals('places', share(0.25), DURATION_S),
    traffic: {
      executor: 'constant-arrival-rate',
      exec: 'traffic',
      rate: 1,
      timeUnit: `${TRAFFIC_EVERY}s`,
      duration: `${DURATION_S}s`,
      preAllocatedVUs: 1,
      maxVUs: 2,
    },
    sessions: {
      executor: 'constant-vus',
      exec: 'session',
      vus: SESSION_VUS,
      duration: `${DURATION_S}s`,
    },
  },
  thresholds: {
    // SLO: 95 % of routes within 200 ms.
    'http_req_duration{op:route}': ['p(95)<200'],
    // SLO: at most 0.1 % of requests fail.
    http_req_failed: ['rate<0.001'],
    // Every answer is the right one: a route, ETAs, places, a session that reroutes.
    checks: ['rate>0.999'],
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(95)', 'p(99)', 'max'],
};

/** The popular pairs, and a check that the service is up with its graph loaded. */
export function setup() {
  const ready = http.get(`${BASE_URL}/readyz`, { tags: { op: 'setup' } });
  if (ready.status !== 200) {
    fail(`${BASE_URL}/readyz: ${ready.status || ready.error}; is navigation running?`);
  }
  // Pairs with a route of some length between them, so sessions can drive them.
  const popular = [];
  for (let tries = 0; popular.length < POPULAR_PAIRS && tries < 20 * POPULAR_PAIRS; tries++) {
    const pair = { from: randomPoint(), to: randomPoint() };
    const response = getRoute(pair, 'setup');
    if (response.status === 200 && response.json('properties.distanceM') > 500) popular.push(pair);
  }
  if (popular.length === 0)
    fail(`no route between any points drawn in ${__ENV.EXTRACT || 'andorra'}`);
  return { popular };
}

export function route(data) {
  if (Math.random() < 0.05) {
    const response = getRoute({ from: OFF_THE_MAP, to: randomPoint() }, 'route');
    check(response, {
      'a point off the map answers 422 naming the field': (r) =>
        r.status === 422 && r.json('error.field') === 'from',
    });
    return;
  }
  const pair =
    Math.random() < 0.5 ? pick(data.popular) : { from: randomPoint(), to: randomPoint() };
  const response = getRoute(pair, 'route');
  check(response, {
    'route answers 200, or 422 for a point off the roads or no road between': (r) =>
      r.status === 200 || (r.status === 422 && REFUSALS.includes(r.json('error.code'))),
    'a route is a line with a distance and a duration': (r) =>
      r.status !== 200 ||
      (r.json('geometry.type') === 'LineString' && r.json('properties.durationS') >= 0),
  });
}

export function eta(data) {
  const pairs = [];
  for (let i = 0; i < ETA_BATCH; i++) {
    pairs.push(i % 2 === 0 ? pick(data.popular) : { from: randomPoint(), to: randomPoint() });
  }
  const response = http.post(`${BASE_URL}/eta`, JSON.stringify({ pairs }), {
    headers: JSON_HEADERS,
    tags: { op: 'eta', name: 'POST /eta' },
  });
  check(response, {
    'eta answers 200 with a result per pair': (r) =>
      r.status === 200 && r.json('results').length === ETA_BATCH,
  });
}

export function places() {
  const q = pick(EXTRACT.places);
  const response = http.get(`${BASE_URL}/places?q=${encodeURIComponent(q)}&limit=5`, {
    tags: { op: 'places', name: 'GET /places' },
  });
  check(response, {
    'places answers 200 with a list': (r) => r.status === 200 && Array.isArray(r.json('places')),
  });
}

let trafficUpdates = 0;
const CONDITIONS = ['rain', 'heavy_rain', 'fog', 'snow', 'ice'];

export function traffic() {
  trafficUpdates += 1;
  const params = { headers: JSON_HEADERS, tags: { op: 'traffic', name: 'traffic' } };
  const post = (path, body) => http.post(`${BASE_URL}${path}`, JSON.stringify(body), params);
  const responses =
    trafficUpdates % 4 === 0
      ? [
          http.del(`${BASE_URL}/traffic`, null, params),
          http.del(`${BASE_URL}/weather`, null, params),
        ]
      : trafficUpdates % 4 === 2
        ? [
            post('/weather', {
              area: { ...randomPoint(), radiusM: 1000 },
              condition: pick(CONDITIONS),
            }),
          ]
        : [
            post('/traffic', {
              area: { ...randomPoint(), radiusM: 300 },
              factor: Math.round((0.2 + 0.6 * Math.random()) * 100) / 100,
            }),
          ];
  for (const response of responses) {
    check(response, {
      'traffic and weather answer 200 with the edges changed': (r) =>
        r.status === 200 && r.json('changedEdges') >= 0,
    });
  }
}

/** One drive: start, follow the route, stray from it until the session reroutes, stop. */
export function session(data) {
  const pair = pick(data.popular);
  const ws = new WebSocket(`${BASE_URL.replace(/^http/, 'ws')}/navigate`);
  let line = [];
  let pings = 0;
  let rerouted = false;
  let finished = false;
  let astray;
  let ticker;

  ws.onopen = () => {
    ws.send(JSON.stringify({ type: 'start', from: pair.from, to: pair.to }));
  };
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === 'route') {
      check(message, {
        'a session starts with a route': (m) => m.route.geometry.coordinates.length > 1,
      });
      line = message.route.geometry.coordinates;
      ticker = setInterval(() => drive(), 150);
    } else if (message.type === 'reroute') {
      rerouted = true;
      finish();
    } else if (message.type === 'error') {
      // Off the route, the driver may stand where no road leads on: a correct answer.
      check(message, { 'a session is answered no_route at worst': (m) => m.code === 'no_route' });
      rerouted = true;
      finish();
    }
  };
  ws.onerror = (event) => {
    check(event, { 'a session has no socket error': () => false });
  };

  // Two pings on the route, then pings from one spot 300 m aside of it until the session
  // reroutes: the side farther from the rest of the route (a hairpin may come back).
  function drive() {
    pings += 1;
    const at = Math.max(1, Math.min(line.length - 1, pings));
    if (pings <= 2 || rerouted) {
      ws.send(JSON.stringify({ type: 'ping', lat: line[at][1], lng: line[at][0] }));
    } else {
      astray =
        astray || farther(aside(line[at - 1], line[at], 300), aside(line[at - 1], line[at], -300));
      ws.send(JSON.stringify({ type: 'ping', lat: astray[1], lng: astray[0] }));
    }
    // Enough pings to reroute; the answer may still be on its way.
    if (pings >= 12) clearInterval(ticker);
  }
  function farther(a, b) {
    const cos = Math.cos((a[1] * Math.PI) / 180);
    const metres = (p, q) => Math.hypot((q[0] - p[0]) * cos * 111320, (q[1] - p[1]) * 110540);
    const nearest = (p) => Math.min(...line.map((q) => metres(p, q)));
    return nearest(a) >= nearest(b) ? a : b;
  }
  function finish() {
    if (finished) return;
    finished = true;
    clearInterval(ticker);
    clearTimeout(guard);
    check(rerouted, { 'a session off its route reroutes': (r) => r === true });
    ws.close();
  }
  // A session that never got its route, or never a reroute, still ends (and fails its check).
  const guard = setTimeout(finish, 10000);
}

/** The point `metres` to the left of `to`, across the direction from `from` ([lng, lat] pairs). */
function aside(from, to, metres) {
  const cos = Math.cos((to[1] * Math.PI) / 180);
  const east = (to[0] - from[0]) * cos * 111320;
  const north = (to[1] - from[1]) * 110540;
  const length = Math.hypot(east, north) || 1;
  return [
    to[0] - ((north / length) * metres) / (cos * 111320),
    to[1] + ((east / length) * metres) / 110540,
  ];
}

function getRoute(pair, op) {
  const at = (p) => `${p.lat},${p.lng}`;
  return http.get(`${BASE_URL}/route?from=${at(pair.from)}&to=${at(pair.to)}`, {
    tags: { op, name: 'GET /route' },
    responseCallback: ROUTED_OR_REFUSED,
  });
}

/** A point within about 700 m of a town centre of the extract. */
function randomPoint() {
  const [lat, lng] = pick(EXTRACT.towns);
  return {
    lat: round(lat + (Math.random() - 0.5) * 0.012),
    lng: round(lng + (Math.random() - 0.5) * 0.016),
  };
}

function pick(list) {
  return list[Math.floor(Math.random() * list.length)];
}

function round(value) {
  return Math.round(value * 1e5) / 1e5;
}
