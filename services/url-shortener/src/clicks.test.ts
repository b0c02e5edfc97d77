import { fileURLToPath } from 'node:url';
import { MemoryEventLog, createLogger, decodeEvent } from '@platform/kit';
import { CLICKS_TOPIC, ClickBuffer, enrichClick, type RawClick } from './clicks.ts';
import { openGeoIp } from './geoip.ts';

const geoDb = fileURLToPath(new URL('../test/fixtures/geoip-test.mmdb', import.meta.url));
const iphone =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 ' +
  '(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';
const desktopChrome =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) ' +
  'Chrome/131.0.0.0 Safari/537.36';
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
    expect(enrichClick(raw({ userAgent: iphone }), () => undefined)).toMatchObject({
      device: 'mobile',
      browser: 'Safari',
    });
    expect(enrichClick(raw({ userAgent: desktopChrome }), () => undefined)).toMatchObject({
      device: 'desktop',
      browser: 'Chrome',
    });
    expect(enrichClick(raw({ userAgent: '' }), () => undefined)).toMatchObject({
      device: 'unknown',
      browser: 'unknown',
    });
  });

  it('prefers the edge country header, then the database, then unknown', () => {
    const lookup = () => 'JP';
    expect(enrichClick(raw({ country: 'de' }), lookup).country).toBe('DE');
    expect(enrichClick(raw({ country: 'XX-invalid' }), lookup).country).toBe('JP');
    expect(enrichClick(raw({}), () => undefined).country).toBe('unknown');
  });

  it('keeps only the referrer host', () => {
    const at = (referer: string) => enrichClick(raw({ referer }), () => undefined).referrer;
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

  it('publishes at the size threshold, keyed by code, in the event envelope', async () => {
    const log = new MemoryEventLog();
    const buffer = new ClickBuffer({ log, logger, flushSize: 3, flushMs: 60_000 });
    buffer.push(raw({ code: 'a' }));
    buffer.push(raw({ code: 'b' }));
    expect(await log.lag('g', CLICKS_TOPIC)).toBe(0);
    buffer.push(raw({ code: 'a' }));
    await buffer.flush();
    expect(await log.lag('g', CLICKS_TOPIC)).toBe(3);

    const seen: RawClick[] = [];
    const subscription = await log.subscribe({
      group: 'g',
      topics: [CLICKS_TOPIC],
      handleBatch: async (batch) => {
        for (const record of batch.records) {
          const event = decodeEvent<RawClick>(record);
          expect(event).toMatchObject({ type: 'url-shortener.click', version: 1, key: record.key });
          expect(record.key).toBe(event.data.code);
          seen.push(event.data);
        }
      },
    });
    while (seen.length < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    await subscription.close();
    await buffer.close();
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
    buffer.push(raw({}));
    buffer.push(raw({}));
    await buffer.flush();
    expect(buffer.size).toBe(2);
    failing = false;
    await buffer.close();
    expect(buffer.size).toBe(0);
    expect(await log.lag('g', CLICKS_TOPIC)).toBe(2);
  });
});
