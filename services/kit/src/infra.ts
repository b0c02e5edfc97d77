import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './config/config.ts';
import {
  cassandraCredentials,
  isEmbedded,
  openSearchCredentials,
  type InfraConfig,
} from './config/infra-config.ts';
import type { Cache } from './ports/cache/cache.ts';
import { MemoryCache } from './ports/cache/memory-cache.ts';
import { RedisCache } from './ports/cache/redis-cache.ts';
import type { EventLog } from './ports/event-log/event-log.ts';
import { KafkaEventLog } from './ports/event-log/kafka-event-log.ts';
import { MemoryEventLog } from './ports/event-log/memory-event-log.ts';
import { LocalFolderObjectStore } from './ports/object-store/local-folder-object-store.ts';
import { MemoryObjectStore } from './ports/object-store/memory-object-store.ts';
import type { ObjectStore } from './ports/object-store/object-store.ts';
import { MysqlRelational } from './ports/relational/mysql-relational.ts';
import type { Relational } from './ports/relational/relational.ts';
import { MiniSearchEngine } from './ports/search/minisearch-engine.ts';
import { OpenSearchEngine } from './ports/search/opensearch-engine.ts';
import type { SearchEngine } from './ports/search/search.ts';
import { SqliteRelational } from './ports/relational/sqlite-relational.ts';
import { CassandraWideColumn } from './ports/wide-column/cassandra-wide-column.ts';
import type { WideColumn } from './ports/wide-column/wide-column.ts';
import { SqliteWideColumn } from './ports/wide-column/sqlite-wide-column.ts';
import type { Logger } from './telemetry/logger.ts';

export interface Infra {
  eventLog: EventLog;
  cache: Cache;
  relational: Relational;
  wideColumn: WideColumn;
  search: SearchEngine;
  objectStore: ObjectStore;
  /** Which adapter each port runs on, for the start-up log and /readyz. */
  adapters: Record<
    'eventLog' | 'cache' | 'relational' | 'wideColumn' | 'search' | 'objectStore',
    string
  >;
  readiness: Record<string, () => Promise<void>>;
  close(): Promise<void>;
}

/**
 * Opens every port on its real adapter when its server address is configured
 * and on its embedded adapter otherwise. Embedded adapters live in this
 * process, so processes that share them must be one process.
 */
export function connectInfra(config: InfraConfig, logger: Logger, clientId: string): Infra {
  const eventLog = config.KAFKA_BROKERS
    ? new KafkaEventLog({
        brokers: config.KAFKA_BROKERS,
        clientId,
        logger,
        prefix: config.NAME_PREFIX,
      })
    : shared('eventLog', () => new MemoryEventLog());
  const cache = config.REDIS_CLUSTER_NODES
    ? new RedisCache({ clusterNodes: config.REDIS_CLUSTER_NODES, prefix: config.NAME_PREFIX })
    : config.REDIS_URL
      ? new RedisCache({ url: config.REDIS_URL, prefix: config.NAME_PREFIX })
      : shared('cache', () => new MemoryCache());
  const relational = config.MYSQL_URL
    ? new MysqlRelational(config.MYSQL_URL)
    : new SqliteRelational(join(config.DATA_DIR, 'relational.sqlite'));
  const wideColumn = config.CASSANDRA_CONTACT_POINTS
    ? new CassandraWideColumn({
        contactPoints: config.CASSANDRA_CONTACT_POINTS,
        localDataCenter: config.CASSANDRA_LOCAL_DC,
        keyspace: config.CASSANDRA_KEYSPACE,
        replicationFactor: config.CASSANDRA_REPLICATION_FACTOR,
        credentials: cassandraCredentials(config),
      })
    : new SqliteWideColumn(join(config.DATA_DIR, 'wide-column.sqlite'));
  const search = config.OPENSEARCH_URL
    ? openOpenSearch(config, config.OPENSEARCH_URL)
    : shared('search', () => new MiniSearchEngine());
  const objectStoreDir = objectStoreDirOf(config);
  const objectStore = objectStoreDir
    ? new LocalFolderObjectStore(objectStoreDir)
    : shared('objectStore', () => new MemoryObjectStore());

  const adapters = {
    eventLog: config.KAFKA_BROKERS ? 'kafka' : 'in-process',
    cache: config.REDIS_CLUSTER_NODES ? 'redis-cluster' : config.REDIS_URL ? 'redis' : 'in-process',
    relational: config.MYSQL_URL ? 'mysql' : 'sqlite',
    wideColumn: config.CASSANDRA_CONTACT_POINTS ? 'cassandra' : 'sqlite',
    search: config.OPENSEARCH_URL ? 'opensearch' : 'in-process',
    objectStore: objectStoreDir ? 'local-folder' : 'in-process',
  };

  return {
    eventLog,
    cache,
    relational,
    wideColumn,
    search,
    objectStore,
    adapters,
    readiness: {
      eventLog: () => eventLog.ping(),
      cache: () => cache.ping(),
      relational: () => relational.ping(),
      wideColumn: () => wideColumn.ping(),
      search: () => search.ping(),
      objectStore: () => objectStore.ping(),
    },
    async close() {
      const results = await Promise.allSettled([
        config.KAFKA_BROKERS ? eventLog.close() : undefined,
        config.REDIS_URL || config.REDIS_CLUSTER_NODES ? cache.close() : undefined,
        relational.close(),
        wideColumn.close(),
        config.OPENSEARCH_URL ? search.close() : undefined,
        objectStoreDir ? objectStore.close() : undefined,
      ]);
      for (const result of results) {
        if (result.status === 'rejected') logger.warn({ err: result.reason }, 'close failed');
      }
    },
  };
}

/**
 * The object store's folder, or undefined for the in-process store: the
 * configured one, else on servers (where a system's processes run apart and
 * must share objects) a folder under the user's cache directory.
 */
export function objectStoreDirOf(config: InfraConfig): string | undefined {
  if (config.OBJECT_STORE_DIR) return config.OBJECT_STORE_DIR;
  return isEmbedded(config) ? undefined : join(homedir(), '.cache', 'platform', 'objects');
}

/**
 * Embedded event log, cache, search and object store are process-wide singletons: services running
 * side by side in one process must see the same topics and keys, as they
 * would on a shared server.
 */
const embedded = new Map<string, unknown>();
function shared<T>(name: string, create: () => T): T {
  if (!embedded.has(name)) embedded.set(name, create());
  return embedded.get(name) as T;
}

function openOpenSearch(config: InfraConfig, node: string): OpenSearchEngine {
  const auth = openSearchCredentials(config);
  let ca: string | undefined;
  if (config.OPENSEARCH_CA_FILE) {
    try {
      ca = readFileSync(config.OPENSEARCH_CA_FILE, 'utf8');
    } catch (error) {
      throw new ConfigError('OPENSEARCH_CA_FILE', `cannot read it: ${(error as Error).message}`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new ConfigError('OPENSEARCH_CA_FILE', 'expected PEM certificates');
    }
  }
  return new OpenSearchEngine({
    node,
    prefix: config.NAME_PREFIX,
    ...(auth ? { auth } : {}),
    ...(ca ? { ca } : {}),
  });
}
