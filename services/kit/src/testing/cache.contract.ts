import { randomUUID } from 'node:crypto';
import type { Cache } from '../ports/cache/cache.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The behaviour every cache adapter must have; run once per adapter. */
export function cacheContract(name: string, open: () => Promise<Cache>): void {
  describe(`cache contract: ${name}`, () => {
    let cache: Cache;
    let prefix: string;
    const key = (suffix: string) => `${prefix}:${suffix}`;

    beforeAll(async () => {
      cache = await open();
    });
    afterAll(async () => {
      await cache.close();
    });
    beforeEach(() => {
      prefix = `contract:${randomUUID()}`;
    });

    it('stores strings and reports absent keys as undefined', async () => {
      expect(await cache.get(key('a'))).toBeUndefined();
      await cache.set(key('a'), 'value');
      expect(await cache.get(key('a'))).toBe('value');
      expect(await cache.ttlMs(key('a'))).toBe(Infinity);
      expect(await cache.delete(key('a'))).toBe(true);
      expect(await cache.delete(key('a'))).toBe(false);
      expect(await cache.ttlMs(key('a'))).toBeUndefined();
    });

    it('expires keys after their time to live', async () => {
      await cache.set(key('short'), 'x', { ttlMs: 150 });
      const ttl = await cache.ttlMs(key('short'));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(150);
      await sleep(300);
      expect(await cache.get(key('short'))).toBeUndefined();
    });

    it('gives exactly one winner to concurrent setIfAbsent calls', async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => cache.setIfAbsent(key('lock'), String(i))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect(await cache.get(key('lock'))).toBe(String(winner));
    });

    it('counts atomically under concurrent increments', async () => {
      await Promise.all(Array.from({ length: 100 }, () => cache.incrBy(key('n'), 3)));
      expect(await cache.incrBy(key('n'), 0)).toBe(300);
      expect(await cache.expire(key('n'), 10_000)).toBe(true);
      expect(await cache.expire(key('missing'), 10_000)).toBe(false);
    });

    it('keeps sets of distinct members', async () => {
      expect(await cache.setAdd(key('s'), ['a', 'b', 'a'])).toBe(2);
      expect(await cache.setAdd(key('s'), ['b', 'c'])).toBe(1);
      expect((await cache.setMembers(key('s'))).sort()).toEqual(['a', 'b', 'c']);
      expect(await cache.setRemove(key('s'), ['a', 'z'])).toBe(1);
      expect((await cache.setMembers(key('s'))).sort()).toEqual(['b', 'c']);
      expect(await cache.setMembers(key('none'))).toEqual([]);
    });

    it('ranges sorted sets by score, both ways, with a limit', async () => {
      await cache.sortedSetAdd(key('z'), [
        { member: 'c', score: 3 },
        { member: 'a', score: 1 },
        { member: 'b', score: 2 },
        { member: 'd', score: 4 },
      ]);
      expect(await cache.sortedSetAdd(key('z'), [{ member: 'a', score: 5 }])).toBe(0);
      const ascending = await cache.sortedSetRange(key('z'), { min: 2, max: 5 });
      expect(ascending.map((e) => e.member)).toEqual(['b', 'c', 'd', 'a']);
      const top = await cache.sortedSetRange(key('z'), {
        min: 0,
        max: 10,
        reverse: true,
        limit: 2,
      });
      expect(top).toEqual([
        { member: 'a', score: 5 },
        { member: 'd', score: 4 },
      ]);
      expect(await cache.sortedSetRemove(key('z'), ['a', 'x'])).toBe(1);
    });

    it('pushes to the head of lists and trims them', async () => {
      expect(await cache.listPush(key('l'), ['1', '2', '3'])).toBe(3);
      expect(await cache.listRange(key('l'), 0, -1)).toEqual(['3', '2', '1']);
      await cache.listTrim(key('l'), 0, 1);
      expect(await cache.listRange(key('l'), 0, -1)).toEqual(['3', '2']);
      expect(await cache.listRange(key('l'), -1, -1)).toEqual(['2']);
      expect(await cache.listRange(key('empty'), 0, -1)).toEqual([]);
    });

    it('delivers published messages to subscribers until they unsubscribe', async () => {
      const received: string[] = [];
      const unsubscribe = await cache.subscribe(key('ch'), (m) => received.push(m));
      await cache.publish(key('ch'), 'one');
      await waitFor(() => received.length === 1);
      await unsubscribe();
      await cache.publish(key('ch'), 'two');
      await sleep(100);
      expect(received).toEqual(['one']);
    });

    // A handler forwarding a conversation's messages one after another relies on it.
    it('delivers the messages of one channel in the order they were published', async () => {
      const received: number[] = [];
      const unsubscribe = await cache.subscribe(key('ordered'), (m) => received.push(Number(m)));
      const sent = Array.from({ length: 300 }, (_, i) => i);
      for (const i of sent) await cache.publish(key('ordered'), String(i));
      await waitFor(() => received.length === sent.length, 5000);
      await unsubscribe();
      expect(received).toEqual(sent);
    });

    it('reports expired keys under a prefix, and neither deleted keys nor others', async () => {
      const reported: string[] = [];
      const stop = await cache.subscribeExpirations(key('hold:'), (name) => reported.push(name));
      // Names that hash to many slots, so every master of a cluster expires some.
      const expiring = Array.from({ length: 24 }, (_, i) => key(`hold:${i}`));
      await Promise.all(expiring.map((name) => cache.set(name, 'x', { ttlMs: 100 })));
      await cache.set(key('hold:deleted'), 'x', { ttlMs: 150 });
      await cache.delete(key('hold:deleted'));
      await cache.set(key('hold:persisted'), 'x', { ttlMs: 150 });
      await cache.set(key('hold:persisted'), 'y');
      await cache.set(key('other'), 'x', { ttlMs: 100 });

      // Redis finds expired keys by sampling, so with many keys carrying a time to
      // live it can take a minute to reach one; a read removes an expired key at once.
      await sleep(200);
      for (const name of [...expiring, key('other')]) expect(await cache.get(name)).toBeUndefined();
      await waitFor(() => reported.length >= expiring.length, 5000);
      await sleep(300);
      expect(reported.sort()).toEqual(expiring.sort());

      await stop();
      await cache.set(key('hold:after-stop'), 'x', { ttlMs: 50 });
      await sleep(100);
      expect(await cache.get(key('hold:after-stop'))).toBeUndefined();
      await sleep(200);
      expect(reported).not.toContain(key('hold:after-stop'));
    });

    it('rejects an operation on a key holding another kind of value', async () => {
      await cache.set(key('str'), 'x');
      await expect(cache.setAdd(key('str'), ['a'])).rejects.toThrow(/WRONGTYPE/);
    });
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
