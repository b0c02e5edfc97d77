export type SqlValue = string | number | bigint | null | Uint8Array;
export type Row = Record<string, unknown>;

export interface ExecResult {
  /** Rows inserted, updated or deleted; an upsert that changed nothing affects none. */
  affectedRows: number;
  insertId: number | undefined;
}

export interface Upsert {
  table: string;
  row: Record<string, SqlValue>;
  /** The columns of the unique key the row may collide on. */
  key: string[];
  /** Columns added to the stored value on collision. */
  increment?: string[];
  /** Columns overwritten on collision. */
  replace?: string[];
}

/** MySQL-flavoured SQL with `?` placeholders; Relational states the dialect rules. */
export interface Queryable {
  query<T extends Row = Row>(sql: string, params?: SqlValue[]): Promise<T[]>;
  execute(sql: string, params?: SqlValue[]): Promise<ExecResult>;
  /**
   * Insert, or on a key collision add to and overwrite the named columns.
   * With neither, a collision changes nothing and affects no rows.
   */
  upsert(upsert: Upsert): Promise<ExecResult>;
}

export interface Migration {
  id: string;
  /** Statements run in order; a pair when the dialects need different text. */
  statements: string[] | { mysql: string[]; sqlite: string[] };
}

/**
 * The relational store: transactions, row locks, constraints, migrations.
 *
 * SQL is written once for MySQL and SQLite: `?` placeholders, `FOR UPDATE`
 * on locking reads (SQLite serialises write transactions instead), integer
 * epoch milliseconds for times, and `upsert` for insert-or-update.
 */
export interface Relational extends Queryable {
  readonly dialect: 'mysql' | 'sqlite';
  /** Runs fn in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Applies a scope's pending migrations in order; safe to run from many processes. */
  migrate(scope: string, migrations: Migration[]): Promise<string[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function statementsFor(migration: Migration, dialect: Relational['dialect']): string[] {
  return Array.isArray(migration.statements) ? migration.statements : migration.statements[dialect];
}

export function upsertSql(dialect: Relational['dialect'], upsert: Upsert): [string, SqlValue[]] {
  const columns = Object.keys(upsert.row);
  const placeholders = columns.map(() => '?').join(', ');
  const insert = `INSERT INTO ${upsert.table} (${columns.join(', ')}) VALUES (${placeholders})`;
  const increment = upsert.increment ?? [];
  const replace = upsert.replace ?? [];

  if (dialect === 'mysql') {
    const updates = [
      ...increment.map((c) => `${c} = ${c} + VALUES(${c})`),
      ...replace.map((c) => `${c} = VALUES(${c})`),
    ];
    const tail =
      updates.length > 0
        ? ` ON DUPLICATE KEY UPDATE ${updates.join(', ')}`
        : ` ON DUPLICATE KEY UPDATE ${upsert.key[0]} = ${upsert.key[0]}`;
    return [insert + tail, Object.values(upsert.row)];
  }

  const updates = [
    ...increment.map((c) => `${c} = ${c} + excluded.${c}`),
    ...replace.map((c) => `${c} = excluded.${c}`),
  ];
  const tail =
    updates.length > 0
      ? ` ON CONFLICT (${upsert.key.join(', ')}) DO UPDATE SET ${updates.join(', ')}`
      : ` ON CONFLICT (${upsert.key.join(', ')}) DO NOTHING`;
  return [insert + tail, Object.values(upsert.row)];
}

/** A write refused by a constraint, with the kind named the same way on both dialects. */
export class ConstraintViolation extends Error {
  readonly kind: 'unique' | 'check' | 'foreign_key' | 'not_null';

  constructor(kind: ConstraintViolation['kind'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConstraintViolation';
    this.kind = kind;
  }
}
