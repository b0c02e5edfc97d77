import { z } from 'zod';
import { ConfigError, env } from './config.ts';

/**
 * The addresses of real servers. Each one left unset keeps its port on the
 * embedded adapter, so an empty environment runs everything in one process.
 */
export const infraSchema = z.object({
  KAFKA_BROKERS: env.hostPorts().optional(),
  KAFKA_CLIENT_ID: z.string().optional(),
  REDIS_URL: z
    .url({ protocol: /^rediss?$/, hostname: /./, message: 'expected redis://host:port' })
    .optional(),
  REDIS_CLUSTER_NODES: env.hostPorts().optional(),
  MYSQL_URL: z
    .url({ protocol: /^mysql$/, hostname: /./, message: 'expected mysql://user:pass@host:port/db' })
    .optional(),
  CASSANDRA_CONTACT_POINTS: env.hostPorts().optional(),
  CASSANDRA_LOCAL_DC: z.string().default('datacenter1'),
  CASSANDRA_KEYSPACE: z.string().regex(/^\w+$/).default('platform'),
  CASSANDRA_REPLICATION_FACTOR: env.positiveInt(1),
  CASSANDRA_USERNAME: z.string().min(1).optional(),
  CASSANDRA_PASSWORD: z.string().min(1).optional(),
  OPENSEARCH_URL: z
    .url({ protocol: /^https?$/, hostname: /./, message: 'expected http(s)://host:port' })
    .optional(),
  /** A PEM file of the CA that signed OpenSearch's certificate, if the system does not trust it. */
  OPENSEARCH_CA_FILE: z.string().min(1).optional(),
  OPENSEARCH_USERNAME: z.string().min(1).optional(),
  OPENSEARCH_PASSWORD: z.string().min(1).optional(),
  DATA_DIR: z.string().default('.data'),
  /**
   * The object store's folder. Set, or with any server address set (processes
   * apart need one store), objects are files there; otherwise they stay in
   * process. Unset on servers: a folder under the user's cache directory.
   */
  OBJECT_STORE_DIR: z.string().min(1).optional(),
  /**
   * Put before Kafka topic and group names, Redis keys and OpenSearch index
   * names (lower-cased there), so deployments can share servers.
   */
  NAME_PREFIX: z
    .string()
    .regex(/^[\w.-]*$/, 'expected letters, digits, ".", "_" or "-"')
    .max(64)
    .default(''),
});

export type InfraConfig = z.infer<typeof infraSchema>;

/** Cassandra credentials come as a pair or not at all. */
export function cassandraCredentials(
  config: InfraConfig,
): { username: string; password: string } | undefined {
  return credentialPair(config, 'CASSANDRA', 'Cassandra');
}

/** OpenSearch credentials (HTTP basic authentication) come as a pair or not at all. */
export function openSearchCredentials(
  config: InfraConfig,
): { username: string; password: string } | undefined {
  return credentialPair(config, 'OPENSEARCH', 'OpenSearch');
}

function credentialPair(
  config: InfraConfig,
  server: 'CASSANDRA' | 'OPENSEARCH',
  name: string,
): { username: string; password: string } | undefined {
  const username = config[`${server}_USERNAME`];
  const password = config[`${server}_PASSWORD`];
  if (username === undefined && password === undefined) return undefined;
  if (username === undefined || password === undefined) {
    const missing = `${server}_${username === undefined ? 'USERNAME' : 'PASSWORD'}`;
    throw new ConfigError(missing, `must be set with the other ${name} credential`);
  }
  return { username, password };
}

export const telemetrySchema = z.object({
  /**
   * The address servers listen on: every interface by default, as a container
   * needs; `npm start` sets 127.0.0.1 unless told otherwise.
   */
  HOST: z
    .union([z.ipv4(), z.ipv6()], { error: 'expected an IP address such as 127.0.0.1' })
    .default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .url({ protocol: /^https?$/, hostname: /./, message: 'expected http(s)://host:port' })
    .optional(),
});

export type TelemetryConfig = z.infer<typeof telemetrySchema>;

/** True when no server address is set: every port runs embedded. */
export function isEmbedded(config: InfraConfig): boolean {
  return (
    !config.KAFKA_BROKERS &&
    !config.REDIS_URL &&
    !config.REDIS_CLUSTER_NODES &&
    !config.MYSQL_URL &&
    !config.CASSANDRA_CONTACT_POINTS &&
    !config.OPENSEARCH_URL
  );
}

/**
 * True when every server has an address: only then can a system's processes
 * run apart, since embedded adapters live inside one process.
 */
export function hasEveryServer(config: InfraConfig): boolean {
  return Boolean(
    config.KAFKA_BROKERS &&
    (config.REDIS_URL || config.REDIS_CLUSTER_NODES) &&
    config.MYSQL_URL &&
    config.CASSANDRA_CONTACT_POINTS &&
    config.OPENSEARCH_URL,
  );
}
