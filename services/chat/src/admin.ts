import { z } from 'zod';
import {
  createHttpApp,
  parseInput,
  serveApp,
  type Logger,
  type Metrics,
  type ReadinessCheck,
  type RunningServer,
} from '@platform/kit';
import type { Drainer } from './drain.ts';
import type { ConnectionPlane } from './handler.ts';

const drainBody = z.strictObject({
  connections: z.number().int().min(0).max(1_000_000),
  perSecond: z.number().positive().max(10_000).default(10),
});

/**
 * The handler admin contract the rebalancing operator speaks: the load of
 * this handler, and a gradual drain of some of its connections.
 */
export async function startAdmin(deps: {
  port: number;
  host: string;
  plane: ConnectionPlane;
  drainer: Drainer;
  logger: Logger;
  metrics: Metrics;
  readiness: Record<string, ReadinessCheck>;
}): Promise<RunningServer> {
  const { plane, drainer } = deps;
  const http = createHttpApp({
    logger: deps.logger,
    metrics: deps.metrics,
    readiness: deps.readiness,
  });

  http.app.get('/admin/load', (_req, res) => {
    res.json({ handler: plane.handlerId, connections: plane.size, draining: drainer.remaining });
  });

  http.app.post('/admin/drain', (req, res) => {
    const body = parseInput(drainBody, req.body);
    const accepted = drainer.start(body.connections, body.perSecond);
    res.status(202).json({ accepted });
  });

  return serveApp(http, { port: deps.port, host: deps.host, logger: deps.logger });
}
