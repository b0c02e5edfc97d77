import { MemoryCache } from '@platform/kit';
import { Directory } from './directory.ts';

describe('the handler directory', () => {
  test("a user's handlers lapse one by one unless refreshed", async () => {
    const cache = new MemoryCache();
    let now = Date.now();
    const on = (handler: string) =>
      new Directory({ cache, handler, ttlMs: 1000, cacheMs: 0, now: () => now });
    const h1 = on('h1');
    const h2 = on('h2');
    await h1.register(['alice']);
    now += 600;
    await h2.register(['alice', 'bob']);
    expect((await h1.handlersOf('alice')).sort()).toEqual(['h1', 'h2']);
    expect((await h1.usersOf('h2')).sort()).toEqual(['alice', 'bob']);

    // h1 stops refreshing (it died): its entry lapses while h2's lives.
    now += 500;
    expect(await h2.handlersOf('alice')).toEqual(['h2']);
    await h2.unregister('alice');
    expect(await h2.handlersOf('alice')).toEqual([]);
    expect(await h1.usersOf('h2')).toEqual(['bob']);
    await cache.close();
  });

  test('lookups are cached briefly, and a registration here refreshes them', async () => {
    const cache = new MemoryCache();
    let now = Date.now();
    const h1 = new Directory({ cache, handler: 'h1', ttlMs: 10_000, cacheMs: 500, now: () => now });
    const h2 = new Directory({ cache, handler: 'h2', ttlMs: 10_000, cacheMs: 500, now: () => now });
    expect(await h1.handlersOf('carol')).toEqual([]);
    await h2.register(['carol']);
    expect(await h1.handlersOf('carol')).toEqual([]);
    now += 501;
    expect(await h1.handlersOf('carol')).toEqual(['h2']);
    await cache.close();
  });
});
