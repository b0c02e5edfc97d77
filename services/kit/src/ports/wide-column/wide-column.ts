export type ColumnType = 'text' | 'bigint' | 'int' | 'double' | 'boolean' | 'blob' | 'timestamp';
export type CellValue = string | number | boolean | Uint8Array | null;
export type WideRow = Record<string, CellValue>;

/**
 * A table keyed the Cassandra way: rows of a partition live together, sorted
 * by the clustering columns. `timestamp` values are epoch milliseconds.
 */
export interface TableSpec {
  name: string;
  columns: Record<string, ColumnType>;
  partitionKey: string[];
  clustering?: { column: string; order: 'asc' | 'desc' }[];
}

export interface SelectOptions {
  /** Exclusive bounds on the first clustering column. */
  after?: CellValue;
  before?: CellValue;
  limit?: number;
  /** Read against the table's clustering order. */
  reverse?: boolean;
}

/** The wide-column store: partition key, clustering order, per-row TTL, last write wins. */
export interface WideColumn {
  /**
   * Creates the tables that do not exist yet and adds the columns a table
   * lacks; safe to call at every start, from several processes at once. A
   * changed key or column type is refused: those need a new table.
   */
  defineTables(specs: TableSpec[]): Promise<void>;
  /**
   * Writes a row (an upsert). With ifNotExists the write happens only when no
   * live row has that primary key, and the result says whether it did.
   */
  insert(
    table: string,
    row: WideRow,
    options?: { ttlSeconds?: number; ifNotExists?: boolean },
  ): Promise<boolean>;
  /** One row by its full primary key. */
  get(table: string, key: WideRow): Promise<WideRow | undefined>;
  /** Rows of one partition in clustering order. */
  select(table: string, partition: WideRow, options?: SelectOptions): Promise<WideRow[]>;
  delete(table: string, key: WideRow): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function primaryKeyOf(spec: TableSpec): string[] {
  return [...spec.partitionKey, ...(spec.clustering ?? []).map((c) => c.column)];
}

export function checkKey(spec: TableSpec, key: WideRow, columns: string[]): void {
  for (const column of columns) {
    if (key[column] === undefined) throw new Error(`${spec.name}: missing key column ${column}`);
  }
}

/** A column of a table as the server describes it. */
export interface ExistingColumn {
  name: string;
  type: string;
  /** Part of the primary key. */
  key: boolean;
}

/**
 * The columns (name, the adapter's type) a spec has and the existing table
 * lacks: what a newer version of the code adds. Columns the code no longer
 * names are left alone. A key or a type that changed cannot be altered in
 * place, so either stops the start with an error naming the table.
 */
export function columnsToAdd(
  spec: TableSpec,
  existing: ExistingColumn[],
  typeName: (type: ColumnType) => string,
): [string, string][] {
  const byName = new Map(existing.map((c) => [c.name.toLowerCase(), c]));
  const wantedKey = primaryKeyOf(spec).map((c) => c.toLowerCase());
  const key = existing.filter((c) => c.key).map((c) => c.name.toLowerCase());
  if (key.length !== wantedKey.length || !wantedKey.every((c) => key.includes(c))) {
    throw new Error(
      `${spec.name}: its primary key is (${key.join(', ')}) but the code declares ` +
        `(${wantedKey.join(', ')}); a key cannot change in place`,
    );
  }
  const missing: [string, string][] = [];
  for (const [name, type] of Object.entries(spec.columns)) {
    const found = byName.get(name.toLowerCase());
    if (!found) {
      missing.push([name, typeName(type)]);
    } else if (found.type.toLowerCase() !== typeName(type).toLowerCase()) {
      throw new Error(
        `${spec.name}.${name} is ${found.type} but the code declares ${type}; ` +
          'a type cannot change in place',
      );
    }
  }
  return missing;
}
