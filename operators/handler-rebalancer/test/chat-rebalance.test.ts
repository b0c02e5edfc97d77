import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { createLogger } from '@platform/kit';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  HandlerService,
  inBatches,
  JITTERED,
  type ReconnectingClient,
} from '../../../services/chat/test/reconnecting-client.ts';
import type { ChatProcess } from '../../../services/chat/test/processes.ts';
import { startSystem, type ChatSystem } from '../../../services/chat/test/system.ts';
import {
  deliveryReport,
  directConversations,
  makeClients,
  registerUsers,
  sendRound,
  until,
} from '../../../services/chat/test/workload.ts';
import {
  installCrds,
  startApiServer,
  type TestApiServer,
} from '../../../test/kubernetes/apiserver.ts';
import { createReadyPod } from '../../../test/kubernetes/pods.ts';
import {
  GROUP,
  HandlerRebalancer,
  PLURAL,
  VERSION,
  type HandlerPool,
  type ResolveAdminUrl,
} from '../src/controller.ts';
import { httpHandlerAdmin } from '../src/handler-admin.ts';
import { createRebalancerMetrics } from '../src/metrics.ts';

/**
 * Rebalancing end to end: the real controller against a real kube-apiserver,
 * and real chat handler processes on Redis, Cassandra and MySQL, each
 * represented by a Pod whose status the test writes (nothing runs pods here)
 * with an annotation naming its admin port. Clients reconnect with jittered
 * backoff through a stand-in Service that picks a ready handler at random,
 * the draining one included, as a Service would.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PORT_ANNOTATION = 'test.platform.dev/admin-port';
const NAMESPACE = 'chat-rebalance';
const CLIENTS = 1000;
const IMBALANCE = { fraction: 0.1, minConnections: 20 };
/** From the new pods' readiness to a spread within the allowed imbalance. */
const BALANCED_WITHIN_MS = 60_000;

const adminUrl: ResolveAdminUrl = (pod) => {
  const port = pod.metadata?.annotations?.[PORT_ANNOTATION];
  return pod.status?.podIP && port ? `http://127.0.0.1:${port}` : undefined;
};

let server: TestApiServer;
let system: ChatSystem;
let controller: HandlerRebalancer;
let clients: ReconnectingClient[] = [];

beforeAll(async () => {
  [server, system] = await Promise.all([
    startApiServer(),
    startSystem('real', 1, {
      env: { HEARTBEAT_MS: '10000', PENDING_PULL_MS: '3000', DIRECTORY_TTL_MS: '15000' },
    }),
  ]);
  await installCrds(server.kubeConfig, [join(ROOT, 'manifests', 'crds')]);
  const core = server.kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  await core.createNamespacedServiceAccount({
    namespace: NAMESPACE,
    body: { metadata: { name: 'default' } },
  });
}, 150_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await controller?.stop({ releaseLease: false });
  await system?.stop();
  await server?.stop();
}, 60_000);

/** A Pod for a handler process, Ready as soon as the test says so. */
async function handlerPod(handler: ChatProcess): Promise<void> {
  const core = server.kubeConfig.makeApiClient(CoreV1Api);
  await createReadyPod(core, NAMESPACE, {
    name: handler.name,
    labels: { app: 'chat-handler' },
    annotations: { [PORT_ANNOTATION]: new URL(handler.adminUrl).port },
  });
}

/** Open connections per handler, from each one's admin contract. */
async function loads(handlers: ChatProcess[]): Promise<number[]> {
  return Promise.all(
    handlers.map(async (h) => {
      const load = (await (await fetch(`${h.adminUrl}/admin/load`)).json()) as {
        connections: number;
      };
      return load.connections;
    }),
  );
}

const withinLimit = (counts: number[]) => {
  const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
  return (
    Math.max(...counts) <= mean + Math.max(IMBALANCE.fraction * mean, IMBALANCE.minConnections)
  );
};

