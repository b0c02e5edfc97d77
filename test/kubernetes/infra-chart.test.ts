import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { CHARTS, helm, render, tool, type Rendered } from './helm.ts';

/**
 * What the infra chart must render for the operators to build the right
 * servers: the checks a reader would otherwise do by eye on `helm template`.
 * Schema validity against the CRDs is dry-run.test.ts's job.
 */
const CHART = 'infra';
const NAMESPACE = 'platform-infra';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Spec = any;
type Resources = { requests?: { cpu?: string | number; memory?: string | number } };

const ofKind = (objects: Rendered[], kind: string) => objects.filter((o) => o.kind === kind);
const one = (objects: Rendered[], kind: string): Rendered & { spec: Spec } => {
  const found = ofKind(objects, kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0] as Rendered & { spec: Spec };
};
const renderInfra = (options: { lite?: boolean; set?: Record<string, string> } = {}) =>
  render(CHART, {
    namespace: NAMESPACE,
    valuesFiles: options.lite ? ['values-lite.yaml'] : [],
    ...(options.set ? { set: options.set } : {}),
  });

type Secret = Rendered & {
  type?: string;
  data: Record<string, string>;
  metadata: { annotations?: Record<string, string> };
};
const secretIn = (objects: Rendered[], namespace: string, name: string): Secret => {
  const found = objects.find(
    (o) => o.kind === 'Secret' && o.metadata.name === name && o.metadata.namespace === namespace,
  );
  if (!found) throw new Error(`no Secret ${namespace}/${name}`);
  return found as Secret;
};
const decoded = (secret: Secret, key: string) =>
  Buffer.from(secret.data[key] ?? '', 'base64').toString('utf8');

let defaults: Rendered[];
let lite: Rendered[];
beforeAll(async () => {
  [defaults, lite] = await Promise.all([renderInfra(), renderInfra({ lite: true })]);
}, 60_000);

describe('Kafka', () => {
  test.each([
    ['defaults', () => defaults, 3],
    ['lite', () => lite, 1],
  ])('%s: one node pool whose nodes are both controller and broker', (_, objects, replicas) => {
    const kafka = one(objects(), 'Kafka');
    const pool = one(objects(), 'KafkaNodePool');

    expect(pool.spec.roles).toEqual(['controller', 'broker']);
    expect(pool.spec.replicas).toBe(replicas);
    expect(pool.metadata.labels?.['strimzi.io/cluster']).toBe(kafka.metadata.name);
    expect(kafka.apiVersion).toBe('kafka.strimzi.io/v1');
    expect(kafka.spec.kafka.version).toMatch(/^4\.3\./);
    expect(kafka.spec.kafka.config['default.replication.factor']).toBe(replicas);
  });

  test('the topics are the ones in the values, replicated as the cluster allows', async () => {
    const topics = (objects: Rendered[]) =>
      ofKind(objects, 'KafkaTopic').map((t) => ({
        name: (t as Spec).spec.topicName,
        partitions: (t as Spec).spec.partitions,
        replicas: (t as Spec).spec.replicas,
        cluster: t.metadata.labels?.['strimzi.io/cluster'],
      }));
    expect(topics(defaults)).toEqual([
      { name: 'url-shortener.clicks', partitions: 6, replicas: 3, cluster: 'platform' },
    ]);
    expect(topics(lite)).toEqual([
      { name: 'url-shortener.clicks', partitions: 6, replicas: 1, cluster: 'platform' },
    ]);

    const chosen = await renderInfra({
      set: {
        'kafka.topics[0].name': 'orders.placed',
        'kafka.topics[0].partitions': '12',
        'kafka.topics[1].name': 'orders.paid',
        'kafka.topics[1].partitions': '3',
        'kafka.topics[1].replicas': '2',
      },
    });
    expect(topics(chosen)).toEqual([
      { name: 'orders.placed', partitions: 12, replicas: 3, cluster: 'platform' },
      { name: 'orders.paid', partitions: 3, replicas: 2, cluster: 'platform' },
    ]);
  });

  test('more replicas than brokers is refused at render time', async () => {
    await expect(
      renderInfra({ lite: true, set: { 'kafka.replicationFactor': '3' } }),
    ).rejects.toThrow(/cannot exceed kafka.nodePool.replicas/);
    await expect(
      renderInfra({
        lite: true,
        set: {
          'kafka.topics[0].name': 'a',
          'kafka.topics[0].partitions': '1',
          'kafka.topics[0].replicas': '2',
        },
      }),
    ).rejects.toThrow(/more replicas than kafka.nodePool.replicas/);
  });
});

