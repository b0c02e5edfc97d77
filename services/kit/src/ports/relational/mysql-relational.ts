import { createPool, type Pool, type PoolConnection, type ResultSetHeader } from 'mysql2/promise';
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

const DEADLOCK = 1213;
const ATTEMPTS = 4;

const CONSTRAINT_KINDS: Record<number, ConstraintViolation['kind']> = {
  1062: 'unique',
  1048: 'not_null',
  1451: 'foreign_key',
  1452: 'foreign_key',
  3819: 'check', // MySQL
  4025: 'check', // MariaDB
};

/** The relational port on the MySQL protocol (MySQL, MariaDB, Vitess's vtgate) through mysql2. */
export class MysqlRelational implements Relational {
  readonly dialect = 'mysql' as const;
  readonly #pool: Pool;

  constructor(url: string, options: { connectionLimit?: number } = {}) {
    this.#pool = createPool({
      uri: url,
      connectionLimit: options.connectionLimit ?? 10,
      supportBigNumbers: true,
      bigNumberStrings: false,
      decimalNumbers: true,
      enableKeepAlive: true,
      // Affected rows count rows written, so an upsert that hits an existing row
      // and changes nothing reports 0, as SQLite does.
      flags: ['-FOUND_ROWS'],
    });
  }

  query<T extends Row = Row>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return runQuery<T>(this.#pool, sql, params);
  }

  execute(sql: string, params: SqlValue[] = []): Promise<ExecResult> {
    return runExecute(this.#pool, sql, params);
  }

  upsert(upsert: Upsert): Promise<ExecResult> {
    return this.execute(...upsertSql('mysql', upsert));
  }

  /** Deadlocks roll back and retry the whole function, so fn must be safe to run again. */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      const connection = await this.#pool.getConnection();
      try {
        await connection.beginTransaction();
        const result = await fn(queryableOn(connection));
        await connection.commit();
        return result;
      } catch (error) {
        await connection.rollback().catch(() => undefined);
        if (!isDeadlock(error) || attempt >= ATTEMPTS) throw error;
      } finally {
        connection.release();
      }
    }
  }

  async migrate(scope: string, migrations: Migration[]): Promise<string[]> {
    const connection = await this.#pool.getConnection();
    const lock = `migrations:${scope}`;
    try {
      const [[acquired]] = (await connection.query('SELECT GET_LOCK(?, 60) AS ok', [lock])) as [
        { ok: number }[],
        unknown,
      ];
      if (acquired?.ok !== 1) throw new Error(`could not take the migration lock for ${scope}`);

      await connection.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations ' +
          '(scope VARCHAR(64) NOT NULL, id VARCHAR(128) NOT NULL, applied_at BIGINT NOT NULL, ' +
          'PRIMARY KEY (scope, id))',
      );
      const [rows] = (await connection.query('SELECT id FROM schema_migrations WHERE scope = ?', [
        scope,
      ])) as [{ id: string }[], unknown];
      const done = new Set(rows.map((row) => row.id));

      const applied: string[] = [];
      for (const migration of migrations) {
        if (done.has(migration.id)) continue;
        for (const statement of statementsFor(migration, 'mysql'))
          await connection.query(statement);
        await connection.query(
          'INSERT INTO schema_migrations (scope, id, applied_at) VALUES (?, ?, ?)',
          [scope, migration.id, Date.now()],
        );
        applied.push(migration.id);
      }
      return applied;
    } finally {
      await connection.query('SELECT RELEASE_LOCK(?)', [lock]).catch(() => undefined);
      connection.release();
    }
  }

  async ping(): Promise<void> {
    await this.#pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

type Runner = Pool | PoolConnection;

async function runQuery<T>(runner: Runner, sql: string, params: SqlValue[]): Promise<T[]> {
  try {
    const [rows] = await runner.query(sql, params);
    return rows as T[];
  } catch (error) {
    throw translate(error);
  }
}

async function runExecute(runner: Runner, sql: string, params: SqlValue[]): Promise<ExecResult> {
  try {
    const [result] = await runner.query(sql, params);
    const header = result as ResultSetHeader;
    return { affectedRows: header.affectedRows, insertId: header.insertId || undefined };
  } catch (error) {
    throw translate(error);
  }
}

function queryableOn(connection: PoolConnection): Queryable {
  return {
    query: <T extends Row = Row>(sql: string, params: SqlValue[] = []) =>
      runQuery<T>(connection, sql, params),
    execute: (sql, params = []) => runExecute(connection, sql, params),
    upsert: (upsert) => runExecute(connection, ...upsertSql('mysql', upsert)),
  };
}

function translate(error: unknown): unknown {
  const code = (error as { errno?: number }).errno;
  const kind = code === undefined ? undefined : CONSTRAINT_KINDS[code];
  if (!kind) return error;
  return new ConstraintViolation(kind, (error as Error).message, { cause: error });
}

/**
 * MySQL chose this transaction as a deadlock's victim and rolled it back; running it again may
 * work.
 */
export function isDeadlock(error: unknown): boolean {
  return (error as { errno?: number } | undefined)?.errno === DEADLOCK;
}
