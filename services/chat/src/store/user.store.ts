import { ConstraintViolation, type Relational } from '@platform/kit';

const MIGRATIONS = [
  {
    id: '001-users',
    statements: [
      'CREATE TABLE chat_users (' +
        'id VARCHAR(32) NOT NULL PRIMARY KEY, ' +
        'name VARCHAR(64) NOT NULL, ' +
        'password_hash VARCHAR(200) NOT NULL, ' +
        'created_at BIGINT NOT NULL, ' +
        'CONSTRAINT chat_users_name UNIQUE (name))',
    ],
  },
];

export interface StoredUser {
  id: string;
  name: string;
  passwordHash: string;
  createdAt: number;
}

export class NameTaken extends Error {}

/** Users in the relational store: a name, unique, and a password hash. */
export class UserStore {
  readonly #db: Relational;

  constructor(db: Relational) {
    this.#db = db;
  }

  async migrate(): Promise<void> {
    await this.#db.migrate('chat', MIGRATIONS);
  }

  async create(user: StoredUser): Promise<void> {
    try {
      await this.#db.execute(
        'INSERT INTO chat_users (id, name, password_hash, created_at) VALUES (?, ?, ?, ?)',
        [user.id, user.name, user.passwordHash, user.createdAt],
      );
    } catch (error) {
      if (error instanceof ConstraintViolation && error.kind === 'unique') throw new NameTaken();
      throw error;
    }
  }

  async byName(name: string): Promise<StoredUser | undefined> {
    const [row] = await this.#db.query<{
      id: string;
      name: string;
      password_hash: string;
      created_at: number | string;
    }>('SELECT id, name, password_hash, created_at FROM chat_users WHERE name = ?', [name]);
    return (
      row && {
        id: row.id,
        name: row.name,
        passwordHash: row.password_hash,
        createdAt: Number(row.created_at),
      }
    );
  }

  async exists(id: string): Promise<boolean> {
    const rows = await this.#db.query('SELECT id FROM chat_users WHERE id = ?', [id]);
    return rows.length > 0;
  }
}
