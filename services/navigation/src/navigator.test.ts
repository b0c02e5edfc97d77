import { createMetrics } from '@platform/kit';
import { Dijkstra } from './domain/dijkstra.ts';
import { buildRoadGraph } from './domain/road-graph.ts';
import { navigationMetrics } from './metrics.ts';
import { Navigator } from './navigator.ts';

// A straight one-way road of 30 pieces of 1 km at 60 km/h, east from (43.7, 7.4).
function road() {
  const nodes = Array.from({ length: 31 }, (_, i) => ({
    lat: 43.7,
    lon: 7.4 + i * 0.0124,
    osmId: i,
  }));
  const edges = Array.from({ length: 30 }, (_, i) => ({
    from: i,
    to: i + 1,
    lengthM: 1000,
    speedKmh: 60,
    wayId: 1,
    oneway: true,
  }));
  return buildRoadGraph(nodes, edges);
}

function navigator() {
  const graph = road();
  return new Navigator({
    graph,
    router: new Dijkstra(graph),
    wayLabels: new Map(),
    metrics: navigationMetrics(createMetrics('navigation-test')),
    snapMaxM: 1000,
    now: () => new Date('2026-12-07T07:30:00Z'),
  });
}

const everywhere = { south: 43, west: 7, north: 44, east: 8 };
const from = { lat: 43.7, lng: 7.4 };
const to = { lat: 43.7, lng: 7.4 + 29.5 * 0.0124 };

describe('Navigator', () => {
  it('learns traffic reported under weather at the traffic speed', () => {
    const clear = navigator();
    clear.applyTraffic({ area: everywhere }, { factor: 0.8 });

    const snowy = navigator();
    snowy.applyWeather(everywhere, { factor: 0.5 });
    // Slower than the jam: the live speed stays the weather's, the report is still learnt.
    expect(snowy.applyTraffic({ area: everywhere }, { factor: 0.8 })).toEqual({
      selectedEdges: 30,
      changedEdges: 0,
    });
    expect(snowy.eta(from, to, 'time')).toMatchObject({ durationS: 3540 });
    snowy.resetWeather();

    // Same live speeds and same history, so the same blended ETA (history is below live here).
    const expected = clear.eta(from, to, 'time');
    expect(expected).toMatchObject({ status: 'ok', durationS: 2212.5 });
    expect(snowy.eta(from, to, 'time')).toEqual(expected);
  });

  it('keeps the weather for the whole trip in the ETA', async () => {
    const snowy = navigator();
    snowy.applyWeather(everywhere, { condition: 'snow' });
    const eta = snowy.eta(from, to, 'time');
    // 29.5 km at 70 % of 60 km/h, nothing learnt: history far ahead is capped by the snow too.
    expect(eta).toEqual({ status: 'ok', distanceM: 29_500, durationS: 2528.6, etaS: 2528.6 });
    snowy.resetWeather();
    expect(snowy.eta(from, to, 'time')).toMatchObject({ durationS: 1770, etaS: 1770 });
  });
});
