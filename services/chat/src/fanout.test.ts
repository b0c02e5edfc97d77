import {
  createLogger,
  createMetrics,
  MemoryCache,
  MemoryEventLog,
  SqliteWideColumn,
} from '@platform/kit';
import { Directory } from './directory.ts';
import type { ChatMessage } from './domain/events.ts';
import { TimeIdSource } from './domain/time-id.ts';
import { fanOut, readGroupMessage } from './fanout.ts';
import { GroupMessageLog, Groups } from './groups.ts';
import { MessageService } from './messages.ts';
import { chatMetrics } from './metrics.ts';
import { Router, type Routed } from './router.ts';
import { ConversationIndex } from './store/conversation-index.store.ts';
import type { GroupStore } from './store/group.store.ts';
import { MessageStore } from './store/message.store.ts';

const GROUP = '0123456789abcdef';
const CONVERSATION = `grp-${GROUP}`;
const MEMBERS = ['s', 'u1', 'u2', 'u3', 'u4'];

/** The fan-out of one message on in-process stand-ins: SQLite rows, the in-process cache. */
async function setUp() {
  const cache = new MemoryCache();
  const logger = createLogger('chat-test', 'silent');
  const metrics = chatMetrics(createMetrics('chat-test'), 'fanout');
  const store = new MessageStore(new SqliteWideColumn());
  await store.define();
  const groupStore = { members: () => Promise.resolve(MEMBERS) } as unknown as GroupStore;
  const groups = new Groups({ store: groupStore, maxMembers: 500, cacheMs: 1000 });
  const directory = new Directory({ cache, handler: 'fanout', ttlMs: 30_000, cacheMs: 0 });
  const router = new Router(cache, directory, logger);
  const on = (handler: string) => new Directory({ cache, handler, ttlMs: 30_000, cacheMs: 0 });
  // u1, u2 on h1; u3 on both (two devices); u4 offline.
  await on('h1').register(['u1', 'u2', 'u3']);
  await on('h2').register(['u3']);
  const published: { handler: string; routed: Routed }[] = [];
  for (const handler of ['h1', 'h2']) {
    await router.listen(handler, (routed) => published.push({ handler, routed }));
  }
  const conversations = new ConversationIndex(new SqliteWideColumn());
  await conversations.define();
  const messages = new MessageService({
    store,
    conversations,
    ids: new TimeIdSource(),
    router,
    groups,
    groupLog: new GroupMessageLog(new MemoryEventLog()),
    groupReceiptsMax: 32,
    users: { exists: async () => true },
    assets: { requireAll: async () => undefined },
    metrics,
    logger,
  });
  const { message } = await messages.send('s', {
    conversationId: CONVERSATION,
    clientSeq: 1,
    body: 'hello',
  });
  const deps = { groups, store, directory, router, metrics, logger };
  const pendingOf = async (user: string) => (await store.pending(user, 10)).map((m) => m.messageId);
  const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
  return { deps, store, metrics, messages, message, published, pendingOf, settle };
}

const counter = async (metric: { get(): Promise<{ values: { value: number }[] }> }) =>
  (await metric.get()).values[0]?.value ?? 0;

describe('group fan-out', () => {
  test('pending rows for every member but the sender, one publish per handler with its users', async () => {
    const { deps, message, published, pendingOf, settle, metrics } = await setUp();
    await fanOut(deps, message);
    await settle();

    for (const user of ['u1', 'u2', 'u3', 'u4'])
      expect(await pendingOf(user)).toEqual([message.messageId]);
    expect(await pendingOf('s')).toEqual([]);
    expect(published.map((p) => [p.handler, (p.routed as { users: string[] }).users])).toEqual([
      ['h1', ['u1', 'u2', 'u3']],
      ['h2', ['u3']],
    ]);
    expect(published[0]!.routed.event).toEqual({ type: 'message', ...message });
    expect(await counter(metrics.fanoutBatches)).toBe(2);
    expect(await counter(metrics.fanoutDeliveries)).toBe(4);
  });

  test('the same record again does nothing: no pending row back after an ack, no publish', async () => {
    const { deps, message, messages, published, pendingOf, settle } = await setUp();
    await fanOut(deps, message);
    await messages.deliveryAck('u1', CONVERSATION, message.messageId);
    await settle();
    published.length = 0;

    await fanOut(deps, message);
    await settle();
    expect(published).toEqual([]);
    expect(await pendingOf('u1')).toEqual([]);
    expect(await pendingOf('u2')).toEqual([message.messageId]);
  });

  test('after a crash before the marks, members who acknowledged meanwhile are skipped', async () => {
    const { deps, store, message, messages, published, pendingOf, settle } = await setUp();
    const mark = store.markFanoutDone.bind(store);
    let crash = true;
    store.markFanoutDone = async (messageId: string, users: string[]) => {
      // The worker dies after the pending rows, before its marks; an ack's own mark goes through.
      if (crash && users.length > 1) throw new Error('killed');
      return mark(messageId, users);
    };
    await expect(fanOut(deps, message)).rejects.toThrow('killed');
    expect(published).toEqual([]);
    // u2 got it from its pending rows (on connecting) and acknowledged it.
    await messages.deliveryAck('u2', CONVERSATION, message.messageId);
    crash = false;

    // The record comes again.
    await fanOut(deps, message);
    await settle();
    expect(await pendingOf('u2')).toEqual([]);
    for (const user of ['u1', 'u3', 'u4'])
      expect(await pendingOf(user)).toEqual([message.messageId]);
    expect(published.map((p) => [p.handler, (p.routed as { users: string[] }).users])).toEqual([
      ['h1', ['u1', 'u3']],
      ['h2', ['u3']],
    ]);
  });

  test('records that are not group messages of this version are skipped', () => {
    const message: ChatMessage = {
      conversationId: CONVERSATION,
      messageId: '0192a3b4c5d60000abcdef',
      sender: 's',
      clientSeq: 1,
      body: 'x',
      attachments: [],
      sentAt: 1,
    };
    const record = (event: unknown) => ({ value: Buffer.from(JSON.stringify(event)) });
    const envelope = {
      id: 'e',
      type: 'chat.group_message',
      version: 1,
      key: 'k',
      time: '',
      data: message,
    };
    expect(readGroupMessage(record(envelope))).toEqual(message);
    expect(readGroupMessage(record({ ...envelope, version: 2 }))).toBeUndefined();
    expect(
      readGroupMessage(record({ ...envelope, data: { ...message, conversationId: 'dm-a-b' } })),
    ).toBeUndefined();
    expect(readGroupMessage({ value: Buffer.from('not json') })).toBeUndefined();
    // Attachments travel with the record; a record from before them carries none.
    const attached = { ...message, attachments: ['a'.repeat(64)] };
    expect(readGroupMessage(record({ ...envelope, data: attached }))).toEqual(attached);
    const older: Partial<ChatMessage> = { ...message };
    delete older.attachments;
    expect(readGroupMessage(record({ ...envelope, data: older }))).toEqual(message);
    expect(
      readGroupMessage(record({ ...envelope, data: { ...message, attachments: 'a'.repeat(64) } })),
    ).toBeUndefined();
  });
});
