import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import {
  dryRunApply,
  installCrds,
  readManifests,
  startApiServer,
  yamlFiles,
  type ManifestObject,
  type Rejection,
  type TestApiServer,
} from './apiserver.ts';
import { buildDependencies, CHARTS, helm, render, tool, valuesFiles } from './helm.ts';

/**
 * Everything the repository would apply to a cluster, checked by a real
 * kube-apiserver: each chart rendered with each of its values files, and the
 * plain manifests under manifests/ and load-tests/. The server validates every
 * object against its schema (the operators' CRDs included) with strict field
 * validation and runs admission, storing nothing (dryRun=All).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// The operators' CRDs at the versions the platform pins (see each folder's SOURCE.md).
const UPSTREAM_CRDS = process.env.UPSTREAM_CRDS_DIR ?? '/work/shared/crds';
// CRDs of our own operators, wherever they end up.
const OWN_CRDS = [
  join(ROOT, 'manifests', 'crds'),
  ...chartDirs().map((chart) => join(CHARTS, chart, 'crds')),
];
// Where each chart is installed (manifests/namespaces.yaml labels them for Pod Security).
const namespaceOf = (chart: string) => (chart === 'infra' ? 'platform-infra' : 'platform');

/** Every chart that renders objects: library charts only hold templates for others. */
function applicationCharts(): string[] {
  return chartDirs().filter((chart) => {
    const meta = parse(readFileSync(join(CHARTS, chart, 'Chart.yaml'), 'utf8')) as {
      type?: string;
    };
    return meta.type !== 'library';
  });
}

function chartDirs(): string[] {
  if (!existsSync(CHARTS)) return [];
  return readdirSync(CHARTS).filter((entry) => existsSync(join(CHARTS, entry, 'Chart.yaml')));
}

/** Kubernetes objects in a folder's plain YAML files; tool configs (kind, kustomize) are not. */
function plainManifests(dir: string): { file: string; object: ManifestObject }[] {
  return yamlFiles(join(ROOT, dir)).flatMap((file) =>
    readManifests(readFileSync(file, 'utf8'))
      .filter((object) => !/(^|\.)(kind\.x-k8s\.io|config\.k8s\.io)\//.test(object.apiVersion))
      .map((object) => ({ file: file.slice(ROOT.length), object })),
  );
}

const describeRejection = (r: Rejection) =>
  `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}: ${r.message}`;

const charts = applicationCharts();
const manifests = [...plainManifests('manifests'), ...plainManifests('load-tests')];

let server: TestApiServer | undefined;
let installedCrds: string[] = [];

beforeAll(async () => {
  tool('HELM_BIN');
  server = await startApiServer();
  console.log(`kube-apiserver ready in ${server.startedInMs} ms at ${server.url}`);

  if (yamlFiles(UPSTREAM_CRDS).length === 0) {
    throw new Error(`no CRDs under ${UPSTREAM_CRDS} (set UPSTREAM_CRDS_DIR to the folder)`);
  }
  installedCrds = await installCrds(server.kubeConfig, [UPSTREAM_CRDS, ...OWN_CRDS]);
  console.log(`${installedCrds.length} CRDs established`);

  // The namespaces exist, with their labels, before anything is installed in them.
  const namespaces = manifests.map(({ object }) => object).filter((o) => o.kind === 'Namespace');
  const { rejections } = await dryRunApply(server.kubeConfig, namespaces);
  if (rejections.length > 0) throw new Error(rejections.map(describeRejection).join('\n'));
}, 180_000);

afterAll(async () => {
  await server?.stop();
}, 30_000);

test('finds every chart to check', () => {
  expect(charts).toEqual(
    expect.arrayContaining(['infra', 'url-shortener', 'hotel-booking', 'navigation', 'chat']),
  );
});

test('the CRDs of every operator the infra chart uses are established', () => {
  expect(installedCrds).toEqual(
    expect.arrayContaining([
      'kafkas.kafka.strimzi.io',
      'kafkanodepools.kafka.strimzi.io',
      'redisclusters.redis.redis.opstreelabs.in',
      'vitessclusters.planetscale.com',
      'k8ssandraclusters.k8ssandra.io',
      'opensearchclusters.opensearch.org',
      'podmonitors.monitoring.coreos.com',
    ]),
  );
});

test('the API server refuses what a typo or a missing field would break', async () => {
  const { rejections } = await dryRunApply(
    server!.kubeConfig,
    [
      {
        apiVersion: 'kafka.strimzi.io/v1',
        kind: 'KafkaNodePool',
        metadata: { name: 'no-roles', labels: { 'strimzi.io/cluster': 'x' } },
        spec: { replicas: 1, storage: { type: 'ephemeral' } },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'typo' },
        spec: { ports: [{ port: 80 }], selectr: { app: 'x' } },
      },
      {
        apiVersion: 'redis.redis.opstreelabs.in/v1beta1',
        kind: 'RedisCluster',
        metadata: { name: 'old-api' },
        spec: {},
      },
    ],
    { namespace: 'harness-check' },
  );

  expect(rejections.map((r) => r.name).sort()).toEqual(['no-roles', 'old-api', 'typo']);
  expect(rejections.find((r) => r.name === 'no-roles')?.message).toMatch(/roles/);
  expect(rejections.find((r) => r.name === 'typo')?.message).toMatch(/selectr/);
}, 30_000);

