import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { freePort } from '@platform/kit/testing';
import { Dijkstra } from '../src/domain/dijkstra.ts';
import { EdgeSnapper } from '../src/domain/edge-snap.ts';
import { haversineM } from '../src/domain/geo.ts';
import { RoutePlanner } from '../src/domain/route-planner.ts';
import { LiveSpeeds } from '../src/domain/live-speeds.ts';
import type { RoadGraph } from '../src/domain/road-graph.ts';
import { setEdgeSpeed } from '../src/domain/test-graphs.ts';
import { selectEdges, type TrafficArea } from '../src/domain/traffic.ts';
import { importOsm, type ImportedGraph } from '../src/import/osm-import.ts';
import { parseNavigationConfig, runNavigation, type RunningNavigation } from '../src/index.ts';
import { RouteLine } from '../src/sessions.ts';
import type { RouteResult } from '../src/navigator.ts';
import { defaultOsmDir } from '../src/config.ts';

const OSM_DIR = process.env.OSM_DIR ?? defaultOsmDir();
const CASINO = { lat: 43.7396, lng: 7.4281 };
const STADIUM = { lat: 43.7275, lng: 7.4156 };
const at = (p: { lat: number; lng: number }) => `${p.lat},${p.lng}`;

let running: RunningNavigation;
let base: string;
let port: number;
/** The same extract, imported again, for answers computed beside the service. */
let reference: ImportedGraph;

beforeAll(async () => {
  port = await freePort();
  running = await runNavigation(
    parseNavigationConfig({
      PORT: String(port),
      DATA_DIR: mkdtempSync(join(tmpdir(), 'navigation-')),
      OSM_DIR,
      OSM_FILE: 'monaco.osm.pbf',
      LOG_LEVEL: 'silent',
      ETA_MAX_PAIRS: '10',
      DEVIATION_M: '40',
      DEVIATION_PINGS: '2',
      WS_MAX_MESSAGE_BYTES: '1024',
      WS_MAX_BAD_MESSAGES: '4',
      WS_MAX_MESSAGES_PER_S: '10',
      WS_HEARTBEAT_MS: '200',
      WS_IDLE_MS: '3000',
    }),
  );
  base = `http://127.0.0.1:${port}`;
  reference = await importOsm(join(OSM_DIR, 'monaco.osm.pbf'));
  await running.ready;
});

afterAll(async () => {
  await running?.stop();
});

/** Every answer the tests read, as one loose shape: each test reads the part it expects. */
interface Answer extends RouteResult {
  error: { code: string; field?: string };
  results: { status: string; distanceM?: number; durationS?: number; geometry?: unknown }[];
  places: { name: string; kind: string; lat: number; lng: number }[];
  selectedEdges: number;
  changedEdges: number;
  checks: Record<string, string>;
}

async function get(path: string): Promise<{ status: number; body: Answer }> {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: (await response.json()) as Answer };
}

async function send(method: string, path: string, body: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer };
}

/** What the session sends, as one loose shape. */
interface SessionMessage {
  type: string;
  route: RouteResult;
  code?: string;
  field?: string;
  offRouteM: number;
  remainingM: number;
  offPings: number;
}

function lineLengthM(coordinates: [number, number][]): number {
  let length = 0;
  for (let i = 1; i < coordinates.length; i++) {
    const [lng0, lat0] = coordinates[i - 1]!;
    const [lng1, lat1] = coordinates[i]!;
    length += haversineM(lat0, lng0, lat1, lng1);
  }
  return length;
}

