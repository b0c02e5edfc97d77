import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CassandraWideColumn,
  SqliteWideColumn,
  type TableSpec,
  type WideColumn,
} from '@platform/kit';
import { dropKeyspace, serverAddress } from '@platform/kit/testing';
import type { ChatMessage } from '../src/domain/events.ts';
import { MessageStore } from '../src/store/message.store.ts';

/** The message tables as the code before attachments declared them. */
const OLD_MESSAGES: TableSpec = {
  name: 'chat_messages_by_conversation',
  columns: {
    conversation_id: 'text',
    message_id: 'text',
    sender: 'text',
    client_seq: 'bigint',
    body: 'text',
    sent_at: 'timestamp',
  },
  partitionKey: ['conversation_id'],
  clustering: [{ column: 'message_id', order: 'asc' }],
};
const OLD_PENDING: TableSpec = {
  name: 'chat_pending_by_user',
  columns: {
    user_id: 'text',
    message_id: 'text',
    conversation_id: 'text',
    sender: 'text',
    client_seq: 'bigint',
    body: 'text',
    sent_at: 'timestamp',
  },
  partitionKey: ['user_id'],
  clustering: [{ column: 'message_id', order: 'asc' }],
};
const OLD_SEND_KEYS: TableSpec = {
  name: 'chat_send_keys',
  columns: { conversation_id: 'text', send_key: 'text', message_id: 'text', sent_at: 'timestamp' },
  partitionKey: ['conversation_id'],
  clustering: [{ column: 'send_key', order: 'asc' }],
};

const asset = (n: number) => createHash('sha256').update(String(n)).digest('hex');
const CONVERSATION = 'dm-0000000000000001-0000000000000002';
const OLD_ID = '0192a3b4c5d60000abcdef';
const NEW_ID = '0192a3b4c5d70000abcdef';

interface Backend {
  /** Opens the same store again, as a new process would. */
  open(): WideColumn;
  drop(): Promise<void>;
}

function sqlite(): Backend {
  const file = join(mkdtempSync(join(tmpdir(), 'chat-store-')), 'wide-column.sqlite');
  return { open: () => new SqliteWideColumn(file), drop: async () => undefined };
}

function cassandra(): Backend {
  // A keyspace of this run's own: the tables' names are fixed, and the old ones must be new.
  const keyspace = `chat_upgrade_${randomBytes(4).toString('hex')}`;
  return {
    open: () =>
      new CassandraWideColumn({
        contactPoints: serverAddress('CASSANDRA_CONTACT_POINTS').split(','),
        localDataCenter: process.env.CASSANDRA_LOCAL_DC ?? 'datacenter1',
        keyspace,
        replicationFactor: 1,
      }),
    drop: () => dropKeyspace(keyspace),
  };
}

describe.each([
  ['sqlite', sqlite],
  ['cassandra', cassandra],
] as const)('message store on %s', (_name, backend) => {
  let servers: Backend;
  let store: MessageStore;
  const opened: WideColumn[] = [];

  beforeAll(async () => {
    servers = backend();
    // The tables as the old code made them, with its rows, then closed: the old process is gone.
    const old = servers.open();
    await old.defineTables([OLD_MESSAGES, OLD_PENDING, OLD_SEND_KEYS]);
    const row = {
      conversation_id: CONVERSATION,
      message_id: OLD_ID,
      sender: '0000000000000001',
      client_seq: 1,
      body: 'from before attachments',
      sent_at: 1_700_000_000_000,
    };
    await old.insert(OLD_MESSAGES.name, row);
    await old.insert(OLD_PENDING.name, { ...row, user_id: '0000000000000002' });
    // The old claim key: <sender>:<clientSeq>:<22 characters of the body's SHA-256>.
    const digest = createHash('sha256').update(row.body).digest('base64url').slice(0, 22);
    await old.insert(OLD_SEND_KEYS.name, {
      conversation_id: CONVERSATION,
      send_key: `${row.sender}:1:${digest}`,
      message_id: OLD_ID,
      sent_at: row.sent_at,
    });
    await old.close();

    const db = servers.open();
    opened.push(db);
    store = new MessageStore(db);
    await store.define();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(opened.map((db) => db.close()));
    await servers?.drop();
  });

  test('an old-spec table upgraded in place; its rows read with no attachments', async () => {
    const [old] = await store.history(CONVERSATION, undefined, 10);
    expect(old).toEqual({
      conversationId: CONVERSATION,
      messageId: OLD_ID,
      sender: '0000000000000001',
      clientSeq: 1,
      body: 'from before attachments',
      attachments: [],
      sentAt: 1_700_000_000_000,
    });
    expect(await store.pending('0000000000000002', 10)).toEqual([old]);
    expect(await store.get(CONVERSATION, OLD_ID)).toEqual(old);
  });

  test('new messages keep their attachments in the conversation and the pending rows', async () => {
    const message: ChatMessage = {
      conversationId: CONVERSATION,
      messageId: NEW_ID,
      sender: '0000000000000002',
      clientSeq: 1,
      body: '',
      attachments: [asset(1), asset(2)],
      sentAt: 1_700_000_000_001,
    };
    await store.write(message, '0000000000000001');
    expect(await store.get(CONVERSATION, NEW_ID)).toEqual(message);
    expect(await store.pending('0000000000000001', 10)).toEqual([message]);
    expect((await store.history(CONVERSATION, OLD_ID, 10)).map((m) => m.attachments)).toEqual([
      [asset(1), asset(2)],
    ]);
    // Group fan-out writes members' pending rows from the message it carries.
    await store.writePending(message, ['0000000000000003']);
    expect(await store.pendingMessage('0000000000000003', NEW_ID)).toEqual(message);
  });

  test('a resend is one claim only with the same body and the same attachments', async () => {
    const sender = '0000000000000001';
    const claim = (body: string, attachments: string[]) =>
      store.claimSend(
        CONVERSATION,
        sender,
        1,
        { body, attachments },
        {
          messageId: randomBytes(11).toString('hex'),
          sentAt: Date.now(),
        },
      );
    // The old code's claim is still found by a resend without attachments.
    expect(await claim('from before attachments', [])).toMatchObject({
      messageId: OLD_ID,
      first: false,
    });
    const withOne = await claim('from before attachments', [asset(1)]);
    expect(withOne.first).toBe(true);
    expect(await claim('from before attachments', [asset(1)])).toEqual({
      ...withOne,
      first: false,
    });
    for (const attachments of [[asset(2)], [asset(1), asset(2)], [asset(2), asset(1)]]) {
      const other = await claim('from before attachments', attachments);
      expect(other.first).toBe(true);
      expect(other.messageId).not.toBe(withOne.messageId);
    }
    // A body that spells out the attachment list is still another message.
    const spelled = await claim(`from before attachments:${asset(1)}`, []);
    expect(spelled.first).toBe(true);
  });
});
