import type { TableSpec, WideColumn } from '@platform/kit';

export type PresenceStatus = 'online' | 'away' | 'offline';

/** The last status a handler wrote for a user, and when the user was last seen connected. */
const PRESENCE: TableSpec = {
  name: 'chat_presence',
  columns: { user_id: 'text', status: 'text', last_seen: 'timestamp' },
  partitionKey: ['user_id'],
};

export interface StoredPresence {
  status: PresenceStatus;
  lastSeen: number | null;
}

/** Presence rows in the wide-column store, one per user. */
export class PresenceStore {
  readonly #db: WideColumn;

  constructor(db: WideColumn) {
    this.#db = db;
  }

  define(): Promise<void> {
    return this.#db.defineTables([PRESENCE]);
  }

  async get(userId: string): Promise<StoredPresence | undefined> {
    const row = await this.#db.get(PRESENCE.name, { user_id: userId });
    if (!row) return undefined;
    return {
      status: (row.status as PresenceStatus | null) ?? 'offline',
      lastSeen: (row.last_seen as number | null) ?? null,
    };
  }

  /** Writes the status, and the last-seen time when given (an upsert of those columns). */
  async write(userId: string, status: PresenceStatus, lastSeen?: number): Promise<void> {
    await this.#db.insert(PRESENCE.name, {
      user_id: userId,
      status,
      ...(lastSeen === undefined ? {} : { last_seen: lastSeen }),
    });
  }

  async touch(userId: string, lastSeen: number): Promise<void> {
    await this.#db.insert(PRESENCE.name, { user_id: userId, last_seen: lastSeen });
  }
}
