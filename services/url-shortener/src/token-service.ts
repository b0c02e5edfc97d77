import { z } from 'zod';
import {
  Counter,
  createHttpApp,
  parseInput,
  serveApp,
  type Infra,
  type Logger,
  type Metrics,
  type RunningServer,
} from '@platform/kit';
import type { Config } from './config.ts';
import { shortenerError } from './errors.ts';
import {
  CodeSpaceExhausted,
  RedisRangeAllocator,
  RelationalRangeAllocator,
  type RangeAllocator,
} from './store/token-range.store.ts';

const leaseBody = z.strictObject({
  size: z.number().int().min(1).max(100_000),
  holder: z.string().min(1).max(128),
});

/** The configured allocator: ranges from MySQL (default) or from Redis INCRBY. */
export async function openAllocator(
  config: Config,
  infra: Infra,
  capacity: number,
): Promise<RangeAllocator> {
  if (config.TOKEN_ALLOCATOR === 'redis') return new RedisRangeAllocator(infra.cache, capacity);
  const allocator = new RelationalRangeAllocator(infra.relational, capacity);
  await allocator.init();
  return allocator;
}

/** The token service: leases disjoint counter ranges to API processes over HTTP. */
export async function startTokenService(deps: {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  infra: Infra;
  allocator: RangeAllocator;
}): Promise<RunningServer> {
  const leases = new Counter({
    name: 'urlshortener_token_leases_total',
    help: 'Counter ranges leased to API processes.',
    registers: [deps.metrics.registry],
  });
  const http = createHttpApp({
    logger: deps.logger,
    metrics: deps.metrics,
    readiness: { relational: deps.infra.readiness.relational!, cache: deps.infra.readiness.cache! },
  });

  http.app.post('/leases', async (req, res) => {
    const body = parseInput(leaseBody, req.body);
    try {
      const range = await deps.allocator.lease(body.size, body.holder);
      leases.inc();
      res.json(range);
    } catch (error) {
      if (error instanceof CodeSpaceExhausted) throw shortenerError('code_space_exhausted');
      throw error;
    }
  });

  return serveApp(http, {
    port: deps.config.TOKEN_SERVICE_PORT,
    host: deps.config.HOST,
    logger: deps.logger,
  });
}
