import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { FastHistogram } from './fast-histogram.ts';
import type { EventLog } from '../ports/event-log/event-log.ts';

export { Counter, Gauge, Histogram, type Registry as MetricsRegistry } from 'prom-client';

/**
 * Seconds; finer at the low end where cached paths live. Every latency SLO of a
 * chart's rules is a boundary here, so the share of requests within it is
 * counted, not interpolated: 0.1 and 0.25 (URL shortener), 0.2 and 0.3 (hotel
 * booking). test/observability/rules.test.ts checks the rules against this list.
 */
export const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.3, 0.5, 1, 2.5, 5, 10,
];

export interface Metrics {
  registry: Registry;
  httpDuration: FastHistogram<'method' | 'route' | 'status_code'>;
}

/** One registry per process, with default process metrics and the HTTP RED histogram. */
export function createMetrics(service: string): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });

  const httpDuration = new FastHistogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP server requests by route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });

  return { registry, httpDuration };
}

/**
 * A counter with one label whose every value is a series from the start, at 0:
 * a ratio or a dashboard panel then reads 0 before the first increment, not
 * "no data".
 */
export function counterOf<V extends string>(options: {
  name: string;
  help: string;
  registry: Registry;
  label: string;
  values: readonly V[];
}): Counter<string> {
  const counter = new Counter({
    name: options.name,
    help: options.help,
    labelNames: [options.label],
    registers: [options.registry],
  });
  for (const value of options.values) counter.labels(value).inc(0);
  return counter;
}

/**
 * A gauge of the records on a topic that a consumer group has not committed,
 * asked of the event log at each scrape. NaN when the log cannot say (a broker
 * down), so a dashboard shows a gap rather than a made-up zero.
 */
export function consumerLagGauge(options: {
  name: string;
  help: string;
  registry: Registry;
  eventLog: Pick<EventLog, 'lag'>;
  group: string;
  topic: string;
}): Gauge {
  const { eventLog, group, topic } = options;
  return new Gauge({
    name: options.name,
    help: options.help,
    registers: [options.registry],
    collect: async function (this: Gauge) {
      this.set(await eventLog.lag(group, topic).catch(() => NaN));
    },
  });
}
