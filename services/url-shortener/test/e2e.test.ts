import { randomBytes } from 'node:crypto';
import { dropKeyspace, dropTopics, serverAddress } from '@platform/kit/testing';
import { freePort, startRole, tail, type ServiceProcess } from './processes.ts';

/**
 * The URL shortener as deployed: two token services, three API processes and
 * a click aggregator, each its own process, on real Kafka, Redis, MariaDB and
 * Cassandra. Clients talk HTTP only.
 */
const TOTAL = 10_000;
const CLIENTS = 20;

const run = randomBytes(3).toString('hex');
const env: Record<string, string> = {
  KAFKA_BROKERS: serverAddress('KAFKA_BROKERS'),
  REDIS_URL: serverAddress('REDIS_URL'),
  MYSQL_URL: serverAddress('MYSQL_URL'),
  CASSANDRA_CONTACT_POINTS: serverAddress('CASSANDRA_CONTACT_POINTS'),
  CASSANDRA_KEYSPACE: `e2e_${run}`,
  // Other suites run the shortener on the same servers at the same time.
  NAME_PREFIX: `e2e-${run}.`,
  CODE_SECRET: `e2e-secret-${run}`,
  LOG_LEVEL: 'warn',
  CREATE_RATE_LIMIT: '1000000',
  LEASE_SIZE: '50',
  CLICK_FLUSH_MS: '200',
  COUNTRY_HEADER: 'cf-ipcountry',
};

let tokenServices: ServiceProcess[] = [];
let apis: ServiceProcess[] = [];
let aggregator: ServiceProcess;
let aggregatorPort: number;
const created = new Map<string, string>();

async function startAggregator(name: string): Promise<ServiceProcess> {
  return startRole(name, 'click-aggregator', aggregatorPort, {
    ...env,
    AGGREGATOR_PORT: String(aggregatorPort),
  });
}

/** Runs `count` jobs on `workers` concurrent loops. */
async function pool(count: number, workers: number, job: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < count) await job(next++);
    }),
  );
}

async function aggregatorMetric(name: string): Promise<number> {
  const text = await (await fetch(`${aggregator.url}/metrics`)).text();
  const match = new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : NaN;
}

const aggregatorLag = () => aggregatorMetric('urlshortener_click_aggregator_lag');
const aggregatorCounted = () => aggregatorMetric('urlshortener_clicks_aggregated_total');

/** Polls `read` until `done` holds; a timeout shows what was read and the aggregator's log. */
async function waitUntil<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 90_000,
) {
  const deadline = Date.now() + timeoutMs;
  const seen: T[] = [];
  for (;;) {
    const value = await read();
    if (done(value)) return;
    if (seen.at(-1) !== value) seen.push(value);
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}; read ${seen.slice(-20).join(', ')}\n` +
          `aggregator log:\n${tail(aggregator.logFile)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  const tokenPorts = [await freePort(), await freePort()];
  tokenServices = await Promise.all(
    tokenPorts.map((port, i) =>
      startRole(`token-service-${i + 1}`, 'token-service', port, {
        ...env,
        TOKEN_SERVICE_PORT: String(port),
      }),
    ),
  );
  const tokenUrls = tokenServices.map((t) => t.url).join(',');
  const apiPorts = [await freePort(), await freePort(), await freePort()];
  apis = await Promise.all(
    apiPorts.map((port, i) =>
      startRole(`api-${i + 1}`, 'api', port, {
        ...env,
        PORT: String(port),
        PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
        TOKEN_SERVICE_URLS: tokenUrls,
      }),
    ),
  );
  aggregatorPort = await freePort();
  aggregator = await startAggregator('click-aggregator-1');
}, 180_000);

afterAll(async () => {
  await Promise.all([...apis, ...tokenServices, aggregator].map((p) => p?.kill('SIGTERM')));
  await Promise.all([dropKeyspace(env.CASSANDRA_KEYSPACE!), dropTopics(env.NAME_PREFIX!)]);
});

