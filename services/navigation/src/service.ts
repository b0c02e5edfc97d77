import { basename } from 'node:path';
import { openService, type Lifecycle, type Logger, type RunningServer } from '@platform/kit';
import { startApi, type Loaded } from './api.ts';
import { osmFile, type Config } from './config.ts';
import { importOsm } from './import/osm-import.ts';
import { navigationMetrics } from './metrics.ts';
import { Navigator } from './navigator.ts';
import { PlaceSearch } from './places.ts';
import { ROUTERS, type RouterFactory } from './routers.ts';
import { attachSessions } from './sessions.ts';

export interface NavigationOptions {
  /** The routing engine; by default the one ROUTER names. */
  router?: RouterFactory;
}

export interface RunningNavigation {
  server: RunningServer;
  logger: Logger;
  lifecycle: Lifecycle;
  /** Settles once the graph is built and the places indexed; rejects when loading fails. */
  ready: Promise<Loaded>;
  stop(): Promise<void>;
}

/**
 * Starts the navigation API at once (/readyz answers 503 while loading), then imports the
 * extract, builds the router and indexes the places. A failed load stops the process.
 */
export async function runNavigation(
  config: Config,
  options: NavigationOptions = {},
): Promise<RunningNavigation> {
  const { logger, metrics, lifecycle, infra } = openService('navigation', ['api'], config);
  const navMetrics = navigationMetrics(metrics);
  let loaded: Loaded | undefined;

  const server = await startApi({
    port: config.PORT,
    host: config.HOST,
    logger,
    metrics,
    readiness: {
      graph: async () => {
        if (!loaded) throw new Error('the road graph is still loading');
      },
      search: infra.readiness.search!,
    },
    loaded: () => loaded,
    etaMaxPairs: config.ETA_MAX_PAIRS,
    placesMaxLimit: config.PLACES_MAX_LIMIT,
  });
  lifecycle.onShutdown('api', () => server.close());

  // Registered after the API so it runs first: open sockets would hold the server's close.
  const sessions = attachSessions({
    server: server.server,
    logger,
    metrics: navMetrics,
    navigator: () => loaded?.navigator,
    options: {
      deviationM: config.DEVIATION_M,
      deviationPings: config.DEVIATION_PINGS,
      arrivalM: config.ARRIVAL_M,
      maxMessageBytes: config.WS_MAX_MESSAGE_BYTES,
      maxBadMessages: config.WS_MAX_BAD_MESSAGES,
      maxSessions: config.WS_MAX_SESSIONS,
      maxMessagesPerSecond: config.WS_MAX_MESSAGES_PER_S,
      maxBufferedBytes: config.WS_MAX_BUFFERED_BYTES,
      heartbeatMs: config.WS_HEARTBEAT_MS,
      idleMs: config.WS_IDLE_MS,
    },
  });
  lifecycle.onShutdown('sessions', () => sessions.close());

  const file = osmFile(config);
  const router = options.router ?? ROUTERS[config.ROUTER];
  const ready = (async () => {
    const imported = await importOsm(file);
    const { graph, summary } = imported;
    const navigator = new Navigator({
      graph,
      router: router(graph),
      wayLabels: imported.wayLabels,
      metrics: navMetrics,
      snapMaxM: config.SNAP_MAX_M,
      timeZone: config.TIME_ZONE,
      routeCacheSize: config.ROUTE_CACHE_SIZE,
    });
    const extract = basename(file).replace(/\.osm\.pbf$/, '');
    const places = await PlaceSearch.open(infra.search, extract, imported.places);
    logger.info(
      { file, nodes: summary.nodes, edges: summary.edges, places: imported.places.length },
      'graph loaded',
    );
    loaded = { navigator, places };
    return loaded;
  })();
  ready.catch((error: unknown) => lifecycle.fail('graph', error));

  return { server, logger, lifecycle, ready, stop: () => lifecycle.shutdown() };
}
