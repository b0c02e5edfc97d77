import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ExecResult, Migration, Queryable, Relational, Row, SqlValue } from '@platform/kit';
import {
  statementsFor,
  upsertSql,
  type Upsert,
} from '../../services/kit/src/ports/relational/relational.ts';
import { toolPath } from '../observability/tools.ts';

const run = promisify(execFile);

// ---------------------------------------------------------------------------------------------
// The schema: the mysql statements of every migration, applied in order.

type Definition = { column?: string; text: string };

const NOT_A_COLUMN = /^(PRIMARY|INDEX|KEY|UNIQUE|CONSTRAINT|CHECK|FOREIGN|FULLTEXT)\b/i;

/** Splits at the commas that are not inside parentheses or quotes. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts.filter((part) => part !== '');
}

function definition(text: string): Definition {
  return NOT_A_COLUMN.test(text) ? { text } : { column: text.split(/\s+/)[0]!, text };
}

/**
 * The final CREATE TABLE of every table the migrations make, mysql dialect:
 * vtexplain reads CREATE TABLE only, so the ALTERs (MODIFY, ADD COLUMN, ADD
 * INDEX) are folded in. A statement of another shape fails, so a new kind of
 * migration is noticed here rather than silently left out.
 */
export function finalSchema(migrations: Migration[]): Map<string, string> {
  const tables = new Map<string, Definition[]>();
  for (const migration of migrations) {
    for (const statement of statementsFor(migration, 'mysql')) {
      const create = /^CREATE TABLE (?:IF NOT EXISTS )?(\w+) \(([\s\S]*)\)$/i.exec(statement);
      const alter = /^ALTER TABLE (\w+) ([\s\S]*)$/i.exec(statement);
      if (create) {
        tables.set(create[1]!, splitTopLevel(create[2]!).map(definition));
      } else if (alter) {
        const table = tables.get(alter[1]!);
        if (!table) throw new Error(`${migration.id}: ALTER of unknown table ${alter[1]}`);
        for (const clause of splitTopLevel(alter[2]!)) {
          const modify = /^MODIFY (?:COLUMN )?(\w+) ([\s\S]+)$/i.exec(clause);
          const addColumn = /^ADD COLUMN (\w+) ([\s\S]+)$/i.exec(clause);
          const addIndex = /^ADD (INDEX|KEY|UNIQUE) ([\s\S]+)$/i.exec(clause);
          if (modify) {
            const at = table.findIndex((entry) => entry.column === modify[1]);
            if (at < 0) throw new Error(`${migration.id}: MODIFY of unknown column ${modify[1]}`);
            table[at] = { column: modify[1]!, text: `${modify[1]} ${modify[2]}` };
          } else if (addColumn) {
            table.push({ column: addColumn[1]!, text: `${addColumn[1]} ${addColumn[2]}` });
          } else if (addIndex) {
            table.push({ text: `${addIndex[1]} ${addIndex[2]}` });
          } else {
            throw new Error(`${migration.id}: ALTER clause not understood: ${clause}`);
          }
        }
      } else {
        throw new Error(`${migration.id}: statement not understood: ${statement}`);
      }
    }
  }
  return new Map(
    [...tables].map(([name, entries]) => [
      name,
      `CREATE TABLE ${name} (${entries.map((entry) => entry.text).join(', ')})`,
    ]),
  );
}

export interface KeyspaceVSchema {
  sharded: boolean;
  vindexes: Record<string, { type: string; params?: Record<string, string>; owner?: string }>;
  tables: Record<
    string,
    { column_vindexes: { column?: string; columns?: string[]; name: string }[] }
  >;
}

/**
 * The lookup tables the VSchema's lookup vindexes name, as vtctldclient
 * LookupVindex create would make them: the `from` columns typed as in the
 * owner table, keyspace_id VARBINARY(128), the from columns as primary key.
 */
export function lookupTables(vschema: KeyspaceVSchema, schema: Map<string, string>): string[] {
  return Object.values(vschema.vindexes)
    .filter((vindex) => vindex.type.includes('lookup'))
    .map((vindex) => {
      const table = vindex.params!.table!.split('.').at(-1)!;
      const owner = schema.get(vindex.owner!);
      if (!owner) throw new Error(`lookup ${table}: owner ${vindex.owner} has no table`);
      const from = vindex.params!.from!.split(',');
      const columns = from.map((column) => {
        const type = new RegExp(`[(,]\\s*${column} ([^,]+?) NOT NULL`).exec(owner)?.[1];
        if (!type) throw new Error(`lookup ${table}: no column ${column} in ${vindex.owner}`);
        return `${column} ${type} NOT NULL`;
      });
      return (
        `CREATE TABLE ${table} (${columns.join(', ')}, ` +
        `${vindex.params!.to} VARBINARY(128) NOT NULL, PRIMARY KEY (${from.join(', ')}))`
      );
    });
}

// ---------------------------------------------------------------------------------------------
// Recording what the stores send.

export interface Statement {
  sql: string;
  params: SqlValue[];
}

export interface Unit {
  /** What issued it: a store method, the relay, a worker. */
  label: string;
  /** One statement outside a transaction, or the statements of one transaction. */
  transaction: boolean;
  statements: Statement[];
}

/** The mysql text of what a store wrote for both dialects, made runnable on SQLite. */
function forSqlite(sql: string): string {
  return sql.replace(
    / ON DUPLICATE KEY UPDATE night = night$/,
    ' ON CONFLICT (room_id, night) DO NOTHING',
  );
}

