import cassandra from 'cassandra-driver';
import { randomBytes } from 'node:crypto';
import { MysqlRelational } from '../ports/relational/mysql-relational.ts';
import { serverAddress } from './servers.ts';

export interface ScratchDatabase {
  /** MYSQL_URL with the scratch database in its path. */
  url: string;
  drop(): Promise<void>;
}

/**
 * A MySQL database of its own for one test suite, so suites sharing a server
 * never see each other's rows: `<prefix>_<random>`, or with `exact` the name
 * `prefix` itself, dropped first when an earlier run left it behind. MYSQL_URL's
 * user must be allowed to create it.
 */
export async function scratchDatabase(
  prefix: string,
  options: { exact?: boolean } = {},
): Promise<ScratchDatabase> {
  const root = serverAddress('MYSQL_URL');
  const name = options.exact ? prefix : `${prefix}_${randomBytes(4).toString('hex')}`;
  if (!/^\w{1,64}$/.test(name)) throw new Error(`not a database name: ${name}`);
  if (options.exact) await onServer(root, `DROP DATABASE IF EXISTS ${name}`);
  await onServer(root, `CREATE DATABASE ${name}`);

  const url = new URL(root);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => onServer(root, `DROP DATABASE IF EXISTS ${name}`) };
}

async function onServer(url: string, statement: string): Promise<void> {
  const server = new MysqlRelational(url, { connectionLimit: 1 });
  try {
    await server.execute(statement);
  } finally {
    await server.close();
  }
}

/**
 * Drops a Cassandra keyspace a suite made for itself. Suites that name one per
 * run (`<prefix>_<run id>`) call it when done: every keyspace left behind is
 * schema a restarted Cassandra loads again, and its start slows with each.
 */
export async function dropKeyspace(keyspace: string): Promise<void> {
  if (!/^\w{1,48}$/.test(keyspace)) throw new Error(`not a keyspace name: ${keyspace}`);
  const client = new cassandra.Client({
    contactPoints: serverAddress('CASSANDRA_CONTACT_POINTS').split(','),
    localDataCenter: 'datacenter1',
  });
  try {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  } finally {
    await client.shutdown();
  }
}
