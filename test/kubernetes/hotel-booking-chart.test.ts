import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { configSchema } from '../../services/hotel-booking/src/config.ts';
import { ROLES } from '../../services/hotel-booking/src/service.ts';
import { CHARTS, render, type Rendered } from './helm.ts';
import {
  byKind,
  containerOf,
  type Deployment,
  describeSystemChart,
  named,
  renderedChart,
  type NetworkPolicy,
} from './system-chart.ts';

/**
 * The hotel booking chart: what every system chart must render
 * (system-chart.ts), then what is hotel booking's own: every role of the
 * system and every variable of its configuration is accounted for, the
 * optional Redis of the hold keys, and who may reach the hold releaser.
 */
const CHART = 'hotel-booking';
const CHART_ENV = [
  'PORT',
  'RELEASER_PORT',
  'RELAY_PORT',
  'NOTIFIER_PORT',
  'ARCHIVER_PORT',
  'SEARCH_INDEXER_PORT',
  'MYSQL_URL',
  'HOLD_REDIS_URL',
  'PAYMENT_WEBHOOK_SECRET',
  'CASSANDRA_PASSWORD',
  'OPENSEARCH_CA_FILE',
  'OPENSEARCH_USERNAME',
  'OPENSEARCH_PASSWORD',
];
/** The roles that open the search index, and so get OpenSearch's CA and account. */
const SEARCH_ROLES = ['api', 'search-indexer'];
const SEARCH_ENV = ['OPENSEARCH_CA_FILE', 'OPENSEARCH_USERNAME', 'OPENSEARCH_PASSWORD'];

describeSystemChart({
  chart: CHART,
  roles: {
    api: { portVariable: 'PORT', port: 8082 },
    'hold-releaser': { portVariable: 'RELEASER_PORT', port: 9111 },
    'event-relay': { portVariable: 'RELAY_PORT', port: 9112 },
    notifier: { portVariable: 'NOTIFIER_PORT', port: 9113 },
    archiver: { portVariable: 'ARCHIVER_PORT', port: 9114 },
    'search-indexer': { portVariable: 'SEARCH_INDEXER_PORT', port: 9115 },
  },
  autoscaled: ['api'],
  secretKeys: ['MYSQL_URL', 'CASSANDRA_USERNAME', 'CASSANDRA_PASSWORD'],
  chartEnv: CHART_ENV,
});

const rendered = renderedChart(CHART);

/** Variables of config.ts the chart leaves unset on purpose, and why. */
const LEFT_UNSET: Record<string, string> = {
  HOST: 'defaults to 0.0.0.0, every interface, which a pod needs',
  OBJECT_STORE_DIR: 'hotel booking stores no objects',
  DATA_DIR: 'SQLite files of the embedded adapters; every port has a server in a cluster',
  REDIS_URL: 'a standalone Redis; the chart uses the Redis Cluster (REDIS_CLUSTER_NODES)',
  KAFKA_CLIENT_ID: 'defaults to the process name',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'no trace collector in the platform yet; set it per role in env',
};

