import { buildRoadGraph, type RoadGraph } from './road-graph.ts';
import { SpeedHistory } from './speed-history.ts';
import { setEdgeSpeed } from './test-graphs.ts';

/** A straight road of `count` one-way edges of `lengthM` each at `speedKmh`. */
function road(count: number, lengthM: number, speedKmh: number): RoadGraph {
  const nodes = Array.from({ length: count + 1 }, (_, i) => ({
    lat: 42.5,
    lon: 1.5 + i / 1000,
    osmId: i + 1,
  }));
  const edges = Array.from({ length: count }, (_, i) => ({
    from: i,
    to: i + 1,
    lengthM,
    speedKmh,
    wayId: 1,
    oneway: true,
  }));
  return buildRoadGraph(nodes, edges);
}

const all = (graph: RoadGraph) => Array.from({ length: graph.edgeCount }, (_, e) => e);
// Monday 2026-12-07, 08:30 in Andorra (CET, UTC+1).
const mondayMorning = new Date('2026-12-07T07:30:00Z');

describe('SpeedHistory', () => {
  it('counts hours of the week in the extract’s time zone, Monday midnight first', () => {
    const history = new SpeedHistory(road(1, 100, 50));
    expect(history.hourOfWeek(mondayMorning)).toBe(8);
    expect(history.hourOfWeek(new Date('2026-12-06T22:59:00Z'))).toBe(167);
    expect(history.hourOfWeek(new Date('2026-12-06T23:00:00Z'))).toBe(0);
    // Summer time: UTC+2.
    expect(history.hourOfWeek(new Date('2026-07-06T06:00:00Z'))).toBe(8);
  });

  it('with no traffic reported, every estimate is the free-flow travel time', () => {
    const graph = road(10, 1000, 36);
    const eta = new SpeedHistory(graph).eta(all(graph), mondayMorning);
    expect(eta.durationS).toBeCloseTo(1000, 6);
    expect(eta.liveDurationS).toBeCloseTo(1000, 6);
    expect(eta.historicalDurationS).toBeCloseTo(1000, 6);
  });

  it('learns each hour of the week apart, moving its average towards what traffic reports', () => {
    const graph = road(1, 1000, 50);
    const history = new SpeedHistory(graph, { learningRate: 0.5 });
    setEdgeSpeed(graph, 0, 10);
    history.observe([0], mondayMorning);
    expect(history.historicalKmh(0, 8)).toBeCloseTo(30, 5);
    history.observe([0], mondayMorning);
    expect(history.historicalKmh(0, 8)).toBeCloseTo(20, 5);
    expect(history.historicalKmh(0, 9)).toBe(50);
    expect(history.historicalKmh(0, 8 + 24)).toBe(50);
  });

  it('trusts live speeds at the start of a trip and history for the hours far ahead', () => {
    // Two hours of road at 60 km/h when free; history says Monday 09:00-15:00 crawls at 20.
    const graph = road(120, 1000, 60);
    const history = new SpeedHistory(graph, { learningRate: 1, horizonS: 600 });
    for (let e = 0; e < graph.edgeCount; e++) setEdgeSpeed(graph, e, 20);
    for (let hour = 8; hour < 14; hour++) {
      history.observe(all(graph), new Date(Date.UTC(2026, 10, 30, hour, 10)));
    }
    // Today the live speed is back to 60 everywhere.
    for (let e = 0; e < graph.edgeCount; e++) setEdgeSpeed(graph, e, 60);

    const eta = history.eta(all(graph), new Date('2026-12-07T08:00:00Z'));
    expect(eta.liveDurationS).toBeCloseTo(7200, 3);
    expect(eta.historicalDurationS).toBeCloseTo(3 * 7200, 3);
    // Longer than live: beyond the first minutes the trip meets the usual jam.
    expect(eta.durationS).toBeGreaterThan(1.5 * eta.liveDurationS);
    expect(eta.durationS).toBeLessThan(eta.historicalDurationS);

    // The first kilometre is estimated at the live speed: one minute, not three.
    const firstKm = history.eta([0], new Date('2026-12-07T08:00:00Z'));
    expect(firstKm.durationS).toBeCloseTo(60, 6);
  });

  it('learns the speed it is given instead of the live one when told', () => {
    // Live 25 km/h under snow; traffic alone says free flow, and that is what the hour learns.
    const graph = road(1, 1000, 50);
    const history = new SpeedHistory(graph, { learningRate: 0.5 });
    setEdgeSpeed(graph, 0, 25);
    history.observe([0], mondayMorning, () => 40);
    expect(history.historicalKmh(0, 8)).toBeCloseTo(45, 5);
  });

  it('keeps the weather for the whole trip: it caps historical speeds as it caps live ones', () => {
    // Four hours of road at 60 km/h when free, halved by the weather now; no traffic history.
    const graph = road(120, 1000, 60);
    const history = new SpeedHistory(graph, { horizonS: 600 });
    for (let e = 0; e < graph.edgeCount; e++) setEdgeSpeed(graph, e, 30);
    const departure = new Date('2026-12-07T08:00:00Z');

    // Without the weather, history far ahead is free flow and the ETA drifts to it.
    const clear = history.eta(all(graph), departure);
    expect(clear.durationS).toBeLessThan(0.7 * clear.liveDurationS);
    const snowing = history.eta(all(graph), departure, () => 0.5);
    expect(snowing.liveDurationS).toBeCloseTo(14_400, 3);
    expect(snowing.historicalDurationS).toBeCloseTo(14_400, 3);
    expect(snowing.durationS).toBeCloseTo(14_400, 3);
  });

  it('refuses a learning rate or horizon that makes no sense', () => {
    const graph = road(1, 100, 50);
    expect(() => new SpeedHistory(graph, { learningRate: 0 })).toThrow(RangeError);
    expect(() => new SpeedHistory(graph, { horizonS: -1 })).toThrow(RangeError);
  });
});
