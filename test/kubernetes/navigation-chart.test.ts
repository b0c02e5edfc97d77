import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { configSchema } from '../../services/navigation/src/config.ts';
import { ROUTERS } from '../../services/navigation/src/routers.ts';
import { CHARTS, render } from './helm.ts';
import {
  containerOf,
  type Deployment,
  describeSystemChart,
  named,
  renderedChart,
} from './system-chart.ts';

/**
 * The navigation chart: what every system chart must render (system-chart.ts),
 * then what is navigation's own: the extract mounted where OSM_DIR points, from
 * a ConfigMap or a volume claim; OpenSearch's CA and account for the place
 * index; ROUTER and every other variable of config.ts accounted for.
 */
const CHART = 'navigation';
const CHART_ENV = [
  'PORT',
  'OSM_DIR',
  'OPENSEARCH_CA_FILE',
  'OPENSEARCH_USERNAME',
  'OPENSEARCH_PASSWORD',
];

describeSystemChart({
  chart: CHART,
  roles: { api: { portVariable: 'PORT', port: 8084 } },
  autoscaled: [],
  secretKeys: [],
  cassandra: false,
  badEnv: ['ROUTER', 'astar'],
  chartEnv: CHART_ENV,
});

const rendered = renderedChart(CHART);

/** Variables of config.ts the chart leaves unset on purpose, and why. */
const LEFT_UNSET: Record<string, string> = {
  HOST: 'defaults to 0.0.0.0, every interface, which a pod needs',
  OBJECT_STORE_DIR: 'navigation stores no objects',
  DATA_DIR: 'the image sets it under /tmp; navigation keeps nothing on disk',
  KAFKA_BROKERS: 'navigation uses no event log yet',
  REDIS_URL: 'navigation uses no cache server',
  REDIS_CLUSTER_NODES: 'navigation uses no cache server',
  MYSQL_URL: 'navigation keeps no relational data',
  CASSANDRA_CONTACT_POINTS: 'navigation keeps no wide-column data',
  CASSANDRA_LOCAL_DC: 'navigation keeps no wide-column data',
  CASSANDRA_KEYSPACE: 'navigation keeps no wide-column data',
  CASSANDRA_REPLICATION_FACTOR: 'navigation keeps no wide-column data',
  CASSANDRA_USERNAME: 'navigation keeps no wide-column data',
  CASSANDRA_PASSWORD: 'navigation keeps no wide-column data',
  KAFKA_CLIENT_ID: 'navigation uses no event log yet',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'no trace collector in the platform yet; set it in api.env',
};

type Pod = Deployment['spec']['template']['spec'] & {
  volumes: {
    name: string;
    configMap?: { name: string };
    persistentVolumeClaim?: { claimName: string; readOnly: boolean };
    secret?: { secretName: string };
  }[];
};
const podOf = (objects: ReturnType<typeof rendered.defaults>) =>
  (named(objects, 'Deployment', `${CHART}-api`) as Deployment).spec.template.spec as Pod;

describe('navigation chart', () => {
  it('sets every variable of config.ts, or leaves it unset for a stated reason', () => {
    const values = parse(readFileSync(join(CHARTS, CHART, 'values.yaml'), 'utf8')) as {
      env: Record<string, unknown>;
    };
    const setByChart = new Set([...Object.keys(values.env), ...CHART_ENV]);
    const variables = Object.keys(configSchema.shape);
    const unaccounted = variables.filter((name) => !setByChart.has(name) && !LEFT_UNSET[name]);
    expect(unaccounted).toEqual([]);
    for (const name of Object.keys(values.env)) expect(variables).toContain(name);
  });

  it('mounts the extract read-only where OSM_DIR points, from a ConfigMap when one is named', async () => {
    const objects = await render(CHART, { set: { 'osm.configMap': 'navigation-osm' } });
    const container = containerOf(objects, `${CHART}-api`);
    const dir = container.env.find((e) => e.name === 'OSM_DIR')?.value;
    expect(container.volumeMounts).toContainEqual({ name: 'osm', mountPath: dir, readOnly: true });
    expect(podOf(objects).volumes).toContainEqual({
      name: 'osm',
      configMap: { name: 'navigation-osm' },
    });
    expect(container.env).toContainEqual({ name: 'OSM_FILE', value: 'andorra.osm.pbf' });
  });

  it('mounts a volume claim instead when one is named, and refuses a path for OSM_FILE', async () => {
    const objects = await render(CHART, {
      set: { 'osm.persistentVolumeClaim': 'maps', 'env.OSM_FILE': 'spain.osm.pbf' },
    });
    expect(podOf(objects).volumes).toContainEqual({
      name: 'osm',
      persistentVolumeClaim: { claimName: 'maps', readOnly: true },
    });
    expect(containerOf(objects, `${CHART}-api`).env).toContainEqual({
      name: 'OSM_FILE',
      value: 'spain.osm.pbf',
    });
    await expect(render(CHART, { set: { 'env.OSM_FILE': '/etc/passwd' } })).rejects.toThrow(
      /OSM_FILE/,
    );
  });

  it('reads the image’s own extracts when neither a ConfigMap nor a claim is named', () => {
    const objects = rendered.defaults();
    const container = containerOf(objects, `${CHART}-api`);
    // The service's default OSM_DIR: data/osm beside its sources, /app/data/osm in the image.
    expect(container.env.map((e) => e.name)).not.toContain('OSM_DIR');
    expect(container.volumeMounts?.map((m) => m.name)).not.toContain('osm');
    expect(podOf(objects).volumes.map((v) => v.name)).not.toContain('osm');
  });

  it('offers in ROUTER exactly the engines the service knows, overlay by default', () => {
    const schema = JSON.parse(readFileSync(join(CHARTS, CHART, 'values.schema.json'), 'utf8'));
    expect(schema.properties.env.properties.ROUTER.enum.sort()).toEqual(
      Object.keys(ROUTERS).sort(),
    );
    expect(containerOf(rendered.defaults(), `${CHART}-api`).env).toContainEqual({
      name: 'ROUTER',
      value: 'overlay',
    });
  });

  it('gives the API OpenSearch’s CA and account from charts/infra’s Secrets, or neither', async () => {
    const objects = rendered.defaults();
    const container = containerOf(objects, `${CHART}-api`);
    expect(container.env).toContainEqual({
      name: 'OPENSEARCH_CA_FILE',
      value: '/etc/platform/opensearch-ca/ca.crt',
    });
    expect(container.env.find((e) => e.name === 'OPENSEARCH_PASSWORD')?.valueFrom).toEqual({
      secretKeyRef: { name: 'platform-search-opensearch-admin', key: 'password' },
    });
    expect(podOf(objects).volumes.map((v) => v.name)).toContain('opensearch-ca');

    const bare = await render(CHART, {
      set: { 'opensearch.caSecret': '', 'opensearch.credentialsSecret': '' },
    });
    const names = containerOf(bare, `${CHART}-api`).env.map((e) => e.name);
    expect(
      names.filter((name) => name.startsWith('OPENSEARCH_') && name !== 'OPENSEARCH_URL'),
    ).toEqual([]);
    expect(podOf(bare).volumes.map((v) => v.name)).not.toContain('opensearch-ca');
  });

  it('runs one replica: traffic updates reach only the pod they land on', () => {
    for (const objects of [rendered.defaults(), rendered.lite()]) {
      expect((named(objects, 'Deployment', `${CHART}-api`) as Deployment).spec.replicas).toBe(1);
    }
  });
});
