import { createHash } from 'node:crypto';
import type { TableSpec, WideColumn, WideRow } from '@platform/kit';
import type { ChatMessage } from '../domain/events.ts';
import { forEachLimited } from '../domain/fanout-plan.ts';

const MESSAGES: TableSpec = {
  name: 'chat_messages_by_conversation',
  columns: {
    conversation_id: 'text',
    message_id: 'text',
    sender: 'text',
    client_seq: 'bigint',
    body: 'text',
    sent_at: 'timestamp',
    /** Asset ids joined by ","; absent (rows from before it, or none attached): none. */
    attachments: 'text',
  },
  partitionKey: ['conversation_id'],
  clustering: [{ column: 'message_id', order: 'asc' }],
};

/** Messages not yet acknowledged as delivered, by recipient, in server order. */
const PENDING: TableSpec = {
  name: 'chat_pending_by_user',
  columns: {
    user_id: 'text',
    message_id: 'text',
    conversation_id: 'text',
    sender: 'text',
    client_seq: 'bigint',
    body: 'text',
    sent_at: 'timestamp',
    attachments: 'text',
  },
  partitionKey: ['user_id'],
  clustering: [{ column: 'message_id', order: 'asc' }],
};

/** The claim of a (sender, client sequence) in a conversation: its one message id. */
const SEND_KEYS: TableSpec = {
  name: 'chat_send_keys',
  columns: {
    conversation_id: 'text',
    send_key: 'text',
    message_id: 'text',
    sent_at: 'timestamp',
  },
  partitionKey: ['conversation_id'],
  clustering: [{ column: 'send_key', order: 'asc' }],
};

/** How far each member has received and read a conversation (message id watermarks). */
const RECEIPTS: TableSpec = {
  name: 'chat_receipts',
  columns: {
    conversation_id: 'text',
    user_id: 'text',
    delivered_up_to: 'text',
    read_up_to: 'text',
  },
  partitionKey: ['conversation_id'],
  clustering: [{ column: 'user_id', order: 'asc' }],
};

/**
 * Group fan-out's memory of (message, member): the member's pending row was
 * written, or the member acknowledged the message. A redelivered record skips
 * these members, so it neither re-creates an acknowledged pending row nor
 * delivers again. Kept for as long as a redelivery can come.
 */
const FANOUT_DONE: TableSpec = {
  name: 'chat_fanout_done',
  columns: {
    message_id: 'text',
    user_id: 'text',
  },
  partitionKey: ['message_id'],
  clustering: [{ column: 'user_id', order: 'asc' }],
};

const FANOUT_DONE_TTL_SECONDS = 7 * 86_400;
const WRITE_CONCURRENCY = 32;

export interface Receipt {
  userId: string;
  deliveredUpTo: string | null;
  readUpTo: string | null;
}

/** Messages in the wide-column store: by conversation, pending by user, send claims, receipts. */
export class MessageStore {
  readonly #db: WideColumn;

  constructor(db: WideColumn) {
    this.#db = db;
  }

  define(): Promise<void> {
    return this.#db.defineTables([MESSAGES, PENDING, SEND_KEYS, RECEIPTS, FANOUT_DONE]);
  }

