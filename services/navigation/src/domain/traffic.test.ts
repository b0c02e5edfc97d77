import { Dijkstra } from './dijkstra.ts';
import { buildRoadGraph } from './road-graph.ts';
import { LiveSpeeds } from './live-speeds.ts';
import { selectEdges } from './traffic.ts';

// A square: 0 (south-west) → 1 (south-east) → 2 (north-east), and 0 → 3 (north-west) → 2.
function square() {
  const nodes = [
    { lat: 43.7, lon: 7.4, osmId: 1 },
    { lat: 43.7, lon: 7.41, osmId: 2 },
    { lat: 43.71, lon: 7.41, osmId: 3 },
    { lat: 43.71, lon: 7.4, osmId: 4 },
  ];
  const spec = (from: number, to: number, wayId: number) => ({
    from,
    to,
    lengthM: 1000,
    speedKmh: 50,
    wayId,
    oneway: true,
  });
  return buildRoadGraph(nodes, [
    spec(0, 1, 100),
    spec(1, 2, 100),
    spec(0, 3, 200),
    spec(3, 2, 200),
  ]);
}

describe('traffic', () => {
  it('selects the edges of named ways, or with both ends in a box or a circle', () => {
    const graph = square();
    expect(selectEdges(graph, { wayIds: [200] }).map((e) => graph.osmWayId[e])).toEqual([200, 200]);
    const box = { south: 43.699, west: 7.399, north: 43.701, east: 7.411 };
    expect(selectEdges(graph, { area: box })).toHaveLength(1);
    const circle = { lat: 43.7, lng: 7.4, radiusM: 10 };
    expect(selectEdges(graph, { area: circle })).toEqual([]);
  });

  it('changes speeds and times in place, the route follows, and a reset restores them', () => {
    const graph = square();
    const freeFlow = graph.edgeDurationS.slice();
    const speeds = new LiveSpeeds(graph);
    const router = new Dijkstra(graph);
    const before = router.route(0, 2, 'time');
    const firstWay = before.reachable ? graph.osmWayId[before.edges[0]!] : undefined;

    const { changed: slowed } = speeds.setTraffic(selectEdges(graph, { wayIds: [firstWay!] }), {
      factor: 0.5,
    });
    expect(slowed).toHaveLength(2);
    expect(graph.edgeSpeedKmh[slowed[0]!]).toBe(25);
    expect(graph.edgeDurationS[slowed[0]!]).toBeCloseTo(144, 9);
    const after = router.route(0, 2, 'time');
    expect(after.reachable && graph.osmWayId[after.edges[0]!]).not.toBe(firstWay);

    // Setting the same speed again changes nothing.
    expect(speeds.setTraffic(slowed, { speedKmh: 25 }).changed).toEqual([]);
    expect(speeds.clearTraffic().changed.sort()).toEqual(slowed.sort());
    expect(graph.edgeDurationS).toEqual(freeFlow);
  });
});