describe('Vitess', () => {
  test('the chart’s own Service reaches vtgate by the operator’s labels on 3306', () => {
    const cluster = one(defaults, 'VitessCluster');
    const service = defaults.find(
      (o) => o.kind === 'Service' && o.metadata.name === 'platform-vtgate',
    ) as Spec;

    expect(service.spec.selector).toEqual({
      'planetscale.com/component': 'vtgate',
      'planetscale.com/cluster': cluster.metadata.name,
    });
    expect(service.spec.ports).toEqual([
      { name: 'mysql', port: 3306, targetPort: 3306, protocol: 'TCP' },
    ]);
  });

  test('one keyspace: unsharded, a single tablet without semi-sync in lite', () => {
    const keyspaces = one(lite, 'VitessCluster').spec.keyspaces;
    expect(keyspaces).toHaveLength(1);
    expect(keyspaces[0].name).toBe('platform');
    expect(keyspaces[0].durabilityPolicy).toBe('none');
    expect(keyspaces[0].partitionings).toEqual([{ equal: expect.objectContaining({ parts: 1 }) }]);
    expect(keyspaces[0].partitionings[0].equal.shardTemplate.tabletPools[0].replicas).toBe(1);
  });

  test('the Secrets the cluster names are rendered, with the keys it reads', () => {
    const spec = one(defaults, 'VitessCluster').spec;
    const secretKey = (ref: { name: string; key: string }) => {
      const secret = defaults.find((o) => o.kind === 'Secret' && o.metadata.name === ref.name);
      return (secret as Spec)?.stringData?.[ref.key];
    };
    const users = JSON.parse(secretKey(spec.cells[0].gateway.authentication.static.secret));
    const init = secretKey(
      spec.keyspaces[0].partitionings[0].equal.shardTemplate.databaseInitScriptSecret,
    );

    expect(Object.keys(users)).toEqual(['platform']);
    expect(init).toMatch(/CREATE USER 'vt_dba'@'localhost'/);
  });

  test('semi-sync with a lone tablet is refused at render time', async () => {
    await expect(
      renderInfra({ lite: true, set: { 'vitess.keyspace.durabilityPolicy': 'semi_sync' } }),
    ).rejects.toThrow(/semi_sync needs vitess.tablet.replicas/);
  });
});

