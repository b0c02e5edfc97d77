/* global __ENV */
// Settings and scenario shapes every load test shares. A script imports them from
// '../shared.js' when k6 runs it from this folder; the TestRun's ConfigMap carries one file,
// so `npm run load -- <system> --write-testrun` writes this file in place of the import.

/** The number in environment variable `name`, `fallback` when unset; anything else fails. */
export function positiveNumber(name, fallback) {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!(value > 0)) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

/** Environment variable `name` ("90", "90s", "5m", "1h30m"; else `fallback`) in seconds. */
export function seconds(name, fallback) {
  const text = __ENV[name] || fallback;
  const parts = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$/.exec(text);
  const [, h = 0, m = 0, s = 0] = parts || [];
  const total = Number(h) * 3600 + Number(m) * 60 + Number(s);
  if (!parts || total < 2) throw new Error(`${name} must be 2s or more, not "${text}"`);
  return total;
}

/** VUs to keep ready for an arrival rate, assuming answers within 100 ms. */
export function vusFor(rate) {
  return Math.max(2, Math.ceil(rate / 10));
}

/** `rate` iterations of `exec` a second for `durationS` (an open model). */
export function constantArrivals(exec, rate, durationS) {
  return {
    executor: 'constant-arrival-rate',
    exec,
    rate,
    timeUnit: '1s',
    duration: `${durationS}s`,
    preAllocatedVUs: vusFor(rate),
    maxVUs: 4 * vusFor(rate),
  };
}

/** Arrivals of `exec` ramping up to `rate` a second over `rampS`, then held to `durationS`. */
export function rampingArrivals(exec, rate, durationS, rampS) {
  return {
    executor: 'ramping-arrival-rate',
    exec,
    startRate: Math.ceil(rate / 10),
    timeUnit: '1s',
    stages: [
      { target: rate, duration: `${rampS}s` },
      { target: rate, duration: `${Math.max(1, durationS - rampS)}s` },
    ],
    preAllocatedVUs: vusFor(rate),
    maxVUs: 4 * vusFor(rate),
  };
}
