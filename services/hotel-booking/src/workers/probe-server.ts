import {
  createHttpApp,
  serveApp,
  type Logger,
  type Metrics,
  type ReadinessCheck,
  type RunningServer,
} from '@platform/kit';

/** A worker process's own port: health, readiness and metrics, nothing else. */
export async function startProbeServer(deps: {
  port: number;
  host: string;
  logger: Logger;
  metrics: Metrics;
  readiness: Record<string, ReadinessCheck>;
}): Promise<RunningServer> {
  const http = createHttpApp({
    logger: deps.logger,
    metrics: deps.metrics,
    readiness: deps.readiness,
  });
  return serveApp(http, { port: deps.port, host: deps.host, logger: deps.logger });
}
