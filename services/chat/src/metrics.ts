import { Counter, Gauge, Histogram, counterOf, type Metrics } from '@platform/kit';
import { RATE_LIMIT_KINDS } from './rate-limits.ts';

export type ChatMetrics = ReturnType<typeof chatMetrics>;

/** Buckets of chat_send_to_deliver_seconds; 0.2 is the delivery latency SLO's threshold. */
export const SEND_TO_DELIVER_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
];

/** The chat system's domain metrics, on the process's registry. */
export function chatMetrics(metrics: Metrics, handler: string) {
  const registers = [metrics.registry];
  // Both outcomes exist from the start, so an error ratio is 0 rather than no series.
  const deliveries = counterOf({
    name: 'chat_deliveries_total',
    help:
      'Message frames handed to a socket (ok), or lost on the way: a forward that could not be ' +
      'published, a connection closed as a slow consumer (error). Pending pulls redeliver those.',
    registry: metrics.registry,
    label: 'outcome',
    values: ['ok', 'error'],
  });
  const rateLimited = counterOf({
    name: 'chat_rate_limited_total',
    help: 'Sends, typing events, group creations and uploads refused by the per-user limits.',
    registry: metrics.registry,
    label: 'kind',
    values: RATE_LIMIT_KINDS,
  });
  return {
    rateLimited,
    deliveries: { ok: deliveries.labels('ok'), error: deliveries.labels('error') },
    connections: new Gauge({
      name: 'chat_connections',
      help: 'Open WebSocket connections, by handler.',
      labelNames: ['handler'],
      registers,
    }).labels(handler),
    sent: new Counter({
      name: 'chat_messages_sent_total',
      help: 'Messages accepted and stored (duplicates not counted).',
      registers,
    }),
    duplicates: new Counter({
      name: 'chat_messages_duplicate_total',
      help:
        'Sends of a (conversation, sender, client sequence) already stored, ' +
        'answered with the first ack.',
      registers,
    }),
    delivered: new Counter({
      name: 'chat_messages_delivered_total',
      help: 'Messages a recipient acknowledged as delivered (removed from pending).',
      registers,
    }),
    sendToDeliver: new Histogram({
      name: 'chat_send_to_deliver_seconds',
      help: 'From the server accepting a message to the recipient acknowledging delivery.',
      buckets: SEND_TO_DELIVER_BUCKETS,
      registers,
    }),
    pendingBacklog: new Gauge({
      name: 'chat_pending_backlog',
      help: "Pending messages of this handler's connected users, at the last pull.",
      labelNames: ['handler'],
      registers,
    }).labels(handler),
    eventsInFlight: new Gauge({
      name: 'chat_client_events_in_flight',
      help: 'Client events being handled, by handler (each connection reads on below a bound).',
      labelNames: ['handler'],
      registers,
    }).labels(handler),
    typingDropped: new Counter({
      name: 'chat_typing_dropped_total',
      help: 'Typing events dropped because a connection was backed up.',
      registers,
    }),
    slowConsumersClosed: new Counter({
      name: 'chat_slow_consumers_closed_total',
      help: 'Connections closed because the client stopped reading.',
      registers,
    }),
    deadPeers: new Counter({
      name: 'chat_dead_peers_total',
      help: 'Connections cut off because no pong came back within the heartbeat.',
      registers,
    }),
    refusedUpgrades: new Counter({
      name: 'chat_upgrades_refused_total',
      help: 'WebSocket upgrades refused, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    badEvents: new Counter({
      name: 'chat_bad_events_total',
      help: 'Client events refused (bad JSON, unknown type, wrong schema, not a member).',
      labelNames: ['code'],
      registers,
    }),
    drains: new Counter({
      name: 'chat_drains_total',
      help: 'Drains started (admin requests with connections > 0, and shutdowns).',
      registers,
    }),
    drained: new Counter({
      name: 'chat_drained_connections_total',
      help: 'Connections closed by a drain.',
      registers,
    }),
    fanoutDeliveries: new Counter({
      name: 'chat_fanout_deliveries_total',
      help: 'Group message deliveries to members published to their handlers by the fan-out worker.',
      registers,
    }),
    fanoutBatches: new Counter({
      name: 'chat_fanout_batches_total',
      help: 'Handler publishes by the fan-out worker (one per destination handler and message).',
      registers,
    }),
    fanoutSeconds: new Histogram({
      name: 'chat_fanout_seconds',
      help: "From a group message being stored to the fan-out worker's handler publishes done.",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    assetUploadsInFlight: new Gauge({
      name: 'chat_asset_uploads_in_flight',
      help: 'Asset uploads this process is reading (each holds up to MAX_ASSET_BYTES).',
      registers,
    }),
  };
}