describe('GET /route', () => {
  it('routes from the casino to the stadium along a line that starts and ends on the road', async () => {
    const { status, body } = await get(`/route?from=${at(CASINO)}&to=${at(STADIUM)}`);
    expect(status).toBe(200);
    const route = body as RouteResult;
    expect(route.geometry.type).toBe('LineString');
    expect(route.properties.distanceM).toBeGreaterThan(1700);
    expect(route.properties.distanceM).toBeLessThan(3000);
    expect(route.properties.durationS).toBeGreaterThan(60);
    expect(route.properties.settledNodes).toBeGreaterThan(0);
    // The line's own length is the distance reported.
    expect(lineLengthM(route.geometry.coordinates)).toBeCloseTo(route.properties.distanceM, -1);

    // It starts and ends at the nearest point of any road, found here by projecting onto all.
    const snapper = new EdgeSnapper(reference.graph);
    const ends = [
      [CASINO, route.geometry.coordinates[0]!],
      [STADIUM, route.geometry.coordinates.at(-1)!],
    ] as const;
    for (const [point, end] of ends) {
      let best = Infinity;
      for (let e = 0; e < reference.graph.edgeCount; e++) {
        best = Math.min(best, snapper.project(e, point.lat, point.lng).distanceM);
      }
      expect(haversineM(point.lat, point.lng, end[1], end[0])).toBeCloseTo(best, 0);
    }
    expect(route.properties.snapped.from).toMatchObject({
      lng: route.geometry.coordinates[0]![0],
      lat: route.geometry.coordinates[0]![1],
    });

    const steps = route.properties.steps;
    expect(steps[0]!.maneuver).toBe('depart');
    expect(steps.at(-1)!.maneuver).toBe('arrive');
    expect(steps.some((step) => step.name !== null)).toBe(true);
    const stepsM = steps.reduce((sum, step) => sum + step.distanceM, 0);
    expect(stepsM).toBeCloseTo(route.properties.distanceM, -1);
  });

  it('is never longer by distance than by time', async () => {
    const byTime = await get(`/route?from=${at(CASINO)}&to=${at(STADIUM)}&metric=time`);
    const byDistance = await get(`/route?from=${at(CASINO)}&to=${at(STADIUM)}&metric=distance`);
    expect(byDistance.body.properties.distanceM).toBeLessThanOrEqual(
      byTime.body.properties.distanceM,
    );
    expect(byTime.body.properties.durationS).toBeLessThanOrEqual(
      byDistance.body.properties.durationS,
    );
  });

  it.each([
    ['from=abc&to=43.7275,7.4156', 400, 'from'],
    ['from=95,7.4&to=43.7275,7.4156', 400, 'from'],
    ['from=43.7396,7.4281&to=43.7275,190', 400, 'to'],
    ['to=43.7275,7.4156', 400, 'from'],
    ['from=43.7396,7.4281', 400, 'to'],
    ['from=43.7396,7.4281&to=43.7275,7.4156&metric=fast', 400, 'metric'],
    ['from=48.8566,2.3522&to=43.7275,7.4156', 422, 'from'],
  ])('refuses %s with %i naming %s', async (query, status, field) => {
    const { status: got, body } = await get(`/route?${query}`);
    expect(got).toBe(status);
    expect(body.error.field).toBe(field);
  });
});

describe('ETAs', () => {
  it('answers a batch, with an unreachable pair and a point off the map reported as such', async () => {
    const unreachable = findUnreachablePair();
    const pairs = [
      [CASINO, STADIUM],
      [STADIUM, CASINO],
      [CASINO, { lat: 48.8566, lng: 2.3522 }],
      unreachable,
    ];
    const query = pairs.map(([from, to]) => `${at(from!)};${at(to!)}`).join('|');
    const { status, body } = await get(`/eta?pairs=${query}`);
    expect(status).toBe(200);
    expect(body.results.map((r: { status: string }) => r.status)).toEqual([
      'ok',
      'ok',
      'outside_extract',
      'unreachable',
    ]);
    const route = await get(`/route?from=${at(CASINO)}&to=${at(STADIUM)}`);
    expect(body.results[0]!.distanceM).toBe(route.body.properties.distanceM);
    expect(body.results[0]!.durationS).toBe(route.body.properties.durationS);
    expect(body.results[0]!.geometry).toBeUndefined();

    const posted = await send('POST', '/eta', { pairs: [{ from: CASINO, to: STADIUM }] });
    expect(posted.status).toBe(200);
    expect(posted.body.results[0]!.distanceM).toBe(route.body.properties.distanceM);
  });

  it('refuses more pairs than the cap, a missing list and a malformed pair', async () => {
    const eleven = Array.from({ length: 11 }, () => `${at(CASINO)};${at(STADIUM)}`).join('|');
    for (const [query, field] of [
      [`pairs=${eleven}`, 'pairs'],
      ['', 'pairs'],
      [`pairs=${at(CASINO)}`, 'pairs[0]'],
      [`pairs=${at(CASINO)};91,7`, 'pairs[0].to'],
    ] as const) {
      const { status, body } = await get(`/eta?${query}`);
      expect(status).toBe(400);
      expect(body.error.field).toBe(field);
    }
    const posted = await send('POST', '/eta', {
      pairs: Array.from({ length: 11 }, () => ({ from: CASINO, to: STADIUM })),
    });
    expect(posted.status).toBe(400);
    expect(posted.body.error.field).toBe('pairs');
  });

  it('names a posted coordinate off the globe as GET does, pairs[i].from or .to', async () => {
    for (const [pairs, field] of [
      [[{ from: { lat: 95, lng: 7.4 }, to: STADIUM }], 'pairs[0].from'],
      [
        [
          { from: CASINO, to: STADIUM },
          { from: CASINO, to: { lat: 43.7, lng: -181 } },
        ],
        'pairs[1].to',
      ],
    ] as const) {
      const { status, body } = await send('POST', '/eta', { pairs });
      expect(status).toBe(400);
      expect(body.error).toMatchObject({ code: 'coordinate_invalid', field });
    }
  });
});

