import {
  Counter,
  consumerLagGauge,
  createHttpApp,
  serveApp,
  type Infra,
  type Logger,
  type Metrics,
  type RunningServer,
} from '@platform/kit';
import { CLICKS_PARTITIONS, CLICKS_TOPIC, readClickEvent } from './click-event.ts';
import { enrichCache, enrichClick, type CountryLookup } from './clicks.ts';
import type { Config } from './config.ts';
import type { ClickStatsStore } from './store/click-stats.store.ts';

export const AGGREGATOR_GROUP = 'url-shortener.click-aggregator';

/**
 * The click aggregator: a consumer-group member turning click events into
 * per-minute counts. Counts and the consumer position commit together, so a
 * redelivered batch is counted once.
 */
export async function startClickAggregator(deps: {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** The event log, and the readiness checks its probe port answers with. */
  infra: Pick<Infra, 'eventLog' | 'readiness'>;
  stats: ClickStatsStore;
  lookupCountry: CountryLookup;
  /** Its own probe port; null serves none (the API's port answers for the process). */
  port?: number | null;
  /** The consumer stopped for good: the process should exit and be restarted. */
  onStopped?: (error: Error) => void;
}): Promise<{ server: RunningServer | undefined; close(): Promise<void> }> {
  const { infra, logger, metrics } = deps;
  const counted = new Counter({
    name: 'urlshortener_clicks_aggregated_total',
    help: 'Click events counted by the aggregator (redeliveries excluded).',
    registers: [metrics.registry],
  });
  const redelivered = new Counter({
    name: 'urlshortener_clicks_redelivered_total',
    help: 'Click events delivered again and skipped because they were already counted.',
    registers: [metrics.registry],
  });
  const skipped = new Counter({
    name: 'urlshortener_click_events_skipped_total',
    help: 'Events on the clicks topic of an unknown type or version, or malformed; not counted.',
    registers: [metrics.registry],
  });
  consumerLagGauge({
    name: 'urlshortener_click_aggregator_lag',
    help: 'Click events on the log not yet committed by the aggregator group.',
    registry: metrics.registry,
    eventLog: infra.eventLog,
    group: AGGREGATOR_GROUP,
    topic: CLICKS_TOPIC,
  });

  await infra.eventLog.createTopic(CLICKS_TOPIC, { partitions: CLICKS_PARTITIONS });
  // Stored positions belong to one incarnation of the log (an in-process log restarts at 0).
  const consumer = `${AGGREGATOR_GROUP}@${infra.eventLog.incarnation}`;
  const subscription = await infra.eventLog.subscribe({
    group: AGGREGATOR_GROUP,
    topics: [CLICKS_TOPIC],
    ...(deps.onStopped ? { onStopped: deps.onStopped } : {}),
    handleBatch: async (batch) => {
      const cache = enrichCache();
      const records = batch.records.map((record) => {
        const event = readClickEvent(record);
        if (!event) {
          skipped.inc();
          logger.warn({ offset: record.offset, partition: record.partition }, 'skipped event');
          return { offset: record.offset, clicks: [] };
        }
        return {
          offset: record.offset,
          eventId: event.id,
          clicks: event.visits.map((visit) => enrichClick(visit, deps.lookupCountry, cache)),
        };
      });
      const all = records.reduce((sum, r) => sum + r.clicks.reduce((n, c) => n + c.count, 0), 0);
      const fresh = await deps.stats.apply(consumer, batch.topic, batch.partition, records);
      counted.inc(fresh);
      redelivered.inc(all - fresh);
    },
  });

  // Event ids only need keeping for as long as a redelivery can come.
  const forget = setInterval(() => {
    deps.stats.forgetEventsSeenBefore(Date.now() - 7 * 24 * 3600_000).catch((error: unknown) => {
      logger.warn({ err: error }, 'forgetting seen click events failed');
    });
  }, 3600_000);
  forget.unref();

  let server: RunningServer | undefined;
  if (deps.port !== null) {
    const http = createHttpApp({
      logger,
      metrics,
      readiness: { eventLog: infra.readiness.eventLog!, relational: infra.readiness.relational! },
    });
    server = await serveApp(http, {
      port: deps.port ?? deps.config.AGGREGATOR_PORT,
      host: deps.config.HOST,
      logger,
    });
  }
  return {
    server,
    close: async () => {
      clearInterval(forget);
      await subscription.close();
      await server?.close();
    },
  };
}
