import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { configSchema } from '../../services/chat/src/config.ts';
import { CHARTS, render, type Rendered } from './helm.ts';
import {
  byKind,
  containerOf,
  type Deployment,
  describeSystemChart,
  named,
  type NetworkPolicy,
  renderedChart,
} from './system-chart.ts';

/**
 * The chat chart: what every system chart must render (system-chart.ts), then what is chat's
 * own: handlers named after their pods with an admin port only the rebalancing operator may
 * reach, a termination grace that covers the drain, the HandlerPool the operator acts on, the
 * token secret, the fan-out worker behind its switch, and every variable of config.ts
 * accounted for.
 */
const CHART = 'chat';
const CHART_ENV = [
  'PORT',
  'ADMIN_PORT',
  'HANDLER_ID',
  'OBJECT_STORE_DIR',
  'MYSQL_URL',
  'TOKEN_SECRET',
  'CASSANDRA_USERNAME',
  'CASSANDRA_PASSWORD',
];

describeSystemChart({
  chart: CHART,
  roles: {
    handler: {
      portVariable: 'PORT',
      port: 8085,
      arg: 'api,handler',
      extraPorts: [{ name: 'admin', containerPort: 9121 }],
    },
    fanout: { portVariable: 'PORT', port: 9124 },
  },
  autoscaled: [],
  secretKeys: ['MYSQL_URL', 'TOKEN_SECRET', 'CASSANDRA_USERNAME', 'CASSANDRA_PASSWORD'],
  badEnv: ['REDIS_CLUSTER_NODES', 'no-port'],
  chartEnv: CHART_ENV,
  writableMounts: ['assets'],
});

const rendered = renderedChart(CHART);

/** Variables of config.ts the chart leaves unset on purpose, and why. */
const LEFT_UNSET: Record<string, string> = {
  HOST: 'defaults to 0.0.0.0, every interface, which a pod needs',
  DATA_DIR: 'the image sets it under /tmp; chat keeps nothing on disk',
  REDIS_URL: 'the chart uses the Redis Cluster (REDIS_CLUSTER_NODES)',
  OPENSEARCH_URL: 'chat searches nothing',
  OPENSEARCH_CA_FILE: 'chat searches nothing',
  OPENSEARCH_USERNAME: 'chat searches nothing',
  OPENSEARCH_PASSWORD: 'chat searches nothing',
  KAFKA_CLIENT_ID: 'the kit names the client after the service',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'no trace collector in the platform yet; set it in handler.env',
};

type Pool = Rendered & {
  spec: {
    selector: { matchLabels: Record<string, string> };
    adminPort: number;
    drainRate: number;
    allowedImbalance: { fraction: number; minConnections: number };
  };
};
type Policy = NetworkPolicy & {
  spec: {
    ingress: {
      ports?: { port: string | number }[];
      from?: {
        podSelector?: { matchLabels: Record<string, string> };
        namespaceSelector?: { matchLabels: Record<string, string> };
      }[];
    }[];
  };
};
type Pod = Deployment['spec']['template']['spec'] & { terminationGracePeriodSeconds: number };
const podOf = (objects: Rendered[], role: string) =>
  (named(objects, 'Deployment', `${CHART}-${role}`) as Deployment).spec.template.spec as Pod;

