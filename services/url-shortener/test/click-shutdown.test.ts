import { randomBytes } from 'node:crypto';
import { KafkaEventLog, MysqlRelational, createLogger, createMetrics } from '@platform/kit';
import {
  dropKeyspace,
  dropTopics,
  scratchDatabase,
  serverAddress,
  type ScratchDatabase,
} from '@platform/kit/testing';
import { startClickAggregator } from '../src/click-aggregator.ts';
import { readConfig } from '../src/config.ts';
import { ClickStatsStore } from '../src/store/click-stats.store.ts';
import { freePort, startRole, tail, type ServiceProcess } from './processes.ts';

/**
 * An API process stopped with clicks in its buffer, on real Kafka, Redis,
 * MariaDB and Cassandra: SIGTERM publishes them before it exits, so every
 * redirect is counted exactly once; SIGKILL loses what was buffered but never
 * makes a click count twice.
 */
const run = randomBytes(3).toString('hex');
const prefix = `click-shutdown-${run}.`;
const logger = createLogger('click-shutdown-test', 'silent');

let database: ScratchDatabase;
let env: Record<string, string>;
let db: MysqlRelational;
let eventLog: KafkaEventLog;
let stats: ClickStatsStore;
let aggregator: { close(): Promise<void> } | undefined;
let api: ServiceProcess | undefined;

beforeAll(async () => {
  database = await scratchDatabase('click_shutdown');
  env = {
    KAFKA_BROKERS: serverAddress('KAFKA_BROKERS'),
    REDIS_URL: serverAddress('REDIS_URL'),
    MYSQL_URL: database.url,
    CASSANDRA_CONTACT_POINTS: serverAddress('CASSANDRA_CONTACT_POINTS'),
    CASSANDRA_KEYSPACE: `click_shutdown_${run}`,
    NAME_PREFIX: prefix,
    CODE_SECRET: `click-shutdown-${run}`,
    LOG_LEVEL: 'warn',
    CREATE_RATE_LIMIT: '1000000',
    LEASE_SIZE: '100',
  };
  db = new MysqlRelational(database.url);
  stats = new ClickStatsStore(db);
  await stats.init();
  eventLog = new KafkaEventLog({
    brokers: env.KAFKA_BROKERS!.split(','),
    clientId: 'click-shutdown-test',
    logger,
    prefix,
  });
}, 60_000);

afterAll(async () => {
  await api?.kill('SIGKILL');
  await aggregator?.close();
  await eventLog?.close();
  await db?.close();
  await database?.drop();
  await dropKeyspace(`click_shutdown_${run}`);
  await dropTopics(prefix);
});

async function startApi(name: string, extra: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  return startRole(name, 'api', port, {
    ...env,
    ...extra,
    PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
  });
}

async function createCodes(from: ServiceProcess, count: number): Promise<string[]> {
  const codes: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const response = await fetch(`${from.url}/urls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: `https://example.com/${run}/${i}` }),
    });
    expect(response.status).toBe(201);
    codes.push(((await response.json()) as { code: string }).code);
  }
  return codes;
}

/** Redirects each code once, `clients` at a time; the codes whose redirect was answered. */
async function visit(
  to: ServiceProcess,
  codes: string[],
  clients = 8,
  onAnswer: (answered: number) => void = () => undefined,
): Promise<string[]> {
  const answered: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < codes.length) {
        const code = codes[next++]!;
        try {
          const response = await fetch(`${to.url}/${code}`, { redirect: 'manual' });
          await response.arrayBuffer();
          if (response.status === 301) answered.push(code);
          onAnswer(answered.length);
        } catch {
          // The process was killed under this request.
        }
      }
    }),
  );
  return answered;
}

async function totals(codes: string[]): Promise<Map<string, number>> {
  const now = Date.now();
  const counted = new Map<string, number>();
  for (const code of codes) {
    counted.set(code, (await stats.stats(code, now - 3600_000, now + 3600_000)).total);
  }
  return counted;
}

/** Counts the clicks on the topic until the group's lag stays at zero. */
async function aggregate(): Promise<void> {
  const config = readConfig({ LOG_LEVEL: 'silent' });
  aggregator ??= await startClickAggregator({
    config,
    logger,
    metrics: createMetrics('click-shutdown-test'),
    infra: { eventLog, readiness: {} },
    stats,
    lookupCountry: () => undefined,
    port: null,
  });
  const deadline = Date.now() + 30_000;
  while ((await eventLog.lag('url-shortener.click-aggregator', 'url-shortener.clicks')) > 0) {
    if (Date.now() > deadline) throw new Error('the aggregator did not catch up in 30 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

it('counts every redirect once when the API gets SIGTERM before it flushed', async () => {
  // No flush before the signal: every click is in the buffer when it comes.
  api = await startApi('api-sigterm', { CLICK_FLUSH_MS: '3600000', CLICK_FLUSH_SIZE: '1000000' });
  const codes = await createCodes(api, 300);
  const answered = await visit(api, [...codes, ...codes.slice(0, 100)]);
  expect(answered).toHaveLength(400);

  await api.kill('SIGTERM');
  expect(api.child.exitCode).toBe(0);
  await aggregate();

  const counted = await totals(codes);
  const wrong = codes.filter((code, i) => counted.get(code) !== (i < 100 ? 2 : 1));
  if (wrong.length > 0) process.stderr.write(tail(api.logFile));
  expect(wrong.map((code) => `${code}: ${counted.get(code)}`)).toEqual([]);
}, 60_000);

it('never counts a redirect twice when the API is killed with SIGKILL mid-flush', async () => {
  // A flush every 20 clicks: the kill lands while some are being published.
  api = await startApi('api-sigkill', { CLICK_FLUSH_MS: '50', CLICK_FLUSH_SIZE: '20' });
  const codes = await createCodes(api, 300);
  const [before, during] = [codes.slice(0, 100), codes.slice(100)];
  expect(await visit(api, before)).toHaveLength(100);
  const deadline = Date.now() + 30_000;
  while ([...(await totals(before)).values()].some((n) => n !== 1)) {
    if (Date.now() > deadline) throw new Error('the first clicks were not counted in 30 s');
    await aggregate();
  }

  const killed = api;
  const answered = await visit(killed, during, 16, (count) => {
    if (count === 100) killed.child.kill('SIGKILL');
  });
  await killed.exited;
  expect(answered.length).toBeGreaterThanOrEqual(100);
  expect(answered.length).toBeLessThan(during.length);

  await aggregate();
  const counted = await totals(codes);
  expect(codes.filter((code) => counted.get(code)! > 1)).toEqual([]);
  expect(before.filter((code) => counted.get(code) !== 1)).toEqual([]);
  expect(during.filter((code) => !answered.includes(code) && counted.get(code)! > 0)).toEqual([]);
}, 60_000);
