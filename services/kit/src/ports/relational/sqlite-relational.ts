import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import {
  ConstraintViolation,
  statementsFor,
  upsertSql,
  type ExecResult,
  type Migration,
  type Queryable,
  type Relational,
  type Row,
  type SqlValue,
  type Upsert,
} from './relational.ts';

const FOR_UPDATE = /\s+FOR\s+UPDATE\s*$/i;

/**
 * One connection per database file in this process, shared by every adapter
 * opened on it: a second synchronous connection would wait on the first's
 * lock while blocking the thread that must release it.
 */
class SharedDatabase {
  static readonly #open = new Map<string, SharedDatabase>();
  readonly db: DatabaseSync;
  readonly statements = new Map<string, StatementSync>();
  queue: Promise<unknown> = Promise.resolve();
  #users = 0;

  private constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000');
  }

  static acquire(path: string): SharedDatabase {
    const key = path === ':memory:' ? `:memory:${Math.random()}` : resolve(path);
    let shared = SharedDatabase.#open.get(key);
    if (!shared) {
      shared = new SharedDatabase(path);
      SharedDatabase.#open.set(key, shared);
    }
    shared.#users += 1;
    return shared;
  }

  release(): void {
    this.#users -= 1;
    if (this.#users > 0) return;
    for (const [key, shared] of SharedDatabase.#open) {
      if (shared === this) SharedDatabase.#open.delete(key);
    }
    this.db.close();
  }
}

/**
 * The relational port on node:sqlite. Transactions run one at a time (BEGIN
 * IMMEDIATE behind an async queue), which gives every locking read the
 * isolation a row lock would.
 */
export class SqliteRelational implements Relational {
  readonly dialect = 'sqlite' as const;
  readonly #shared: SharedDatabase;

  constructor(path = ':memory:') {
    this.#shared = SharedDatabase.acquire(path);
  }

  get #db(): DatabaseSync {
    return this.#shared.db;
  }

  query<T extends Row = Row>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return this.#serial(async () => this.#query<T>(sql, params));
  }

  execute(sql: string, params: SqlValue[] = []): Promise<ExecResult> {
    return this.#serial(async () => this.#execute(sql, params));
  }

  upsert(upsert: Upsert): Promise<ExecResult> {
    return this.#serial(async () => this.#execute(...upsertSql('sqlite', upsert)));
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#serial(async () => {
      this.#db.exec('BEGIN IMMEDIATE');
      const tx: Queryable = {
        query: async <R extends Row = Row>(sql: string, params: SqlValue[] = []) =>
          this.#query<R>(sql, params),
        execute: async (sql, params = []) => this.#execute(sql, params),
        upsert: async (upsert) => this.#execute(...upsertSql('sqlite', upsert)),
      };
      try {
        const result = await fn(tx);
        this.#db.exec('COMMIT');
        return result;
      } catch (error) {
        this.#db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  async migrate(scope: string, migrations: Migration[]): Promise<string[]> {
    await this.execute(
      'CREATE TABLE IF NOT EXISTS schema_migrations ' +
        '(scope VARCHAR(64) NOT NULL, id VARCHAR(128) NOT NULL, applied_at BIGINT NOT NULL, ' +
        'PRIMARY KEY (scope, id))',
    );
    return this.transaction(async (tx) => {
      const rows = await tx.query<{ id: string }>(
        'SELECT id FROM schema_migrations WHERE scope = ?',
        [scope],
      );
      const done = new Set(rows.map((row) => row.id));
      const applied: string[] = [];
      for (const migration of migrations) {
        if (done.has(migration.id)) continue;
        for (const statement of statementsFor(migration, 'sqlite')) await tx.execute(statement);
        await tx.execute('INSERT INTO schema_migrations (scope, id, applied_at) VALUES (?, ?, ?)', [
          scope,
          migration.id,
          Date.now(),
        ]);
        applied.push(migration.id);
      }
      return applied;
    });
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.#shared.queue.catch(() => undefined);
    this.#shared.release();
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#shared.queue.then(work, work);
    this.#shared.queue = run.catch(() => undefined);
    return run;
  }

  #prepare(sql: string): StatementSync {
    const text = sql.replace(FOR_UPDATE, '');
    let statement = this.#shared.statements.get(text);
    if (!statement) {
      statement = this.#db.prepare(text);
      this.#shared.statements.set(text, statement);
    }
    return statement;
  }

  #query<T>(sql: string, params: SqlValue[]): T[] {
    try {
      return this.#prepare(sql).all(...params) as T[];
    } catch (error) {
      throw translate(error);
    }
  }

  #execute(sql: string, params: SqlValue[]): ExecResult {
    try {
      const result = this.#prepare(sql).run(...params);
      return {
        affectedRows: Number(result.changes),
        insertId: result.lastInsertRowid ? Number(result.lastInsertRowid) : undefined,
      };
    } catch (error) {
      throw translate(error);
    }
  }
}

/** SQLite extended result codes of the constraint family. */
const CONSTRAINT_KINDS: Record<number, ConstraintViolation['kind']> = {
  275: 'check',
  787: 'foreign_key',
  1299: 'not_null',
  1555: 'unique',
  2067: 'unique',
};

function translate(error: unknown): unknown {
  const code = (error as { errcode?: number }).errcode;
  const kind = code === undefined ? undefined : CONSTRAINT_KINDS[code];
  if (!kind) return error;
  return new ConstraintViolation(kind, (error as Error).message, { cause: error });
}