describe('chat chart', () => {
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

  it('gives the handlers a writable asset folder: an emptyDir, or the claim named', async () => {
    const handler = podOf(rendered.defaults(), 'handler');
    const container = handler.containers[0]!;
    expect(container.env).toContainEqual({
      name: 'OBJECT_STORE_DIR',
      value: '/var/lib/chat/assets',
    });
    expect(container.volumeMounts).toContainEqual({
      name: 'assets',
      mountPath: '/var/lib/chat/assets',
      readOnly: false,
    });
    expect(handler.volumes).toContainEqual({ name: 'assets', emptyDir: { sizeLimit: '1Gi' } });
    // Nothing else became writable: the other mounts keep the read-only rule.
    const others = (container.volumeMounts ?? []).filter(
      (m) => !['tmp', 'assets'].includes(m.name),
    );
    for (const mount of others) expect(mount.readOnly).toBe(true);
    // The fan-out worker stores no assets.
    expect(podOf(rendered.defaults(), 'fanout').volumes).not.toContainEqual(
      expect.objectContaining({ name: 'assets' }),
    );

    const claimed = podOf(
      await render(CHART, { set: { 'assets.existingClaim': 'chat-assets' } }),
      'handler',
    );
    expect(claimed.volumes).toContainEqual({
      name: 'assets',
      persistentVolumeClaim: { claimName: 'chat-assets' },
    });
  });

  it('names each handler after its pod and opens its admin port outside the Service', () => {
    const objects = rendered.defaults();
    const container = containerOf(objects, `${CHART}-handler`);
    expect(container.env).toContainEqual({
      name: 'HANDLER_ID',
      valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
    });
    expect(container.env).toContainEqual({ name: 'ADMIN_PORT', value: '9121' });
    const service = named(objects, 'Service', `${CHART}-handler`) as Rendered & {
      spec: { ports: { port: number; targetPort: string }[] };
    };
    expect(service.spec.ports.map((p) => p.targetPort)).toEqual(['http']);
    // The fan-out worker has no admin contract.
    const fanout = containerOf(objects, `${CHART}-fanout`);
    expect(fanout.args).toEqual(['services/chat/src/main.ts', 'fanout']);
    expect(fanout.env.map((e) => e.name)).not.toContain('ADMIN_PORT');
  });

  it('gives a stopping handler the preStop sleep plus DRAIN_GRACE_MS and room to close', async () => {
    const pod = podOf(rendered.defaults(), 'handler');
    const preStop = pod.containers[0]!.lifecycle!.preStop!.sleep!.seconds;
    expect(preStop).toBe(5);
    expect(pod.terminationGracePeriodSeconds).toBe(5 + 20 + 10);
    // A longer drain, set for the handlers only, lengthens the grace with it.
    const longer = await render(CHART, {
      set: { 'handler.env.DRAIN_GRACE_MS': '60000', 'handler.drainSeconds': '8' },
    });
    expect(podOf(longer, 'handler').terminationGracePeriodSeconds).toBe(8 + 60 + 10);
    expect(containerOf(longer, `${CHART}-handler`).env).toContainEqual({
      name: 'DRAIN_GRACE_MS',
      value: '60000',
    });
    // Other roles keep the library's default.
    expect(podOf(rendered.defaults(), 'fanout').terminationGracePeriodSeconds).toBe(2 + 25);
  });

  it('lets clients reach the handlers’ port, and only the operator their admin port', async () => {
    const policy = named(rendered.defaults(), 'NetworkPolicy', `${CHART}-handler`) as Policy;
    const operator = {
      'app.kubernetes.io/name': 'handler-rebalancer',
      'app.kubernetes.io/component': 'operator',
    };
    expect(policy.spec.ingress).toEqual([
      { ports: [{ port: 'http' }] },
      { ports: [{ port: 'admin' }], from: [{ podSelector: { matchLabels: operator } }] },
    ]);
    const elsewhere = await render(CHART, {
      set: { 'rebalancing.operatorNamespace': 'platform-operators' },
    });
    const across = named(elsewhere, 'NetworkPolicy', `${CHART}-handler`) as Policy;
    expect(across.spec.ingress[1]!.from).toEqual([
      {
        podSelector: { matchLabels: operator },
        namespaceSelector: {
          matchLabels: { 'kubernetes.io/metadata.name': 'platform-operators' },
        },
      },
    ]);
    // The fan-out worker lets in Prometheus only.
    const fanout = named(rendered.defaults(), 'NetworkPolicy', `${CHART}-fanout`) as Policy;
    expect(fanout.spec.ingress).toHaveLength(1);
    expect(fanout.spec.ingress[0]!.from).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
    ]);
  });

  it('declares a HandlerPool selecting exactly the handler pods, at their admin port', async () => {
    const objects = rendered.defaults();
    const [pool, ...others] = byKind(objects, 'HandlerPool') as Pool[];
    expect(others).toEqual([]);
    expect(pool!.apiVersion).toBe('chat.platform.dev/v1alpha1');
    const selects = (labels: Record<string, string>) =>
      Object.entries(pool!.spec.selector.matchLabels).every(([k, v]) => labels[k] === v);
    const handlerPod = (named(objects, 'Deployment', `${CHART}-handler`) as Deployment).spec
      .template.metadata.labels;
    const fanoutPod = (named(objects, 'Deployment', `${CHART}-fanout`) as Deployment).spec.template
      .metadata.labels;
    expect(selects(handlerPod)).toBe(true);
    expect(selects(fanoutPod)).toBe(false);
    const admin = containerOf(objects, `${CHART}-handler`).ports.find((p) => p.name === 'admin');
    expect(pool!.spec.adminPort).toBe(admin!.containerPort);
    expect(pool!.spec).toMatchObject({
      drainRate: 50,
      allowedImbalance: { fraction: 0.1, minConnections: 20 },
    });
    const moved = await render(CHART, { set: { 'handler.adminPort': '9200' } });
    const movedPool = byKind(moved, 'HandlerPool')[0] as Pool;
    expect(movedPool.spec.adminPort).toBe(9200);
    expect(containerOf(moved, `${CHART}-handler`).ports).toContainEqual({
      name: 'admin',
      containerPort: 9200,
      protocol: 'TCP',
    });
    const none = await render(CHART, { set: { 'rebalancing.handlerPool': 'false' } });
    expect(byKind(none, 'HandlerPool')).toEqual([]);
  });

  it('generates a long token secret and refuses a short one', async () => {
    const secret = named(rendered.defaults(), 'Secret', `${CHART}-secrets`) as Rendered & {
      stringData: Record<string, string>;
    };
    expect(secret.stringData.TOKEN_SECRET!.length).toBeGreaterThanOrEqual(32);
    await expect(render(CHART, { set: { 'secrets.tokenSecret': 'too-short' } })).rejects.toThrow(
      /tokenSecret/,
    );
  });

  it('runs the fan-out worker unless it is switched off', async () => {
    const off = await render(CHART, { set: { 'fanout.enabled': 'false' } });
    const fanout = off.filter(
      (o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'fanout',
    );
    expect(fanout).toEqual([]);
    expect(byKind(off, 'Deployment').map((o) => o.metadata.name)).toEqual([`${CHART}-handler`]);
  });

  it('runs two handlers, in the lite profile too, so connections have somewhere to move', () => {
    for (const objects of [rendered.defaults(), rendered.lite()]) {
      expect((named(objects, 'Deployment', `${CHART}-handler`) as Deployment).spec.replicas).toBe(
        2,
      );
    }
  });
});
