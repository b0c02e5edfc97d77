import {
  createHttpApp,
  invalidField,
  parseInput,
  serveApp,
  type Logger,
  type Metrics,
  type ReadinessCheck,
  type RunningServer,
} from '@platform/kit';
import { navigationError } from './errors.ts';
import type { Navigator } from './navigator.ts';
import type { PlaceSearch } from './places.ts';
import {
  checkedPairs,
  etaBody,
  etaQuery,
  parseLatLng,
  parsePairs,
  placesQuery,
  routeQuery,
  trafficBody,
  unknownTrafficField,
  unknownWeatherField,
  weatherBody,
} from './requests.ts';

/** What the API serves once the graph and the places are loaded. */
export interface Loaded {
  navigator: Navigator;
  places: PlaceSearch;
}

export interface ApiDeps {
  port: number;
  host: string;
  logger: Logger;
  metrics: Metrics;
  readiness: Record<string, ReadinessCheck>;
  /** Undefined while the graph loads: routing answers 503 until then. */
  loaded: () => Loaded | undefined;
  etaMaxPairs: number;
  placesMaxLimit: number;
}

/** Routes, ETAs, place search, traffic and weather updates on one loaded extract. */
export async function startApi(deps: ApiDeps): Promise<RunningServer> {
  const http = createHttpApp({
    logger: deps.logger,
    metrics: deps.metrics,
    readiness: deps.readiness,
    // A traffic report may name up to 10,000 ways of up to 11 digits each.
    bodyLimit: '128kb',
  });
  const { app } = http;
  const loaded = (): Loaded => {
    const current = deps.loaded();
    if (!current) throw navigationError('graph_loading');
    return current;
  };

  app.get('/route', (req, res) => {
    const query = parseInput(routeQuery, req.query, 'query');
    const from = parseLatLng(query.from, 'from');
    const to = parseLatLng(query.to, 'to');
    res.json(loaded().navigator.route(from, to, query.metric));
  });

  app.get('/eta', (req, res) => {
    const query = parseInput(etaQuery, req.query, 'query');
    const pairs = parsePairs(query.pairs, deps.etaMaxPairs);
    res.json(etas(loaded(), pairs, query.metric));
  });

  app.post('/eta', (req, res) => {
    const body = parseInput(etaBody, req.body);
    if (body.pairs.length > deps.etaMaxPairs) {
      throw invalidField('pairs', `at most ${deps.etaMaxPairs} pairs per request`);
    }
    res.json(etas(loaded(), checkedPairs(body.pairs), body.metric));
  });

  const places = placesQuery(deps.placesMaxLimit);
  app.get('/places', async (req, res) => {
    const query = parseInput(places, req.query, 'query');
    res.json({ places: await loaded().places.search(query.q, query.limit) });
  });

  app.post('/traffic', (req, res) => {
    const unknown = unknownTrafficField(req.body);
    if (unknown !== undefined) throw invalidField(unknown, 'is not a field of a traffic update');
    const body = parseInput(trafficBody, req.body);
    const selection = body.wayIds ? { wayIds: body.wayIds } : { area: body.area! };
    const change =
      body.speedKmh !== undefined ? { speedKmh: body.speedKmh } : { factor: body.factor! };
    res.json(loaded().navigator.applyTraffic(selection, change));
  });

  app.delete('/traffic', (_req, res) => {
    res.json(loaded().navigator.resetTraffic());
  });

  app.post('/weather', (req, res) => {
    const unknown = unknownWeatherField(req.body);
    if (unknown !== undefined) throw invalidField(unknown, 'is not a field of a weather update');
    const body = parseInput(weatherBody, req.body);
    const weather =
      body.condition !== undefined ? { condition: body.condition } : { factor: body.factor! };
    res.json(loaded().navigator.applyWeather(body.area!, weather));
  });

  app.delete('/weather', (_req, res) => {
    res.json(loaded().navigator.resetWeather());
  });

  return serveApp(http, { port: deps.port, host: deps.host, logger: deps.logger });
}

function etas(
  loaded: Loaded,
  pairs: { from: { lat: number; lng: number }; to: { lat: number; lng: number } }[],
  metric: 'time' | 'distance',
) {
  return {
    metric,
    results: pairs.map(({ from, to }) => ({ from, to, ...loaded.navigator.eta(from, to, metric) })),
  };
}
