import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { buildDependencies, CHARTS, render, type Rendered } from './helm.ts';

/**
 * What every system chart on the library chart must render, checked on the
 * output of the real helm: the objects that decide whether the pods start,
 * stay up, are scraped and are safe. A system's test file calls
 * describeSystemChart with what differs between systems and adds the checks
 * of its own. (helm lint --strict of every chart with every values file is in
 * dry-run.test.ts.)
 */
export interface SystemChartSpec {
  chart: string;
  /**
   * Each process role: the variable its port is passed in and its default port; the argument
   * that starts it when it is not the role's name (chat's handlers run "api,handler"), and
   * container ports it opens besides http.
   */
  roles: Record<
    string,
    {
      portVariable: string;
      port: number;
      arg?: string;
      extraPorts?: { name: string; containerPort: number }[];
    }
  >;
  /** Roles an HPA scales with the default values. */
  autoscaled: string[];
  /** Keys of the chart's Secret every role reads through secretKeyRef; none when it has none. */
  secretKeys: string[];
  /** Whether the roles reach Cassandra with the Secret's account (default true). */
  cassandra?: boolean;
  /** An env value the schema refuses, naming the variable (default KAFKA_BROKERS=no-port). */
  badEnv?: [name: string, value: string];
  /** Volumes a role keeps its own data in, mounted writable (all others are read-only). */
  writableMounts?: string[];
  /** Variables the chart sets itself, which values.schema.json must refuse in env. */
  chartEnv: string[];
}

