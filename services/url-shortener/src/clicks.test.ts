import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { MemoryEventLog, createLogger, decodeEvent } from '@platform/kit';
import {
  CLICKS_TOPIC,
  ClickBuffer,
  MAX_PUBLISH_BYTES,
  enrichClick,
  type ClickBatch,
  type RawClick,
  type Visit,
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
    expect(enrichClick('abc1234', visit({ userAgent: iphone }), () => undefined)).toMatchObject({
      device: 'mobile',
      browser: 'Safari',
    });
    expect(
      enrichClick('abc1234', visit({ userAgent: desktopChrome }), () => undefined),
    ).toMatchObject({
      device: 'desktop',
      browser: 'Chrome',
    });
    expect(
      enrichClick('abc1234', visit({ userAgent: 'curl/8.5.0' }), () => undefined),
    ).toMatchObject({
      browser: 'unknown',
    });
    expect(enrichClick('abc1234', visit({ userAgent: '' }), () => undefined)).toMatchObject({
      device: 'unknown',
      browser: 'unknown',
    });
  });

  it('prefers the edge country header, then the database, then unknown', () => {
    const lookup = () => 'JP';
    expect(enrichClick('abc1234', visit({ country: 'de' }), lookup).country).toBe('DE');
    expect(enrichClick('abc1234', visit({ country: 'XX-invalid' }), lookup).country).toBe('JP');
    expect(enrichClick('abc1234', visit({}), () => undefined).country).toBe('unknown');
  });

  it('keeps only the referrer host', () => {
    const at = (referer: string) =>
      enrichClick('abc1234', visit({ referer }), () => undefined).referrer;
    expect(at('https://news.ycombinator.com/item?id=1')).toBe('news.ycombinator.com');
    expect(at('')).toBe('direct');
    expect(at('not a url')).toBe('unknown');
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

  async function drain(log: MemoryEventLog, count: number) {
    const seen: { key: string; event: ReturnType<typeof decodeEvent<ClickBatch>> }[] = [];
    const subscription = await log.subscribe({
      group: 'reader',
      topics: [CLICKS_TOPIC],
      handleBatch: async (batch) => {
        for (const record of batch.records) {
          seen.push({ key: record.key, event: decodeEvent<ClickBatch>(record) });
        }
      },
    });
    while (seen.length < count) await new Promise((resolve) => setTimeout(resolve, 10));
    await subscription.close();
    return seen;
  }

  it('publishes one event per code at the size threshold, folding identical visits', async () => {
    const log = new MemoryEventLog();
    const buffer = new ClickBuffer({ log, logger, flushSize: 4, flushMs: 60_000 });
    buffer.push(raw({ code: 'a', at: 1000 }));
    buffer.push(raw({ code: 'b', at: 1000 }));
    buffer.push(raw({ code: 'a', at: 2000 }));
    expect(await log.lag('g', CLICKS_TOPIC)).toBe(0);
    buffer.push(raw({ code: 'a', at: 3000, userAgent: 'other' }));
    await buffer.flush();
    expect(buffer.size).toBe(0);

    const events = await drain(log, 2);
    expect(events).toHaveLength(2);
    const byCode = Object.fromEntries(events.map((e) => [e.key, e.event]));
    expect(byCode.a).toMatchObject({ type: 'url-shortener.clicks', version: 1, key: 'a' });
    expect(byCode.a!.data.visits).toEqual([
      { at: 1000, ip: '192.0.2.1', userAgent: '', referer: '', count: 2 },
      { at: 3000, ip: '192.0.2.1', userAgent: 'other', referer: '', count: 1 },
    ]);
    expect(byCode.b!.data.visits.map((v) => v.count)).toEqual([1]);
    await buffer.close();
  });

  it('splits a code with many distinct visits into events of at most 500 visits', async () => {
    const log = new MemoryEventLog();
    const buffer = new ClickBuffer({ log, logger, flushSize: 100_000, flushMs: 60_000 });
    for (let i = 0; i < 1200; i += 1) buffer.push(raw({ code: 'busy', userAgent: `agent ${i}` }));
    await buffer.close();
    const events = await drain(log, 3);
    expect(events.map((e) => e.event.data.visits.length).sort()).toEqual([200, 500, 500]);
    expect(new Set(events.map((e) => e.event.id)).size).toBe(3);
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
    const agent = 'Mozilla/5.0 '.repeat(30);
    for (let i = 0; i < 20_000; i += 1) {
      buffer.push(raw({ code: `c${i % 1000}`, userAgent: `${agent}${i}` }));
    }
    await buffer.close();

    expect(sizes.length).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_PUBLISH_BYTES);
    const events = await drain(log, 1000);
    const clicks = events.reduce((sum, e) => sum + e.event.data.visits.length, 0);
    expect(clicks).toBe(20_000);
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

  it('keeps visits of different minutes apart', async () => {
    const log = new MemoryEventLog();
    const buffer = new ClickBuffer({ log, logger, flushSize: 1000, flushMs: 60_000 });
    buffer.push(raw({ at: 59_999 }));
    buffer.push(raw({ at: 60_000 }));
    await buffer.close();
    const [event] = await drain(log, 1);
    expect(event!.event.data.visits.map((v) => [v.at, v.count])).toEqual([
      [59_999, 1],
      [60_000, 1],
    ]);
  });

  it('keeps clicks when a publish fails and sends them with the next flush', async () => {
    const log = new MemoryEventLog();
    let failing = true;
    const flaky = Object.assign(Object.create(log) as MemoryEventLog, {
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
    const events = await drain(log, 3);
    const total = events.reduce(
      (sum, e) => sum + e.event.data.visits.reduce((n, v) => n + v.count, 0),
      0,
    );
    expect(total).toBe(3);
  });
});
