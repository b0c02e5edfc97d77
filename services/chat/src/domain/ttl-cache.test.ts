import { TtlCache } from './ttl-cache.ts';

describe('the membership cache', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => (now = 1_000));

  test('an answer is reused for ttlMs, then loaded again', async () => {
    const cache = new TtlCache<string[]>({ ttlMs: 500, now: clock });
    let loads = 0;
    const load = () => Promise.resolve([`m${++loads}`]);
    expect(await cache.get('g', load)).toEqual(['m1']);
    now += 499;
    expect(await cache.get('g', load)).toEqual(['m1']);
    now += 1;
    expect(await cache.get('g', load)).toEqual(['m2']);
    expect(loads).toBe(2);
  });

  test('lookups in flight together share one load, and unknown (undefined) is kept too', async () => {
    const cache = new TtlCache<string[] | undefined>({ ttlMs: 500, now: clock });
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return undefined;
    };
    const answers = await Promise.all([1, 2, 3].map(() => cache.get('nope', load)));
    expect(answers).toEqual([undefined, undefined, undefined]);
    expect(await cache.get('nope', load)).toBeUndefined();
    expect(loads).toBe(1);
  });

  test('a failed load is not kept', async () => {
    const cache = new TtlCache<number>({ ttlMs: 500, now: clock });
    await expect(cache.get('g', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await cache.get('g', () => Promise.resolve(7))).toBe(7);
  });

  test('ttlMs 0 caches nothing; a full cache drops lapsed, then oldest entries', async () => {
    const off = new TtlCache<number>({ ttlMs: 0, now: clock });
    let n = 0;
    await off.get('g', () => Promise.resolve(++n));
    expect(await off.get('g', () => Promise.resolve(++n))).toBe(2);
    expect(off.size).toBe(0);

    const small = new TtlCache<number>({ ttlMs: 100, maxEntries: 2, now: clock });
    await small.get('a', () => Promise.resolve(1));
    now += 50;
    await small.get('b', () => Promise.resolve(2));
    await small.get('c', () => Promise.resolve(3));
    expect(small.size).toBe(2);
    // 'a' (the oldest) went; 'b' is still cached.
    expect(await small.get('b', () => Promise.resolve(20))).toBe(2);
    expect(await small.get('a', () => Promise.resolve(10))).toBe(10);
  });
});
