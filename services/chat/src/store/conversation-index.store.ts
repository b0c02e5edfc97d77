import type { TableSpec, WideColumn } from '@platform/kit';

/** The conversations a user has messages in: their contacts, and the user's conversation list. */
const BY_USER: TableSpec = {
  name: 'chat_conversations_by_user',
  columns: {
    user_id: 'text',
    conversation_id: 'text',
    peer: 'text',
    last_message_at: 'timestamp',
  },
  partitionKey: ['user_id'],
  clustering: [{ column: 'conversation_id', order: 'asc' }],
};

export interface UserConversation {
  conversationId: string;
  peer: string;
  /** When a message was last stored in it, to within the index's write interval. */
  lastMessageAt: number;
}

/** How long a process skips rewriting a conversation's index rows after writing them. */
const REWRITE_AFTER_MS = 60_000;

/**
 * Conversations per user, written when a message is stored. One process
 * rewrites a conversation's rows at most once a minute, so a busy
 * conversation costs two index writes a minute, not two per message.
 */
export class ConversationIndex {
  readonly #db: WideColumn;
  readonly #written = new Map<string, number>();

  constructor(db: WideColumn) {
    this.#db = db;
  }

  define(): Promise<void> {
    return this.#db.defineTables([BY_USER]);
  }

  /** Records that the members have a conversation, as of sentAt. */
  async record(conversationId: string, members: string[], sentAt: number): Promise<void> {
    const written = this.#written.get(conversationId);
    if (written !== undefined && sentAt - written < REWRITE_AFTER_MS) return;

    await Promise.all(
      members.map((user) =>
        this.#db.insert(BY_USER.name, {
          user_id: user,
          conversation_id: conversationId,
          peer: members.find((m) => m !== user) ?? user,
          last_message_at: sentAt,
        }),
      ),
    );
    if (this.#written.size > 100_000) this.#written.clear();
    this.#written.set(conversationId, sentAt);
  }

  async of(userId: string, limit: number): Promise<UserConversation[]> {
    const rows = await this.#db.select(BY_USER.name, { user_id: userId }, { limit });
    return rows.map((row) => ({
      conversationId: row.conversation_id as string,
      peer: row.peer as string,
      lastMessageAt: row.last_message_at as number,
    }));
  }

  /** The users the user has a conversation with. */
  async contactsOf(userId: string, limit: number): Promise<string[]> {
    return [...new Set((await this.of(userId, limit)).map((c) => c.peer))];
  }
}