export interface Container {
  name: string;
  image: string;
  args: string[];
  env: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef: { name: string; key: string; optional?: boolean } };
  }[];
  ports: { name: string; containerPort: number }[];
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext: Record<string, unknown>;
  readinessProbe?: { httpGet: { path: string } };
  livenessProbe?: { httpGet: { path: string } };
  startupProbe?: { httpGet: { path: string } };
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  securityContext: Record<string, unknown>;
  containers: Container[];
  volumes: { name: string; emptyDir?: object; secret?: object }[];
  automountServiceAccountToken: boolean;
}
export type Deployment = Rendered & {
  spec: {
    replicas?: number;
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
};
export type NetworkPolicy = Rendered & {
  spec: { ingress: { from?: { podSelector?: { matchLabels: Record<string, string> } }[] }[] };
};

export const byKind = (objects: Rendered[], kind: string) => objects.filter((o) => o.kind === kind);
export const named = (objects: Rendered[], kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in ${objects.map((o) => o.metadata.name)}`);
  return found;
};
/** The container of a role's Deployment. */
export const containerOf = (objects: Rendered[], name: string): Container =>
  (named(objects, 'Deployment', name) as Deployment).spec.template.spec.containers[0]!;

/** "hold-releaser" is configured under holdReleaser in values.yaml. */
export const valuesKey = (role: string) =>
  role.replace(/-([a-z])/g, (_match, letter: string) => letter.toUpperCase());

/** The chart rendered with its defaults and with values-lite.yaml, once per test file. */
export function renderedChart(chart: string): { defaults(): Rendered[]; lite(): Rendered[] } {
  let defaults: Rendered[] | undefined;
  let lite: Rendered[] | undefined;
  beforeAll(async () => {
    await buildDependencies(chart);
    [defaults, lite] = await Promise.all([
      render(chart),
      render(chart, { valuesFiles: ['values-lite.yaml'] }),
    ]);
  }, 60_000);
  return { defaults: () => defaults!, lite: () => lite! };
}

export function describeSystemChart(spec: SystemChartSpec): void {
  const { chart } = spec;
  const roles = Object.keys(spec.roles);
  const fullNames = roles.map((role) => `${chart}-${role}`).sort();
  const rendered = renderedChart(chart);

  describe(`${chart} chart, as every system chart`, () => {
    it('renders one Deployment, Service, ServiceMonitor, PDB and NetworkPolicy per role', () => {
      const objects = rendered.defaults();
      for (const kind of [
        'Deployment',
        'Service',
        'ServiceMonitor',
        'PodDisruptionBudget',
        'NetworkPolicy',
      ]) {
        expect([kind, byKind(objects, kind).map((o) => o.metadata.name)]).toEqual([
          kind,
          expect.arrayContaining(fullNames),
        ]);
        expect(byKind(objects, kind)).toHaveLength(roles.length);
      }
      expect(
        byKind(objects, 'HorizontalPodAutoscaler')
          .map((o) => o.metadata.name)
          .sort(),
      ).toEqual(spec.autoscaled.map((role) => `${chart}-${role}`).sort());
    });

    it('puts each resource in a template file of its own', () => {
      const sources = rendered.defaults().map((o) => o.source);
      expect(new Set(sources).size).toBe(sources.length);
      const templates = join(CHARTS, chart, 'templates');
      for (const file of readdirSync(templates).filter((f) => f.endsWith('.yaml'))) {
        const text = readFileSync(join(templates, file), 'utf8');
        expect([file, text.match(/^---/gm) ?? []]).toEqual([file, []]);
      }
    });

    it('labels every object with the app.kubernetes.io set', () => {
      for (const object of rendered.defaults()) {
        expect(object.metadata.labels).toMatchObject({
          'app.kubernetes.io/name': chart,
          'app.kubernetes.io/instance': chart,
          'app.kubernetes.io/part-of': 'platform',
          'app.kubernetes.io/managed-by': 'Helm',
          'app.kubernetes.io/version': expect.any(String),
        });
      }
    });

    it('runs every pod under Pod Security "restricted" with a read-only root filesystem', () => {
      for (const deployment of byKind(rendered.defaults(), 'Deployment') as Deployment[]) {
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

    it('mounts only the pod’s volumes, and nothing writable but /tmp and its data', () => {
      for (const deployment of byKind(rendered.defaults(), 'Deployment') as Deployment[]) {
        const pod = deployment.spec.template.spec;
        const volumes = pod.volumes.map((v) => v.name);
        for (const container of pod.containers) {
          for (const mount of container.volumeMounts ?? []) {
            expect([deployment.metadata.name, volumes]).toEqual([
              deployment.metadata.name,
              expect.arrayContaining([mount.name]),
            ]);
            const writable = mount.readOnly !== true;
            const mayWrite =
              mount.name === 'tmp' || (spec.writableMounts ?? []).includes(mount.name);
            expect([mount.mountPath, writable]).toEqual([mount.mountPath, mayWrite]);
          }
        }
        // every volume is used
        const mounted = pod.containers.flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name));
        expect([deployment.metadata.name, mounted]).toEqual([
          deployment.metadata.name,
          expect.arrayContaining(volumes),
        ]);
      }
    });

    it('probes health, readiness and start-up, and drains before SIGTERM', () => {
      for (const deployment of byKind(rendered.defaults(), 'Deployment') as Deployment[]) {
        const [container] = deployment.spec.template.spec.containers;
        expect(container?.startupProbe?.httpGet.path).toBe('/healthz');
        expect(container?.livenessProbe?.httpGet.path).toBe('/healthz');
        expect(container?.readinessProbe?.httpGet.path).toBe('/readyz');
        expect(container?.lifecycle?.preStop?.sleep?.seconds).toBeGreaterThan(0);
      }
    });

    it('gives every container CPU and memory requests and a memory limit', () => {
      for (const deployment of byKind(rendered.defaults(), 'Deployment') as Deployment[]) {
        for (const container of deployment.spec.template.spec.containers) {
          expect(container.resources.requests).toEqual({
            cpu: expect.any(String),
            memory: expect.any(String),
          });
          expect(container.resources.limits?.memory).toEqual(expect.any(String));
        }
      }
    });

    it('starts each role by name on the port it listens on', () => {
      for (const [role, { portVariable, port, arg, extraPorts }] of Object.entries(spec.roles)) {
        const container = containerOf(rendered.defaults(), `${chart}-${role}`);
        expect(container.args).toEqual([`services/${chart}/src/main.ts`, arg ?? role]);
        expect(container.ports).toEqual([
          { name: 'http', containerPort: port, protocol: 'TCP' },
          ...(extraPorts ?? []).map((extra) => ({ ...extra, protocol: 'TCP' })),
        ]);
        expect(container.env).toContainEqual({ name: portVariable, value: String(port) });
        const service = named(rendered.defaults(), 'Service', `${chart}-${role}`) as Rendered & {
          spec: { ports: { port: number }[] };
        };
        expect(service.spec.ports[0]!.port).toBe(port);
      }
    });

    it('reads credentials from the Secret, never from a plain value', () => {
      if (spec.secretKeys.length === 0) {
        expect(byKind(rendered.defaults(), 'Secret')).toEqual([]);
        return;
      }
      const secret = named(rendered.defaults(), 'Secret', `${chart}-secrets`) as Rendered & {
        stringData: Record<string, string>;
      };
      for (const role of roles) {
        const env = containerOf(rendered.defaults(), `${chart}-${role}`).env;
        for (const key of spec.secretKeys) {
          expect([role, env.find((e) => e.name === key)?.valueFrom?.secretKeyRef]).toEqual([
            role,
            expect.objectContaining({ name: `${chart}-secrets`, key }),
          ]);
          expect(Object.keys(secret.stringData)).toContain(key);
        }
      }
    });

    it('leaves Cassandra credentials out when no user is set, rather than half of them', async () => {
      if (spec.cassandra === false) {
        for (const role of roles) {
          const names = containerOf(rendered.defaults(), `${chart}-${role}`).env.map((e) => e.name);
          expect(names.filter((name) => name.startsWith('CASSANDRA_'))).toEqual([]);
        }
        return;
      }
      const open = await render(chart, { set: { 'secrets.cassandraUsername': '' } });
      for (const role of roles) {
        const names = containerOf(open, `${chart}-${role}`).env.map((e) => e.name);
        expect(names).not.toContain('CASSANDRA_USERNAME');
        expect(names).not.toContain('CASSANDRA_PASSWORD');
      }
    });

    it('scrapes each role under the job name the dashboard and rules select on', async () => {
      const renamed = await render(chart, { release: 'renamed' });
      type Monitor = Rendered & {
        spec: { endpoints: { relabelings: { targetLabel: string; replacement: string }[] }[] };
      };
      const jobs = (byKind(renamed, 'ServiceMonitor') as Monitor[]).map(
        (m) => m.spec.endpoints[0]!.relabelings.find((r) => r.targetLabel === 'job')?.replacement,
      );
      expect(jobs.sort()).toEqual(fullNames);
      const selectors = [
        readFileSync(join(CHARTS, chart, 'rules/slo.rules.yaml'), 'utf8'),
        readFileSync(join(CHARTS, chart, `dashboards/${chart}.json`), 'utf8').replace(/\\"/g, '"'),
      ].join('\n');
      const exact = [...selectors.matchAll(/job="([^"]+)"/g)].map((m) => m[1]!);
      const patterns = [...selectors.matchAll(/job=~"([^"]+)"/g)].map((m) => m[1]!);
      expect(exact.length).toBeGreaterThan(0);
      for (const job of exact) expect(jobs).toContain(job);
      for (const pattern of patterns) {
        expect([pattern, jobs.filter((job) => new RegExp(`^(?:${pattern})$`).test(job!))]).toEqual([
          pattern,
          jobs,
        ]);
      }
    });

    it('ships its dashboard and rules to the kube-prometheus-stack release', () => {
      const objects = rendered.defaults();
      for (const kind of ['ServiceMonitor', 'PrometheusRule']) {
        for (const object of byKind(objects, kind)) {
          expect(object.metadata.labels?.release).toBe('kube-prometheus-stack');
        }
      }
      const dashboards = byKind(objects, 'ConfigMap').filter(
        (o) => o.metadata.labels?.grafana_dashboard === '1',
      ) as (Rendered & { data: Record<string, string> })[];
      expect(dashboards).toHaveLength(1);
      const file = readFileSync(join(CHARTS, chart, `dashboards/${chart}.json`), 'utf8');
      expect(JSON.parse(dashboards[0]!.data[`${chart}.json`]!)).toEqual(JSON.parse(file));

      const rules = byKind(objects, 'PrometheusRule') as (Rendered & {
        spec: { groups: unknown[] };
      })[];
      expect(rules).toHaveLength(1);
      const ruleFile = parse(readFileSync(join(CHARTS, chart, 'rules/slo.rules.yaml'), 'utf8'));
      expect(rules[0]!.spec.groups).toEqual((ruleFile as { groups: unknown[] }).groups);
    });

    it('lets the HPA own the replica count of autoscaled roles and sizes lite down', () => {
      for (const role of roles) {
        const deployment = named(rendered.defaults(), 'Deployment', `${chart}-${role}`);
        const replicas = (deployment as Deployment).spec.replicas;
        if (spec.autoscaled.includes(role)) expect([role, replicas]).toEqual([role, undefined]);
        else expect([role, replicas]).toEqual([role, expect.any(Number)]);
      }
      const cpu = (objects: Rendered[]) =>
        (byKind(objects, 'Deployment') as Deployment[])
          .flatMap((d) => d.spec.template.spec.containers)
          .reduce((sum, c) => sum + parseFloat(c.resources.requests!.cpu!), 0);
      expect(cpu(rendered.lite())).toBeLessThan(cpu(rendered.defaults()));
    });

    it('requests what docs/kubernetes.md says for the lite profile', () => {
      const lite = rendered.lite();
      const hpaMin = new Map(
        (
          byKind(lite, 'HorizontalPodAutoscaler') as (Rendered & {
            spec: { minReplicas: number };
          })[]
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
        new RegExp(`\\| ${chart} \\(lite\\) +\\| ${cpuMilli}m +\\| ${memoryMi}Mi +\\|`),
      );
    });

    it('refuses env names the chart sets itself, which would duplicate an entry', async () => {
      const role = valuesKey(roles[0]!);
      for (const name of spec.chartEnv) {
        for (const key of [`env.${name}`, `${role}.env.${name}`]) {
          await expect(render(chart, { set: { [key]: 'x' } })).rejects.toThrow(name);
        }
      }
    });

    it('renders whole numbers in env as integers, not in exponent notation', async () => {
      // Helm reads numbers in a values file as floats; without care 3600000 renders "3.6e+06".
      const dir = mkdtempSync(join(tmpdir(), 'values-'));
      const file = join(dir, 'big-numbers.yaml');
      writeFileSync(file, 'env:\n  BIG_NUMBER: 3600000\n  FRACTION: 0.25\n');
      try {
        const objects = await render(chart, { valuesFiles: [file] });
        for (const role of roles) {
          const env = containerOf(objects, `${chart}-${role}`).env;
          expect(env).toContainEqual({ name: 'BIG_NUMBER', value: '3600000' });
          expect(env).toContainEqual({ name: 'FRACTION', value: '0.25' });
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('refuses autoscaling bounds the wrong way round; quotes a numeric release', async () => {
      const role = roles[0]!;
      const key = valuesKey(role);
      await expect(
        render(chart, {
          set: {
            [`${key}.autoscaling.enabled`]: 'true',
            [`${key}.autoscaling.minReplicas`]: '5',
            [`${key}.autoscaling.maxReplicas`]: '2',
          },
        }),
      ).rejects.toThrow(`${role}: autoscaling.minReplicas (5) is above maxReplicas (2)`);
      const numeric = await render(chart, { release: '123' });
      expect(numeric[0]!.metadata.labels?.['app.kubernetes.io/instance']).toBe('123');
    });

    it('refuses values the schema does not know, naming the key', async () => {
      for (const role of roles) {
        await expect(
          render(chart, { set: { [`${valuesKey(role)}.replica`]: '3' } }),
        ).rejects.toThrow(/additional properties 'replica' not allowed/);
      }
      const [name, value] = spec.badEnv ?? ['KAFKA_BROKERS', 'no-port'];
      await expect(render(chart, { set: { [`env.${name}`]: value } })).rejects.toThrow(name);
    });

    it('documents every key of values.yaml with a comment above it', () => {
      const lines = readFileSync(join(CHARTS, chart, 'values.yaml'), 'utf8').split('\n');
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
      const schema = JSON.parse(readFileSync(join(CHARTS, chart, 'values.schema.json'), 'utf8'));
      const values = parse(lines.join('\n')) as Record<string, unknown>;
      for (const key of Object.keys(values)) expect(Object.keys(schema.properties)).toContain(key);
      // Every role has its block.
      for (const role of roles) expect(Object.keys(values)).toContain(valuesKey(role));
    });
  });
}
