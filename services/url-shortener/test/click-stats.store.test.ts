import { randomBytes } from 'node:crypto';
import { MysqlRelational, SqliteRelational, type Relational } from '@platform/kit';
import { serverAddress } from '@platform/kit/testing';
import { ClickStatsStore, type Click } from '../src/store/click-stats.store.ts';

const MINUTE = 60_000;
const start = Date.UTC(2026, 11, 1, 12, 0);

describe.each([
  ['mysql', () => new MysqlRelational(serverAddress('MYSQL_URL'))],
  ['sqlite', () => new SqliteRelational()],
])('click stats on %s', (_name, open: () => Relational) => {
  let db: Relational;
  let store: ClickStatsStore;
  const code = `c${randomBytes(4).toString('hex')}`;
  const consumer = `test-${randomBytes(4).toString('hex')}`;
  const click = (at: number, overrides: Partial<Click> = {}): Click => ({
    code,
    at,
    count: 1,
    country: 'NL',
    device: 'mobile',
    browser: 'Safari',
    referrer: 'direct',
    ...overrides,
  });
  /** Records at offsets from..to-1, one click each, a minute apart. */
  const records = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => ({
      offset: from + i,
      clicks: [click(start + (from + i) * MINUTE)],
    }));
  const total = async () => (await store.stats(code, start, start + 1000 * MINUTE)).total;

  beforeAll(async () => {
    db = open();
    store = new ClickStatsStore(db);
    await store.init();
  });
  afterAll(async () => {
    await db.close();
  });

  it('counts a batch delivered twice once', async () => {
    expect(await store.apply(consumer, 'clicks', 0, records(0, 10))).toBe(10);
    expect(await store.apply(consumer, 'clicks', 0, records(0, 10))).toBe(0);
    expect(await total()).toBe(10);
  });

  it('counts only the new tail of an overlapping batch', async () => {
    expect(await store.apply(consumer, 'clicks', 0, records(5, 15))).toBe(5);
    expect(await total()).toBe(15);
  });

  it('keeps partitions apart', async () => {
    expect(await store.apply(consumer, 'clicks', 1, records(0, 3))).toBe(3);
    expect(await total()).toBe(18);
  });

  it('counts a batch once when two consumers apply it at the same time', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => store.apply(consumer, 'clicks', 0, records(15, 25))),
    );
    expect(results.sort((a, b) => b - a)).toEqual([10, 0, 0, 0, 0, 0, 0, 0]);
    expect(await total()).toBe(28);
  });

  it('counts an event appended again at a new offset once, by its id', async () => {
    const retried = { eventId: `event-${randomBytes(4).toString('hex')}`, clicks: [click(start)] };
    expect(await store.apply(consumer, 'clicks', 3, [{ offset: 0, ...retried }])).toBe(1);
    expect(await store.apply(consumer, 'clicks', 3, [{ offset: 1, ...retried }])).toBe(0);
    expect(await total()).toBe(29);
  });

  it('adds folded visits by their count into minutes and breakdowns', async () => {
    const other = `d${randomBytes(4).toString('hex')}`;
    await store.apply(consumer, 'clicks', 2, [
      { offset: 0, clicks: [{ ...click(start + 30_000), code: other, count: 3 }] },
      {
        offset: 1,
        clicks: [{ ...click(start + 90_000, { country: 'JP', browser: 'Chrome' }), code: other }],
      },
    ]);
    const stats = await store.stats(other, start, start + 10 * MINUTE);
    expect(stats.total).toBe(4);
    expect(stats.perMinute).toEqual([
      { minute: new Date(start).toISOString(), clicks: 3 },
      { minute: new Date(start + MINUTE).toISOString(), clicks: 1 },
    ]);
    expect(stats.country).toEqual({ NL: 3, JP: 1 });
    expect(stats.browser).toEqual({ Safari: 3, Chrome: 1 });
  });

  it('keeps codes that differ only in case apart (base62 is case-sensitive)', async () => {
    const lower = `e${randomBytes(4).toString('hex')}x`;
    const upper = lower.toUpperCase();
    await store.apply(consumer, 'clicks', 4, [
      { offset: 0, clicks: [{ ...click(start), code: lower }] },
      { offset: 1, clicks: [{ ...click(start), code: upper, count: 2 }] },
    ]);
    expect((await store.stats(lower, start, start + MINUTE)).total).toBe(1);
    expect((await store.stats(upper, start, start + MINUTE)).total).toBe(2);
  });

  // A Referer of http://constructor/ or a user agent "__proto__/1 (x" names these; on a plain
  // object they read Object.prototype's members and came out as a string or not at all.
  it('reports breakdown values that are names of object members as counts', async () => {
    const named = `p${randomBytes(4).toString('hex')}`;
    await store.apply(consumer, 'clicks', 5, [
      {
        offset: 0,
        clicks: [
          { ...click(start, { referrer: 'constructor', browser: '__proto__' }), code: named },
          { ...click(start, { referrer: 'toString', browser: 'hasOwnProperty' }), code: named },
        ],
      },
    ]);
    const stats = await store.stats(named, start, start + MINUTE);
    expect(stats.total).toBe(2);
    expect(JSON.parse(JSON.stringify(stats))).toMatchObject({
      referrer: { constructor: 1, toString: 1 },
      browser: { ['__proto__']: 1, hasOwnProperty: 1 },
    });
    expect(Object.keys(stats.browser).sort()).toEqual(['__proto__', 'hasOwnProperty']);
  });
});