test('1,000 clients on one handler spread over two new ones, no message lost or doubled', async () => {
  const [h1] = system.handlers as [ChatProcess];
  const service = new HandlerService();
  service.setReady([h1.wsUrl]);
  await handlerPod(h1);
  const custom = server.kubeConfig.makeApiClient(CustomObjectsApi);
  await custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
    namespace: NAMESPACE,
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'HandlerPool',
      metadata: { name: 'handlers' },
      spec: {
        selector: { matchLabels: { app: 'chat-handler' } },
        allowedImbalance: IMBALANCE,
        drainRate: 200,
        cooldownSeconds: 2,
      },
    },
  });
  controller = new HandlerRebalancer({
    kubeConfig: server.kubeConfig,
    namespace: NAMESPACE,
    lease: {
      namespace: NAMESPACE,
      name: 'handler-rebalancer',
      identity: 'rebalancer-0',
      durationSeconds: 15,
      renewSeconds: 5,
    },
    pollSeconds: 0.5,
    admin: httpHandlerAdmin(2000),
    resolveAdminUrl: adminUrl,
    logger: createLogger('chat-rebalance-test', 'silent'),
    metrics: createRebalancerMetrics(),
  });
  await controller.start();

  clients = await makeClients(CLIENTS, service, JITTERED);
  await registerUsers(clients, system.env.MYSQL_URL!);
  await inBatches(clients, 100, (client) => client.start());
  const conversations = directConversations(clients);
  expect(await loads([h1])).toEqual([CLIENTS]);

  // Messages throughout: an eighth of the conversations send every 500 ms, in turn.
  let sending = true;
  let round = 0;
  const sender = (async () => {
    while (sending) {
      round++;
      sendRound(
        conversations.filter((_, i) => i % 8 === round % 8),
        round,
      );
      await sleep(500);
    }
  })();
  const sent = () => clients.reduce((sum, c) => sum + c.outgoing.length, 0);
  await sleep(1000);

  // Scale-out: two handlers start, their pods become ready, the Service adds them.
  const added = [await system.addHandler('h2'), await system.addHandler('h3')];
  await Promise.all(added.map((h) => handlerPod(h)));
  const handlers = [h1, ...added];
  service.setReady(handlers.map((h) => h.wsUrl));
  const readyAt = performance.now();
  const sentBefore = sent();

  let counts: number[] = [];
  await until(
    'the spread within the allowed imbalance, every client connected',
    BALANCED_WITHIN_MS,
    async () => {
      counts = await loads(handlers);
      const connected = clients.filter((c) => c.connected).length;
      return (
        connected === CLIENTS &&
        counts.reduce((a, b) => a + b, 0) === CLIENTS &&
        withinLimit(counts)
      );
    },
    () => counts,
  );
  const balancedInMs = performance.now() - readyAt;
  const sentDuring = sent() - sentBefore;
  expect(balancedInMs).toBeLessThan(BALANCED_WITHIN_MS);
  expect(Math.min(...counts)).toBeGreaterThan(CLIENTS / 6);

  // The clients that moved were asked to (1012), and came back on another handler or h1.
  const moved = clients.filter((c) => c.reconnects.length > 0);
  expect(moved.length).toBeGreaterThanOrEqual(CLIENTS / 2);
  expect(moved.every((c) => c.reconnects.every((r) => r.code === 1012))).toBe(true);

  sending = false;
  await sender;
  await until('every message acknowledged', 60_000, () => clients.every((c) => c.unacked === 0));
  await until(
    'every acknowledged message delivered',
    30_000,
    () => deliveryReport(conversations).lost === 0,
    () => deliveryReport(conversations),
  );
  expect(clients.flatMap((c) => c.errors).slice(0, 3)).toEqual([]);
  const report = deliveryReport(conversations);
  expect(report).toMatchObject({ unacked: 0, lost: 0, duplicates: 0, unknown: 0, outOfOrder: 0 });
  expect(sentDuring).toBeGreaterThan(CLIENTS / 2);
  expect(report.held).toBe(sent());

  // The pool's status says so too.
  await until('a Balanced pool', 20_000, async () => {
    const pool = (await custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: NAMESPACE,
      name: 'handlers',
    })) as HandlerPool;
    return pool.status?.conditions?.find((c) => c.type === 'Balanced')?.status === 'True';
  });
}, 240_000);