describe('url shortener on real servers, one process per service', () => {
  it('creates 10,000 distinct codes from 20 clients while a token service is killed', async () => {
    const failures: string[] = [];
    let killedAt = -1;

    await pool(TOTAL, CLIENTS, async (i) => {
      if (i === Math.floor(TOTAL / 3) && killedAt < 0) {
        killedAt = i;
        tokenServices[0]!.child.kill('SIGKILL');
      }
      const api = apis[i % apis.length]!;
      const url = `https://example.com/e2e/${run}/${i}?q=${i}`;
      const response = await fetch(`${api.url}/urls`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url }),
      });
      const body = (await response.json()) as { code: string; url: string };
      if (response.status !== 201) {
        failures.push(`${response.status} ${JSON.stringify(body)}`);
        return;
      }
      created.set(body.code, url);
    });

    expect(killedAt).toBeGreaterThan(0);
    expect(tokenServices[0]!.child.signalCode).toBe('SIGKILL');
    expect(failures).toEqual([]);
    expect(created.size).toBe(TOTAL);
    for (const code of created.keys()) expect(code).toMatch(/^[0-9a-zA-Z]{7}$/);
  }, 300_000);

  it('redirects every acknowledged code, from any API process, to its target', async () => {
    const wrong: string[] = [];
    const codes = [...created.keys()];
    await pool(codes.length, CLIENTS, async (i) => {
      const code = codes[i]!;
      const api = apis[(i + 1) % apis.length]!;
      const response = await fetch(`${api.url}/${code}`, { redirect: 'manual' });
      await response.arrayBuffer();
      if (response.status !== 301 || response.headers.get('location') !== created.get(code)) {
        wrong.push(`${code}: ${response.status} ${response.headers.get('location')}`);
      }
    });
    expect(wrong).toEqual([]);
  }, 300_000);

  it('counts each redirect exactly once, across a killed and restarted aggregator', async () => {
    const codes = [...created.keys()];
    const again = codes.slice(0, 2000);

    // The first round of clicks is on the log; kill the aggregator while it works through it.
    await waitUntil('the aggregator to start counting', aggregatorCounted, (n) => n > 0);
    aggregator.child.kill('SIGKILL');
    await aggregator.exited;

    await pool(again.length, CLIENTS, async (i) => {
      const response = await fetch(`${apis[i % apis.length]!.url}/${again[i]}`, {
        redirect: 'manual',
      });
      await response.arrayBuffer();
    });

    aggregator = await startAggregator('click-aggregator-2');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await waitUntil('the aggregator to catch up', aggregatorLag, (lag) => lag === 0);

    const expected = new Map(codes.map((code) => [code, 1]));
    for (const code of again) expected.set(code, 2);
    const miscounted: string[] = [];
    await pool(codes.length, CLIENTS, async (i) => {
      const code = codes[i]!;
      const response = await fetch(`${apis[i % apis.length]!.url}/urls/${code}/stats`);
      const stats = (await response.json()) as { total: number };
      if (stats.total !== expected.get(code)) miscounted.push(`${code}: ${stats.total}`);
    });
    if (miscounted.length > 0) process.stderr.write(tail(aggregator.logFile));
    expect(miscounted).toEqual([]);
  }, 300_000);

  it('reports country, device, browser and referrer of a redirect', async () => {
    const api = apis[2]!;
    const created = await fetch(`${api.url}/urls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://example.com/breakdown' }),
    });
    const { code } = (await created.json()) as { code: string };
    const look = await fetch(`${apis[1]!.url}/${code}`, { method: 'HEAD', redirect: 'manual' });
    expect(look.status).toBe(301);
    const visit = await fetch(`${apis[0]!.url}/${code}`, {
      redirect: 'manual',
      headers: {
        'cf-ipcountry': 'fr',
        referer: 'https://news.ycombinator.com/item?id=1',
        'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
      },
    });
    expect(visit.status).toBe(301);

    let stats: Record<string, unknown> = {};
    await waitUntil(
      'the click to be counted',
      async () => {
        stats = (await (await fetch(`${api.url}/urls/${code}/stats`)).json()) as typeof stats;
        return stats.total;
      },
      (total) => total === 1,
    );
    expect(stats).toMatchObject({
      total: 1,
      country: { FR: 1 },
      device: { desktop: 1 },
      browser: { Firefox: 1 },
      referrer: { 'news.ycombinator.com': 1 },
    });
    expect(stats.perMinute).toEqual([{ minute: expect.any(String), clicks: 1 }]);
  });

  it('gives one concurrent alias create one winner across API processes', async () => {
    const alias = `promo-${run}`;
    const statuses = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const response = await fetch(`${apis[i % apis.length]!.url}/urls`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ url: `https://example.com/alias/${i}`, alias }),
        });
        await response.arrayBuffer();
        return response.status;
      }),
    );
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(11);
  });

  it('replays an idempotent create on another API process', async () => {
    const key = `e2e-${run}`;
    const create = (api: ServiceProcess) =>
      fetch(`${api.url}/urls`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ url: 'https://example.com/idempotent' }),
      });
    const first = await create(apis[0]!);
    const replay = await create(apis[1]!);
    expect(first.status).toBe(201);
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.json()).toEqual(await first.json());
  });
});
