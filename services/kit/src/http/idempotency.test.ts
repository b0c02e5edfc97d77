import type { RequestHandler } from 'express';
import { MemoryCache } from '../ports/cache/memory-cache.ts';
import { createLogger } from '../telemetry/logger.ts';
import { createMetrics } from '../telemetry/metrics.ts';
import { createHttpApp } from './app.ts';
import { httpError } from './errors.ts';
import { idempotency, type IdempotencyOptions } from './idempotency.ts';
import { serve, type RunningServer } from './server.ts';

/** What the order handler does next; each test scripts it. */
type Outcome = 'created' | 'conflict' | 'unavailable' | 'crash';

interface Harness {
  url: string;
  /** How many times the order handler ran. */
  calls: () => number;
  /** Queues outcomes for the next calls; once empty, orders are created. */
  script: (...outcomes: Outcome[]) => void;
  /** Holds the next order inside the handler until the returned function is called. */
  hold: () => () => void;
}

const logger = createLogger('kit-test', 'silent');
const running: RunningServer[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

async function start(
  options: Partial<IdempotencyOptions> = {},
  cache = new MemoryCache(),
): Promise<Harness> {
  const http = createHttpApp({ logger, metrics: createMetrics('kit-test') });
  const outcomes: Outcome[] = [];
  let calls = 0;
  let gate: Promise<void> | undefined;

  const createOrder: RequestHandler = async (req, res) => {
    calls += 1;
    const id = calls;
    const held = gate;
    gate = undefined;
    await held;

    const outcome = outcomes.shift() ?? 'created';
    if (outcome === 'conflict') throw httpError('conflict');
    if (outcome === 'unavailable') throw httpError('unavailable');
    if (outcome === 'crash') throw new Error('worker crashed');
    res.status(201).setHeader('location', `/orders/${id}`);
    res.json({ id, order: req.body as unknown });
  };
  http.app.post('/orders', idempotency({ cache, scope: 'orders', ...options }), createOrder);
  http.app.post('/refunds', idempotency({ cache, scope: 'orders', ...options }), createOrder);
  http.app.post('/payments', idempotency({ cache, scope: 'payments', ...options }), createOrder);
  http.app.post('/pings', idempotency({ cache, scope: 'orders', ...options }), (_req, res) => {
    calls += 1;
    res.status(204).end();
  });

  const server = await serve({ app: http.finish(), port: 0, host: '127.0.0.1', logger });
  running.push(server);
  return {
    url: server.url,
    calls: () => calls,
    script: (...next) => outcomes.push(...next),
    hold: () => {
      let release = () => {};
      gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      return release;
    },
  };
}

/** The `error` object of a JSON error answer. */
async function errorOf(res: Response): Promise<Record<string, unknown>> {
  return ((await res.json()) as { error: Record<string, unknown> }).error;
}

function post(url: string, body: unknown, key?: string) {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key === undefined ? {} : { 'idempotency-key': key }),
    },
    body: JSON.stringify(body),
  });
}

