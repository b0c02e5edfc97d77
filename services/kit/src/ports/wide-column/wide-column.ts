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
  /** Creates the tables that do not exist yet; safe to call at every start. */
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
