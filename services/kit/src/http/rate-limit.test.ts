import { jest } from '@jest/globals';
import type { Options } from 'express-rate-limit';
import type { Cache } from '../ports/cache/cache.ts';
import { MemoryCache } from '../ports/cache/memory-cache.ts';
import { createLogger } from '../telemetry/logger.ts';
import { createMetrics } from '../telemetry/metrics.ts';
import { createHttpApp } from './app.ts';
import { CacheRateLimitStore, clientRateLimit } from './rate-limit.ts';
import { serve, type RunningServer } from './server.ts';

// One fixed window for the whole test: windows start at UTC midnight, far from any test run.
const DAY = 24 * 3600_000;

const logger = createLogger('kit-test', 'silent');
const running: RunningServer[] = [];

afterEach(async () => {
  jest.restoreAllMocks();
  await Promise.all(running.splice(0).map((server) => server.close()));
});

/** A replica: its own express app and server, limited through the given cache. */
async function startReplica(cache: Cache, limit = 3): Promise<string> {
  // 'loopback' trusts X-Forwarded-For from 127.0.0.1 only, so a test can act as several clients.
  const http = createHttpApp({
    logger,
    metrics: createMetrics('kit-test'),
    trustProxy: 'loopback',
  });
  http.app.use('/api', clientRateLimit({ cache, name: 'api', limit, windowMs: DAY }));
  http.app.get('/api/things', (_req, res) => {
    res.json({ things: [] });
  });
  http.app.get(
    '/other',
    clientRateLimit({ cache, name: 'other', limit, windowMs: DAY }),
    (_req, res) => {
      res.json({ other: true });
    },
  );

  const server = await serve({ app: http.finish(), port: 0, host: '127.0.0.1', logger });
  running.push(server);
  return server.url;
}

function get(url: string, client?: string) {
  return fetch(url, { headers: client ? { 'x-forwarded-for': client } : {} });
}

async function statuses(url: string, count: number, client?: string): Promise<number[]> {
  const result: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const res = await get(url, client);
    await res.arrayBuffer();
    result.push(res.status);
  }
  return result;
}

describe('clientRateLimit', () => {
  it('answers the request over the limit with a JSON 429', async () => {
    const url = await startReplica(new MemoryCache());

    expect(await statuses(`${url}/api/things`, 3)).toEqual([200, 200, 200]);
    const limited = await get(`${url}/api/things`);

    expect(limited.status).toBe(429);
    expect(await limited.json()).toEqual({
      error: {
        code: 'rate_limited',
        message: 'too many requests',
        requestId: limited.headers.get('x-request-id'),
      },
    });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('announces the remaining budget in the standard headers', async () => {
    const url = await startReplica(new MemoryCache());

    const first = await get(`${url}/api/things`);
    const second = await get(`${url}/api/things`);

    expect(first.headers.get('ratelimit-policy')).toMatch(/q=3; w=86400/);
    expect(first.headers.get('ratelimit')).toMatch(/r=2;/);
    expect(second.headers.get('ratelimit')).toMatch(/r=1;/);
    expect(first.headers.get('x-ratelimit-limit')).toBeNull();
  });

  it('shares one budget between replicas on the same cache', async () => {
    const cache = new MemoryCache();
    const first = await startReplica(cache);
    const second = await startReplica(cache);

    const spent = [
      ...(await statuses(`${first}/api/things`, 2)),
      ...(await statuses(`${second}/api/things`, 1)),
    ];

    expect(spent).toEqual([200, 200, 200]);
    expect(await statuses(`${second}/api/things`, 1)).toEqual([429]);
    expect(await statuses(`${first}/api/things`, 1)).toEqual([429]);
  });

  it('keeps replicas on separate caches apart', async () => {
    const first = await startReplica(new MemoryCache());
    const second = await startReplica(new MemoryCache());

    await statuses(`${first}/api/things`, 3);

    expect(await statuses(`${first}/api/things`, 1)).toEqual([429]);
    expect(await statuses(`${second}/api/things`, 1)).toEqual([200]);
  });

  it('gives each client its own budget', async () => {
    const url = await startReplica(new MemoryCache());

    expect(await statuses(`${url}/api/things`, 4, '203.0.113.7')).toEqual([200, 200, 200, 429]);
    expect(await statuses(`${url}/api/things`, 3, '198.51.100.9')).toEqual([200, 200, 200]);
    expect(await statuses(`${url}/api/things`, 1, '203.0.113.7')).toEqual([429]);
  });

  it('keeps limiters with different names apart', async () => {
    const url = await startReplica(new MemoryCache());

    await statuses(`${url}/api/things`, 3);

    expect(await statuses(`${url}/api/things`, 1)).toEqual([429]);
    expect(await statuses(`${url}/other`, 1)).toEqual([200]);
  });
});

describe('CacheRateLimitStore', () => {
  const windowMs = 60_000;
  const windowStart = 1_700_000_040_000;

  function storeAt(cache: Cache, now: () => number): CacheRateLimitStore {
    jest.spyOn(Date, 'now').mockImplementation(now);
    const store = new CacheRateLimitStore(cache, 'ratelimit:test:');
    store.init({ windowMs } as Options);
    return store;
  }

  it('counts hits per key within a window and reports when the window ends', async () => {
    const store = storeAt(new MemoryCache(), () => windowStart + 10_000);

    await store.increment('10.0.0.1');
    const second = await store.increment('10.0.0.1');
    const other = await store.increment('10.0.0.2');

    expect(second).toEqual({ totalHits: 2, resetTime: new Date(windowStart + windowMs) });
    expect(other.totalHits).toBe(1);
  });

  it('starts again at one in the next window', async () => {
    let now = windowStart + 59_000;
    const store = storeAt(new MemoryCache(), () => now);

    await store.increment('10.0.0.1');
    await store.increment('10.0.0.1');
    now = windowStart + windowMs + 1;
    const next = await store.increment('10.0.0.1');

    expect(next).toEqual({ totalHits: 1, resetTime: new Date(windowStart + 2 * windowMs) });
  });

  it('lets each counter expire after two windows', async () => {
    const cache = new MemoryCache();
    const store = storeAt(cache, () => windowStart);

    await store.increment('10.0.0.1');
    await store.increment('10.0.0.1');
    const counter = `ratelimit:test:10.0.0.1:${windowStart / windowMs}`;

    const ttl = await cache.ttlMs(counter);
    expect(ttl).toBeGreaterThan(windowMs);
    expect(ttl).toBeLessThanOrEqual(2 * windowMs);
  });

  it('gives back a hit on decrement and forgets the key on reset', async () => {
    const store = storeAt(new MemoryCache(), () => windowStart);

    await store.increment('10.0.0.1');
    await store.increment('10.0.0.1');
    await store.decrement('10.0.0.1');
    const afterDecrement = await store.increment('10.0.0.1');
    await store.resetKey('10.0.0.1');
    const afterReset = await store.increment('10.0.0.1');

    expect(afterDecrement.totalHits).toBe(2);
    expect(afterReset.totalHits).toBe(1);
  });
});