describe('hotel-booking chart', () => {
  it('runs every role of the system (services/hotel-booking/src/service.ts)', () => {
    expect(
      byKind(rendered.defaults(), 'Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(ROLES.map((role) => `${CHART}-${role}`).sort());
  });

  it('sets every variable of config.ts, or leaves it unset for a stated reason', () => {
    const values = parse(readFileSync(join(CHARTS, CHART, 'values.yaml'), 'utf8')) as {
      env: Record<string, unknown>;
    };
    const setByChart = new Set([
      ...Object.keys(values.env),
      ...CHART_ENV,
      'CASSANDRA_USERNAME',
      'CASSANDRA_PASSWORD',
    ]);
    const variables = Object.keys(configSchema.shape);
    const unaccounted = variables.filter((name) => !setByChart.has(name) && !LEFT_UNSET[name]);
    expect(unaccounted).toEqual([]);
    // And nothing the chart sets is unknown to the service.
    for (const name of Object.keys(values.env)) expect(variables).toContain(name);
  });

  it('gives every role the same booking settings and server addresses', () => {
    const objects = rendered.defaults();
    const settings = (role: string) =>
      containerOf(objects, `${CHART}-${role}`)
        .env.filter((e) => !['PORT', 'RELEASER_PORT', ...SEARCH_ENV].includes(e.name))
        .sort((a, b) => a.name.localeCompare(b.name));
    expect(settings('api')).toEqual(settings('hold-releaser'));
    expect(settings('api')).toEqual(
      expect.arrayContaining([
        { name: 'HOLD_TTL_MS', value: '300000' },
        { name: 'LATE_PAYMENT_POLICY', value: 'rereserve' },
        { name: 'REDIS_CLUSTER_NODES', value: 'platform-redis-leader.platform-infra.svc:6379' },
      ]),
    );
  });

  it('reads the hold keys’ Redis from the Secret when it is set, and may go without', async () => {
    const holdRedis = (objects: Rendered[]) =>
      containerOf(objects, `${CHART}-hold-releaser`).env.find((e) => e.name === 'HOLD_REDIS_URL');
    const secretData = (objects: Rendered[]) =>
      (named(objects, 'Secret', `${CHART}-secrets`) as { stringData?: Record<string, string> })
        .stringData;

    // Unset: referenced as optional, absent from the Secret (an empty value counts as unset).
    expect(holdRedis(rendered.defaults())?.valueFrom?.secretKeyRef).toEqual({
      name: `${CHART}-secrets`,
      key: 'HOLD_REDIS_URL',
      optional: true,
    });
    expect(secretData(rendered.defaults())).not.toHaveProperty('HOLD_REDIS_URL');

    const set = await render(CHART, {
      set: { 'secrets.holdRedisUrl': 'redis://holds.platform-infra.svc:6379/1' },
    });
    expect(secretData(set)?.HOLD_REDIS_URL).toBe('redis://holds.platform-infra.svc:6379/1');

    const existing = await render(CHART, {
      set: { 'secrets.create': 'false', 'secrets.existingSecret': 'booking-credentials' },
    });
    expect(byKind(existing, 'Secret')).toEqual([]);
    expect(holdRedis(existing)?.valueFrom?.secretKeyRef.name).toBe('booking-credentials');
  });

  it('gives the roles that search OpenSearch’s CA, mounted read-only, and its account', () => {
    const objects = rendered.defaults();
    for (const role of ROLES) {
      const deployment = named(objects, 'Deployment', `${CHART}-${role}`) as Deployment;
      const pod = deployment.spec.template.spec;
      const env = pod.containers[0]!.env;
      const search = env.filter((e) => SEARCH_ENV.includes(e.name));
      const volume = pod.volumes.find((v) => v.name === 'opensearch-ca');
      const mount = pod.containers[0]!.volumeMounts?.find((m) => m.name === 'opensearch-ca');
      if (!SEARCH_ROLES.includes(role)) {
        expect([role, search, volume, mount]).toEqual([role, [], undefined, undefined]);
        continue;
      }
      expect(volume).toEqual({
        name: 'opensearch-ca',
        secret: {
          secretName: 'platform-search-opensearch-ca',
          items: [{ key: 'ca.crt', path: 'ca.crt' }],
        },
      });
      expect(mount).toEqual({
        name: 'opensearch-ca',
        mountPath: '/etc/platform/opensearch-ca',
        readOnly: true,
      });
      expect(search).toEqual([
        { name: 'OPENSEARCH_CA_FILE', value: `${mount!.mountPath}/ca.crt` },
        {
          name: 'OPENSEARCH_USERNAME',
          valueFrom: {
            secretKeyRef: { name: 'platform-search-opensearch-admin', key: 'username' },
          },
        },
        {
          name: 'OPENSEARCH_PASSWORD',
          valueFrom: {
            secretKeyRef: { name: 'platform-search-opensearch-admin', key: 'password' },
          },
        },
      ]);
    }
  });

  it('takes other Secrets for the CA and the account, or goes without either', async () => {
    const searchOf = (objects: Rendered[]) => {
      const pod = (named(objects, 'Deployment', `${CHART}-search-indexer`) as Deployment).spec
        .template.spec;
      return {
        env: pod.containers[0]!.env.filter((e) => SEARCH_ENV.includes(e.name)),
        volumes: pod.volumes.map((v) => v.name),
        mounts: (pod.containers[0]!.volumeMounts ?? []).map((m) => m.name),
      };
    };
    const own = searchOf(
      await render(CHART, {
        set: { 'opensearch.caSecret': 'search-ca', 'opensearch.credentialsSecret': 'search-user' },
      }),
    );
    expect(own.env.map((e) => e.valueFrom?.secretKeyRef.name ?? e.value)).toEqual([
      '/etc/platform/opensearch-ca/ca.crt',
      'search-user',
      'search-user',
    ]);
    const withoutCa = searchOf(await render(CHART, { set: { 'opensearch.caSecret': '' } }));
    expect(withoutCa.env.map((e) => e.name)).toEqual([
      'OPENSEARCH_USERNAME',
      'OPENSEARCH_PASSWORD',
    ]);
    expect([withoutCa.volumes, withoutCa.mounts]).toEqual([['tmp'], ['tmp']]);
    // Credentials come as a pair or not at all, as the kit wants them.
    const anonymous = searchOf(
      await render(CHART, { set: { 'opensearch.credentialsSecret': '' } }),
    );
    expect(anonymous.env.map((e) => e.name)).toEqual(['OPENSEARCH_CA_FILE']);
    await expect(render(CHART, { set: { 'opensearch.caSecret': 'Not_A_Name' } })).rejects.toThrow(
      /caSecret/,
    );
  });

  it('lets only Prometheus reach the hold releaser; the API is public', () => {
    const objects = rendered.defaults();
    const releaser = named(objects, 'NetworkPolicy', `${CHART}-hold-releaser`) as NetworkPolicy;
    const peers = releaser.spec.ingress.flatMap((rule) => rule.from ?? []);
    expect(peers).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
    ]);
    const api = named(objects, 'NetworkPolicy', `${CHART}-api`) as NetworkPolicy;
    expect(api.spec.ingress.every((rule) => rule.from === undefined)).toBe(true);
  });

  it('refuses booking settings the service would refuse at start', async () => {
    const refused: [string, string][] = [
      ['env.LATE_PAYMENT_POLICY', 'later'],
      ['env.HOLD_TTL_MS', '50'],
      ['env.SWEEP_INTERVAL_MS', '10'],
      ['env.INVENTORY_DAYS', '2000'],
      ['secrets.holdRedisUrl', 'http://not-redis:6379'],
    ];
    for (const [key, value] of refused) {
      const field = key.split('.').at(-1)!;
      await expect(render(CHART, { set: { [key]: value } })).rejects.toThrow(field);
      // The service agrees: the same value stops it at start.
      if (key.startsWith('env.')) {
        expect(configSchema.safeParse({ [field]: value }).success).toBe(false);
      }
    }
  });
});
