import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratchDatabase, serverAddress } from '@platform/kit/testing';
import { installCrds, startApiServer } from '../kubernetes/apiserver.ts';
import { createReadyPod } from '../kubernetes/pods.ts';
import { buildDependencies, render } from '../kubernetes/helm.ts';
import {
  freePort,
  startRole,
  type ServiceProcess,
} from '../../services/url-shortener/test/processes.ts';
import type { ScrapeJob } from './prometheus.ts';

/**
 * The systems the dashboard test runs, one process per role on the real
 * servers, each scraped under the job name its chart's ServiceMonitor gives.
 */
export interface ObservedSystem {
  /** The system's name, which is also its chart's. */
  name: string;
  jobs: ScrapeJob[];
  /** Where its k6 script (load-tests/<name>/script.js) runs, and with what settings. */
  baseUrl: string;
  k6Env: Record<string, string>;
  /** Lines the k6 summary must show: each SLO threshold, held. */
  thresholds: string[];
  stop(): Promise<void>;
}

interface Run {
  /** Short random id, so suites running side by side on the same servers stay apart. */
  id: string;
  /** The namespace label every target gets, as in a cluster. */
  namespace: string;
  /** Settings of every server address, shared by the systems. */
  servers: Record<string, string>;
}

export function serversFor(id: string): Record<string, string> {
  return {
    KAFKA_BROKERS: serverAddress('KAFKA_BROKERS'),
    REDIS_URL: serverAddress('REDIS_URL'),
    MYSQL_URL: serverAddress('MYSQL_URL'),
    CASSANDRA_CONTACT_POINTS: serverAddress('CASSANDRA_CONTACT_POINTS'),
    // Other suites run the systems on the same servers at the same time.
    CASSANDRA_KEYSPACE: `obs_${id}`,
    NAME_PREFIX: `obs-${id}.`,
    LOG_LEVEL: 'warn',
  };
}

/** The labels the charts' ServiceMonitors give: job is "<chart>-<role>". */
function target(run: Run, system: string, role: string, port: number): ScrapeJob {
  return {
    job: `${system}-${role}`,
    targets: [
      {
        address: `127.0.0.1:${port}`,
        labels: { namespace: run.namespace, pod: `${system}-${role}-${run.id}` },
      },
    ],
  };
}

async function stopAll(processes: ServiceProcess[]): Promise<void> {
  await Promise.all(processes.map((service) => service.kill('SIGTERM')));
}

/** Settled, not raced: a role that fails must not leave the others running unseen. */
async function startAll(
  starts: Promise<ServiceProcess>[],
  processes: ServiceProcess[],
): Promise<ServiceProcess[]> {
  const results = await Promise.allSettled(
    starts.map((start) =>
      start.then((service) => {
        processes.push(service);
        return service;
      }),
    ),
  );
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    await stopAll(processes);
    throw failed.reason;
  }
  return results.map((r) => (r as PromiseFulfilledResult<ServiceProcess>).value);
}

