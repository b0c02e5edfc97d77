import { randomBytes } from 'node:crypto';
import type { Server } from 'node:net';
import {
  KafkaEventLog,
  MysqlRelational,
  createLogger,
  createMetrics,
  encodeEvent,
  envelope,
  type EventRecord,
  type Metrics,
} from '@platform/kit';
import {
  dropTopics,
  freePort,
  scratchDatabase,
  serverAddress,
  startRelay,
  type ScratchDatabase,
} from '@platform/kit/testing';
import { startClickAggregator } from '../src/click-aggregator.ts';
import { CLICKS_EVENT, CLICKS_TOPIC, type ClickEventData } from '../src/click-event.ts';
import { ClickBuffer } from '../src/clicks.ts';
import { readConfig } from '../src/config.ts';
import { ClickStatsStore } from '../src/store/click-stats.store.ts';

/**
 * The click aggregator on real Kafka and MariaDB, fed records on the clicks
 * topic that no API writes: each must be skipped without stopping the
 * partition behind it, and counted as skipped.
 */
const run = randomBytes(3).toString('hex');
const logger = createLogger('click-aggregator-test', 'silent');
const at = Date.UTC(2026, 11, 5, 6, 0);

let database: ScratchDatabase;
let db: MysqlRelational;
let eventLog: KafkaEventLog;
let metrics: Metrics;
let stats: ClickStatsStore;
let aggregator: { close(): Promise<void> };
const stopped: Error[] = [];

beforeAll(async () => {
  database = await scratchDatabase('click_aggregator');
  db = new MysqlRelational(database.url);
  stats = new ClickStatsStore(db);
  await stats.init();
  eventLog = new KafkaEventLog({
    brokers: serverAddress('KAFKA_BROKERS').split(','),
    clientId: 'click-aggregator-test',
    logger,
    prefix: `click-aggregator-${run}.`,
  });
  metrics = createMetrics('click-aggregator-test');
  aggregator = await startClickAggregator({
    config: readConfig({ LOG_LEVEL: 'silent' }),
    logger,
    metrics,
    infra: { eventLog, readiness: {} },
    stats,
    lookupCountry: () => undefined,
    port: null,
    onStopped: (error) => stopped.push(error),
  });
}, 60_000);

afterAll(async () => {
  await aggregator?.close();
  await eventLog?.close();
  await db?.close();
  await database?.drop();
  await dropTopics(`click-aggregator-${run}.`);
});

const v2 = (data: unknown, key = 'shard-0') =>
  encodeEvent(envelope(CLICKS_EVENT, 2, key, data as ClickEventData));
const visits = (code: string, count: number) => ({
  since: at,
  strings: [code, '192.0.2.1', 'Mozilla/5.0', ''],
  visits: [0, 0, 1, 2, 3, -1, count],
});
/** JSON.parse reads 1e999 as Infinity and 1e300 as a number no BIGINT holds. */
const spelled = (record: EventRecord, from: string, to: string): EventRecord => ({
  ...record,
  value: Buffer.from(record.value.toString().replace(from, to)),
});

async function metric(name: string): Promise<number> {
  const text = await metrics.registry.metrics();
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : NaN;
}

async function total(code: string): Promise<number> {
  return (await stats.stats(code, at - 3600_000, at + 3600_000)).total;
}

it('skips records MySQL cannot hold and counts the good ones behind them', async () => {
  const good = `good${run}`;
  const hostile: EventRecord[] = [
    v2(visits('c'.repeat(65), 1)),
    spelled(v2(visits(`huge${run}`, 7777)), '7777', '1e300'),
    spelled(
      encodeEvent(
        envelope(CLICKS_EVENT, 1, 'shard-0', {
          code: `inf${run}`,
          visits: [{ at: 7777, ip: '', userAgent: '', referer: '', count: 1 }],
        }),
      ),
      '7777',
      '1e999',
    ),
    v2(visits(`big${run}`, 2 ** 40)),
  ];
  const first = v2(visits(good, 1));
  // One partition: the good events wait behind the hostile ones.
  await eventLog.publish(CLICKS_TOPIC, [first, ...hostile, v2(visits(good, 2)), first]);

  const deadline = Date.now() + 30_000;
  while ((await total(good)) < 3 && Date.now() < deadline && stopped.length === 0) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  expect(stopped).toEqual([]);
  expect(await total(good)).toBe(3);
  expect(await metric('urlshortener_click_events_skipped_total')).toBe(hostile.length);
  for (const code of [`huge${run}`, `inf${run}`, `big${run}`]) expect(await total(code)).toBe(0);
  const [garbage] = await db.query<{ n: number }>(
    'SELECT COUNT(*) AS n FROM click_counts WHERE code <> ?',
    [good],
  );
  expect(Number(garbage?.n)).toBe(0);
}, 45_000);

it('publishes what an API buffered while Kafka was down once it is back, once', async () => {
  // A relay on a port of our own stands for the broker the API knows: closed at first, then
  // passing connections to the real one (which then names its own address).
  const port = await freePort();
  const [host, brokerPort] = serverAddress('KAFKA_BROKERS').split(',')[0]!.split(':');
  const apiLog = new KafkaEventLog({
    brokers: [`127.0.0.1:${port}`],
    clientId: 'click-aggregator-test-api',
    logger,
    prefix: `click-aggregator-${run}.`,
  });
  const buffer = new ClickBuffer({ log: apiLog, logger, flushSize: 1_000_000, flushMs: 3600_000 });
  let relay: Server | undefined;
  try {
    const codes = Array.from({ length: 50 }, (_, i) => `back${run}${i}`);
    for (const code of [...codes, ...codes.slice(0, 10)]) {
      buffer.push({ code, at, ip: '192.0.2.1', userAgent: 'Mozilla/5.0', referer: '' });
    }
    await buffer.flush();
    expect(buffer.size).toBe(60);

    relay = await startRelay(port, host!, Number(brokerPort));
    await buffer.flush();
    expect(buffer.size).toBe(0);

    const deadline = Date.now() + 30_000;
    const counts = async () => Promise.all(codes.map((code) => total(code)));
    while ((await counts()).reduce((a, b) => a + b, 0) < 60 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(await counts()).toEqual(codes.map((_, i) => (i < 10 ? 2 : 1)));
  } finally {
    await buffer.close(1000);
    await apiLog.close();
    relay?.close();
  }
}, 45_000);
