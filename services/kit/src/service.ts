import type { InfraConfig, TelemetryConfig } from './config/infra-config.ts';
import { connectInfra, type Infra } from './infra.ts';
import { Lifecycle } from './lifecycle.ts';
import { createLogger, type Logger } from './telemetry/logger.ts';
import { createMetrics, type Metrics } from './telemetry/metrics.ts';

export interface ServiceBase {
  /** "<system>-<role>" for a process of one role, the system's name otherwise. */
  service: string;
  logger: Logger;
  metrics: Metrics;
  lifecycle: Lifecycle;
  infra: Infra;
}

/**
 * What every process of a system starts with: its logger and metrics named
 * after the roles it runs, a lifecycle, and the ports on their adapters
 * (closed last on shutdown).
 */
export function openService(
  system: string,
  roles: readonly string[],
  config: InfraConfig & TelemetryConfig,
): ServiceBase {
  const service = roles.length === 1 ? `${system}-${roles[0]}` : system;
  const logger = createLogger(service, config.LOG_LEVEL);
  const metrics = createMetrics(service);
  const lifecycle = new Lifecycle(logger);
  const infra = connectInfra(config, logger, service);
  lifecycle.onShutdown('infra', () => infra.close());
  logger.info({ adapters: infra.adapters, roles }, 'starting');
  return { service, logger, metrics, lifecycle, infra };
}