/**
 * A Relational that says it is MySQL, so the stores write their mysql SQL,
 * records every statement with its parameters (transactions as one unit) and
 * runs it on SQLite, so the stores see real results and take their real paths.
 */
export class RecordingRelational implements Relational {
  readonly dialect = 'mysql' as const;
  readonly units: Unit[] = [];
  label = 'unlabelled';
  readonly #db: Relational;

  constructor(db: Relational) {
    this.#db = db;
  }

  /** Runs fn with every unit it records labelled `label`. */
  async as<T>(label: string, fn: () => Promise<T>): Promise<T> {
    this.label = label;
    try {
      return await fn();
    } finally {
      this.label = 'unlabelled';
    }
  }

  query<T extends Row = Row>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    this.#single(sql, params);
    return this.#db.query<T>(forSqlite(sql), params);
  }

  execute(sql: string, params: SqlValue[] = []): Promise<ExecResult> {
    this.#single(sql, params);
    return this.#db.execute(forSqlite(sql), params);
  }

  upsert(upsert: Upsert): Promise<ExecResult> {
    this.#single(...upsertSql('mysql', upsert));
    return this.#db.upsert(upsert);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const unit: Unit = { label: this.label, transaction: true, statements: [] };
    this.units.push(unit);
    return this.#db.transaction((tx) =>
      fn({
        query: <R extends Row = Row>(sql: string, params: SqlValue[] = []) => {
          unit.statements.push({ sql, params });
          return tx.query<R>(forSqlite(sql), params);
        },
        execute: (sql, params = []) => {
          unit.statements.push({ sql, params });
          return tx.execute(forSqlite(sql), params);
        },
        upsert: (upsert) => {
          const [sql, params] = upsertSql('mysql', upsert);
          unit.statements.push({ sql, params });
          return tx.upsert(upsert);
        },
      }),
    );
  }

  migrate(): Promise<string[]> {
    throw new Error('migrate the SQLite database before recording');
  }

  ping(): Promise<void> {
    return this.#db.ping();
  }

  close(): Promise<void> {
    return this.#db.close();
  }

  #single(sql: string, params: SqlValue[]): void {
    this.units.push({ label: this.label, transaction: false, statements: [{ sql, params }] });
  }
}

/** A value as a MySQL literal; vtexplain plans SQL text, not prepared statements. */
function literal(value: SqlValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
  return `X'${Buffer.from(value).toString('hex')}'`;
}

/** The statement with its `?` placeholders replaced by its parameters. */
export function inline({ sql, params }: Statement): string {
  let next = 0;
  const text = sql.replace(/\?/g, () => {
    if (next >= params.length) throw new Error(`too few parameters for ${sql}`);
    return literal(params[next++]!);
  });
  if (next !== params.length) throw new Error(`too many parameters for ${sql}`);
  return text;
}

// ---------------------------------------------------------------------------------------------
// Running vtexplain.

export interface Explained {
  sql: string;
  /** Shard name -> the queries that shard's MySQL received, in order. */
  shards: Map<string, string[]>;
  /** The vtgate plans, as vtexplain prints them. */
  plans: unknown[];
}

interface ExplainJson {
  SQL: string;
  Plans: unknown[] | null;
  TabletActions: Record<string, { MysqlQueries: { Time: number; SQL: string }[] | null }>;
}

/**
 * Plans `sql` (statements separated by ";\n") with vtexplain against the schema
 * and the keyspace VSchema, with `shards` shards, and returns one entry per
 * statement: which shards received which queries.
 */
export async function vtexplain(options: {
  keyspace: string;
  vschema: KeyspaceVSchema;
  schema: string[];
  sql: string[];
  shards: number;
}): Promise<Explained[]> {
  const dir = mkdtempSync(join(tmpdir(), 'vtexplain-'));
  try {
    // Vitess's servenv refuses to start as root ("running this as root makes no sense"); as
    // root (CI, this machine) it runs as nobody, from a copy it can read.
    let command = toolPath('VTEXPLAIN_BIN');
    const prefix: string[] = [];
    if (process.getuid?.() === 0) {
      chmodSync(dir, 0o755);
      copyFileSync(command, join(dir, 'vtexplain'));
      chmodSync(join(dir, 'vtexplain'), 0o755);
      prefix.push('--reuid=65534', '--regid=65534', '--clear-groups', join(dir, 'vtexplain'));
      command = 'setpriv';
    }
    writeFileSync(join(dir, 'schema.sql'), options.schema.map((ddl) => `${ddl};\n`).join(''));
    writeFileSync(
      join(dir, 'vschema.json'),
      JSON.stringify({ [options.keyspace]: options.vschema }),
    );
    writeFileSync(join(dir, 'queries.sql'), options.sql.map((sql) => `${sql};\n`).join(''));
    const { stdout } = await run(
      command,
      [
        ...prefix,
        '--schema-file',
        join(dir, 'schema.sql'),
        '--vschema-file',
        join(dir, 'vschema.json'),
        '--sql-file',
        join(dir, 'queries.sql'),
        '--shards',
        String(options.shards),
        '--output-mode',
        'json',
      ],
      { cwd: dir, maxBuffer: 256 * 1024 * 1024, timeout: 120_000 },
    );
    const explains = JSON.parse(stdout) as ExplainJson[];
    return explains.map((explain) => ({
      sql: explain.SQL,
      plans: explain.Plans ?? [],
      shards: new Map(
        Object.entries(explain.TabletActions ?? {}).map(([tablet, actions]) => [
          tablet,
          (actions.MysqlQueries ?? []).map((query) => query.SQL),
        ]),
      ),
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
