import cassandra from 'cassandra-driver';
import kafkajs from 'kafkajs';
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

/**
 * Deletes the Kafka topics whose names begin with `prefix`, the ones a suite
 * made under a prefix of its own run. Topics left behind pile up partitions
 * the broker loads at every start.
 */
export async function dropTopics(prefix: string): Promise<void> {
  if (prefix.length < 6) throw new Error(`a run's own prefix is longer: "${prefix}"`);
  const kafka = new kafkajs.Kafka({
    brokers: serverAddress('KAFKA_BROKERS').split(','),
    clientId: 'drop-topics',
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Deletes the OpenSearch indexes whose names begin with `prefix` (lower-cased,
 * as the search port names them). Every index holds shards and memory on the
 * node until deleted.
 */
export async function dropSearchIndexes(prefix: string): Promise<void> {
  const pattern = prefix.toLowerCase();
  if (!/^[a-z0-9][a-z0-9._-]{5,}$/.test(pattern)) {
    throw new Error(`a run's own index prefix is longer, without wildcards: "${prefix}"`);
  }
  const node = serverAddress('OPENSEARCH_URL').replace(/\/+$/, '');
  const listed = await fetch(`${node}/_cat/indices/${pattern}*?format=json&h=index`);
  if (!listed.ok) throw new Error(`listing indexes ${pattern}*: ${listed.status}`);
  const indexes = ((await listed.json()) as { index: string }[]).map((row) => row.index);
  if (indexes.length === 0) return;
  const deleted = await fetch(`${node}/${indexes.join(',')}`, { method: 'DELETE' });
  if (!deleted.ok) throw new Error(`deleting ${indexes.join(',')}: ${deleted.status}`);
}