/** Lets a request reach its handler before the test goes on. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('idempotency', () => {
  it('replays the first answer for the same key and body without running the handler', async () => {
    const { url, calls } = await start();

    const first = await post(`${url}/orders`, { sku: 'A', qty: 1 }, 'order-1');
    const firstBody: unknown = await first.json();
    const replay = await post(`${url}/orders`, { sku: 'A', qty: 1 }, 'order-1');

    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(replay.status).toBe(201);
    expect(await replay.json()).toEqual(firstBody);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('location')).toBe('/orders/1');
    expect(calls()).toBe(1);
  });

  it('runs the handler again for another key', async () => {
    const { url, calls } = await start();

    await (await post(`${url}/orders`, { sku: 'A' }, 'order-1')).text();
    const other = await post(`${url}/orders`, { sku: 'A' }, 'order-2');

    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expect(await other.json()).toMatchObject({ id: 2 });
    expect(calls()).toBe(2);
  });

  it('refuses the same key with another body with 422', async () => {
    const { url, calls } = await start();

    await (await post(`${url}/orders`, { sku: 'A', qty: 1 }, 'order-1')).text();
    const reused = await post(`${url}/orders`, { sku: 'A', qty: 2 }, 'order-1');

    expect(reused.status).toBe(422);
    expect(await errorOf(reused)).toMatchObject({ code: 'idempotency_key_reused' });
    expect(calls()).toBe(1);
  });

  it('treats the same fields in another order as the same body', async () => {
    const { url, calls } = await start();
    const first = await post(
      `${url}/orders`,
      { sku: 'a', qty: 2, ship: { to: 'x', by: 'y' } },
      'k-order',
    );
    const replay = await post(
      `${url}/orders`,
      { ship: { by: 'y', to: 'x' }, qty: 2, sku: 'a' },
      'k-order',
    );

    expect(replay.status).toBe(201);
    expect(await replay.json()).toEqual(await first.json());
    expect(calls()).toBe(1);
  });

  it('releases the claim of an answer that is not JSON, so a retry runs again', async () => {
    const { url, calls } = await start();
    expect((await post(`${url}/pings`, {}, 'k-ping')).status).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await post(`${url}/pings`, {}, 'k-ping')).status).toBe(204);
    expect(calls()).toBe(2);
  });

  it('refuses the same key on another path of the same scope with 422', async () => {
    const { url, calls } = await start();

    await (await post(`${url}/orders`, { sku: 'A' }, 'order-1')).text();
    const elsewhere = await post(`${url}/refunds`, { sku: 'A' }, 'order-1');

    expect(elsewhere.status).toBe(422);
    expect(calls()).toBe(1);
  });

  it('keeps scopes apart on a shared cache', async () => {
    const { url, calls } = await start();

    await (await post(`${url}/orders`, { sku: 'A' }, 'shared-key')).text();
    const payment = await post(`${url}/payments`, { sku: 'A' }, 'shared-key');

    expect(payment.status).toBe(201);
    expect(payment.headers.get('idempotent-replayed')).toBeNull();
    expect(calls()).toBe(2);
  });

  it('answers 409 for the same key while the first request is still running', async () => {
    const { url, calls, hold } = await start();
    const release = hold();

    const first = post(`${url}/orders`, { sku: 'A' }, 'order-1');
    await until(() => calls() === 1);
    const concurrent = await post(`${url}/orders`, { sku: 'A' }, 'order-1');
    release();
    const settled = await first;
    const after = await post(`${url}/orders`, { sku: 'A' }, 'order-1');

    expect(concurrent.status).toBe(409);
    expect(await errorOf(concurrent)).toMatchObject({ code: 'idempotency_in_flight' });
    expect(settled.status).toBe(201);
    expect(after.status).toBe(201);
    expect(after.headers.get('idempotent-replayed')).toBe('true');
    expect(calls()).toBe(1);
  });

  it.each<[string, Outcome, number]>([
    ['a 503 AppError', 'unavailable', 503],
    ['a thrown Error', 'crash', 500],
  ])('does not store %s, so a retry runs the handler again', async (_what, outcome, status) => {
    const { url, calls, script } = await start();
    script(outcome);

    const failed = await post(`${url}/orders`, { sku: 'A' }, 'order-1');
    const retry = await post(`${url}/orders`, { sku: 'A' }, 'order-1');

    expect(failed.status).toBe(status);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(await retry.json()).toMatchObject({ id: 2 });
    expect(calls()).toBe(2);
  });

  it('stores a 4xx answer and replays it', async () => {
    const { url, calls, script } = await start();
    script('conflict');

    const first = await post(`${url}/orders`, { sku: 'A' }, 'order-1');
    const firstBody: unknown = await first.json();
    const replay = await post(`${url}/orders`, { sku: 'A' }, 'order-1');

    expect(first.status).toBe(409);
    expect(replay.status).toBe(409);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.json()).toEqual(firstBody);
    expect(calls()).toBe(1);
  });

  it.each([
    ['spaces', 'order 1'],
    ['129 characters', 'k'.repeat(129)],
    ['a slash', 'orders/1'],
    ['nothing', ''],
  ])('refuses a key with %s with 400 naming Idempotency-Key', async (_what, key) => {
    const { url, calls } = await start();

    const res = await post(`${url}/orders`, { sku: 'A' }, key);

    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({
      code: 'invalid_request',
      field: 'Idempotency-Key',
    });
    expect(calls()).toBe(0);
  });

  it('accepts a key of 128 characters', async () => {
    const { url } = await start();

    const res = await post(`${url}/orders`, { sku: 'A' }, 'k'.repeat(128));

    expect(res.status).toBe(201);
  });

  it('refuses a request without the header when the key is required', async () => {
    const { url, calls } = await start({ required: true });

    const res = await post(`${url}/orders`, { sku: 'A' });

    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({
      code: 'invalid_request',
      field: 'Idempotency-Key',
      message: 'the header is required',
    });
    expect(calls()).toBe(0);
  });

  it('runs every request without the header when the key is optional', async () => {
    const { url, calls } = await start();

    const first = await post(`${url}/orders`, { sku: 'A' });
    const second = await post(`${url}/orders`, { sku: 'A' });

    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.headers.get('idempotent-replayed')).toBeNull();
    expect(calls()).toBe(2);
  });

  it('forgets an answer after ttlMs', async () => {
    let now = 1_000_000;
    const { url, calls } = await start({ ttlMs: 60_000 }, new MemoryCache({ now: () => now }));

    await (await post(`${url}/orders`, { sku: 'A' }, 'order-1')).text();
    now += 59_000;
    const replay = await post(`${url}/orders`, { sku: 'B' }, 'order-1');
    now += 2_000;
    const fresh = await post(`${url}/orders`, { sku: 'B' }, 'order-1');

    expect(replay.status).toBe(422);
    expect(fresh.status).toBe(201);
    expect(calls()).toBe(2);
  });

  it('lets a retry run once the claim of a request that never answered expires', async () => {
    let now = 1_000_000;
    const { url, calls, hold } = await start(
      { inFlightMs: 5_000 },
      new MemoryCache({ now: () => now }),
    );
    const release = hold();

    const stuck = post(`${url}/orders`, { sku: 'A' }, 'order-1');
    await until(() => calls() === 1);
    const early = await post(`${url}/orders`, { sku: 'A' }, 'order-1');
    now += 5_001;
    const retry = await post(`${url}/orders`, { sku: 'A' }, 'order-1');
    release();
    await (await stuck).text();

    expect(early.status).toBe(409);
    expect(retry.status).toBe(201);
    expect(calls()).toBe(2);
  });
});