test('Pod Security admission judges workloads by their namespace’s labels', async () => {
  // No securityContext at all: root allowed, privilege escalation allowed, capabilities kept.
  const unhardened = { containers: [{ name: 'c', image: 'x' }] };
  const { rejections, warnings } = await dryRunApply(server!.kubeConfig, [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'harness-restricted',
        labels: {
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/warn': 'restricted',
        },
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'root', namespace: 'harness-restricted' },
      spec: {
        selector: { matchLabels: { app: 'root' } },
        template: { metadata: { labels: { app: 'root' } }, spec: unhardened },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'root', namespace: 'harness-restricted' },
      spec: unhardened,
    },
  ]);

  expect(warnings).toEqual([
    expect.stringMatching(/^Deployment root: .*violate PodSecurity "restricted/),
  ]);
  expect(rejections).toEqual([
    expect.objectContaining({
      kind: 'Pod',
      message: expect.stringMatching(/violates PodSecurity/),
    }),
  ]);
}, 30_000);

describe.each(charts)('chart %s', (chart) => {
  beforeAll(() => buildDependencies(chart), 60_000);

  test.each(valuesFiles(chart))(
    'every object rendered with %s is accepted',
    async (file) => {
      const namespace = namespaceOf(chart);
      const objects = await render(chart, {
        valuesFiles: file === 'values.yaml' ? [] : [file],
        namespace,
      });
      expect(objects.length).toBeGreaterThan(0);

      const rendered = objects.map(({ source: _source, ...object }) => object);
      const { rejections, warnings } = await dryRunApply(server!.kubeConfig, rendered, {
        namespace,
      });
      // Warnings count too: Pod Security violations and deprecated APIs arrive as warnings.
      expect({ rejections: rejections.map(describeRejection), warnings }).toEqual({
        rejections: [],
        warnings: [],
      });
    },
    60_000,
  );

  test.each(valuesFiles(chart))(
    'helm lint --strict is clean with %s',
    async (file) => {
      const args = ['lint', '--strict', join(CHARTS, chart), '--values', join(CHARTS, chart, file)];
      const outcome = await helm(args).then(
        (out) => ({ passed: true, out }),
        (error: { stdout?: string; stderr?: string }) => ({
          passed: false,
          out: `${error.stdout ?? ''}${error.stderr ?? ''}`,
        }),
      );
      const problems = outcome.out.split('\n').filter((line) => /\[(ERROR|WARNING)\]/.test(line));
      expect({ passed: outcome.passed, problems }).toEqual({ passed: true, problems: [] });
    },
    60_000,
  );
});

