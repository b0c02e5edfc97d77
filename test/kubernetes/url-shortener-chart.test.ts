import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { buildDependencies, CHARTS, helm, render, type Rendered } from './helm.ts';

/**
 * What the URL shortener chart must render: the objects that decide whether
 * the pods start, stay up, are scraped and are safe, checked on the output of
 * the real helm.
 */
const CHART = 'url-shortener';
const COMPONENTS = ['api', 'token-service', 'click-aggregator'];

interface Container {
  name: string;
  image: string;
  args: string[];
  env: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string } } }[];
  ports: { name: string; containerPort: number }[];
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext: Record<string, unknown>;
  readinessProbe?: { httpGet: { path: string } };
  livenessProbe?: { httpGet: { path: string } };
  startupProbe?: { httpGet: { path: string } };
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
}
interface PodSpec {
  securityContext: Record<string, unknown>;
  containers: Container[];
  volumes: { name: string; emptyDir?: object }[];
  automountServiceAccountToken: boolean;
}
type Deployment = Rendered & {
  spec: {
    replicas?: number;
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
};

const byKind = (objects: Rendered[], kind: string) => objects.filter((o) => o.kind === kind);
const named = (objects: Rendered[], kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in ${objects.map((o) => o.metadata.name)}`);
  return found;
};

let objects: Rendered[];
let lite: Rendered[];
beforeAll(async () => {
  await buildDependencies(CHART);
  [objects, lite] = await Promise.all([
    render(CHART),
    render(CHART, { valuesFiles: ['values-lite.yaml'] }),
  ]);
}, 60_000);

describe('url-shortener chart', () => {
  it('renders one Deployment, Service, ServiceMonitor, PDB and NetworkPolicy per service', () => {
    for (const kind of [
      'Deployment',
      'Service',
      'ServiceMonitor',
      'PodDisruptionBudget',
      'NetworkPolicy',
    ]) {
      expect(
        byKind(objects, kind)
          .map((o) => o.metadata.name)
          .sort(),
      ).toEqual(COMPONENTS.map((c) => `url-shortener-${c}`).sort());
    }
    expect(byKind(objects, 'HorizontalPodAutoscaler').map((o) => o.metadata.name)).toEqual([
      'url-shortener-api',
    ]);
  });

  it('puts each resource in a template file of its own', () => {
    const sources = objects.map((o) => o.source);
    expect(new Set(sources).size).toBe(sources.length);
    const files = readdirSync(join(CHARTS, CHART, 'templates')).filter((f) => f.endsWith('.yaml'));
    for (const file of files) {
      const text = readFileSync(join(CHARTS, CHART, 'templates', file), 'utf8');
      expect(text.match(/^---/gm) ?? []).toHaveLength(0);
    }
  });

  it('labels every object with the app.kubernetes.io set', () => {
    for (const object of objects) {
      expect(object.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': CHART,
        'app.kubernetes.io/instance': CHART,
        'app.kubernetes.io/part-of': 'platform',
        'app.kubernetes.io/managed-by': 'Helm',
        'app.kubernetes.io/version': expect.any(String),
      });
    }
  });

  it('runs every pod under Pod Security "restricted" with a read-only root filesystem', () => {
    for (const deployment of byKind(objects, 'Deployment') as Deployment[]) {
      const pod = deployment.spec.template.spec;
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const container of pod.containers) {
        expect(container.securityContext).toEqual(
          expect.objectContaining({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          }),
        );
      }
      // Node writes temporary files; the read-only root needs a writable /tmp.
      expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } });
    }
  });

  it('probes health, readiness and start-up, and drains before SIGTERM', () => {
    for (const deployment of byKind(objects, 'Deployment') as Deployment[]) {
      const [container] = deployment.spec.template.spec.containers;
      expect(container?.startupProbe?.httpGet.path).toBe('/healthz');
      expect(container?.livenessProbe?.httpGet.path).toBe('/healthz');
      expect(container?.readinessProbe?.httpGet.path).toBe('/readyz');
      expect(container?.lifecycle?.preStop?.sleep?.seconds).toBeGreaterThan(0);
    }
  });

  it('gives every container CPU and memory requests and a memory limit', () => {
    for (const deployment of byKind(objects, 'Deployment') as Deployment[]) {
      for (const container of deployment.spec.template.spec.containers) {
        expect(container.resources.requests).toEqual({
          cpu: expect.any(String),
          memory: expect.any(String),
        });
        expect(container.resources.limits?.memory).toEqual(expect.any(String));
      }
    }
  });

  it('starts each service by its role on the port it listens on', () => {
    const ports = { api: ['PORT', 8081], 'token-service': ['TOKEN_SERVICE_PORT', 9101] };
    for (const [component, [variable, port]] of Object.entries(ports)) {
      const deployment = named(objects, 'Deployment', `url-shortener-${component}`) as Deployment;
      const [container] = deployment.spec.template.spec.containers;
      expect(container?.args).toEqual(['services/url-shortener/src/main.ts', component]);
      expect(container?.ports).toEqual([{ name: 'http', containerPort: port, protocol: 'TCP' }]);
      expect(container?.env).toContainEqual({ name: variable, value: String(port) });
    }
  });

  it('points the API at the token services and reads credentials from the Secret', () => {
    const api = named(objects, 'Deployment', 'url-shortener-api') as Deployment;
    const env = api.spec.template.spec.containers[0]!.env;
    const service = named(objects, 'Service', 'url-shortener-token-service') as Rendered & {
      spec: { ports: { port: number }[] };
    };
    expect(env).toContainEqual({
      name: 'TOKEN_SERVICE_URLS',
      value: `http://url-shortener-token-service:${service.spec.ports[0]!.port}`,
    });
    const secret = named(objects, 'Secret', 'url-shortener-secrets') as Rendered & {
      stringData: Record<string, string>;
    };
    for (const key of ['MYSQL_URL', 'CODE_SECRET', 'CASSANDRA_USERNAME', 'CASSANDRA_PASSWORD']) {
      expect(env.find((e) => e.name === key)?.valueFrom?.secretKeyRef.name).toBe(
        'url-shortener-secrets',
      );
      expect(Object.keys(secret.stringData)).toContain(key);
    }
    expect(secret.stringData.CODE_SECRET!.length).toBeGreaterThanOrEqual(32);
  });

  it('lets only the API reach the token services; the API is public', () => {
    type Policy = Rendered & {
      spec: { ingress: { from?: { podSelector?: { matchLabels: Record<string, string> } }[] }[] };
    };
    const token = named(objects, 'NetworkPolicy', 'url-shortener-token-service') as Policy;
    const peers = token.spec.ingress.flatMap((rule) => rule.from ?? []);
    const podPeers = peers.filter((p) => p.podSelector).map((p) => p.podSelector!.matchLabels);
    expect(podPeers).toEqual([expect.objectContaining({ 'app.kubernetes.io/component': 'api' })]);
    const api = named(objects, 'NetworkPolicy', 'url-shortener-api') as Policy;
    expect(api.spec.ingress.every((rule) => rule.from === undefined)).toBe(true);
  });

  it('scrapes each service under the job name the dashboards and rules select on', async () => {
    const renamed = await render(CHART, { release: 'links' });
    type Monitor = Rendered & {
      spec: { endpoints: { relabelings: { targetLabel: string; replacement: string }[] }[] };
    };
    const jobs = (byKind(renamed, 'ServiceMonitor') as Monitor[]).map(
      (m) => m.spec.endpoints[0]!.relabelings.find((r) => r.targetLabel === 'job')?.replacement,
    );
    expect(jobs.sort()).toEqual(COMPONENTS.map((c) => `url-shortener-${c}`).sort());
    const rules = readFileSync(join(CHARTS, CHART, 'rules/slo.rules.yaml'), 'utf8');
    for (const job of rules.match(/job="[^"]+"/g) ?? []) {
      expect(jobs.map((j) => `job="${j}"`)).toContain(job);
    }
  });

  it('is scraped and alerted on by the kube-prometheus-stack release', () => {
    for (const kind of ['ServiceMonitor', 'PrometheusRule']) {
      for (const object of byKind(objects, kind)) {
        expect(object.metadata.labels?.release).toBe('kube-prometheus-stack');
      }
    }
    const dashboards = byKind(objects, 'ConfigMap').filter(
      (o) => o.metadata.labels?.grafana_dashboard === '1',
    ) as (Rendered & { data: Record<string, string> })[];
    expect(dashboards).toHaveLength(1);
    for (const json of Object.values(dashboards[0]!.data))
      expect(() => JSON.parse(json)).not.toThrow();
    expect(byKind(objects, 'PrometheusRule')).toHaveLength(1);
  });

  it('lets the HPA own the API replica count and sizes the lite profile down', () => {
    const api = named(objects, 'Deployment', 'url-shortener-api') as Deployment;
    expect(api.spec.replicas).toBeUndefined();
    const token = named(lite, 'Deployment', 'url-shortener-token-service') as Deployment;
    expect(token.spec.replicas).toBe(1);
    const cpu = (objects: Rendered[]) =>
      (byKind(objects, 'Deployment') as Deployment[])
        .flatMap((d) => d.spec.template.spec.containers)
        .reduce((sum, c) => sum + parseFloat(c.resources.requests!.cpu!), 0);
    expect(cpu(lite)).toBeLessThan(cpu(objects));
  });

  it('requests what docs/kubernetes.md says for the lite profile', () => {
    const hpaMin = new Map(
      (
        byKind(lite, 'HorizontalPodAutoscaler') as (Rendered & { spec: { minReplicas: number } })[]
      ).map((h) => [h.metadata.name, h.spec.minReplicas]),
    );
    let cpuMilli = 0;
    let memoryMi = 0;
    for (const deployment of byKind(lite, 'Deployment') as Deployment[]) {
      const replicas = deployment.spec.replicas ?? hpaMin.get(deployment.metadata.name) ?? 1;
      for (const { resources } of deployment.spec.template.spec.containers) {
        cpuMilli += replicas * parseInt(resources.requests!.cpu!, 10);
        memoryMi += replicas * parseInt(resources.requests!.memory!, 10);
      }
    }
    const doc = readFileSync(join(CHARTS, '../docs/kubernetes.md'), 'utf8');
    expect(doc).toMatch(
      new RegExp(`\\| url-shortener \\(lite\\) +\\| ${cpuMilli}m +\\| ${memoryMi}Mi +\\|`),
    );
  });

  it('leaves Cassandra credentials out when no user is set, rather than half of them', async () => {
    const open = await render(CHART, { set: { 'secrets.cassandraUsername': '' } });
    const api = named(open, 'Deployment', 'url-shortener-api') as Deployment;
    const names = api.spec.template.spec.containers[0]!.env.map((e) => e.name);
    expect(names).not.toContain('CASSANDRA_USERNAME');
    expect(names).not.toContain('CASSANDRA_PASSWORD');
  });

  it('refuses env names the chart sets itself, which would duplicate an entry', async () => {
    const attempts: Record<string, string>[] = [
      { 'api.env.PORT': '9000' },
      { 'env.MYSQL_URL': 'mysql://x@y/z' },
      { 'env.TOKEN_SERVICE_URLS': 'http://a:1' },
    ];
    for (const set of attempts) {
      await expect(render(CHART, { set })).rejects.toThrow(/PORT|MYSQL_URL|TOKEN_SERVICE_URLS/);
    }
  });

  it('refuses autoscaling bounds the wrong way round; quotes a numeric release', async () => {
    await expect(
      render(CHART, {
        set: { 'api.autoscaling.minReplicas': '5', 'api.autoscaling.maxReplicas': '2' },
      }),
    ).rejects.toThrow(/api: autoscaling.minReplicas \(5\) is above maxReplicas \(2\)/);
    const numeric = await render(CHART, { release: '123' });
    expect(numeric[0]!.metadata.labels?.['app.kubernetes.io/instance']).toBe('123');
  });

  it('refuses values the schema does not know, naming the key', async () => {
    await expect(render(CHART, { set: { 'api.replica': '3' } })).rejects.toThrow(
      /additional properties 'replica' not allowed/,
    );
    await expect(render(CHART, { set: { 'env.KAFKA_BROKERS': 'no-port' } })).rejects.toThrow(
      /KAFKA_BROKERS/,
    );
  });

  it('documents every key of values.yaml with a comment above it', () => {
    const lines = readFileSync(join(CHARTS, CHART, 'values.yaml'), 'utf8').split('\n');
    const undocumented = lines.flatMap((line, i) => {
      const key = /^(\s*)([\w.-]+):/.exec(line);
      if (!key) return [];
      // Keys inside a flow mapping or under resources are described by their parent.
      const above = lines[i - 1] ?? '';
      const parentDocumented = /^\s*(requests|limits):/.test(line);
      return /^\s*# /.test(above) || parentDocumented ? [] : [`${i + 1}: ${line.trim()}`];
    });
    expect(undocumented).toEqual([]);
    // Every documented key is in the schema, which refuses all others.
    const schema = JSON.parse(readFileSync(join(CHARTS, CHART, 'values.schema.json'), 'utf8'));
    const values = parse(lines.join('\n')) as Record<string, unknown>;
    for (const key of Object.keys(values)) expect(Object.keys(schema.properties)).toContain(key);
  });

  it('passes helm lint --strict with each values file', async () => {
    for (const file of ['values.yaml', 'values-lite.yaml']) {
      const out = await helm([
        'lint',
        '--strict',
        join(CHARTS, CHART),
        '--values',
        join(CHARTS, CHART, file),
      ]);
      expect(out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });
});