export async function startUrlShortener(run: Run): Promise<ObservedSystem> {
  const env = {
    ...run.servers,
    CODE_SECRET: `obs-secret-${run.id}`,
    // k6 is one client; leases and flushes often enough to show on the panels.
    CREATE_RATE_LIMIT: '1000000',
    LEASE_SIZE: '20',
    CLICK_FLUSH_MS: '500',
  };
  const processes: ServiceProcess[] = [];
  const [tokenPort, aggregatorPort, apiPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const [tokenService] = await startAll(
    [
      startRole('url-shortener-token-service', 'token-service', tokenPort, {
        ...env,
        TOKEN_SERVICE_PORT: String(tokenPort),
      }),
      startRole('url-shortener-click-aggregator', 'click-aggregator', aggregatorPort, {
        ...env,
        AGGREGATOR_PORT: String(aggregatorPort),
      }),
    ],
    processes,
  );
  const [api] = await startAll(
    [
      startRole('url-shortener-api', 'api', apiPort, {
        ...env,
        PORT: String(apiPort),
        PUBLIC_BASE_URL: `http://127.0.0.1:${apiPort}`,
        TOKEN_SERVICE_URLS: tokenService!.url,
      }),
    ],
    processes,
  );
  return {
    name: 'url-shortener',
    jobs: [
      target(run, 'url-shortener', 'api', apiPort),
      target(run, 'url-shortener', 'token-service', tokenPort),
      target(run, 'url-shortener', 'click-aggregator', aggregatorPort),
    ],
    baseUrl: api!.url,
    k6Env: { RATE: '30', DURATION: '20s' },
    thresholds: [
      "http_req_duration{op:redirect}\n    ✓ 'p(99)<100'",
      "http_req_duration{op:create}\n    ✓ 'p(95)<250'",
      "http_req_failed\n    ✓ 'rate<0.001'",
    ],
    stop: () => stopAll(processes),
  };
}

const HOTEL_MAIN = fileURLToPath(
  new URL('../../services/hotel-booking/src/main.ts', import.meta.url),
);

export async function startHotelBooking(run: Run): Promise<ObservedSystem> {
  // A database of its own, dropped afterwards, like the system's other suites.
  const database = await scratchDatabase('obs_hotel');
  const env = {
    ...run.servers,
    MYSQL_URL: database.url,
    // Holds short enough that some run out during the run and the releaser frees them.
    HOLD_TTL_MS: '4000',
    SWEEP_INTERVAL_MS: '1000',
    INVENTORY_DAYS: '60',
    // One search index for the API and the indexer, and cancellations archived within the run.
    OPENSEARCH_URL: serverAddress('OPENSEARCH_URL'),
    ARCHIVE_INTERVAL_MS: '2000',
    ARCHIVE_CANCELLED_AFTER_MS: '1000',
  };
  const processes: ServiceProcess[] = [];
  // Every role, each on its own port with the variable that moves it.
  const roles: [role: string, portVariable: string][] = [
    ['api', 'PORT'],
    ['hold-releaser', 'RELEASER_PORT'],
    ['event-relay', 'RELAY_PORT'],
    ['notifier', 'NOTIFIER_PORT'],
    ['archiver', 'ARCHIVER_PORT'],
    ['search-indexer', 'SEARCH_INDEXER_PORT'],
  ];
  const ports = new Map<string, number>();
  for (const [role] of roles) ports.set(role, await freePort());
  let api: ServiceProcess;
  try {
    [api] = (await startAll(
      roles.map(([role, portVariable]) =>
        startRole(
          `hotel-booking-${role}`,
          role,
          ports.get(role)!,
          { ...env, [portVariable]: String(ports.get(role)) },
          HOTEL_MAIN,
        ),
      ),
      processes,
    )) as ServiceProcess[] as [ServiceProcess];
  } catch (error) {
    await database.drop();
    throw error;
  }
  return {
    name: 'hotel-booking',
    jobs: roles.map(([role]) => target(run, 'hotel-booking', role, ports.get(role)!)),
    baseUrl: api.url,
    // Stays within the 60 nights on sale; a hot room fought over by 5 guests; about 180
    // searches, so their p95 is not decided by the slowest three as it was with 50.
    k6Env: {
      RATE: '20',
      DURATION: '20s',
      HOT_VUS: '5',
      STAY_WINDOW_DAYS: '45',
      SEARCH_RATE: '10',
    },
    thresholds: [
      "http_req_duration{op:book}\n    ✓ 'p(95)<300'",
      "http_req_duration{op:search}\n    ✓ 'p(95)<200'",
      "http_req_failed\n    ✓ 'rate<0.001'",
      "checks\n    ✓ 'rate>0.999'",
    ],
    async stop() {
      await stopAll(processes);
      await database.drop();
    },
  };
}

const NAVIGATION_MAIN = fileURLToPath(
  new URL('../../services/navigation/src/main.ts', import.meta.url),
);

export async function startNavigation(run: Run): Promise<ObservedSystem> {
  // What the chart sets: the place index on OpenSearch, and nothing else of the servers. The
  // Monaco extract loads in a second; the load test draws its points there.
  const env = {
    NAME_PREFIX: run.servers.NAME_PREFIX!,
    LOG_LEVEL: run.servers.LOG_LEVEL!,
    OPENSEARCH_URL: serverAddress('OPENSEARCH_URL'),
    OSM_FILE: 'monaco.osm.pbf',
  };
  const processes: ServiceProcess[] = [];
  const port = await freePort();
  const [api] = await startAll(
    [startRole('navigation-api', 'api', port, { ...env, PORT: String(port) }, NAVIGATION_MAIN)],
    processes,
  );
  return {
    name: 'navigation',
    jobs: [target(run, 'navigation', 'api', port)],
    baseUrl: api!.url,
    // A traffic update every 3 s, so the run shows several (each empties the route cache).
    k6Env: { EXTRACT: 'monaco', RATE: '10', DURATION: '20s', TRAFFIC_EVERY: '3' },
    thresholds: [
      "http_req_duration{op:route}\n    ✓ 'p(95)<200'",
      "http_req_failed\n    ✓ 'rate<0.001'",
      "checks\n    ✓ 'rate>0.999'",
    ],
    stop: () => stopAll(processes),
  };
}

const CHAT_MAIN = fileURLToPath(new URL('../../services/chat/src/main.ts', import.meta.url));
const ROOT_DIR = fileURLToPath(new URL('../../', import.meta.url));
const REBALANCER_MAIN = join(ROOT_DIR, 'operators/handler-rebalancer/src/main.ts');

/**
 * Chat as the chart runs it: two handler processes ("api,handler" and "handler", each named
 * after its pod), the fan-out worker when this branch has the role, and the rebalancing
 * operator's own process, against a test kube-apiserver holding the chart's HandlerPool and a
 * Pod per handler (nothing runs pods there: the Pods' status says ready at 127.0.0.1, and
 * each names its handler's admin port). k6 connects every client to the first handler, so the
 * operator has connections to move.
 */
export async function startChat(run: Run): Promise<ObservedSystem> {
  const database = await scratchDatabase('obs_chat');
  const env = {
    ...run.servers,
    MYSQL_URL: database.url,
    REDIS_URL: serverAddress('REDIS_URL'),
    TOKEN_SECRET: `obs-chat-token-secret-${run.id}-0123456789abcdef`,
    // k6 is one client signing 2 × PAIRS users up and in; cheap hashes keep setup short.
    SIGN_IN_RATE_LIMIT: '1000000',
    PASSWORD_HASH_LOG_N: '10',
    // Messages a drained recipient missed come back within a second of its reconnect.
    PENDING_PULL_MS: '1000',
    DRAIN_GRACE_MS: '2000',
  };
  const processes: ServiceProcess[] = [];
  const cleanups: (() => Promise<unknown>)[] = [() => database.drop()];
  const stop = async () => {
    await stopAll(processes);
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const handlers = [`chat-handler-${run.id}-0`, `chat-handler-${run.id}-1`];
    const ports = [await freePort(), await freePort()];
    const adminPorts = [await freePort(), await freePort()];
    const started = await startAll(
      handlers.map((name, i) =>
        startRole(
          name,
          i === 0 ? 'api,handler' : 'handler',
          ports[i]!,
          {
            ...env,
            PORT: String(ports[i]),
            ADMIN_PORT: String(adminPorts[i]),
            HANDLER_ID: name,
          },
          CHAT_MAIN,
        ),
      ),
      processes,
    );

    const fanoutPort = await freePort();
    // One job for both handlers, as the chart's one ServiceMonitor scrapes every handler pod.
    const jobs: ScrapeJob[] = [
      {
        job: 'chat-handler',
        targets: handlers.map((name, i) => ({
          address: `127.0.0.1:${ports[i]}`,
          labels: { namespace: run.namespace, pod: name },
        })),
      },
    ];
    // The group fan-out worker (a failure to start it stops them all).
    await startAll(
      [
        startRole(
          'chat-fanout',
          'fanout',
          fanoutPort,
          { ...env, PORT: String(fanoutPort) },
          CHAT_MAIN,
        ),
      ],
      processes,
    );
    jobs.push(target(run, 'chat', 'fanout', fanoutPort));

    jobs.push(await startRebalancer(run, handlers, adminPorts, cleanups));
    return {
      name: 'chat',
      jobs,
      baseUrl: started[0]!.url,
      // Sessions of 8 s, so clients reconnect during the run; 6 pairs, all on the first handler.
      k6Env: {
        PAIRS: '6',
        DURATION: '25s',
        SESSION: '8s',
        MESSAGE_EVERY_MS: '300',
        REST_RATE: '2',
      },
      thresholds: [
        "chat_send_to_deliver\n    ✓ 'p(95)<200'",
        "chat_delivery_failed\n    ✓ 'rate<0.001'",
        "http_req_failed\n    ✓ 'rate<0.001'",
        "checks\n    ✓ 'rate>0.999'",
      ],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The rebalancing operator (operators/handler-rebalancer/src/main.ts, the process its chart
 * runs) against a kube-apiserver with the chart's HandlerPool, its floor made small enough for
 * the run's dozen connections to exceed.
 */
async function startRebalancer(
  run: Run,
  handlers: string[],
  adminPorts: number[],
  cleanups: (() => Promise<unknown>)[],
): Promise<ScrapeJob> {
  const server = await startApiServer();
  cleanups.push(() => server.stop());
  await installCrds(server.kubeConfig, [join(ROOT_DIR, 'manifests/crds')]);
  const core = server.kubeConfig.makeApiClient(CoreV1Api);
  const custom = server.kubeConfig.makeApiClient(CustomObjectsApi);
  const namespace = run.namespace;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  // kube-controller-manager would add it; admission of pods needs it.
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'default' } } });

  await buildDependencies('chat');
  const chart = await render('chat', {
    namespace,
    // The chart's pool, but for a floor a dozen clients can exceed; its 30 s cool-down holds the
    // operator to one or two actions in the run, as a production pool would be.
    set: { 'rebalancing.allowedImbalance.minConnections': '2' },
  });
  const rendered = chart.find((o) => o.kind === 'HandlerPool') as unknown as {
    apiVersion: string;
    kind: string;
    metadata: { name: string; labels: Record<string, string> };
    spec: Record<string, unknown>;
  };
  // The object as helm renders it, without the test helper's `source`.
  const pool = {
    apiVersion: rendered.apiVersion,
    kind: rendered.kind,
    metadata: rendered.metadata,
    spec: rendered.spec,
  };
  const deployment = chart.find(
    (o) => o.kind === 'Deployment' && o.metadata.name === 'chat-handler',
  ) as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } };
  // Each handler listens on its own admin port here: the pool leaves the port to each pod.
  delete pool.spec.adminPort;
  await custom.createNamespacedCustomObject({
    group: 'chat.platform.dev',
    version: 'v1alpha1',
    plural: 'handlerpools',
    namespace,
    body: pool,
  });
  for (const [i, name] of handlers.entries()) {
    await createReadyPod(
      core,
      namespace,
      { name, labels: deployment.spec.template.metadata.labels },
      adminPorts[i]!,
    );
  }

  const dir = mkdtempSync(join(tmpdir(), 'obs-rebalancer-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, server.kubeConfig.exportConfig());
  const port = await freePort();
  const operator = await startRole(
    'handler-rebalancer-operator',
    '',
    port,
    {
      KUBECONFIG: kubeconfig,
      PORT: String(port),
      WATCH_NAMESPACE: namespace,
      POD_NAME: `handler-rebalancer-${run.id}`,
      POLL_SECONDS: '1',
      LOG_LEVEL: 'warn',
    },
    REBALANCER_MAIN,
  );
  cleanups.push(() => operator.kill('SIGTERM'));
  return target(run, 'handler-rebalancer', 'operator', port);
}

export const OBSERVED: Record<string, (run: Run) => Promise<ObservedSystem>> = {
  'url-shortener': startUrlShortener,
  'hotel-booking': startHotelBooking,
  navigation: startNavigation,
  chat: startChat,
};
