import cassandra from 'cassandra-driver';
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

const { Client, types } = cassandra;

export interface CassandraOptions {
  contactPoints: string[];
  localDataCenter: string;
  keyspace: string;
  replicationFactor: number;
  /** For clusters with PasswordAuthenticator (k8ssandra's default). */
  credentials?: { username: string; password: string };
}

/** The wide-column port on Cassandra through the DataStax driver. */
export class CassandraWideColumn implements WideColumn {
  readonly #client: cassandra.Client;
  readonly #options: CassandraOptions;
  readonly #specs = new Map<string, TableSpec>();
  #keyspaceReady: Promise<void> | undefined;

  constructor(options: CassandraOptions) {
    this.#options = options;
    this.#client = new Client({
      contactPoints: options.contactPoints,
      localDataCenter: options.localDataCenter,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      queryOptions: { consistency: types.consistencies.localQuorum, prepare: true },
      // The driver's default, one connection per local node with 2,048 requests in
      // flight, refused requests (BusyConnectionError) under a chat handler holding
      // 2,000 clients. Two connections of 8,192 queue the bursts instead.
      pooling: {
        coreConnectionsPerHost: { [types.distance.local]: 2, [types.distance.remote]: 1 },
        maxRequestsPerConnection: 8192,
      },
    });
  }

  async defineTables(specs: TableSpec[]): Promise<void> {
    await this.#ensureKeyspace();
    for (const spec of specs) {
      const columns = Object.entries(spec.columns).map(([n, t]) => `${n} ${t}`);
      const partition = `(${spec.partitionKey.join(', ')})`;
      const clustering = (spec.clustering ?? []).map((c) => c.column);
      const order = (spec.clustering ?? []).map((c) => `${c.column} ${c.order.toUpperCase()}`);
      await this.#client.execute(
        `CREATE TABLE IF NOT EXISTS ${this.#qualified(spec.name)} (${columns.join(', ')}, ` +
          `PRIMARY KEY (${[partition, ...clustering].join(', ')}))` +
          (order.length > 0 ? ` WITH CLUSTERING ORDER BY (${order.join(', ')})` : ''),
        [],
        { prepare: false },
      );
      await this.#addColumns(spec);
      this.#specs.set(spec.name, spec);
    }
  }

  /** Adds the columns a table made by an older spec lacks; refuses a changed key or type. */
  async #addColumns(spec: TableSpec): Promise<void> {
    const read = async () =>
      (
        await this.#client.execute(
          'SELECT column_name, type, kind FROM system_schema.columns ' +
            'WHERE keyspace_name = ? AND table_name = ?',
          [this.#options.keyspace.toLowerCase(), spec.name.toLowerCase()],
        )
      ).rows.map((row) => ({
        name: row.column_name as string,
        type: row.type as string,
        key: row.kind !== 'regular',
      }));
    for (const [name, type] of columnsToAdd(spec, await read(), (t) => t)) {
      try {
        await this.#client.execute(
          `ALTER TABLE ${this.#qualified(spec.name)} ADD ${name} ${type}`,
          [],
          { prepare: false },
        );
      } catch (error) {
        // Another process starting beside this one may have added it first.
        if (!(await read()).some((c) => c.name === name)) throw error;
      }
    }
  }

  async insert(
    table: string,
    row: WideRow,
    options: { ttlSeconds?: number; ifNotExists?: boolean } = {},
  ): Promise<boolean> {
    const spec = this.#spec(table);
    checkKey(spec, row, primaryKeyOf(spec));
    const columns = Object.keys(row);
    const ttl = options.ttlSeconds ? ` USING TTL ${Math.ceil(options.ttlSeconds)}` : '';
    const cql =
      `INSERT INTO ${this.#qualified(table)} (${columns.join(', ')}) ` +
      `VALUES (${columns.map(() => '?').join(', ')})` +
      (options.ifNotExists ? ' IF NOT EXISTS' : '') +
      ttl;
    const params = columns.map((c) => toCql(spec.columns[c], row[c]));

    if (!options.ifNotExists) {
      await this.#client.execute(cql, params);
      return true;
    }
    const result = await this.#client.execute(cql, params, {
      serialConsistency: types.consistencies.localSerial,
    });
    return result.wasApplied();
  }

  async get(table: string, key: WideRow): Promise<WideRow | undefined> {
    const spec = this.#spec(table);
    const columns = primaryKeyOf(spec);
    checkKey(spec, key, columns);
    const result = await this.#client.execute(
      `SELECT * FROM ${this.#qualified(table)} WHERE ${whereKey(columns)}`,
      columns.map((c) => toCql(spec.columns[c], key[c])),
    );
    const row = result.first();
    return row ? fromCql(spec, row) : undefined;
  }

  async select(table: string, partition: WideRow, options: SelectOptions = {}): Promise<WideRow[]> {
    const spec = this.#spec(table);
    checkKey(spec, partition, spec.partitionKey);
    const conditions = [whereKey(spec.partitionKey)];
    const params = spec.partitionKey.map((c) => toCql(spec.columns[c], partition[c]));
    const first = spec.clustering?.[0];
    if (first && options.after !== undefined) {
      conditions.push(`${first.column} > ?`);
      params.push(toCql(spec.columns[first.column], options.after));
    }
    if (first && options.before !== undefined) {
      conditions.push(`${first.column} < ?`);
      params.push(toCql(spec.columns[first.column], options.before));
    }
    const order =
      options.reverse && spec.clustering
        ? ` ORDER BY ${spec.clustering
            .map((c) => `${c.column} ${c.order === 'desc' ? 'ASC' : 'DESC'}`)
            .join(', ')}`
        : '';
    const limit = options.limit === undefined ? '' : ` LIMIT ${Math.floor(options.limit)}`;
    const result = await this.#client.execute(
      `SELECT * FROM ${this.#qualified(table)} WHERE ${conditions.join(' AND ')}${order}${limit}`,
      params,
    );
    return result.rows.map((row) => fromCql(spec, row));
  }

  async delete(table: string, key: WideRow): Promise<void> {
    const spec = this.#spec(table);
    const columns = primaryKeyOf(spec);
    checkKey(spec, key, columns);
    await this.#client.execute(
      `DELETE FROM ${this.#qualified(table)} WHERE ${whereKey(columns)}`,
      columns.map((c) => toCql(spec.columns[c], key[c])),
    );
  }

  async ping(): Promise<void> {
    await this.#client.execute('SELECT release_version FROM system.local', [], { prepare: false });
  }

  async close(): Promise<void> {
    await this.#client.shutdown();
  }

  #ensureKeyspace(): Promise<void> {
    this.#keyspaceReady ??= this.#client
      .execute(
        `CREATE KEYSPACE IF NOT EXISTS ${this.#options.keyspace} WITH replication = ` +
          `{'class': 'SimpleStrategy', 'replication_factor': ${this.#options.replicationFactor}}`,
        [],
        { prepare: false },
      )
      .then(() => undefined);
    return this.#keyspaceReady;
  }

  #qualified(table: string): string {
    return `${this.#options.keyspace}.${table}`;
  }

  #spec(table: string): TableSpec {
    const spec = this.#specs.get(table);
    if (!spec) throw new Error(`table ${table} is not defined`);
    return spec;
  }
}

function whereKey(columns: string[]): string {
  return columns.map((c) => `${c} = ?`).join(' AND ');
}

function toCql(type: ColumnType | undefined, value: CellValue | undefined): unknown {
  if (value === undefined || value === null) return null;
  if (type === 'bigint') return types.Long.fromNumber(value as number);
  if (type === 'timestamp') return new Date(value as number);
  return value;
}

function fromCql(spec: TableSpec, row: cassandra.types.Row): WideRow {
  const result: WideRow = {};
  for (const [column, type] of Object.entries(spec.columns)) {
    const value: unknown = row.get(column);
    if (value === undefined || value === null) result[column] = null;
    else if (type === 'bigint') result[column] = (value as cassandra.types.Long).toNumber();
    else if (type === 'timestamp') result[column] = (value as Date).getTime();
    else result[column] = value as CellValue;
  }
  return result;
}
