import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { MemoryEventLog, createLogger } from '@platform/kit';
import {
  CLICKS_PARTITIONS,
  CLICKS_TOPIC,
  readClickEvent,
  shardOf,
  type Visit,
} from './click-event.ts';
import {
  ClickBuffer,
  MAX_BUFFERED_CLICKS,
  MAX_PUBLISH_BYTES,
  enrichCache,
  enrichClick,
  type RawClick,
} from './clicks.ts';
import { openGeoIp } from './geoip.ts';

const geoDb = fileURLToPath(new URL('../test/fixtures/geoip-test.mmdb', import.meta.url));
const iphone =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 ' +
  '(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';
const desktopChrome =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) ' +
  'Chrome/131.0.0.0 Safari/537.36';
const visit = (overrides: Partial<Visit>): Visit => ({
  code: 'abc1234',
  at: 0,
  ip: '192.0.2.1',
  userAgent: '',
  referer: '',
  count: 1,
  ...overrides,
});
const raw = (overrides: Partial<RawClick>): RawClick => ({
  code: 'abc1234',
  at: 0,
  ip: '192.0.2.1',
  userAgent: '',
  referer: '',
  ...overrides,
});

describe('enrichClick', () => {
  it('names device and browser from the user agent', () => {
    expect(enrichClick(visit({ userAgent: iphone }), () => undefined)).toMatchObject({
      device: 'mobile',
      browser: 'Safari',
    });
    expect(enrichClick(visit({ userAgent: desktopChrome }), () => undefined)).toMatchObject({
      device: 'desktop',
      browser: 'Chrome',
    });
    expect(enrichClick(visit({ userAgent: 'curl/8.5.0' }), () => undefined)).toMatchObject({
      browser: 'unknown',
    });
    expect(enrichClick(visit({ userAgent: '' }), () => undefined)).toMatchObject({
      device: 'unknown',
      browser: 'unknown',
    });
  });

  it('prefers the edge country header, then the database, then unknown', () => {
    const lookup = () => 'JP';
    expect(enrichClick(visit({ country: 'de' }), lookup).country).toBe('DE');
    expect(enrichClick(visit({ country: 'XX-invalid' }), lookup).country).toBe('JP');
    expect(enrichClick(visit({}), () => undefined).country).toBe('unknown');
  });

  it('keeps only the referrer host', () => {
    const at = (referer: string) => enrichClick(visit({ referer }), () => undefined).referrer;
    expect(at('https://news.ycombinator.com/item?id=1')).toBe('news.ycombinator.com');
    expect(at('')).toBe('direct');
    expect(at('not a url')).toBe('unknown');
  });

  it('answers the same through a cache shared by many visits', () => {
    const cache = enrichCache();
    const visits = [iphone, desktopChrome, iphone, '', desktopChrome].map((userAgent, i) =>
      visit({ userAgent, referer: i % 2 ? 'https://t.co/x' : '', code: `c${i}` }),
    );
    const lookup = () => 'JP';
    const cached = visits.map((v) => enrichClick(v, lookup, cache));
    expect(cached).toEqual(visits.map((v) => enrichClick(v, lookup)));
    expect(cached.map((c) => c.code)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    expect(cache.agents.size).toBe(3);
    expect(cache.referrers.size).toBe(2);
  });
});

describe('openGeoIp', () => {
  it('looks countries up in a MaxMind-format database, IPv4 and IPv6', async () => {
    const lookup = await openGeoIp(geoDb);
    expect(lookup('198.51.100.7')).toBe('NL');
    expect(lookup('203.0.113.200')).toBe('JP');
    expect(lookup('2001:db8:1::5')).toBe('BR');
    expect(lookup('8.8.8.8')).toBeUndefined();
    expect(lookup('not an address')).toBeUndefined();
  });

  it('answers nothing when no database is configured', async () => {
    expect((await openGeoIp(undefined))('198.51.100.7')).toBeUndefined();
  });
});

describe('ClickBuffer', () => {
  const logger = createLogger('test', 'silent');

  /** What reached the log: each event's key and id, and its visits. */
  async function drain(log: MemoryEventLog) {
    const seen: { key: string; id: string; visits: Visit[] }[] = [];
    const total = await log.lag('reader', CLICKS_TOPIC);
    const subscription = await log.subscribe({
      group: 'reader',
      topics: [CLICKS_TOPIC],
      handleBatch: async (batch) => {
        for (const record of batch.records) {
          const event = readClickEvent(record);
          if (!event) throw new Error(`unreadable event at ${record.offset}`);
          seen.push({ key: record.key, id: event.id, visits: event.visits });
        }
      },
    });
    while (seen.length < total) await new Promise((resolve) => setTimeout(resolve, 10));
    await subscription.close();
    return seen;
  }
  const clicksIn = (events: { visits: Visit[] }[]) =>
    events.reduce((sum, e) => sum + e.visits.reduce((n, v) => n + v.count, 0), 0);

  it('publishes what it holds at the size threshold, each code under its shard key', async () => {
    const log = new MemoryEventLog();
    const buffer = new ClickBuffer({ log, logger, flushSize: 4, flushMs: 60_000 });
    buffer.push(raw({ code: 'a', at: 1000 }));
    buffer.push(raw({ code: 'b', at: 1000, country: 'NL' }));
    buffer.push(raw({ code: 'a', at: 2000 }));
    expect(await log.lag('g', CLICKS_TOPIC)).toBe(0);
    buffer.push(raw({ code: 'a', at: 3000, userAgent: 'other' }));
    await buffer.flush();
    expect(buffer.size).toBe(0);

    const events = await drain(log);
    for (const event of events) {
      for (const v of event.visits) expect(event.key).toBe(`shard-${shardOf(v.code)}`);
    }
    const visits = events
      .flatMap((e) => e.visits)
      .sort((x, y) => x.at - y.at || (x.code < y.code ? -1 : 1));
    const common = { ip: '192.0.2.1', referer: '', count: 1 };
    expect(visits).toEqual([
      { ...common, code: 'a', at: 1000, userAgent: '' },
      { ...common, code: 'b', at: 1000, userAgent: '', country: 'NL' },
      { ...common, code: 'a', at: 2000, userAgent: '' },
      { ...common, code: 'a', at: 3000, userAgent: 'other' },
    ]);
    await buffer.close();
  });

  it('publishes a flush of many distinct visits in parts Kafka accepts, losing none', async () => {
    const log = new MemoryEventLog();
    const sizes: number[] = [];
    const publish = log.publish.bind(log);
    log.publish = async (topic, records, options) => {
      sizes.push(records.reduce((sum, r) => sum + r.value.length, 0));
      await publish(topic, records, options);
    };
    const buffer = new ClickBuffer({ log, logger, flushSize: 100_000, flushMs: 60_000 });
    const agent = 'Mozilla/5.0 '.repeat(40);
    for (let i = 0; i < 20_000; i += 1) {
      buffer.push(raw({ code: `c${i % 1000}`, userAgent: `${agent}${i}` }));
    }
    await buffer.close();

    expect(sizes.length).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_PUBLISH_BYTES);
    const events = await drain(log);
    expect(clicksIn(events)).toBe(20_000);
    expect(new Set(events.flatMap((e) => e.visits.map((v) => v.userAgent))).size).toBe(20_000);
  });

  it('sends a repeated user agent once an event, not once a click', async () => {
    const log = new MemoryEventLog();
    let published = 0;
    const publish = log.publish.bind(log);
    log.publish = async (topic, records, options) => {
      published += records.reduce((sum, r) => sum + r.value.length, 0);
      await publish(topic, records, options);
    };
    const buffer = new ClickBuffer({ log, logger, flushSize: 100_000, flushMs: 60_000 });
    const agent = 'Mozilla/5.0 '.repeat(40);
    for (let i = 0; i < 10_000; i += 1) buffer.push(raw({ code: `c${i % 100}`, userAgent: agent }));
    await buffer.close();
    const events = await drain(log);
    expect(clicksIn(events)).toBe(10_000);
    // An event's envelope and table, then a few bytes a click; the agent alone is 480.
    expect(published).toBeLessThan(events.length * 1200 + 10_000 * 40);
  });

  it('gives up publishing at close after its deadline, reporting the clicks it lost', async () => {
    const log = new MemoryEventLog();
    // Kafka unreachable: a publish that never answers.
    log.publish = () => new Promise<void>(() => undefined);
    const lines: string[] = [];
    const quiet = pino({ level: 'error' }, { write: (line: string) => lines.push(line) });
    const buffer = new ClickBuffer({ log, logger: quiet, flushSize: 1000, flushMs: 60_000 });
    buffer.push(raw({ code: 'a' }));
    buffer.push(raw({ code: 'b' }));
    const started = Date.now();
    await buffer.close(200);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(lines.map((l) => JSON.parse(l) as { clicks: number; msg: string })).toEqual([
      expect.objectContaining({ clicks: 2, msg: 'clicks not published before shutdown, lost' }),
    ]);
  });

  it('keeps clicks when a publish fails and sends them with the next flush, once', async () => {
    const log = new MemoryEventLog();
    let failing = true;
    const flaky = Object.assign(Object.create(log) as MemoryEventLog, {
      createTopic: log.createTopic.bind(log),
      publish: async (...args: Parameters<MemoryEventLog['publish']>) => {
        if (failing) throw new Error('broker down');
        return log.publish(...args);
      },
    });
    const buffer = new ClickBuffer({ log: flaky, logger, flushSize: 1000, flushMs: 60_000 });
    buffer.push(raw({ code: 'a' }));
    buffer.push(raw({ code: 'b' }));
    await buffer.flush();
    expect(buffer.size).toBe(2);
    buffer.push(raw({ code: 'a' }));
    failing = false;
    await buffer.close();
    expect(buffer.size).toBe(0);
    const events = await drain(log);
    expect(clicksIn(events)).toBe(3);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('sends again only the events a failed publish did not get onto the log', async () => {
    const log = new MemoryEventLog();
    const publish = log.publish.bind(log);
    let calls = 0;
    log.publish = async (topic, records, options) => {
      calls += 1;
      if (calls === 2) throw new Error('broker down');
      await publish(topic, records, options);
    };
    const buffer = new ClickBuffer({ log, logger, flushSize: 10_000_000, flushMs: 60_000 });
    const agent = 'Mozilla/5.0 '.repeat(40);
    for (let i = 0; i < 20_000; i += 1) {
      buffer.push(raw({ code: `c${i % 1000}`, userAgent: `${agent}${i}` }));
    }
    await buffer.flush(); // the first part reaches the log, the second fails
    const kept = buffer.size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(20_000);
    await buffer.close();

    const events = await drain(log);
    expect(clicksIn(events)).toBe(20_000);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(calls).toBeGreaterThan(3);
  });

  it('keeps the clicks that come while a flush is under way for the next one', async () => {
    const log = new MemoryEventLog();
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const publish = log.publish.bind(log);
    let calls = 0;
    log.publish = async (topic, records, options) => {
      calls += 1;
      if (calls === 1) await held;
      await publish(topic, records, options);
    };
    const buffer = new ClickBuffer({ log, logger, flushSize: 1_000_000, flushMs: 60_000 });
    for (let i = 0; i < 3000; i += 1) buffer.push(raw({ code: `a${i % 50}`, at: 1 }));
    const first = buffer.flush();
    // Pushed while the first flush encodes (it yields between slices) and then waits on Kafka.
    for (let i = 0; i < 2000; i += 1) {
      buffer.push(raw({ code: `b${i % 50}`, at: 2 }));
      if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(buffer.size).toBe(2000);
    release();
    await first;
    await buffer.close();

    const visits = (await drain(log)).flatMap((e) => e.visits);
    expect(visits).toHaveLength(5000);
    expect(visits.filter((v) => v.at === 1 && v.code.startsWith('a'))).toHaveLength(3000);
    expect(visits.filter((v) => v.at === 2 && v.code.startsWith('b'))).toHaveLength(2000);
  });

  it('bounds the bytes it holds while Kafka is unreachable, whatever the clicks name', async () => {
    const log = new MemoryEventLog();
    let kafka: 'down' | 'slow' | 'up' = 'down';
    let answer = () => {};
    const publish = log.publish.bind(log);
    log.publish = async (topic, records, options) => {
      if (kafka === 'slow') await new Promise<void>((resolve) => (answer = resolve));
      if (kafka !== 'up') throw new Error('broker down');
      await publish(topic, records, options);
    };
    let dropped = 0;
    const maxBytes = 1024 * 1024;
    const buffer = new ClickBuffer({
      log,
      logger,
      flushSize: 10_000_000,
      flushMs: 60_000,
      maxBytes,
      onDrop: (count) => (dropped += count),
    });
    // Every click a new 500-character agent, as a flood of made-up ones would be.
    const agent = (i: number) => `${String(i).padStart(8, '0')}${'x'.repeat(492)}`;
    for (let i = 0; i < 5000; i += 1) buffer.push(raw({ code: `c${i % 10}`, userAgent: agent(i) }));
    const kept = buffer.size;
    expect(kept).toBeGreaterThan(1900);
    expect(kept * 500).toBeLessThanOrEqual(maxBytes + 1000);
    expect(dropped).toBe(5000 - kept);

    // While a flush waits on Kafka, and after it failed, its bytes still count.
    kafka = 'slow';
    const flushed = buffer.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (let i = 0; i < 100; i += 1) buffer.push(raw({ userAgent: agent(10_000 + i) }));
    expect(buffer.size).toBe(0);
    answer();
    await flushed;
    for (let i = 0; i < 100; i += 1) buffer.push(raw({ userAgent: agent(20_000 + i) }));
    expect(buffer.size).toBe(kept);
    expect(dropped).toBe(5200 - kept);

    kafka = 'up';
    await buffer.flush();
    buffer.push(raw({ userAgent: agent(30_000) }));
    expect(buffer.size).toBe(1);
    await buffer.close();
    expect(clicksIn(await drain(log))).toBe(kept + 1);
  });

  // Kafka creates no topic on a write (the producer asks it not to), and the API used to
  // leave the topic to the aggregator: an API that flushed before any aggregator had started
  // could publish no click at all, and lost its buffer at shutdown.
  it('creates the clicks topic itself, with the partitions the aggregator expects', async () => {
    const log = new MemoryEventLog();
    const created: { topic: string; partitions: number | undefined }[] = [];
    const publish = log.publish.bind(log);
    const createTopic = log.createTopic.bind(log);
    log.createTopic = async (topic, options) => {
      created.push({ topic, partitions: options?.partitions });
      await createTopic(topic, options);
    };
    log.publish = async (topic, records, options) => {
      if (!created.some((c) => c.topic === topic)) throw new Error(`no topic ${topic}`);
      await publish(topic, records, options);
    };
    const buffer = new ClickBuffer({ log, logger, flushSize: 1000, flushMs: 60_000 });
    buffer.push(raw({ code: 'a' }));
    await buffer.close();
    expect(buffer.size).toBe(0);
    expect(created[0]).toEqual({ topic: CLICKS_TOPIC, partitions: CLICKS_PARTITIONS });
    expect(clicksIn(await drain(log))).toBe(1);
  });

  it('drops and counts new clicks past its bound while Kafka is unreachable', async () => {
    const log = new MemoryEventLog();
    log.publish = () => Promise.reject(new Error('broker down'));
    let dropped = 0;
    const buffer = new ClickBuffer({
      log,
      logger,
      flushSize: 10_000_000,
      flushMs: 60_000,
      onDrop: (count) => (dropped += count),
    });
    for (let i = 0; i < 1000; i += 1) buffer.push(raw({ code: `c${i}` }));
    await buffer.flush(); // fails: the 1,000 are kept as unsent events
    expect(buffer.size).toBe(1000);
    for (let i = 0; i < MAX_BUFFERED_CLICKS; i += 1) buffer.push(raw({ code: `c${i % 1000}` }));
    expect(buffer.size).toBe(MAX_BUFFERED_CLICKS);
    expect(dropped).toBe(1000);
    await buffer.close(100);
  });
});