/** Two road points of the extract that no route joins, found with plain Dijkstra. */
function findUnreachablePair(): [{ lat: number; lng: number }, { lat: number; lng: number }] {
  const { graph, wayLabels } = reference;
  const snapper = new EdgeSnapper(graph);
  const planner = new RoutePlanner(graph, snapper, new Dijkstra(graph), wayLabels);
  const origin = snapper.nearest(CASINO.lat, CASINO.lng);
  if (!origin.ok) throw new Error('the casino is off the road');
  for (let node = 0; node < graph.nodeCount; node += 7) {
    const point = { lat: graph.lat[node]!, lng: graph.lon[node]! };
    const snap = snapper.nearest(point.lat, point.lng);
    if (snap.ok && !planner.plan(origin, snap, 'time').reachable) return [CASINO, point];
  }
  throw new Error('every node is reachable from the casino');
}

describe('GET /places', () => {
  it('finds places despite a typo, with their kind and position', async () => {
    const { status, body } = await get('/places?q=casnio');
    expect(status).toBe(200);
    const names = body.places.map((place: { name: string }) => place.name);
    expect(names).toContain('Place du Casino');
    const street = body.places.find((p) => p.name === 'Place du Casino')!;
    expect(street).toMatchObject({ kind: 'street' });
    expect(haversineM(street.lat, street.lng, CASINO.lat, CASINO.lng)).toBeLessThan(300);

    const town = await get('/places?q=Monte%20Carlo&limit=1');
    expect(town.body.places).toHaveLength(1);
  });

  it('finds nothing for punctuation or symbols alone', async () => {
    for (const q of ['.', '*', '%26%7C%21', '%F0%9F%98%80']) {
      const { status, body } = await get(`/places?q=${q}`);
      expect({ q, status, places: body.places }).toEqual({ q, status: 200, places: [] });
    }
  });

  it('refuses a missing query and a limit over the cap', async () => {
    expect((await get('/places')).body.error.field).toBe('q');
    const over = await get('/places?q=casino&limit=500');
    expect(over.status).toBe(400);
    expect(over.body.error.field).toBe('limit');
  });
});

