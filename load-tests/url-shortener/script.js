/* global __ENV */
// Load test of the URL shortener: an open model (arrival-rate executors, so a
// slow server does not slow the arrivals down), read-heavy like the traffic it
// is designed for. The thresholds are its SLOs, the same numbers as
// charts/url-shortener/rules/slo.rules.yaml.
//
//   k6 run --no-usage-report -e BASE_URL=http://127.0.0.1:8081 -e RATE=50 -e DURATION=30s script.js
//
// RATE is iterations per second across both scenarios at the plateau: 90 %
// redirects of codes created in setup, 10 % creates, each of which also
// follows its new link once (a link opened as soon as it is shared; behind a
// Service with several API replicas most of these are Redis reads, since only
// the replica that created it holds it in its near cache). Redirects ramp up
// over the first fifth of DURATION. The API limits creates per client
// (CREATE_RATE_LIMIT, 600 a minute by default), which caps RATE at about 90
// from one machine unless the limit is raised.
import http from 'k6/http';
import { check, fail } from 'k6';
import exec from 'k6/execution';
import { constantArrivals, positiveNumber, rampingArrivals, seconds } from '../shared.js';

const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8081').replace(/\/+$/, '');
const RATE = Math.max(2, Math.round(positiveNumber('RATE', 50)));
const DURATION_S = seconds('DURATION', '30s');
const POOL_SIZE = positiveNumber('POOL_SIZE', 50);

const CREATE_RATE = Math.max(1, Math.round(RATE / 10));
const REDIRECT_RATE = Math.max(1, RATE - CREATE_RATE);
const RAMP_S = Math.max(1, Math.round(DURATION_S / 5));

export const options = {
  // A redirect is the answer under test. Following it would leave for the
  // target's host, which is not ours to load.
  maxRedirects: 0,
  scenarios: {
    redirects: rampingArrivals('redirect', REDIRECT_RATE, DURATION_S, RAMP_S),
    creates: constantArrivals('create', CREATE_RATE, DURATION_S),
  },
  thresholds: {
    // SLO: 99 % of redirects within 100 ms.
    'http_req_duration{op:redirect}': ['p(99)<100'],
    // SLO: 95 % of creates within 250 ms.
    'http_req_duration{op:create}': ['p(95)<250'],
    // SLO: at most 0.1 % of requests fail.
    http_req_failed: ['rate<0.001'],
    // Every answer is the right one: the stored target, a fresh code.
    checks: ['rate>0.999'],
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(95)', 'p(99)', 'max'],
};

/** Codes the redirect scenario reads, created before the load starts. */
export function setup() {
  const ready = http.get(`${BASE_URL}/readyz`, { tags: { op: 'setup' } });
  if (ready.status !== 200) {
    fail(`${BASE_URL}/readyz: ${ready.status || ready.error}; is the URL shortener running?`);
  }

  const links = [];
  for (let i = 0; i < POOL_SIZE; i++) {
    const url = `https://example.com/k6/${Date.now()}/${i}`;
    const response = shorten(url, 'setup');
    if (response.status !== 201) {
      fail(`creating the link pool: POST /urls answered ${response.status} ${response.body}`);
    }
    links.push({ code: response.json('code'), url });
  }
  return { links };
}

export function redirect(data) {
  const link = data.links[Math.floor(Math.random() * data.links.length)];
  follow(link.code, link.url);
}

export function create() {
  const url = `https://example.com/k6/${exec.vu.idInTest}/${exec.scenario.iterationInTest}`;
  const response = shorten(url, 'create');
  const created = check(response, {
    'create answers 201': (r) => r.status === 201,
    'create returns a code': (r) => r.status === 201 && /^[\w-]+$/.test(r.json('code')),
  });
  if (created) follow(response.json('code'), url);
}

function shorten(url, op) {
  return http.post(`${BASE_URL}/urls`, JSON.stringify({ url }), {
    headers: { 'content-type': 'application/json' },
    tags: { op, name: 'POST /urls' },
  });
}

function follow(code, url) {
  const response = http.get(`${BASE_URL}/${code}`, {
    tags: { op: 'redirect', name: 'GET /:code' },
  });
  check(response, {
    'redirect answers 301 or 302': (r) => r.status === 301 || r.status === 302,
    'redirect leads to the stored target': (r) => r.headers.Location === url,
  });
}