test('an upgrade of the infra chart keeps its OpenSearch CA and admin password', async () => {
  // Installed for real this time (stored, no operator to act on it), so the chart's lookups find
  // it.
  const dir = mkdtempSync(join(tmpdir(), 'infra-upgrade-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, server!.kubeConfig.exportConfig(), { mode: 0o600 });
  const release = ['infra-upgrade', join(CHARTS, 'infra'), '--namespace', 'platform-infra'];
  const only = ['kafka', 'redis', 'vitess', 'cassandra', 'monitoring'].map(
    (component) => `--set=${component}.enabled=false`,
  );
  const common = ['--kubeconfig', kubeconfig, ...only];
  const secrets = async () => {
    const manifest = await helm([
      'get',
      'manifest',
      'infra-upgrade',
      '-n',
      'platform-infra',
      '--kubeconfig',
      kubeconfig,
    ]);
    const data = (name: string, namespace: string) =>
      readManifests(manifest).find(
        (o) =>
          o.kind === 'Secret' && o.metadata.name === name && o.metadata.namespace === namespace,
      )?.data as Record<string, string> | undefined;
    return {
      ca: data('platform-search-opensearch-ca', 'platform-infra'),
      caCopy: data('platform-search-opensearch-ca', 'platform'),
      admin: data('platform-search-opensearch-admin', 'platform-infra'),
      adminCopy: data('platform-search-opensearch-admin', 'platform'),
    };
  };
  try {
    await helm(['install', ...release, ...common]);
    const installed = await secrets();
    expect(installed.ca?.['ca.key']).toEqual(expect.any(String));
    expect(installed.admin?.password).toEqual(expect.any(String));

    await helm(['upgrade', ...release, ...common]);
    const upgraded = await secrets();
    expect(upgraded).toEqual(installed);
    expect(upgraded.caCopy).toEqual({ 'ca.crt': installed.ca!['ca.crt'] });

    // A password in the values replaces the kept one; the CA stays.
    await helm([
      'upgrade',
      ...release,
      ...common,
      '--set=opensearch.auth.password=chosen-password',
    ]);
    const chosen = await secrets();
    expect(Buffer.from(chosen.adminCopy!.password!, 'base64').toString()).toBe('chosen-password');
    expect(chosen.ca).toEqual(installed.ca);
  } finally {
    await helm([
      'uninstall',
      'infra-upgrade',
      '-n',
      'platform-infra',
      '--kubeconfig',
      kubeconfig,
    ]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

test('the OpenStreetMap extracts fit in the ConfigMap the navigation chart mounts', async () => {
  // What scripts/osm-configmap.sh has kubectl make: every extract as binaryData. The API server
  // refuses a ConfigMap over 1 MiB, which a third, larger extract shows.
  const dir = process.env.OSM_DIR ?? join(ROOT, 'data/osm');
  const extracts = readdirSync(dir).filter((file) => file.endsWith('.osm.pbf'));
  expect(extracts).toEqual(expect.arrayContaining(['andorra.osm.pbf', 'monaco.osm.pbf']));
  const binaryData = Object.fromEntries(
    extracts.map((file) => [file, readFileSync(join(dir, file)).toString('base64')]),
  );
  const configMap = (name: string, data: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'platform' },
    binaryData: data,
  });
  const tooBig = { ...binaryData, 'region.osm.pbf': Buffer.alloc(400 * 1024).toString('base64') };

  const { rejections } = await dryRunApply(server!.kubeConfig, [
    configMap('navigation-osm', binaryData),
    configMap('navigation-osm-too-big', tooBig),
  ]);
  expect(rejections.map((r) => [r.name, r.message])).toEqual([
    ['navigation-osm-too-big', expect.stringMatching(/1048576/)],
  ]);
}, 30_000);

test('every object in manifests/ and load-tests/ is accepted', async () => {
  const { rejections, warnings } = await dryRunApply(
    server!.kubeConfig,
    manifests.map(({ object }) => object),
    { namespace: 'platform' },
  );
  const fileOf = (r: Rejection) =>
    manifests.find(({ object }) => object.kind === r.kind && object.metadata.name === r.name)?.file;
  expect({
    rejections: rejections.map((r) => `${fileOf(r)}: ${describeRejection(r)}`),
    warnings,
  }).toEqual({ rejections: [], warnings: [] });
}, 60_000);
