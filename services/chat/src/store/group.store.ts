import type { Relational } from '@platform/kit';

const MIGRATIONS = [
  {
    id: '001-groups',
    statements: [
      'CREATE TABLE chat_groups (' +
        'id VARCHAR(16) NOT NULL PRIMARY KEY, ' +
        'name VARCHAR(100) NOT NULL, ' +
        'created_by VARCHAR(32) NOT NULL, ' +
        'created_at BIGINT NOT NULL)',
      'CREATE TABLE chat_group_members (' +
        'group_id VARCHAR(16) NOT NULL, ' +
        'user_id VARCHAR(32) NOT NULL, ' +
        'joined_at BIGINT NOT NULL, ' +
        'PRIMARY KEY (group_id, user_id))',
      'CREATE INDEX chat_group_members_user ON chat_group_members (user_id)',
    ],
  },
];

export interface Group {
  id: string;
  name: string;
  createdBy: string;
  createdAt: number;
  /** User ids, sorted. */
  members: string[];
}

/** Groups and their members in the relational store. */
export class GroupStore {
  readonly #db: Relational;

  constructor(db: Relational) {
    this.#db = db;
  }

  /** Idempotent: applies what is not applied yet, from any number of processes. */
  async migrate(): Promise<void> {
    await this.#db.migrate('chat-groups', MIGRATIONS);
  }

  /** The ids among these that are not users. */
  async unknownUsers(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.#db.query<{ id: string }>(
      `SELECT id FROM chat_users WHERE id IN (${ids.map(() => '?').join(', ')})`,
      ids,
    );
    const known = new Set(rows.map((row) => row.id));
    return ids.filter((id) => !known.has(id));
  }

  /** The group and its members, in one transaction. */
  async create(group: Group): Promise<void> {
    await this.#db.transaction(async (tx) => {
      await tx.execute(
        'INSERT INTO chat_groups (id, name, created_by, created_at) VALUES (?, ?, ?, ?)',
        [group.id, group.name, group.createdBy, group.createdAt],
      );
      await tx.execute(
        'INSERT INTO chat_group_members (group_id, user_id, joined_at) VALUES ' +
          group.members.map(() => '(?, ?, ?)').join(', '),
        group.members.flatMap((user) => [group.id, user, group.createdAt]),
      );
    });
  }

  async get(id: string): Promise<Group | undefined> {
    const [row] = await this.#db.query<{
      id: string;
      name: string;
      created_by: string;
      created_at: number | string;
    }>('SELECT id, name, created_by, created_at FROM chat_groups WHERE id = ?', [id]);
    if (!row) return undefined;
    return {
      id: row.id,
      name: row.name,
      createdBy: row.created_by,
      createdAt: Number(row.created_at),
      members: await this.members(id),
    };
  }

  /** A group's member ids, sorted; empty for an unknown group. */
  async members(id: string): Promise<string[]> {
    const rows = await this.#db.query<{ user_id: string }>(
      'SELECT user_id FROM chat_group_members WHERE group_id = ? ORDER BY user_id',
      [id],
    );
    return rows.map((row) => row.user_id);
  }
}