describe('traffic', () => {
  afterEach(async () => {
    await fetch(`${base}/traffic`, { method: 'DELETE' });
  });

  it('slows an area, and routes by time then equal plain Dijkstra on the slowed graph', async () => {
    const before = await get(`/route?from=${at(CASINO)}&to=${at(STADIUM)}`);
    // Slow down the middle of the free-flow route to a fifth.
    const coordinates = before.body.geometry.coordinates as [number, number][];
    const [lng, lat] = coordinates[coordinates.length >> 1]!;
    const update = { area: { lat, lng, radiusM: 150 }, factor: 0.2 };
    const applied = await send('POST', '/traffic', update);
    expect(applied.status).toBe(200);
    expect(applied.body.changedEdges).toBeGreaterThan(0);

    const after = await get(`/route?from=${at(CASINO)}&to=${at(STADIUM)}`);
    expect(after.body.properties.durationS).toBeGreaterThan(before.body.properties.durationS);
    // With no traffic ever reported the ETA is the live time; now history (one report this
    // hour) says the jam is not the usual, so the ETA lies between free flow and the jam.
    expect(before.body.properties.etaS).toBe(before.body.properties.durationS);
    expect(after.body.properties.etaS).toBeLessThan(after.body.properties.durationS);
    expect(after.body.properties.etaS).toBeGreaterThan(before.body.properties.durationS);

    // A fresh Dijkstra on a copy of the graph slowed the same way.
    const { graph, wayLabels } = await importOsm(join(OSM_DIR, 'monaco.osm.pbf'));
    new LiveSpeeds(graph).setTraffic(selectEdges(graph, update), { factor: 0.2 });
    const snapper = new EdgeSnapper(graph);
    const planner = new RoutePlanner(graph, snapper, new Dijkstra(graph), wayLabels);
    const from = snapper.nearest(CASINO.lat, CASINO.lng);
    const to = snapper.nearest(STADIUM.lat, STADIUM.lng);
    if (!from.ok || !to.ok) throw new Error('expected snaps');
    const expected = planner.plan(from, to, 'time');
    if (!expected.reachable) throw new Error('expected a route');
    expect(after.body.properties.durationS).toBeCloseTo(expected.durationS, 1);
    expect(after.body.properties.distanceM).toBeCloseTo(expected.distanceM, 1);
    expect(after.body.geometry.coordinates).toEqual(expected.coordinates);

    // Back to free flow, back to the first route.
    const reset = await send('DELETE', '/traffic', {});
    expect(reset.body.changedEdges).toBe(applied.body.changedEdges);
    const again = await get(`/route?from=${at(CASINO)}&to=${at(STADIUM)}`);
    const { etaS, ...live } = again.body.properties;
    expect({ ...again.body, properties: live }).toEqual({
      ...before.body,
      properties: { ...before.body.properties, etaS: undefined },
    });
    // History remembers this hour's jam.
    expect(etaS).toBeGreaterThan(before.body.properties.etaS);
  });

  it('sets an absolute speed on named ways', async () => {
    const wayId = reference.graph.osmWayId[0]!;
    const { status, body } = await send('POST', '/traffic', { wayIds: [wayId], speedKmh: 5 });
    expect(status).toBe(200);
    expect(body.selectedEdges).toBeGreaterThan(0);
  });

  it('takes a report naming as many ways as it allows, and refuses one more', async () => {
    // Way ids as long as OpenStreetMap's now are (about 1.3e9), none of them in the extract.
    const wayIds = Array.from({ length: 10_000 }, (_, i) => 1_300_000_000 + i);
    const most = await send('POST', '/traffic', { wayIds, speedKmh: 5 });
    expect(most.status).toBe(200);
    expect(most.body.selectedEdges).toBe(0);
    const tooMany = await send('POST', '/traffic', { wayIds: [...wayIds, 1], speedKmh: 5 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.field).toBe('wayIds');
  });

  it.each([
    [{ wayIds: [1], area: { lat: 43.73, lng: 7.42, radiusM: 100 }, speedKmh: 10 }, 'wayIds'],
    [{ speedKmh: 10 }, 'wayIds'],
    [{ wayIds: [1] }, 'speedKmh'],
    [{ wayIds: [1], speedKmh: 0 }, 'speedKmh'],
    [{ wayIds: ['x'], speedKmh: 10 }, 'wayIds.0'],
    [{ area: { lat: 43.73, lng: 7.42 }, factor: 0.5 }, 'area'],
    [{ area: { south: 44, west: 7.4, north: 43, east: 7.5 }, factor: 0.5 }, 'area.north'],
    [{ wayIds: [1], factor: 0.5, colour: 'red' }, 'colour'],
    [[], 'body'],
  ])('refuses %j naming %s', async (body, field) => {
    const { status, body: answer } = await send('POST', '/traffic', body);
    expect(status).toBe(400);
    expect(answer.error.field).toBe(field);
  });
});

/** The extract's graph with its own speeds, for slowing beside the service. */
function referenceCopy(): RoadGraph {
  const { graph } = reference;
  return {
    ...graph,
    edgeSpeedKmh: graph.edgeSpeedKmh.slice(),
    edgeDurationS: graph.edgeDurationS.slice(),
  };
}

/** Slows the copy's edges in the area to `share(freeFlowKmh)` of free flow, at most. */
function slowArea(graph: RoadGraph, area: TrafficArea, share: (freeFlowKmh: number) => number) {
  for (const edge of selectEdges(graph, { area })) {
    const freeFlow = reference.graph.edgeSpeedKmh[edge]!;
    setEdgeSpeed(
      graph,
      edge,
      Math.min(graph.edgeSpeedKmh[edge]!, Math.fround(freeFlow * share(freeFlow))),
    );
  }
}

/** Casino to stadium by time on the copy with plain Dijkstra, as the service should answer. */
function expectedRoute(graph: RoadGraph) {
  const snapper = new EdgeSnapper(graph);
  const planner = new RoutePlanner(graph, snapper, new Dijkstra(graph), reference.wayLabels);
  const from = snapper.nearest(CASINO.lat, CASINO.lng);
  const to = snapper.nearest(STADIUM.lat, STADIUM.lng);
  if (!from.ok || !to.ok) throw new Error('expected snaps');
  const route = planner.plan(from, to, 'time');
  if (!route.reachable) throw new Error('expected a route');
  return route;
}

function expectRouteLike(answer: Answer, expected: ReturnType<typeof expectedRoute>) {
  expect(answer.properties.durationS).toBeCloseTo(expected.durationS, 1);
  expect(answer.properties.distanceM).toBeCloseTo(expected.distanceM, 1);
  expect(answer.geometry.coordinates).toEqual(expected.coordinates);
}

describe('weather', () => {
  // Ice as documented: half of free flow, 35 % on roads of 80 km/h and more.
  const ICE = (freeFlowKmh: number) => (freeFlowKmh >= 80 ? 0.35 : 0.5);
  let middle: TrafficArea;
  let first: Answer;

  beforeAll(async () => {
    first = (await get(`/route?from=${at(CASINO)}&to=${at(STADIUM)}`)).body;
    const coordinates = first.geometry.coordinates as [number, number][];
    const [lng, lat] = coordinates[coordinates.length >> 1]!;
    middle = { lat, lng, radiusM: 300 };
  });

  afterEach(async () => {
    await fetch(`${base}/weather`, { method: 'DELETE' });
    await fetch(`${base}/traffic`, { method: 'DELETE' });
  });

  it('ices an area: /route as Dijkstra on an equally slowed graph; a reset restores', async () => {
    const applied = await send('POST', '/weather', { area: middle, condition: 'ice' });
    expect(applied.status).toBe(200);
    expect(applied.body.selectedEdges).toBeGreaterThan(0);
    expect(applied.body.changedEdges).toBe(applied.body.selectedEdges);

    const iced = (await get(`/route?from=${at(CASINO)}&to=${at(STADIUM)}`)).body;
    expect(iced.properties.durationS).toBeGreaterThan(first.properties.durationS);
    // The ice is taken to last the trip: history (never below it here) adds nothing.
    expect(iced.properties.etaS).toBe(iced.properties.durationS);
    const graph = referenceCopy();
    slowArea(graph, middle, ICE);
    expectRouteLike(iced, expectedRoute(graph));

    // Weather teaches the history nothing: the first answer comes back whole, etaS too.
    const reset = await send('DELETE', '/weather', {});
    expect(reset.body.changedEdges).toBe(applied.body.changedEdges);
    expect((await get(`/route?from=${at(CASINO)}&to=${at(STADIUM)}`)).body).toEqual(first);
  });

  it('combines with traffic as the slower; each reset clears its own layer', async () => {
    const jamArea = { ...middle, radiusM: 150 };
    await send('POST', '/weather', { area: middle, factor: 0.5 });
    // A lighter jam than the weather allows changes no live speed.
    const light = await send('POST', '/traffic', { area: jamArea, factor: 0.8 });
    expect(light.body.selectedEdges).toBeGreaterThan(0);
    expect(light.body.changedEdges).toBe(0);
    const heavy = await send('POST', '/traffic', { area: jamArea, factor: 0.2 });
    expect(heavy.body.changedEdges).toBe(heavy.body.selectedEdges);

    const both = referenceCopy();
    slowArea(both, middle, () => 0.5);
    slowArea(both, jamArea, () => 0.2);
    expectRouteLike(
      (await get(`/route?from=${at(CASINO)}&to=${at(STADIUM)}`)).body,
      expectedRoute(both),
    );

    // Without the weather, the jam's own speeds exactly.
    const noWeather = await send('DELETE', '/weather', {});
    expect(noWeather.body.changedEdges).toBeGreaterThan(0);
    const jamOnly = referenceCopy();
    slowArea(jamOnly, jamArea, () => 0.2);
    expectRouteLike(
      (await get(`/route?from=${at(CASINO)}&to=${at(STADIUM)}`)).body,
      expectedRoute(jamOnly),
    );

    // The weather back, then the traffic reset: the weather stays.
    await send('POST', '/weather', { area: middle, factor: 0.5 });
    const noTraffic = await send('DELETE', '/traffic', {});
    expect(noTraffic.body.changedEdges).toBe(heavy.body.changedEdges);
    const weatherOnly = referenceCopy();
    slowArea(weatherOnly, middle, () => 0.5);
    const route = (await get(`/route?from=${at(CASINO)}&to=${at(STADIUM)}`)).body;
    expectRouteLike(route, expectedRoute(weatherOnly));
    expect(route.properties.durationS).toBeGreaterThan(first.properties.durationS);
  });

  it.each([
    [{ condition: 'snow' }, 'area'],
    [{ area: { lat: 43.73, lng: 7.42, radiusM: 100 } }, 'condition'],
    [
      { area: { lat: 43.73, lng: 7.42, radiusM: 100 }, condition: 'snow', factor: 0.5 },
      'condition',
    ],
    [{ area: { lat: 43.73, lng: 7.42, radiusM: 100 }, condition: 'hail' }, 'condition'],
    [{ area: { lat: 43.73, lng: 7.42, radiusM: 100 }, factor: 1.5 }, 'factor'],
    [{ area: { lat: 43.73, lng: 7.42, radiusM: 100 }, factor: 0 }, 'factor'],
    [{ area: { lat: 43.73, lng: 7.42 }, condition: 'rain' }, 'area'],
    [{ area: { south: 44, west: 7.4, north: 43, east: 7.5 }, condition: 'rain' }, 'area.north'],
    [{ area: { lat: 43.73, lng: 7.42, radiusM: 100 }, condition: 'rain', wayIds: [1] }, 'wayIds'],
    [[], 'body'],
  ])('refuses %j naming %s', async (body, field) => {
    const { status, body: answer } = await send('POST', '/weather', body);
    expect(status).toBe(400);
    expect(answer.error.field).toBe(field);
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A WebSocket session whose messages are read in order. */
async function openSession() {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/navigate`);
  const queue: SessionMessage[] = [];
  const waiting: ((message: SessionMessage) => void)[] = [];
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString()) as SessionMessage;
    const next = waiting.shift();
    if (next) next(message);
    else queue.push(message);
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const next = (): Promise<SessionMessage> =>
    queue.length > 0
      ? Promise.resolve(queue.shift()!)
      : new Promise<SessionMessage>((r) => waiting.push(r));
  return { ws, next, closed };
}

describe('WebSocket navigation', () => {
  it('follows pings along the route and reroutes after two pings off it', async () => {
    const session = await openSession();
    session.ws.send(JSON.stringify({ type: 'start', from: CASINO, to: STADIUM }));
    const started = await session.next();
    expect(started.type).toBe('route');
    const line = new RouteLine(started.route);

    // On the route, a third of the way along.
    const coordinates = started.route.geometry.coordinates as [number, number][];
    const [lng, lat] = coordinates[Math.floor(coordinates.length / 3)]!;
    session.ws.send(JSON.stringify({ type: 'ping', lat, lng }));
    const onRoute = await session.next();
    expect(onRoute).toMatchObject({ type: 'progress', offPings: 0 });
    expect(onRoute.offRouteM).toBeLessThan(1);
    expect(onRoute.remainingM).toBeLessThan(line.lengthM);

    // A road node well away from the route: the first ping counts, the second reroutes.
    const { graph } = reference;
    let off = -1;
    for (let n = 0; n < graph.nodeCount && off === -1; n++) {
      const progress = line.progress({ lat: graph.lat[n]!, lng: graph.lon[n]! });
      if (progress.offRouteM > 300 && progress.offRouteM < 600) off = n;
    }
    const away = { type: 'ping', lat: graph.lat[off]!, lng: graph.lon[off]! };
    session.ws.send(JSON.stringify(away));
    expect(await session.next()).toMatchObject({ type: 'progress', offPings: 1 });
    session.ws.send(JSON.stringify(away));
    const reroute = await session.next();
    expect(reroute.type).toBe('reroute');
    const [startLng, startLat] = reroute.route.geometry.coordinates[0]!;
    expect(haversineM(startLat, startLng, away.lat, away.lng)).toBeLessThan(1);
    const end = reroute.route.geometry.coordinates.at(-1)!;
    expect(end).toEqual(coordinates.at(-1));

    // At the destination.
    session.ws.send(JSON.stringify({ type: 'ping', lat: end[1], lng: end[0] }));
    expect(await session.next()).toMatchObject({ type: 'arrived', remainingM: 0 });
    session.ws.close();
  });

  it('answers bad messages with errors and closes the session after too many', async () => {
    const session = await openSession();
    session.ws.send(JSON.stringify({ type: 'ping', lat: CASINO.lat, lng: CASINO.lng }));
    expect(await session.next()).toMatchObject({ type: 'error', code: 'session_not_started' });
    session.ws.send(
      JSON.stringify({ type: 'start', from: { lat: 48.85, lng: 2.35 }, to: STADIUM }),
    );
    expect(await session.next()).toMatchObject({ code: 'outside_extract', field: 'from' });

    session.ws.send('{not json');
    expect(await session.next()).toMatchObject({ type: 'error', code: 'invalid_json' });
    session.ws.send(JSON.stringify({ type: 'teleport' }));
    expect(await session.next()).toMatchObject({ code: 'unknown_type', field: 'type' });
    session.ws.send(JSON.stringify({ type: 'ping', lat: 'north' }));
    expect(await session.next()).toMatchObject({ code: 'invalid_message', field: 'lat' });
    // Four bad messages (a routing error does not count): closed.
    expect(await session.closed).toBe(1008);
  });

  it('refuses messages beyond the rate, which count as bad ones', async () => {
    const session = await openSession();
    session.ws.send(JSON.stringify({ type: 'start', from: CASINO, to: STADIUM }));
    const ping = JSON.stringify({ type: 'ping', lat: CASINO.lat, lng: CASINO.lng });
    for (let i = 0; i < 30; i++) session.ws.send(ping);
    const answers: SessionMessage[] = [];
    const closed = await Promise.race([
      session.closed,
      (async () => {
        for (;;) answers.push(await session.next());
      })(),
    ]);
    expect(closed).toBe(1008);
    // A burst of ten (the start and nine pings) is answered, then four refusals close it.
    expect(answers.filter((a) => a.code === 'rate_limited')).toHaveLength(4);
    const answered = answers.filter((a) => a.type === 'progress').length;
    expect(answered).toBeGreaterThanOrEqual(9);
    expect(answered).toBeLessThanOrEqual(12);
  });

  it('cuts off a client that stops answering pings, and closes an idle one', async () => {
    const active = async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return Number(/^navigation_sessions_active(?:\{[^}]*\})? (\d+)/m.exec(text)![1]);
    };
    const before = await active();
    const silent = await openSession();
    expect(await active()).toBe(before + 1);
    // The client stops reading: it no longer answers the server's pings.
    (silent.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const deadline = Date.now() + 3000;
    while ((await active()) > before && Date.now() < deadline) await sleep(50);
    expect(await active()).toBe(before);
    silent.ws.terminate();

    // Answering pings but sending nothing: closed once WS_IDLE_MS (3 s) has passed.
    const idle = await openSession();
    const started = Date.now();
    expect(await idle.closed).toBe(1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
  });

  it('closes a session that sends a message over the size limit', async () => {
    const session = await openSession();
    session.ws.send(JSON.stringify({ type: 'ping', padding: 'x'.repeat(2000) }));
    expect(await session.closed).toBe(1009);
  });

  it('refuses upgrades on other paths', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/elsewhere`);
    const error = await new Promise<Error>((resolve) => ws.once('error', resolve));
    expect(error.message).toContain('404');
  });
});

describe('service', () => {
  it('is ready, and shows its metrics', async () => {
    expect((await get('/readyz')).body.checks).toEqual({ graph: 'ok', search: 'ok' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/navigation_route_seconds_count\{[^}]*kind="route"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/navigation_settled_nodes_count\{[^}]*kind="eta"/);
    expect(metrics).toMatch(/navigation_traffic_updates_total\{[^}]*kind="area"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/navigation_traffic_updates_total\{[^}]*kind="weather"[^}]*\} [1-9]/);
    expect(metrics).toMatch(
      /navigation_traffic_updates_total\{[^}]*kind="weather_reset"[^}]*\} [1-9]/,
    );
    expect(metrics).toContain('navigation_sessions_active');
  });

  it('refuses to start on an extract that is not there, naming the variable', () => {
    expect(() => parseNavigationConfig({ OSM_DIR, OSM_FILE: 'atlantis.osm.pbf' })).toThrow(
      /OSM_FILE: no such file .*atlantis\.osm\.pbf/,
    );
  });
});
