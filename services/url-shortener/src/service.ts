import { hostname } from 'node:os';
import {
  isEmbedded,
  openService,
  type Lifecycle,
  type Logger,
  type RunningServer,
} from '@platform/kit';
import { startApi } from './api.ts';
import { startClickAggregator } from './click-aggregator.ts';
import { DEFAULT_CODE_SECRET, type Config } from './config.ts';
import { CounterPool, tokenServiceLeaser, type LeaseRange } from './counters.ts';
import { planCodeLength } from './domain/code-length.ts';
import { CodeSpace } from './domain/code-space.ts';
import { openGeoIp } from './geoip.ts';
import { ClickStatsStore } from './store/click-stats.store.ts';
import { MappingStore } from './store/mapping.store.ts';
import { openAllocator, startTokenService } from './token-service.ts';

export const ROLES = ['api', 'token-service', 'click-aggregator'] as const;
export type Role = (typeof ROLES)[number];

export interface RunningShortener {
  servers: Partial<Record<Role, RunningServer>>;
  logger: Logger;
  lifecycle: Lifecycle;
  stop(): Promise<void>;
}

/**
 * Starts the chosen processes of the URL shortener on shared infrastructure.
 * Each is its own process in a cluster. In one process the API leases its
 * code ranges itself, so the launcher runs the API and the aggregator there,
 * on the API's port alone.
 */
export async function runUrlShortener(config: Config, roles: Role[]): Promise<RunningShortener> {
  const { logger, metrics, lifecycle, infra } = openService('url-shortener', roles, config);

  const plan = planCodeLength(config.WRITE_RPS, config.RETENTION_DAYS * 24 * 3600);
  const codes = new CodeSpace(plan.length, config.CODE_SECRET);
  const stats = new ClickStatsStore(infra.relational);
  await stats.init();
  const servers: RunningShortener['servers'] = {};

  if (roles.includes('token-service')) {
    const allocator = await openAllocator(config, infra, codes.size);
    servers['token-service'] = await startTokenService({
      config,
      logger,
      metrics,
      infra,
      allocator,
    });
    lifecycle.onShutdown('token-service', () => servers['token-service']!.close());
  }

  if (roles.includes('click-aggregator')) {
    const lookupCountry = await openGeoIp(config.GEOIP_DB);
    const aggregator = await startClickAggregator({
      config,
      logger,
      metrics,
      infra,
      stats,
      lookupCountry,
      // Beside the API, the API's port answers for the process.
      ...(roles.includes('api') ? { port: null } : {}),
      onStopped: (error) => lifecycle.fail('click-aggregator', error),
    });
    if (aggregator.server) servers['click-aggregator'] = aggregator.server;
    lifecycle.onShutdown('click-aggregator', () => aggregator.close());
  }

  if (roles.includes('api')) {
    logger.info({ plan: plan.explanation }, plan.explanation);
    if (config.CODE_SECRET === DEFAULT_CODE_SECRET && !isEmbedded(config)) {
      logger.warn('CODE_SECRET is the public default: codes are predictable; set your own');
    }
    const mappings = new MappingStore(infra.wideColumn, infra.cache, {
      nearCacheSize: config.NEAR_CACHE_SIZE,
      nearCacheTtlMs: config.NEAR_CACHE_TTL_MS,
    });
    await mappings.init(codes.fingerprint);
    const holder = `${hostname()}:${process.pid}`;
    let lease: LeaseRange;
    if (config.TOKEN_SERVICE_URLS?.length) {
      lease = tokenServiceLeaser(config.TOKEN_SERVICE_URLS, holder, logger);
    } else {
      const allocator = await openAllocator(config, infra, codes.size);
      lease = (size) => allocator.lease(size, holder);
    }
    const counters = new CounterPool(lease, config.LEASE_SIZE);
    servers.api = await startApi({
      config,
      logger,
      metrics,
      infra,
      codes,
      counters,
      mappings,
      stats,
    });
    lifecycle.onShutdown('api', () => servers.api!.close());
  }

  return { servers, logger, lifecycle, stop: () => lifecycle.shutdown() };
}