describe('OpenSearch', () => {
  test.each([
    ['defaults', () => defaults, 3, '1g'],
    ['lite', () => lite, 1, '256m'],
  ])('%s: one pool of cluster-manager and data nodes', (_, objects, replicas, heap) => {
    const cluster = one(objects(), 'OpenSearchCluster');
    const pools = cluster.spec.nodePools;

    expect(cluster.apiVersion).toBe('opensearch.org/v1');
    expect(cluster.spec.general).toMatchObject({
      serviceName: 'platform-opensearch',
      httpPort: 9200,
    });
    expect(cluster.spec.general.version).toMatch(/^2\.19\./);
    expect(pools).toHaveLength(1);
    expect(pools[0]).toMatchObject({ replicas, roles: ['cluster_manager', 'data'] });
    expect(pools[0].jvm).toBe(`-Xms${heap} -Xmx${heap}`);
    // the heap leaves at least as much again of the memory limit to Lucene and the JVM
    expect(memoryMi(pools[0].resources.limits.memory)).toBeGreaterThanOrEqual(
      2 * memoryMi(heap.replace(/m$/, 'Mi').replace(/g$/, 'Gi')),
    );
  });

  test('the operator signs every certificate with the chart’s CA; no dashboards, no plugin fetched at start', () => {
    const spec = one(defaults, 'OpenSearchCluster').spec;
    const ca = { name: 'platform-search-opensearch-ca' };
    expect(spec.security.tls).toEqual({
      transport: { generate: true, perNode: true, caSecret: ca },
      http: {
        generate: true,
        caSecret: ca,
        // what clients in other namespaces connect to, which the operator's own names leave out
        customFQDN: 'platform-opensearch.platform-infra.svc',
      },
    });
    expect(spec.dashboards.enable).toBe(false);
    expect(spec.general.monitoring.enable).toBe(false);
    expect(spec.general.pluginsList).toBeUndefined();
  });

  test('the CA Secret has the keys the operator reads, and a CA that signs', () => {
    const spec = one(defaults, 'OpenSearchCluster').spec;
    const secret = secretIn(defaults, NAMESPACE, spec.security.tls.http.caSecret.name);
    // The operator reads ca.crt and ca.key (tls.crt and tls.key are the same pair, cert-manager's
    // layout).
    expect(Object.keys(secret.data).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(secret.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
    const cert = new X509Certificate(decoded(secret, 'ca.crt'));
    const key = createPrivateKey(decoded(secret, 'ca.key'));
    expect(cert.ca).toBe(true);
    expect(cert.checkPrivateKey(key)).toBe(true);
    expect(decoded(secret, 'tls.crt')).toBe(decoded(secret, 'ca.crt'));
    expect(decoded(secret, 'tls.key')).toBe(decoded(secret, 'ca.key'));
    const years = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / (365.25 * 86_400_000);
    expect(Math.round(years)).toBe(10);
  });

  test('the admin account is in the Secret the cluster names, its password random or given', async () => {
    const spec = one(defaults, 'OpenSearchCluster').spec;
    const name = spec.security.config.adminCredentialsSecret.name;
    const secret = secretIn(defaults, NAMESPACE, name);
    expect(name).toBe('platform-search-opensearch-admin');
    expect(Object.keys(secret.data).sort()).toEqual(['password', 'username']);
    expect(decoded(secret, 'username')).toBe('admin');
    expect(decoded(secret, 'password')).toMatch(/^[A-Za-z0-9]{32}$/);
    // Without a cluster to look the Secret up in, every render draws a new password.
    expect(decoded(secretIn(lite, NAMESPACE, name), 'password')).not.toBe(
      decoded(secret, 'password'),
    );

    const given = await renderInfra({ set: { 'opensearch.auth.password': 'correct-horse' } });
    expect(decoded(secretIn(given, NAMESPACE, name), 'password')).toBe('correct-horse');
    expect(decoded(secretIn(given, 'platform', name), 'password')).toBe('correct-horse');
    await expect(renderInfra({ set: { 'opensearch.auth.password': 'short' } })).rejects.toThrow(
      /password/,
    );
  });

  test('clients in the listed namespaces get the CA certificate without its key, and the account', async () => {
    const ca = secretIn(defaults, NAMESPACE, 'platform-search-opensearch-ca');
    const admin = secretIn(defaults, NAMESPACE, 'platform-search-opensearch-admin');
    const caCopy = secretIn(defaults, 'platform', 'platform-search-opensearch-ca');
    const adminCopy = secretIn(defaults, 'platform', 'platform-search-opensearch-admin');

    expect(caCopy.data).toEqual({ 'ca.crt': ca.data['ca.crt'] });
    expect(adminCopy.data).toEqual(admin.data);

    const two = await renderInfra({ set: { 'opensearch.clientNamespaces': '{platform,staging}' } });
    const copies = two
      .filter((o) => o.kind === 'Secret' && o.metadata.namespace !== NAMESPACE)
      .map((o) => `${o.metadata.namespace}/${o.metadata.name}`)
      .sort();
    expect(copies).toEqual([
      'platform/platform-search-opensearch-admin',
      'platform/platform-search-opensearch-ca',
      'staging/platform-search-opensearch-admin',
      'staging/platform-search-opensearch-ca',
    ]);
    const dir = await mkdtemp(join(tmpdir(), 'infra-values-'));
    try {
      const file = join(dir, 'no-clients.yaml');
      await writeFile(file, 'opensearch:\n  clientNamespaces: []\n');
      const none = await render(CHART, { namespace: NAMESPACE, valuesFiles: [file] });
      expect(none.filter((o) => o.metadata.namespace !== NAMESPACE)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await expect(
      renderInfra({ set: { 'opensearch.clientNamespaces': `{${NAMESPACE}}` } }),
    ).rejects.toThrow(/release's own namespace/);
  });

  test('what the hotel booking chart expects by default is what this chart renders', () => {
    const hotel = parse(readFileSync(join(CHARTS, 'hotel-booking', 'values.yaml'), 'utf8')) as {
      env: { OPENSEARCH_URL: string };
      opensearch: { caSecret: string; credentialsSecret: string };
    };
    const spec = one(defaults, 'OpenSearchCluster').spec;
    const url = new URL(hotel.env.OPENSEARCH_URL);
    expect(url.protocol).toBe('https:');
    expect(url.hostname).toBe(spec.security.tls.http.customFQDN);
    expect(Number(url.port)).toBe(spec.general.httpPort);
    expect(secretIn(defaults, 'platform', hotel.opensearch.caSecret).data).toHaveProperty([
      'ca.crt',
    ]);
    expect(secretIn(defaults, 'platform', hotel.opensearch.credentialsSecret).data).toHaveProperty(
      'password',
    );
  });

  test('its volumes use the chart’s storage class', async () => {
    const objects = await renderInfra({ set: { storageClass: 'fast' } });
    const pool = one(objects, 'OpenSearchCluster').spec.nodePools[0];
    expect(pool.persistence.pvc).toEqual({ accessModes: ['ReadWriteOnce'], storageClass: 'fast' });
    expect(one(defaults, 'OpenSearchCluster').spec.nodePools[0].persistence.pvc).toEqual({
      accessModes: ['ReadWriteOnce'],
    });
  });
});

describe('monitoring', () => {
  const monitoringKinds = ['PodMonitor', 'ServiceMonitor', 'PrometheusRule'];

  test('monitors cover each server and carry the release label', async () => {
    const monitors = defaults.filter((o) => monitoringKinds.includes(o.kind));
    expect(
      monitors.map((m) => `${m.kind}/${m.metadata.labels?.['app.kubernetes.io/component']}`).sort(),
    ).toEqual([
      'PodMonitor/kafka',
      'PodMonitor/redis',
      'PodMonitor/vitess',
      'PrometheusRule/monitoring',
      'ServiceMonitor/cassandra',
    ]);
    for (const m of monitors) expect(m.metadata.labels?.release).toBe('kube-prometheus-stack');

    const renamed = await renderInfra({ set: { 'monitoring.release': 'prom' } });
    const relabelled = renamed.filter((o) => monitoringKinds.includes(o.kind));
    expect(relabelled.map((m) => m.metadata.labels?.release)).toEqual(monitors.map(() => 'prom'));
  });

  test('the alert rules pass promtool', async () => {
    const rule = one(defaults, 'PrometheusRule');
    const dir = await mkdtemp(join(tmpdir(), 'infra-rules-'));
    try {
      const file = join(dir, 'rules.yaml');
      await writeFile(file, stringify({ groups: rule.spec.groups }));
      const check = await promisify(execFile)(tool('PROMTOOL_BIN'), ['check', 'rules', file]);
      expect(check.stdout).toMatch(/SUCCESS: \d+ rules found/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('switches and labels', () => {
  const groups: Record<string, string[]> = {
    kafka: ['Kafka', 'KafkaNodePool', 'KafkaTopic'],
    redis: ['RedisCluster'],
    vitess: ['VitessCluster'],
    cassandra: ['K8ssandraCluster'],
    opensearch: ['OpenSearchCluster'],
  };

  test.each(Object.keys(groups))(
    '%s can be switched off, monitors and alerts included',
    async (name) => {
      const objects = await renderInfra({ set: { [`${name}.enabled`]: 'false' } });
      const left = objects.filter(
        (o) => o.metadata.labels?.['app.kubernetes.io/component'] === name,
      );
      const rule = one(objects, 'PrometheusRule');

      expect(left).toEqual([]);
      expect(objects.map((o) => o.kind)).not.toEqual(expect.arrayContaining(groups[name]!));
      expect(JSON.stringify(rule.spec)).not.toContain(`infra_component="${name}"`);
    },
  );

  test('monitoring can be switched off', async () => {
    const objects = await renderInfra({ set: { 'monitoring.enabled': 'false' } });
    expect(objects.filter((o) => o.apiVersion.startsWith('monitoring.coreos.com/'))).toEqual([]);
  });

  test('every object carries the app.kubernetes.io labels', () => {
    for (const object of [...defaults, ...lite]) {
      expect(object.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'infra',
        'app.kubernetes.io/instance': CHART,
        'app.kubernetes.io/version': expect.any(String),
        'app.kubernetes.io/managed-by': 'Helm',
        'app.kubernetes.io/part-of': 'platform',
        'app.kubernetes.io/component': expect.any(String),
      });
      // The OpenSearch clients' copies of the CA and the account go to opensearch.clientNamespaces.
      const copy =
        object.kind === 'Secret' &&
        object.metadata.labels?.['app.kubernetes.io/component'] === 'opensearch';
      expect(object.metadata.namespace).toBe(
        copy && object.metadata.namespace !== NAMESPACE ? 'platform' : NAMESPACE,
      );
    }
  });

  test('the schema refuses keys it does not know', async () => {
    await expect(renderInfra({ set: { 'kafka.nodePool.replica': '2' } })).rejects.toThrow(
      /additional properties 'replica' not allowed/i,
    );
    await expect(renderInfra({ set: { 'redis.resources.requests.gpu': '1' } })).rejects.toThrow(
      /additional properties 'gpu' not allowed/i,
    );
  });

  test('every key in values.yaml has a comment right above it', () => {
    const lines = readFileSync(join(CHARTS, CHART, 'values.yaml'), 'utf8').split('\n');
    const undocumented = lines.flatMap((line, i) =>
      /^\s*[\w.-]+:/.test(line) && !/^\s*#/.test(lines[i - 1] ?? '') ? [`${i + 1}: ${line}`] : [],
    );
    expect(undocumented).toEqual([]);
  });

  test('every template file renders one kind of resource', async () => {
    const out = await helm(['template', CHART, join(CHARTS, CHART), '--namespace', NAMESPACE]);
    const kindsBySource = new Map<string, Set<string>>();
    for (const doc of out.split(/^---$/m)) {
      const source = /^# Source: (\S+)/m.exec(doc)?.[1];
      const kind = /^kind: (\S+)/m.exec(doc)?.[1];
      if (source && kind)
        kindsBySource.set(source, (kindsBySource.get(source) ?? new Set()).add(kind));
    }
    const mixed = [...kindsBySource].filter(([, kinds]) => kinds.size > 1);

    expect(kindsBySource.size).toBeGreaterThan(10);
    expect(mixed.map(([source, kinds]) => `${source}: ${[...kinds].join(', ')}`)).toEqual([]);
  });
});

describe('lite profile', () => {
  test('its request totals are the ones README.md states', () => {
    const totals = requestTotals(lite);
    const readme = readFileSync(join(CHARTS, CHART, 'README.md'), 'utf8');
    const stated = Object.fromEntries(
      [
        ...readme.matchAll(
          /^\| (kafka|redis|vitess|cassandra|opensearch|total) +\| +([\d,]+)m +\| +([\d,]+)Mi +\|/gim,
        ),
      ].map((m) => [m[1]!.toLowerCase(), { cpuMillis: num(m[2]!), memoryMi: num(m[3]!) }]),
    );

    expect(stated).toEqual(totals);
    const guide = readFileSync(join(CHARTS, '../docs/kubernetes.md'), 'utf8');
    const { cpuMillis, memoryMi } = totals.total!;
    expect(guide).toMatch(
      new RegExp(`\\| infra \\(lite\\) +\\| ${cpuMillis}m +\\| ${memoryMi}Mi +\\|`),
    );
  });

  test('fits a 4-core, 8 GB node with room for the operators and the systems', () => {
    const { total } = requestTotals(lite);
    expect(total!.cpuMillis).toBeLessThanOrEqual(1500);
    expect(total!.memoryMi).toBeLessThanOrEqual(4096);
  });
});

const num = (text: string) => Number(text.replaceAll(',', ''));

interface Total {
  cpuMillis: number;
  memoryMi: number;
}

/**
 * Requests of the pods the operators will run for the rendered resources, by
 * component and in total: each container's requests as written in the
 * resource, times the pods the operator makes of it. A workload kind this
 * function does not know fails the test, so new resources cannot slip past it.
 */
function requestTotals(objects: Rendered[]): Record<string, Total> {
  const totals: Record<string, Total> = {};
  const add = (component: string, pods: number, ...containers: (Resources | undefined)[]) => {
    for (const key of [component, 'total']) {
      const total = (totals[key] ??= { cpuMillis: 0, memoryMi: 0 });
      for (const c of containers) {
        total.cpuMillis += pods * cpuMillis(c?.requests?.cpu ?? 0);
        total.memoryMi += pods * memoryMi(c?.requests?.memory ?? 0);
      }
    }
  };

  for (const object of objects) {
    const spec = (object as Spec).spec;
    switch (object.kind) {
      case 'KafkaNodePool':
        add('kafka', spec.replicas, spec.resources);
        break;
      case 'Kafka':
        add('kafka', 1, spec.entityOperator?.topicOperator?.resources);
        add('kafka', 1, spec.entityOperator?.userOperator?.resources);
        if (spec.kafkaExporter) add('kafka', 1, spec.kafkaExporter.resources);
        break;
      case 'RedisCluster': {
        const pods =
          (spec.redisLeader?.replicas ?? spec.clusterSize) +
          (spec.redisFollower?.replicas ?? spec.clusterSize);
        add('redis', pods, spec.kubernetesConfig.resources);
        if (spec.redisExporter?.enabled) add('redis', pods, spec.redisExporter.resources);
        break;
      }
      case 'VitessCluster':
        // The operator's lockserver is an etcd of three members.
        add('vitess', 3, spec.globalLockserver?.etcd?.resources);
        for (const cell of spec.cells) add('vitess', cell.gateway.replicas, cell.gateway.resources);
        add('vitess', spec.vitessDashboard.replicas, spec.vitessDashboard.resources);
        for (const keyspace of spec.keyspaces) {
          add('vitess', 1, keyspace.vitessOrchestrator?.resources);
          for (const { equal } of keyspace.partitionings) {
            for (const pool of equal.shardTemplate.tabletPools) {
              const pods = equal.parts * pool.replicas;
              add(
                'vitess',
                pods,
                pool.vttablet.resources,
                pool.mysqld.resources,
                pool.mysqldExporter?.resources,
              );
            }
          }
        }
        break;
      case 'K8ssandraCluster':
        for (const dc of spec.cassandra.datacenters) {
          const sidecars = (spec.cassandra.containers ?? []).map((c: Spec) => c.resources);
          add('cassandra', dc.size, spec.cassandra.resources, ...sidecars);
        }
        break;
      case 'OpenSearchCluster':
        // The bootstrap pod lives only while a new cluster elects its first cluster manager.
        for (const pool of spec.nodePools) add('opensearch', pool.replicas, pool.resources);
        break;
      case 'KafkaTopic':
      case 'Secret':
      case 'Service':
      case 'PodMonitor':
      case 'ServiceMonitor':
      case 'PrometheusRule':
        break;
      default:
        throw new Error(`requestTotals does not know how many pods a ${object.kind} makes`);
    }
  }
  return totals;
}

function cpuMillis(quantity: string | number): number {
  const text = String(quantity);
  return text.endsWith('m') ? Number(text.slice(0, -1)) : Number(text) * 1000;
}

function memoryMi(quantity: string | number): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(quantity));
  if (!match) throw new Error(`unreadable memory quantity ${quantity}`);
  const factor: Record<string, number> = {
    '': 1 / 2 ** 20,
    Ki: 1 / 1024,
    Mi: 1,
    Gi: 1024,
    Ti: 2 ** 20,
    k: 1e3 / 2 ** 20,
    M: 1e6 / 2 ** 20,
    G: 1e9 / 2 ** 20,
    T: 1e12 / 2 ** 20,
  };
  return Number(match[1]) * factor[match[2] ?? '']!;
}
