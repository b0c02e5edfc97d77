import { Counter, Gauge, Histogram, LATENCY_BUCKETS, counterOf, type Metrics } from '@platform/kit';

export type RouteKind = 'route' | 'eta' | 'reroute';

/** What changed speeds: traffic on ways or an area, its reset, weather, or its reset. */
export const SPEED_UPDATE_KINDS = ['ways', 'area', 'reset', 'weather', 'weather_reset'] as const;
export type SpeedUpdateKind = (typeof SPEED_UPDATE_KINDS)[number];

export interface NavigationMetrics {
  routeSeconds: Histogram<'kind'>;
  settledNodes: Histogram<'kind'>;
  trafficUpdates: Counter<'kind'>;
  trafficEdges: Counter;
  sessions: Gauge;
  routeCache: Counter<'result'>;
}

/** The navigation_ metrics, registered once per process. */
export function navigationMetrics(metrics: Metrics): NavigationMetrics {
  const registers = [metrics.registry];
  // Every kind exists from the start, so the dashboard's series do before the first update.
  const trafficUpdates = counterOf({
    name: 'navigation_traffic_updates_total',
    help: 'Traffic and weather updates, by kind (ways, area, reset, weather, weather_reset).',
    registry: metrics.registry,
    label: 'kind',
    values: SPEED_UPDATE_KINDS,
  });
  return {
    routeSeconds: new Histogram({
      name: 'navigation_route_seconds',
      help: 'Time to snap and route one pair, by kind (route, eta, reroute).',
      labelNames: ['kind'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    settledNodes: new Histogram({
      name: 'navigation_settled_nodes',
      help: 'Nodes the search settled for one pair, by kind.',
      labelNames: ['kind'],
      buckets: [10, 100, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 250_000],
      registers,
    }),
    trafficUpdates,
    trafficEdges: new Counter({
      name: 'navigation_traffic_edges_changed_total',
      help: 'Edges whose live speed a traffic or weather update changed.',
      registers,
    }),
    sessions: new Gauge({
      name: 'navigation_sessions_active',
      help: 'Open WebSocket navigation sessions.',
      registers,
    }),
    routeCache: new Counter({
      name: 'navigation_route_cache_requests_total',
      help: 'Route cache lookups, by result (hit, miss).',
      labelNames: ['result'],
      registers,
    }),
  };
}
