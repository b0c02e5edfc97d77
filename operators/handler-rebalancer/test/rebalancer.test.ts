import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Event,
} from '@kubernetes/client-node';
import { createLogger } from '@platform/kit';
import { freePort } from '@platform/kit/testing';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  installCrds,
  startApiServer,
  type TestApiServer,
} from '../../../test/kubernetes/apiserver.ts';
import { createReadyPod } from '../../../test/kubernetes/pods.ts';
import { buildDependencies, render } from '../../../test/kubernetes/helm.ts';
import {
  GROUP,
  HandlerRebalancer,
  PLURAL,
  VERSION,
  type HandlerPool,
  type HandlerPoolSpec,
  type ResolveAdminUrl,
} from '../src/controller.ts';
import { httpHandlerAdmin } from '../src/handler-admin.ts';
import { createRebalancerMetrics, type RebalancerMetrics } from '../src/metrics.ts';
import { StandInHandler, StandInService } from './stand-in-handler.ts';

/**
 * The controller against a real kube-apiserver and etcd, with stand-in handler
 * processes on 127.0.0.1. Nothing runs pods: the test writes each Pod's status
 * (IP, Ready) itself, and an annotation names the stand-in's port.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CRDS = join(ROOT, 'manifests', 'crds');
const PORT_ANNOTATION = 'test.platform.dev/admin-port';
const HOLD = 'test.platform.dev/hold';

/** Every pod answers on 127.0.0.1, at the port its annotation names. */
const standInUrl: ResolveAdminUrl = (pod) => {
  const port = pod.metadata?.annotations?.[PORT_ANNOTATION];
  return pod.status?.podIP && port ? `http://127.0.0.1:${port}` : undefined;
};

let server: TestApiServer;
let core: CoreV1Api;
let custom: CustomObjectsApi;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  server = await startApiServer();
  await installCrds(server.kubeConfig, [CRDS]);
  core = server.kubeConfig.makeApiClient(CoreV1Api);
  custom = server.kubeConfig.makeApiClient(CustomObjectsApi);
}, 120_000);

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}, 30_000);

afterAll(async () => {
  await server?.stop();
}, 30_000);

let namespaces = 0;
async function namespace(): Promise<string> {
  const name = `pool-test-${++namespaces}`;
  await core.createNamespace({ body: { metadata: { name } } });
  // kube-controller-manager would add it; admission of pods needs it.
  await core.createNamespacedServiceAccount({
    namespace: name,
    body: { metadata: { name: 'default' } },
  });
  return name;
}

/** Stand-ins listening, each with a ready Pod pointing at it. */
async function handlers(ns: string, loads: Record<string, number>): Promise<StandInService> {
  const service = new StandInService();
  for (const [name, connections] of Object.entries(loads)) {
    const handler = new StandInHandler(name, connections);
    const port = await handler.listen();
    cleanups.push(() => handler.close());
    service.add(handler);
    await createReadyPod(core, ns, {
      name,
      labels: { app: 'chat-handler' },
      annotations: { [PORT_ANNOTATION]: String(port) },
    });
  }
  return service;
}

async function createPool(ns: string, spec: Partial<HandlerPoolSpec>): Promise<void> {
  await custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    namespace: ns,
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'HandlerPool',
      metadata: { name: 'handlers' },
      spec: { selector: { matchLabels: { app: 'chat-handler' } }, ...spec },
    },
  });
}

async function readPool(ns: string): Promise<HandlerPool> {
  return (await custom.getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    namespace: ns,
    name: 'handlers',
  })) as HandlerPool;
}

async function events(ns: string): Promise<CoreV1Event[]> {
  return (await core.listNamespacedEvent({ namespace: ns })).items;
}

