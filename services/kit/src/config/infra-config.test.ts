import { parseConfig } from './config.ts';
import { cassandraCredentials, infraSchema, isEmbedded, telemetrySchema } from './infra-config.ts';

/** The one-line message parseConfig throws for the infrastructure schema. */
function problemWith(environment: Record<string, string>): string {
  try {
    parseConfig(infraSchema, environment);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the environment to be refused');
}

describe('infraSchema', () => {
  it('runs everything embedded in an empty environment', () => {
    const config = parseConfig(infraSchema, {});

    expect(config).toEqual({
      CASSANDRA_LOCAL_DC: 'datacenter1',
      CASSANDRA_KEYSPACE: 'platform',
      CASSANDRA_REPLICATION_FACTOR: 1,
      DATA_DIR: '.data',
      NAME_PREFIX: '',
    });
    expect(isEmbedded(config)).toBe(true);
  });

  it.each([
    ['KAFKA_BROKERS', 'kafka:9092'],
    ['REDIS_URL', 'redis://cache:6379'],
    ['REDIS_CLUSTER_NODES', 'redis-0:6379,redis-1:6379'],
    ['MYSQL_URL', 'mysql://app:secret@db:3306/platform'],
    ['CASSANDRA_CONTACT_POINTS', 'cassandra-0:9042'],
    ['OPENSEARCH_URL', 'http://opensearch:9200'],
  ])('leaves embedded mode when %s is set', (variable, value) => {
    expect(isEmbedded(parseConfig(infraSchema, { [variable]: value }))).toBe(false);
  });

  it('accepts redis, rediss and mysql urls with a host', () => {
    const config = parseConfig(infraSchema, {
      REDIS_URL: 'rediss://user:pw@cache.internal:6380/0',
      MYSQL_URL: 'mysql://app:secret@db:3306/platform',
    });

    expect(config.REDIS_URL).toBe('rediss://user:pw@cache.internal:6380/0');
    expect(config.MYSQL_URL).toBe('mysql://app:secret@db:3306/platform');
  });

  it.each([
    ['another scheme', 'http://cache:6379'],
    ['no scheme', 'cache:6379'],
    ['no url at all', 'not a url'],
    ['no host', 'redis://'],
    ['only a port', 'redis://:6379'],
  ])('refuses a REDIS_URL with %s in one line', (_what, value) => {
    expect(problemWith({ REDIS_URL: value })).toBe(
      'invalid configuration: REDIS_URL: expected redis://host:port',
    );
  });

  it.each(['postgres://db:5432/platform', 'mysql:platform'])(
    'refuses the MYSQL_URL %s',
    (value) => {
      expect(problemWith({ MYSQL_URL: value })).toBe(
        'invalid configuration: MYSQL_URL: expected mysql://user:pass@host:port/db',
      );
    },
  );

  it('refuses a bad contact point list and a keyspace that is not a word', () => {
    expect(problemWith({ CASSANDRA_CONTACT_POINTS: 'cassandra-0' })).toMatch(
      /^invalid configuration: CASSANDRA_CONTACT_POINTS: expected host:port/,
    );
    expect(problemWith({ CASSANDRA_KEYSPACE: 'my-keyspace' })).toMatch(
      /^invalid configuration: CASSANDRA_KEYSPACE: /,
    );
  });

  it('takes Cassandra credentials as a pair only', () => {
    const both = parseConfig(infraSchema, { CASSANDRA_USERNAME: 'app', CASSANDRA_PASSWORD: 'pw' });
    expect(cassandraCredentials(both)).toEqual({ username: 'app', password: 'pw' });
    expect(cassandraCredentials(parseConfig(infraSchema, {}))).toBeUndefined();
    const half = parseConfig(infraSchema, { CASSANDRA_USERNAME: 'app' });
    expect(() => cassandraCredentials(half)).toThrow(
      'invalid configuration: CASSANDRA_PASSWORD: must be set with the other Cassandra credential',
    );
  });

  it('takes a name prefix of topic-safe characters only', () => {
    expect(parseConfig(infraSchema, { NAME_PREFIX: 'staging.v2_' }).NAME_PREFIX).toBe(
      'staging.v2_',
    );
    expect(problemWith({ NAME_PREFIX: 'has space' })).toBe(
      'invalid configuration: NAME_PREFIX: expected letters, digits, ".", "_" or "-"',
    );
  });
});

describe('telemetrySchema', () => {
  it('logs at info with no exporter by default', () => {
    expect(parseConfig(telemetrySchema, {})).toEqual({ LOG_LEVEL: 'info', HOST: '0.0.0.0' });
  });

  it.each(['127.0.0.1', '::1', '::', '10.1.2.3'])('listens on the IP address %s', (host) => {
    expect(parseConfig(telemetrySchema, { HOST: host }).HOST).toBe(host);
  });

  it.each(['localhost', '127.0.0.256', 'every', '0.0.0.0:8080'])('refuses HOST=%s', (host) => {
    expect(() => parseConfig(telemetrySchema, { HOST: host })).toThrow(
      /^invalid configuration: HOST: expected an IP address such as 127\.0\.0\.1$/,
    );
  });

  it('refuses an unknown log level', () => {
    expect(() => parseConfig(telemetrySchema, { LOG_LEVEL: 'verbose' })).toThrow(
      /^invalid configuration: LOG_LEVEL: /,
    );
  });
});
