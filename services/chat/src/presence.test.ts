import { pino } from 'pino';
import { MemoryCache, SqliteWideColumn, type WideColumn } from '@platform/kit';
import { Directory } from './directory.ts';
import { PresenceService } from './presence.ts';
import type { Router, Routed } from './router.ts';
import { ConversationIndex } from './store/conversation-index.store.ts';
import { PresenceStore } from './store/presence.store.ts';

const TTL_MS = 3000;

/** A presence service on embedded stores, a clock the test moves, and a router that records. */
async function setUp(directoryCacheMs = 0) {
  let now = 1_000_000;
  const db = new SqliteWideColumn();
  const presenceWrites: Record<string, unknown>[] = [];
  const counted: WideColumn = {
    defineTables: (specs) => db.defineTables(specs),
    insert: (table, row, options) => {
      if (table === 'chat_presence') presenceWrites.push(row);
      return db.insert(table, row, options);
    },
    get: (table, key) => db.get(table, key),
    select: (table, partition, options) => db.select(table, partition, options),
    delete: (table, key) => db.delete(table, key),
    ping: () => db.ping(),
    close: () => db.close(),
  };
  const cache = new MemoryCache();
  const directory = new Directory({
    cache,
    handler: 'h1',
    ttlMs: TTL_MS,
    cacheMs: directoryCacheMs,
    now: () => now,
  });
  const sent: { user: string; event: Routed['event'] }[] = [];
  const router = {
    bestEffort: (user: string, event: Routed['event']) => sent.push({ user, event }),
  } as unknown as Router;
  const store = new PresenceStore(counted);
  const conversations = new ConversationIndex(counted);
  await Promise.all([store.define(), conversations.define()]);
  await conversations.record('dm-alice-bob', ['alice', 'bob'], now);
  const presence = new PresenceService({
    store,
    conversations,
    directory,
    router,
    cache,
    logger: pino({ level: 'silent' }),
    options: { directoryTtlMs: TTL_MS, fanOutMs: 0, lastSeenWriteMs: 1000, now: () => now },
  });
  const flush = () => new Promise((resolve) => setTimeout(resolve, 20));
  return {
    presence,
    directory,
    store,
    sent,
    presenceWrites,
    flush,
    at: (ms: number) => (now = 1_000_000 + ms),
  };
}

describe('presence', () => {
  test('a sweep just after a cached directory lookup still writes offline and tells contacts', async () => {
    // Handlers cache lookups (DIRECTORY_CACHE_MS); a read of the user's presence just before its
    // entry lapsed leaves "connected" in that cache when the sweep claims the user.
    const { presence, directory, store, sent, at, flush } = await setUp(500);
    await directory.register(['alice']);
    await presence.connected('alice');
    await flush();
    sent.length = 0;
    at(TTL_MS - 100);
    expect(await presence.of('alice')).toMatchObject({ status: 'online' });

    at(TTL_MS + 1);
    expect(await presence.sweep()).toBe(1);
    await flush();
    expect(await store.get('alice')).toMatchObject({ status: 'offline' });
    expect(sent).toEqual([
      {
        user: 'bob',
        event: { type: 'presence', userId: 'alice', status: 'offline', lastSeen: 1_000_000 },
      },
    ]);
  });

  test('a connected user’s last seen is written at most once per LAST_SEEN_WRITE_MS', async () => {
    const { presence, directory, presenceWrites, at } = await setUp();
    await directory.register(['alice']);
    await presence.connected('alice');
    expect(presenceWrites).toHaveLength(1);

    for (let ms = 100; ms < 1000; ms += 100) {
      at(ms);
      await presence.refresh(['alice']);
    }
    expect(presenceWrites).toHaveLength(1);
    at(1000);
    await presence.refresh(['alice']);
    expect(presenceWrites).toHaveLength(2);
    expect(presenceWrites[1]).toEqual({ user_id: 'alice', last_seen: 1_001_000 });
  });

  test('repeating a status writes nothing and tells nobody; a new connection is online', async () => {
    const { presence, directory, presenceWrites, sent, flush } = await setUp();
    await directory.register(['alice']);
    await presence.connected('alice');
    await presence.connected('alice');
    await presence.update('alice', 'away');
    await presence.update('alice', 'away');
    await flush();
    expect(presenceWrites.map((row) => row.status)).toEqual(['online', 'away']);
    expect(sent.map((r) => [r.user, (r.event as { status: string }).status])).toEqual([
      ['bob', 'online'],
      ['bob', 'away'],
    ]);

    // Another connection opening is activity: back online.
    await presence.connected('alice');
    await flush();
    expect(presenceWrites.map((row) => row.status)).toEqual(['online', 'away', 'online']);
    expect(sent.at(-1)?.event).toMatchObject({ status: 'online' });
  });

  test('the sweep writes a lapsed user offline once, as of its last refresh, and tells contacts', async () => {
    const { presence, directory, store, sent, flush, at } = await setUp();
    await directory.register(['alice']);
    await presence.connected('alice');
    at(1000);
    await directory.register(['alice']);
    await presence.refresh(['alice']);

    // Its handler dies: no more refreshes. Before the lapse the sweep finds nothing.
    at(1000 + TTL_MS - 1);
    expect(await presence.sweep()).toBe(0);
    expect((await presence.of('alice')).status).toBe('online');

    at(1000 + TTL_MS + 1);
    expect((await presence.of('alice')).status).toBe('offline');
    expect(await presence.sweep()).toBe(1);
    expect(await presence.sweep()).toBe(0);
    expect(await store.get('alice')).toEqual({ status: 'offline', lastSeen: 1_001_000 });
    await flush();
    expect(sent.at(-1)).toEqual({
      user: 'bob',
      event: { type: 'presence', userId: 'alice', status: 'offline', lastSeen: 1_001_000 },
    });
  });

  test('the sweep leaves a lapsed user whom a live handler has registered again', async () => {
    const { presence, directory, store, at } = await setUp();
    await directory.register(['alice']);
    await presence.connected('alice');

    // A live handler re-registered the user; its presence refresh has not run yet.
    at(TTL_MS + 1);
    await directory.register(['alice']);
    expect(await presence.sweep()).toBe(0);
    expect((await store.get('alice'))?.status).toBe('online');
    expect((await presence.of('alice')).status).toBe('online');
  });
});