function rebalancer(
  ns: string,
  identity = 'rebalancer-0',
  leaseSeconds = 15,
  kubeConfig = server.kubeConfig,
): { controller: HandlerRebalancer; metrics: RebalancerMetrics } {
  const metrics = createRebalancerMetrics();
  const controller = new HandlerRebalancer({
    kubeConfig,
    namespace: ns,
    lease: {
      namespace: ns,
      name: 'handler-rebalancer',
      identity,
      durationSeconds: leaseSeconds,
      renewSeconds: Math.max(1, Math.floor(leaseSeconds / 3)),
    },
    pollSeconds: 0.3,
    admin: httpHandlerAdmin(1000),
    resolveAdminUrl: standInUrl,
    logger: createLogger('handler-rebalancer-test', 'silent'),
    metrics,
  });
  cleanups.push(() => controller.stop({ releaseLease: false }));
  return { controller, metrics };
}

async function until<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined | false> | T | undefined | false,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function actions(metrics: RebalancerMetrics): Promise<number> {
  const metric = await metrics.actions.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

const conditionOf = (pool: HandlerPool, type: string) =>
  pool.status?.conditions?.find((c) => c.type === type);

/** mean + max(fraction × mean, floor): the spread the pool allows. */
const withinLimit = (counts: number[], fraction: number, floor: number) => {
  const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
  return Math.max(...counts) <= mean + Math.max(fraction * mean, floor);
};

test('spreads 1,000 connections on one handler over two new empty ones', async () => {
  const ns = await namespace();
  const service = await handlers(ns, { 'handler-a': 1000, 'handler-b': 0, 'handler-c': 0 });
  await createPool(ns, {
    allowedImbalance: { fraction: 0.1, minConnections: 20 },
    drainRate: 1000,
    cooldownSeconds: 1,
  });
  const { controller, metrics } = rebalancer(ns);
  await controller.start();

  await until('the spread within the allowed imbalance', 20_000, () =>
    withinLimit(Object.values(service.counts()), 0.1, 20),
  );
  expect(Object.values(service.counts()).reduce((a, b) => a + b, 0)).toBe(1000);
  expect(service.handlers[0]!.drains[0]).toMatchObject({ connections: 666, perSecond: 1000 });

  // Status: Balanced with this generation, the handlers' counts, the last action.
  const pool = await until('a Balanced status', 10_000, async () => {
    const read = await readPool(ns);
    return conditionOf(read, 'Balanced')?.status === 'True' &&
      conditionOf(read, 'Rebalancing')?.status === 'False'
      ? read
      : undefined;
  });
  const generation = pool.metadata!.generation;
  expect(pool.status!.observedGeneration).toBe(generation);
  for (const type of ['Balanced', 'Rebalancing', 'Degraded']) {
    expect(conditionOf(pool, type)).toMatchObject({ observedGeneration: generation });
  }
  expect(conditionOf(pool, 'Degraded')).toMatchObject({ status: 'False' });
  expect(pool.status!.servingHandlers).toBe(3);
  expect(pool.status!.lastActionTime).toEqual(expect.any(String));
  const reported = Object.fromEntries(pool.status!.handlers!.map((h) => [h.name, h.connections]));
  expect(Object.values(reported).reduce((a, b) => a! + b!, 0)).toBe(1000);
  expect(Math.max(...(Object.values(reported) as number[]))).toBeLessThanOrEqual(
    pool.status!.limitConnections!,
  );

  const reasons = (await events(ns)).map((e) => e.reason);
  expect(reasons).toEqual(expect.arrayContaining(['Rebalancing', 'Balanced']));
  expect(await actions(metrics)).toBeGreaterThanOrEqual(1);
  const perHandler = await metrics.connections.get();
  expect(perHandler.values.map((v) => v.labels.handler).sort()).toEqual([
    'handler-a',
    'handler-b',
    'handler-c',
  ]);

  // A spec change is a new generation, and the conditions follow it.
  await custom.patchNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: ns,
      name: 'handlers',
      body: { spec: { cooldownSeconds: 2 } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  await until('the new generation observed', 10_000, async () => {
    const read = await readPool(ns);
    return (
      read.metadata!.generation === generation! + 1 &&
      read.status?.observedGeneration === generation! + 1 &&
      read.status.conditions!.every((c) => c.observedGeneration === generation! + 1)
    );
  });
}, 60_000);

test('drains a terminating handler pod to zero', async () => {
  const ns = await namespace();
  const service = await handlers(ns, { 'handler-a': 300, 'handler-b': 300, 'handler-c': 300 });
  await createPool(ns, { drainRate: 500, cooldownSeconds: 60 });
  const { controller } = rebalancer(ns);
  await controller.start();
  await until('a Balanced status', 10_000, async () => {
    return conditionOf(await readPool(ns), 'Balanced')?.status === 'True';
  });

  // A finalizer keeps the deleted pod around with its deletionTimestamp, as a kubelet would.
  await core.patchNamespacedPod(
    { namespace: ns, name: 'handler-b', body: { metadata: { finalizers: [HOLD] } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  cleanups.push(() =>
    core.patchNamespacedPod(
      { namespace: ns, name: 'handler-b', body: { metadata: { finalizers: null } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ),
  );
  service.handlers[1]!.terminating = true;
  await core.deleteNamespacedPod({ namespace: ns, name: 'handler-b' });

  // Within the 60 s cool-down of the first action, were there one: evacuation is not held back.
  await until('handler-b empty', 10_000, () => service.handlers[1]!.connections === 0);
  expect(service.handlers[1]!.drains).toEqual([
    expect.objectContaining({ connections: 300, perSecond: 500 }),
  ]);
  expect(service.handlers[0]!.connections + service.handlers[2]!.connections).toBe(900);
  await until('a Drained event', 10_000, async () =>
    (await events(ns)).some((e) => e.reason === 'Drained' && /handler-b/.test(e.message ?? '')),
  );
  const pool = await readPool(ns);
  expect(pool.status!.handlers!.find((h) => h.name === 'handler-b')).toMatchObject({
    terminating: true,
    connections: 0,
  });
}, 60_000);

test('waits out the cool-down between two actions', async () => {
  const ns = await namespace();
  const service = await handlers(ns, { 'handler-a': 1000, 'handler-b': 0 });
  // Clients that always come back to the handler they left: the imbalance never goes away.
  service.route = (from) => from;
  await createPool(ns, { drainRate: 2000, cooldownSeconds: 2 });
  const { controller } = rebalancer(ns);
  await controller.start();

  await until('three drains', 15_000, () => service.handlers[0]!.drains.length >= 3);
  const times = service.handlers[0]!.drains.map((d) => d.at);
  for (let i = 1; i < times.length; i++) {
    expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1800);
  }
  const pool = await readPool(ns);
  expect(conditionOf(pool, 'Balanced')).toMatchObject({ status: 'False', reason: 'OverLimit' });
}, 60_000);

test('only the Lease holder acts; the other takes over when it stops renewing', async () => {
  const ns = await namespace();
  const service = await handlers(ns, { 'handler-a': 0, 'handler-b': 0 });
  await createPool(ns, { drainRate: 1000, cooldownSeconds: 0 });
  const first = rebalancer(ns, 'rebalancer-a', 3);
  const second = rebalancer(ns, 'rebalancer-b', 3);
  await first.controller.start();
  await until('rebalancer-a leading', 10_000, () => first.controller.isLeader);
  await second.controller.start();
  await sleep(1500);
  expect(second.controller.isLeader).toBe(false);

  // An imbalance: only the leader acts on it.
  service.handlers[0]!.connections = 400;
  await until('the first rebalance', 10_000, () =>
    withinLimit(Object.values(service.counts()), 0.1, 20),
  );
  expect(await actions(first.metrics)).toBeGreaterThanOrEqual(1);
  expect(await actions(second.metrics)).toBe(0);

  // The leader stops without handing the Lease back, as a crashed pod would.
  await first.controller.stop({ releaseLease: false });
  const stoppedAt = Date.now();
  await until('rebalancer-b leading', 15_000, () => second.controller.isLeader);
  // Not before the lease ran out (3 s, less the renew period already gone).
  expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(1000);

  service.handlers[1]!.connections += 600;
  await until('the second rebalance', 10_000, async () => (await actions(second.metrics)) >= 1);
  await until('the spread within the allowed imbalance', 10_000, () =>
    withinLimit(Object.values(service.counts()), 0.1, 20),
  );
  // Each leader's Event is written after its drain is asked for, so it may trail the metric.
  const instances = async () =>
    new Set(
      (await events(ns)).filter((e) => e.reason === 'Rebalancing').map((e) => e.reportingInstance),
    );
  await until('an Event from each leader', 10_000, async () => (await instances()).size === 2);
  expect(await instances()).toEqual(new Set(['rebalancer-a', 'rebalancer-b']));
}, 60_000);

test('reports a handler whose load cannot be read as Degraded, and balances the rest', async () => {
  const ns = await namespace();
  const service = await handlers(ns, { 'handler-a': 500, 'handler-b': 0, 'handler-c': 40 });
  await service.handlers[2]!.close();
  await createPool(ns, { drainRate: 1000, cooldownSeconds: 1 });
  const { controller } = rebalancer(ns);
  await controller.start();

  const pool = await until('a Degraded status', 10_000, async () => {
    const read = await readPool(ns);
    return conditionOf(read, 'Degraded')?.status === 'True' ? read : undefined;
  });
  expect(conditionOf(pool, 'Degraded')).toMatchObject({
    reason: 'HandlerUnreachable',
    message: expect.stringContaining('handler-c'),
  });
  expect(pool.status!.handlers!.find((h) => h.name === 'handler-c')).toMatchObject({
    ready: true,
    reachable: false,
  });
  // The unreadable handler is left out of the mean: a and b split their 500.
  await until('a and b level', 10_000, () =>
    withinLimit([service.handlers[0]!.connections, service.handlers[1]!.connections], 0.1, 20),
  );
}, 60_000);

test('works with nothing but the RBAC its chart grants', async () => {
  const ns = await namespace();
  await buildDependencies('handler-rebalancer');
  const objects = await render('handler-rebalancer', { release: 'chat', namespace: ns });
  const objectApi = KubernetesObjectApi.makeApiClient(server.kubeConfig);
  for (const object of objects.map(({ source: _source, ...o }) => o)) {
    if (['ServiceAccount', 'Role', 'RoleBinding'].includes(object.kind)) {
      await objectApi.create({ ...object, metadata: { ...object.metadata, namespace: ns } });
    }
  }

  // A token of the chart's service account, as the pod would have it mounted.
  const account = objects.find((o) => o.kind === 'ServiceAccount')!.metadata.name;
  const { status } = await core.createNamespacedServiceAccountToken({
    namespace: ns,
    name: account,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const asAccount = new KubeConfig();
  const cluster = server.kubeConfig.getCurrentCluster()!;
  asAccount.loadFromOptions({
    clusters: [cluster],
    users: [{ name: account, token: status!.token }],
    contexts: [{ name: 'operator', cluster: cluster.name, user: account }],
    currentContext: 'operator',
  });
  // The chart's Role names the Lease it may update: the operator must use that name.
  const service = await handlers(ns, { 'handler-a': 600, 'handler-b': 0 });
  await createPool(ns, { drainRate: 1000, cooldownSeconds: 1 });
  const { controller } = rebalancer(ns, 'rebalancer-rbac', 15, asAccount);
  await controller.start();

  await until('the spread within the allowed imbalance', 15_000, () =>
    withinLimit(Object.values(service.counts()), 0.1, 20),
  );
  await until('a Balanced status', 10_000, async () => {
    return conditionOf(await readPool(ns), 'Balanced')?.status === 'True';
  });
  expect((await events(ns)).map((e) => e.reason)).toEqual(
    expect.arrayContaining(['Rebalancing', 'Balanced']),
  );
  expect(controller.isLeader).toBe(true);
}, 60_000);

test('the process: status from pod IPs, /readyz, /metrics, and the Lease handed back on SIGTERM', async () => {
  const ns = await namespace();
  const service = await handlers(ns, { 'handler-a': 250 });
  const standInPort = Number(
    (await core.readNamespacedPod({ namespace: ns, name: 'handler-a' })).metadata!.annotations![
      PORT_ANNOTATION
    ],
  );
  // Here the pool's adminPort and the pod's IP find the handler, as in a cluster.
  await createPool(ns, { adminPort: standInPort });

  const dir = mkdtempSync(join(tmpdir(), 'rebalancer-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'kubeconfig'), server.kubeConfig.exportConfig(), { mode: 0o600 });
  const port = await freePort();
  const child = spawn(process.execPath, ['operators/handler-rebalancer/src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: dirname(process.execPath),
      KUBECONFIG: join(dir, 'kubeconfig'),
      PORT: String(port),
      WATCH_NAMESPACE: ns,
      POD_NAME: 'rebalancer-process',
      LEASE_DURATION_SECONDS: '15',
      LEASE_RENEW_SECONDS: '1',
      POLL_SECONDS: '0.5',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const get = (path: string) =>
    fetch(`http://127.0.0.1:${port}${path}`).then(
      async (r) => ({ status: r.status, text: await r.text() }),
      () => ({ status: 0, text: '' }),
    );

  await until(`/readyz 200 (${stderr})`, 20_000, async () => (await get('/readyz')).status === 200);
  expect((await get('/healthz')).status).toBe(200);
  const pool = await until('the handler counted in the status', 15_000, async () => {
    const read = await readPool(ns);
    return read.status?.handlers?.[0]?.connections === 250 ? read : undefined;
  });
  expect(conditionOf(pool, 'Balanced')?.status).toBe('True');
  expect(service.handlers[0]!.drains).toEqual([]);
  const metrics = (await get('/metrics')).text;
  expect(metrics).toMatch(/^chat_rebalancer_leader\{[^}]*\} 1$/m);
  expect(metrics).toMatch(
    /^chat_rebalancer_handler_connections\{[^}]*handler="handler-a"[^}]*\} 250$/m,
  );

  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  const lease = await server.kubeConfig
    .makeApiClient(CoordinationV1Api)
    .readNamespacedLease({ namespace: ns, name: 'handler-rebalancer' });
  expect(lease.spec?.holderIdentity).toBeUndefined();
}, 60_000);

test('the API server refuses a pool that breaks the schema', async () => {
  const ns = await namespace();
  const refused = async (spec: object) => {
    try {
      await custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: ns,
        body: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: 'HandlerPool',
          metadata: { generateName: 'bad-' },
          spec,
        },
      });
      return '';
    } catch (error) {
      return String((error as { body?: unknown }).body);
    }
  };
  const selector = { matchLabels: { app: 'chat-handler' } };
  expect(await refused({ selector, drainRate: 0 })).toMatch(/drainRate/);
  expect(await refused({ selector, cooldownSeconds: -1 })).toMatch(/cooldownSeconds/);
  expect(await refused({ selector, allowedImbalance: { minConnections: -5 } })).toMatch(
    /minConnections/,
  );
  expect(await refused({ selector: {} })).toMatch(/selector/);
  expect(await refused({ selector, adminPort: 70000 })).toMatch(/adminPort/);

  // Defaults fill what a pool leaves out.
  await createPool(ns, {});
  expect((await readPool(ns)).spec).toMatchObject({
    allowedImbalance: { fraction: 0.1, minConnections: 20 },
    drainRate: 50,
    cooldownSeconds: 30,
  });
}, 30_000);
