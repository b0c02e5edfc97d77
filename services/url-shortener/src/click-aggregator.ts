import {
  Counter,
  Gauge,
  createHttpApp,
  decodeEvent,
  serve,
  type Infra,
  type Logger,
  type Metrics,
  type RunningServer,
} from '@platform/kit';
import { CLICKS_TOPIC, enrichClick, type CountryLookup, type RawClick } from './clicks.ts';
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
  infra: Infra;
  stats: ClickStatsStore;
  lookupCountry: CountryLookup;
  port?: number;
}): Promise<RunningServer> {
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
  new Gauge({
    name: 'urlshortener_click_aggregator_lag',
    help: 'Click events on the log not yet committed by the aggregator group.',
    registers: [metrics.registry],
    collect: async function (this: Gauge) {
      this.set(await infra.eventLog.lag(AGGREGATOR_GROUP, CLICKS_TOPIC).catch(() => NaN));
    },
  });

  await infra.eventLog.createTopic(CLICKS_TOPIC, { partitions: 6 });
  const subscription = await infra.eventLog.subscribe({
    group: AGGREGATOR_GROUP,
    topics: [CLICKS_TOPIC],
    handleBatch: async (batch) => {
      const clicks = batch.records.map((record) => ({
        offset: record.offset,
        click: enrichClick(decodeEvent<RawClick>(record).data, deps.lookupCountry),
      }));
      const fresh = await deps.stats.apply(AGGREGATOR_GROUP, batch.topic, batch.partition, clicks);
      counted.inc(fresh);
      redelivered.inc(clicks.length - fresh);
    },
  });

  const http = createHttpApp({ logger, metrics, readiness: infra.readiness });
  const server = await serve({
    app: http.finish(),
    port: deps.port ?? deps.config.AGGREGATOR_PORT,
    logger,
  });
  return {
    ...server,
    close: async () => {
      http.drain();
      await subscription.close();
      await server.close();
    },
  };
}
