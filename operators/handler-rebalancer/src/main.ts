import { createServer } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '@platform/kit';
import { readConfig } from './config.ts';
import { HandlerRebalancer } from './controller.ts';
import { httpHandlerAdmin } from './handler-admin.ts';
import { createRebalancerMetrics } from './metrics.ts';

/** The handler rebalancer's process: the controller, and /metrics, /healthz, /readyz. */
const config = readConfig();
const logger = createLogger('handler-rebalancer', config.LOG_LEVEL);
const metrics = createRebalancerMetrics();

const kubeConfig = new KubeConfig();
// In a pod: the service account; elsewhere: $KUBECONFIG or ~/.kube/config.
kubeConfig.loadFromDefault();

const namespace = config.WATCH_NAMESPACE || undefined;
const rebalancer = new HandlerRebalancer({
  kubeConfig,
  namespace,
  lease: {
    namespace: config.LEASE_NAMESPACE || namespace || 'default',
    name: config.LEASE_NAME,
    identity: config.POD_NAME,
    durationSeconds: config.LEASE_DURATION_SECONDS,
    renewSeconds: config.LEASE_RENEW_SECONDS,
  },
  pollSeconds: config.POLL_SECONDS,
  admin: httpHandlerAdmin(config.ADMIN_TIMEOUT_MS),
  logger,
  metrics,
});

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/metrics') {
    metrics.registry.metrics().then(
      (text: string) =>
        res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  } else if (req.method === 'GET' && path === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  } else if (req.method === 'GET' && path === '/readyz') {
    // Ready once the caches are filled, leader or not: a standby is healthy too.
    const ready = rebalancer.ready;
    res
      .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
      .end(ready ? 'ok' : 'syncing');
  } else {
    res.writeHead(404).end();
  }
});
server.listen(config.PORT, () => logger.info({ port: config.PORT, namespace }, 'listening'));

await rebalancer.start();
logger.info({ identity: config.POD_NAME }, 'caches synced, competing for the lease');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'stopping');
    // Hand the lease over so the standby takes over at once rather than after it expires.
    void rebalancer.stop({ releaseLease: true }).finally(() => server.close(() => process.exit(0)));
  });
}