  /**
   * Claims (conversation, sender, clientSeq, content) for a new message id.
   * The first claim wins; a later one gets the winner's id and time back. The
   * content is part of the key (as hashes) because a user's devices each
   * number from 1: two devices' first messages are two sends, only a true
   * resend (same number, same text, same attachments) is one.
   */
  async claimSend(
    conversationId: string,
    sender: string,
    clientSeq: number,
    content: { body: string; attachments: readonly string[] },
    proposed: { messageId: string; sentAt: number },
  ): Promise<{ messageId: string; sentAt: number; first: boolean }> {
    const sendKey = sendKeyOf(sender, clientSeq, content);
    const first = await this.#db.insert(
      SEND_KEYS.name,
      {
        conversation_id: conversationId,
        send_key: sendKey,
        message_id: proposed.messageId,
        sent_at: proposed.sentAt,
      },
      { ifNotExists: true },
    );
    if (first) return { ...proposed, first };
    const row = await this.#db.get(SEND_KEYS.name, {
      conversation_id: conversationId,
      send_key: sendKey,
    });
    if (!row) throw new Error(`send claim ${conversationId}/${sendKey} vanished`);
    return { messageId: row.message_id as string, sentAt: row.sent_at as number, first };
  }

  async get(conversationId: string, messageId: string): Promise<ChatMessage | undefined> {
    const row = await this.#db.get(MESSAGES.name, {
      conversation_id: conversationId,
      message_id: messageId,
    });
    return row && toMessage(row);
  }

  /**
   * Writes the message to its conversation and to the recipient's pending
   * messages; a group message (no recipient) only to its conversation, the
   * fan-out worker writes its members' pending rows.
   */
  async write(message: ChatMessage, recipient: string | undefined): Promise<void> {
    const row = messageRow(message);
    // The pending row first: a resend that finds the message stored takes the
    // write as done, so a crash between the two must not leave it without one.
    if (recipient !== undefined) {
      await this.#db.insert(PENDING.name, { ...row, user_id: recipient });
    }
    await this.#db.insert(MESSAGES.name, row);
  }

  /** The message in each of these users' pending messages. */
  async writePending(message: ChatMessage, users: string[]): Promise<void> {
    const row = messageRow(message);
    await forEachLimited(users, WRITE_CONCURRENCY, async (user) => {
      await this.#db.insert(PENDING.name, { ...row, user_id: user });
    });
  }

  /** The members group fan-out has handled for a message (pending row written, or acknowledged). */
  async fanoutDone(messageId: string, limit: number): Promise<Set<string>> {
    const rows = await this.#db.select(FANOUT_DONE.name, { message_id: messageId }, { limit });
    return new Set(rows.map((row) => row.user_id as string));
  }

  async markFanoutDone(messageId: string, users: string[]): Promise<void> {
    await forEachLimited(users, WRITE_CONCURRENCY, async (user) => {
      await this.#db.insert(
        FANOUT_DONE.name,
        { message_id: messageId, user_id: user },
        { ttlSeconds: FANOUT_DONE_TTL_SECONDS },
      );
    });
  }

  /** A page of a conversation after a message id (exclusive), in server order. */
  async history(conversationId: string, after: string | undefined, limit: number) {
    const rows = await this.#db.select(
      MESSAGES.name,
      { conversation_id: conversationId },
      { after, limit },
    );
    return rows.map(toMessage);
  }

  async pending(userId: string, limit: number): Promise<ChatMessage[]> {
    const rows = await this.#db.select(PENDING.name, { user_id: userId }, { limit });
    return rows.map(toMessage);
  }

  async isPending(userId: string, messageId: string): Promise<boolean> {
    return (await this.pendingMessage(userId, messageId)) !== undefined;
  }

  async pendingMessage(userId: string, messageId: string): Promise<ChatMessage | undefined> {
    const row = await this.#db.get(PENDING.name, { user_id: userId, message_id: messageId });
    return row && toMessage(row);
  }

  removePending(userId: string, messageId: string): Promise<void> {
    return this.#db.delete(PENDING.name, { user_id: userId, message_id: messageId });
  }

  async receipt(conversationId: string, userId: string): Promise<Receipt> {
    const row = await this.#db.get(RECEIPTS.name, {
      conversation_id: conversationId,
      user_id: userId,
    });
    return {
      userId,
      deliveredUpTo: (row?.delivered_up_to as string | null | undefined) ?? null,
      readUpTo: (row?.read_up_to as string | null | undefined) ?? null,
    };
  }

  /** Every member's watermarks in a conversation (members who never acked have no row). */
  async receipts(conversationId: string, limit: number): Promise<Receipt[]> {
    const rows = await this.#db.select(
      RECEIPTS.name,
      { conversation_id: conversationId },
      { limit },
    );
    return rows.map((row) => ({
      userId: row.user_id as string,
      deliveredUpTo: (row.delivered_up_to as string | null | undefined) ?? null,
      readUpTo: (row.read_up_to as string | null | undefined) ?? null,
    }));
  }

  /**
   * Moves a member's delivered or read watermark forward, never back. Two
   * acks racing may both read the old value; the later id can then lose to the
   * earlier one until the next ack (last write wins), which only delays a receipt.
   */
  async advance(
    conversationId: string,
    userId: string,
    status: 'delivered' | 'read',
    messageId: string,
  ): Promise<boolean> {
    const current = await this.receipt(conversationId, userId);
    const column = status === 'delivered' ? 'delivered_up_to' : 'read_up_to';
    const held = status === 'delivered' ? current.deliveredUpTo : current.readUpTo;
    if (held !== null && held >= messageId) return false;
    await this.#db.insert(RECEIPTS.name, {
      conversation_id: conversationId,
      user_id: userId,
      [column]: messageId,
    });
    return true;
  }
}

const digest = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22);

/**
 * `<sender>:<clientSeq>:<body hash>`, and `:<attachments hash>` when the
 * message has attachments: a message without any keeps the key it had before
 * attachments existed, and no body can stand for a list of ids (a digest has
 * no ":"), so a resend with other attachments is another message.
 */
export function sendKeyOf(
  sender: string,
  clientSeq: number,
  content: { body: string; attachments: readonly string[] },
): string {
  const key = `${sender}:${clientSeq}:${digest(content.body)}`;
  return content.attachments.length === 0 ? key : `${key}:${digest(content.attachments.join(','))}`;
}

function messageRow(message: ChatMessage): WideRow {
  return {
    conversation_id: message.conversationId,
    message_id: message.messageId,
    sender: message.sender,
    client_seq: message.clientSeq,
    body: message.body,
    sent_at: message.sentAt,
    // Left out when none: nothing to write, and no tombstone for a null on Cassandra.
    ...(message.attachments.length > 0 ? { attachments: message.attachments.join(',') } : {}),
  };
}

function toMessage(row: WideRow): ChatMessage {
  return {
    conversationId: row.conversation_id as string,
    messageId: row.message_id as string,
    sender: row.sender as string,
    clientSeq: row.client_seq as number,
    body: (row.body as string | null) ?? '',
    attachments: attachmentsOf(row.attachments),
    sentAt: row.sent_at as number,
  };
}

/** Rows written before the column existed, or without attachments, read as none. */
function attachmentsOf(cell: unknown): string[] {
  return typeof cell === 'string' && cell !== '' ? cell.split(',') : [];
}
