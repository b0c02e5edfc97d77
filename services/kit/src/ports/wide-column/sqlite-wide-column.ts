import { SqliteRelational } from '../relational/sqlite-relational.ts';
import type { SqlValue } from '../relational/relational.ts';
import {
  checkKey,
  columnsToAdd,
  primaryKeyOf,
  type CellValue,
  type ColumnType,
  type SelectOptions,
  type TableSpec,
  type WideColumn,
  type WideRow,
} from './wide-column.ts';

const SQLITE_TYPES: Record<ColumnType, string> = {
  text: 'TEXT',
  bigint: 'INTEGER',
  int: 'INTEGER',
  double: 'REAL',
  boolean: 'INTEGER',
  blob: 'BLOB',
  timestamp: 'INTEGER',
};

/** The wide-column port on SQLite tables with the same primary key and clustering order. */
export class SqliteWideColumn implements WideColumn {
  readonly #db: SqliteRelational;
  readonly #specs = new Map<string, TableSpec>();
  readonly #now: () => number;

  constructor(path = ':memory:', options: { now?: () => number } = {}) {
    this.#db = new SqliteRelational(path);
    this.#now = options.now ?? Date.now;
  }

  async defineTables(specs: TableSpec[]): Promise<void> {
    for (const spec of specs) {
      const columns = Object.entries(spec.columns).map(([n, t]) => `${n} ${SQLITE_TYPES[t]}`);
      await this.#db.execute(
        `CREATE TABLE IF NOT EXISTS wc_${spec.name} (${columns.join(', ')}, ` +
          `_expires_at INTEGER, PRIMARY KEY (${primaryKeyOf(spec).join(', ')}))`,
      );
      const existing = await this.#db.query<{ name: string; type: string; pk: number }>(
        `SELECT name, type, pk FROM pragma_table_info('wc_${spec.name}')`,
      );
      const found = existing
        .filter((c) => c.name !== '_expires_at')
        .map((c) => ({ name: c.name, type: c.type, key: c.pk > 0 }));
      for (const [name, type] of columnsToAdd(spec, found, (t) => SQLITE_TYPES[t])) {
        await this.#db.execute(`ALTER TABLE wc_${spec.name} ADD COLUMN ${name} ${type}`);
      }
      this.#specs.set(spec.name, spec);
    }
  }

  async insert(
    table: string,
    row: WideRow,
    options: { ttlSeconds?: number; ifNotExists?: boolean } = {},
  ): Promise<boolean> {
    const spec = this.#spec(table);
    const key = primaryKeyOf(spec);
    checkKey(spec, row, key);
    const columns = Object.keys(row);
    const expiresAt = options.ttlSeconds ? this.#now() + options.ttlSeconds * 1000 : null;
    const values = [...columns.map((c) => toSql(spec.columns[c], row[c])), expiresAt];
    const insert =
      `INTO wc_${table} (${[...columns, '_expires_at'].join(', ')}) ` +
      `VALUES (${[...columns, '_expires_at'].map(() => '?').join(', ')})`;

    if (!options.ifNotExists) {
      // Cassandra's upsert replaces only the columns it names; keep the others.
      const updates = [...columns.filter((c) => !key.includes(c)), '_expires_at']
        .map((c) => `${c} = excluded.${c}`)
        .join(', ');
      await this.#db.execute(
        `INSERT ${insert} ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${updates}`,
        values,
      );
      return true;
    }

    return this.#db.transaction(async (tx) => {
      await tx.execute(`DELETE FROM wc_${table} WHERE ${whereKey(key)} AND _expires_at <= ?`, [
        ...key.map((c) => toSql(spec.columns[c], row[c])),
        this.#now(),
      ]);
      const result = await tx.execute(`INSERT OR IGNORE ${insert}`, values);
      return result.affectedRows === 1;
    });
  }

  async get(table: string, key: WideRow): Promise<WideRow | undefined> {
    const spec = this.#spec(table);
    const columns = primaryKeyOf(spec);
    checkKey(spec, key, columns);
    const rows = await this.#db.query(
      `SELECT * FROM wc_${table} WHERE ${whereKey(columns)} AND ${LIVE}`,
      [...columns.map((c) => toSql(spec.columns[c], key[c])), this.#now()],
    );
    return rows[0] ? fromSql(spec, rows[0]) : undefined;
  }

  async select(table: string, partition: WideRow, options: SelectOptions = {}): Promise<WideRow[]> {
    const spec = this.#spec(table);
    checkKey(spec, partition, spec.partitionKey);
    const conditions = [whereKey(spec.partitionKey), LIVE];
    const params: SqlValue[] = [
      ...spec.partitionKey.map((c) => toSql(spec.columns[c], partition[c])),
      this.#now(),
    ];
    const first = spec.clustering?.[0];
    if (first && options.after !== undefined) {
      conditions.push(`${first.column} > ?`);
      params.push(toSql(spec.columns[first.column], options.after));
    }
    if (first && options.before !== undefined) {
      conditions.push(`${first.column} < ?`);
      params.push(toSql(spec.columns[first.column], options.before));
    }
    const order = (spec.clustering ?? [])
      .map(({ column, order }) => {
        const descending = (order === 'desc') !== Boolean(options.reverse);
        return `${column} ${descending ? 'DESC' : 'ASC'}`;
      })
      .join(', ');
    const limit = options.limit === undefined ? '' : ` LIMIT ${Math.floor(options.limit)}`;
    const rows = await this.#db.query(
      `SELECT * FROM wc_${table} WHERE ${conditions.join(' AND ')}` +
        (order ? ` ORDER BY ${order}` : '') +
        limit,
      params,
    );
    return rows.map((row) => fromSql(spec, row));
  }

  async delete(table: string, key: WideRow): Promise<void> {
    const spec = this.#spec(table);
    const columns = primaryKeyOf(spec);
    checkKey(spec, key, columns);
    await this.#db.execute(
      `DELETE FROM wc_${table} WHERE ${whereKey(columns)}`,
      columns.map((c) => toSql(spec.columns[c], key[c])),
    );
  }

  async ping(): Promise<void> {
    await this.#db.ping();
  }

  async close(): Promise<void> {
    await this.#db.close();
  }

  #spec(table: string): TableSpec {
    const spec = this.#specs.get(table);
    if (!spec) throw new Error(`table ${table} is not defined`);
    return spec;
  }
}

const LIVE = '(_expires_at IS NULL OR _expires_at > ?)';

function whereKey(columns: string[]): string {
  return columns.map((c) => `${c} = ?`).join(' AND ');
}

function toSql(type: ColumnType | undefined, value: CellValue | undefined): SqlValue {
  if (value === undefined || value === null) return null;
  if (type === 'boolean') return value ? 1 : 0;
  return value as SqlValue;
}

function fromSql(spec: TableSpec, row: Record<string, unknown>): WideRow {
  const result: WideRow = {};
  for (const [column, type] of Object.entries(spec.columns)) {
    const value = row[column];
    if (value === undefined || value === null) result[column] = null;
    else if (type === 'boolean') result[column] = value === 1;
    else if (type === 'blob') result[column] = Buffer.from(value as Uint8Array);
    else result[column] = value as CellValue;
  }
  return result;
}
