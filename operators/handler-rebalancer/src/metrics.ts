import { Counter, Gauge, createMetrics, type Metrics } from '@platform/kit';

/** What the rebalancer exports on /metrics. */
export interface RebalancerMetrics {
  registry: Metrics['registry'];
  /** Drains asked of handlers, by pool and reason (Overloaded, Terminating). */
  actions: Counter<'pool' | 'reason'>;
  /** Handlers of a pool by state (serving, terminating, unready, unreachable). */
  handlers: Gauge<'pool' | 'state'>;
  /** Open connections of each handler, as it last reported them. */
  connections: Gauge<'pool' | 'handler'>;
  /** 1 while this instance holds the Lease. */
  leader: Gauge;
}

export function createRebalancerMetrics(): RebalancerMetrics {
  const { registry } = createMetrics('handler-rebalancer');
  return {
    registry,
    actions: new Counter({
      name: 'chat_rebalancer_actions_total',
      help: 'Drains the rebalancer asked of chat handlers, by pool and reason.',
      labelNames: ['pool', 'reason'],
      registers: [registry],
    }),
    handlers: new Gauge({
      name: 'chat_rebalancer_handlers',
      help: 'Chat handlers of a pool, by state.',
      labelNames: ['pool', 'state'],
      registers: [registry],
    }),
    connections: new Gauge({
      name: 'chat_rebalancer_handler_connections',
      help: 'Open connections of each chat handler, as last reported.',
      labelNames: ['pool', 'handler'],
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'chat_rebalancer_leader',
      help: '1 while this instance holds the leader Lease.',
      registers: [registry],
    }),
  };
}
