import { Dijkstra, edgeSource } from './dijkstra.ts';
import { LiveSpeeds } from './live-speeds.ts';
import { OverlayRouter } from './overlay.ts';
import { gridPartition } from './partition.ts';
import type { Metric, RoadGraph } from './road-graph.ts';
import type { Route } from './router.ts';
import { randomRoadGraph, seeded, setEdgeSpeed } from './test-graphs.ts';
import { weatherFactor } from './weather.ts';

const METRICS: Metric[] = ['time', 'distance'];

/** Fails unless the route is a chain of real edges from `from` to `to` costing what it says. */
function expectRealPath(graph: RoadGraph, route: Route, from: number, to: number, metric: Metric) {
  if (!route.reachable) throw new Error(`${from}->${to} should be reachable`);
  expect(route.nodes[0]).toBe(from);
  expect(route.nodes.at(-1)).toBe(to);
  const broken = route.edges.findIndex(
    (edge, i) =>
      edgeSource(graph, edge) !== route.nodes[i] || graph.edgeTarget[edge] !== route.nodes[i + 1],
  );
  expect(broken).toBe(-1);
  expect(metric === 'time' ? route.durationS : route.distanceM).toBeCloseTo(route.cost, 6);
}

/** Every pair of `pairs` random pairs routes the same cost as Dijkstra, on real edges. */
function expectSameAsDijkstra(graph: RoadGraph, overlay: OverlayRouter, seed: number, pairs = 300) {
  const dijkstra = new Dijkstra(graph);
  const random = seeded(seed);
  let reachable = 0;
  for (let i = 0; i < pairs; i++) {
    const from = Math.floor(random() * graph.nodeCount);
    const to = Math.floor(random() * graph.nodeCount);
    for (const metric of METRICS) {
      const expected = dijkstra.route(from, to, metric);
      const route = overlay.route(from, to, metric);
      expect(route.reachable).toBe(expected.reachable);
      if (!expected.reachable) continue;
      reachable++;
      expectRealPath(graph, route, from, to, metric);
      expect(route.reachable && route.cost).toBeCloseTo(expected.cost, 6);
    }
  }
  return reachable;
}

describe('gridPartition', () => {
  it('nests every cell inside one cell of the level above', () => {
    const graph = randomRoadGraph(seeded(1), { nodes: 400, spanM: 3000 });
    const partition = gridPartition(graph, { cellM: 300, fanout: 2, levels: 3 });

    expect(partition.cellCount[1]).toBeGreaterThan(partition.cellCount[2]!);
    expect(partition.cellCount[2]).toBeGreaterThan(partition.cellCount[3]!);
    for (let level = 1; level < 3; level++) {
      for (let node = 0; node < graph.nodeCount; node++) {
        const cell = partition.cellOf[level]![node]!;
        expect(partition.parentOf[level]![cell]).toBe(partition.cellOf[level + 1]![node]);
      }
    }
  });

  it('refuses a partition without levels or with a fanout of one', () => {
    const graph = randomRoadGraph(seeded(1), { nodes: 10, spanM: 100 });
    expect(() => gridPartition(graph, { levels: 0 })).toThrow(RangeError);
    expect(() => gridPartition(graph, { fanout: 1 })).toThrow(RangeError);
  });
});

describe('OverlayRouter', () => {
  it('routes like Dijkstra on random graphs cut into three levels of cells', () => {
    for (const seed of [2, 3, 4]) {
      const graph = randomRoadGraph(seeded(seed), { nodes: 500, spanM: 4000 });
      const overlay = new OverlayRouter(graph, { cellM: 300, fanout: 2, levels: 3 });
      const { levels } = overlay.stats();
      // The test means something only if every level has boundaries and cliques.
      for (const level of levels) expect(level.cliqueArcs).toBeGreaterThan(0);

      const reachable = expectSameAsDijkstra(graph, overlay, seed);
      expect(reachable).toBeGreaterThan(300);
    }
  });

  it('settles fewer nodes than Dijkstra across a graph', () => {
    const graph = randomRoadGraph(seeded(5), { nodes: 3000, spanM: 8000 });
    const overlay = new OverlayRouter(graph, { cellM: 500, fanout: 3, levels: 2 });
    const dijkstra = new Dijkstra(graph);
    const random = seeded(6);
    let overlaySettled = 0;
    let dijkstraSettled = 0;
    for (let i = 0; i < 100; i++) {
      const from = Math.floor(random() * graph.nodeCount);
      const to = Math.floor(random() * graph.nodeCount);
      overlaySettled += overlay.route(from, to, 'time').settled;
      dijkstraSettled += dijkstra.route(from, to, 'time').settled;
    }
    expect(overlaySettled * 3).toBeLessThan(dijkstraSettled);
  });

  it('starts and ends at the cheapest endpoints, their costs counted', () => {
    const graph = randomRoadGraph(seeded(7), { nodes: 300, spanM: 3000 });
    const overlay = new OverlayRouter(graph, { cellM: 300, fanout: 2, levels: 2 });
    const dijkstra = new Dijkstra(graph);
    const random = seeded(8);
    for (let i = 0; i < 100; i++) {
      const pick = () => ({
        node: Math.floor(random() * graph.nodeCount),
        cost: Math.floor(random() * 200),
      });
      const sources = [pick(), pick()];
      const targets = [pick(), pick()];
      const expected = dijkstra.route(sources, targets, 'distance');
      const route = overlay.route(sources, targets, 'distance');
      expect(route.reachable).toBe(expected.reachable);
      if (route.reachable && expected.reachable) expect(route.cost).toBeCloseTo(expected.cost, 6);
    }
  });

  it('routes a node to itself with nothing to travel, and refuses nodes outside the graph', () => {
    const graph = randomRoadGraph(seeded(9), { nodes: 50, spanM: 1000 });
    const overlay = new OverlayRouter(graph, { cellM: 200, fanout: 2, levels: 2 });
    expect(overlay.route(7, 7, 'time')).toMatchObject({ reachable: true, nodes: [7], cost: 0 });
    expect(() => overlay.route(0, graph.nodeCount, 'time')).toThrow(RangeError);
  });

  it('after travel times change, recomputes only the cells holding the edges and routes like Dijkstra on the changed graph', () => {
    const graph = randomRoadGraph(seeded(10), { nodes: 500, spanM: 4000 });
    const overlay = new OverlayRouter(graph, { cellM: 300, fanout: 2, levels: 3 });
    const { cellOf } = overlay.partition;

    // Slow every road inside one level-1 cell to a crawl.
    const cell = cellOf[1]![0]!;
    const changed: number[] = [];
    for (let e = 0; e < graph.edgeCount; e++) {
      const from = edgeSource(graph, e);
      if (cellOf[1]![from] === cell && cellOf[1]![graph.edgeTarget[e]!] === cell) {
        setEdgeSpeed(graph, e, 2);
        changed.push(e);
      }
    }
    expect(changed.length).toBeGreaterThan(0);
    // The cell and, as its clique changed, the one cell above it at each higher level.
    expect(overlay.onEdgesChanged(changed)).toBe(3);
    // Reported again without a change: the cell is recomputed, its clique is the same, and
    // nothing above it is.
    expect(overlay.onEdgesChanged(changed)).toBe(1);
    expectSameAsDijkstra(graph, overlay, 11);

    // Random edges anywhere, faster and slower.
    const random = seeded(12);
    const scattered = Array.from({ length: 60 }, () => Math.floor(random() * graph.edgeCount));
    for (const edge of scattered) setEdgeSpeed(graph, edge, 5 + random() * 120);
    overlay.onEdgesChanged(scattered);
    expectSameAsDijkstra(graph, overlay, 13);
  });

  it('weather and traffic in a cell: it and those above recomputed, routes as Dijkstra', () => {
    const graph = randomRoadGraph(seeded(16), { nodes: 500, spanM: 4000 });
    const overlay = new OverlayRouter(graph, { cellM: 300, fanout: 2, levels: 3 });
    const speeds = new LiveSpeeds(graph);
    const { cellOf } = overlay.partition;
    const cell = cellOf[1]![0]!;
    const inCell: number[] = [];
    for (let e = 0; e < graph.edgeCount; e++) {
      const from = edgeSource(graph, e);
      if (cellOf[1]![from] === cell && cellOf[1]![graph.edgeTarget[e]!] === cell) inCell.push(e);
    }
    expect(inCell.length).toBeGreaterThan(1);
    // One level-1 cell holds every change, so at most it and the one cell above it per level.
    const recomputed = (edges: number[]) => {
      expect(edges.every((edge) => inCell.includes(edge))).toBe(true);
      const cells = overlay.onEdgesChanged(edges);
      expect(cells).toBeGreaterThanOrEqual(1);
      expect(cells).toBeLessThanOrEqual(3);
      return cells;
    };

    // Ice over the cell, then a jam on half of it, then the ice gone, then the jam gone.
    const ice = speeds.setWeather(inCell, weatherFactor({ condition: 'ice' }));
    expect(ice.changed).toEqual(inCell);
    expect(recomputed(ice.changed)).toBe(3);
    expectSameAsDijkstra(graph, overlay, 17, 150);

    const jammed = inCell.slice(0, inCell.length >> 1);
    const jam = speeds.setTraffic(jammed, { factor: 0.1 });
    expect(jam.changed).toEqual(jammed);
    recomputed(jam.changed);
    expectSameAsDijkstra(graph, overlay, 18, 150);

    // The ice leaves: only the roads without the jam change.
    const thaw = speeds.clearWeather();
    expect(thaw.changed).toEqual(inCell.slice(jammed.length));
    recomputed(thaw.changed);
    expectSameAsDijkstra(graph, overlay, 19, 150);
    expect(speeds.clearTraffic().changed).toEqual(jammed);
    recomputed(jammed);
    expectSameAsDijkstra(graph, overlay, 20, 150);
    expect(overlay.route(0, graph.nodeCount - 1, 'time')).toEqual(
      new OverlayRouter(graph, { cellM: 300, fanout: 2, levels: 3 }).route(
        0,
        graph.nodeCount - 1,
        'time',
      ),
    );
  });

  it('goes wrong if changed edges are not reported, so the test above can fail', () => {
    const graph = randomRoadGraph(seeded(14), { nodes: 500, spanM: 4000 });
    const overlay = new OverlayRouter(graph, { cellM: 300, fanout: 2, levels: 3 });
    for (let e = 0; e < graph.edgeCount; e++) setEdgeSpeed(graph, e, graph.edgeSpeedKmh[e]! / 2);
    expect(() => expectSameAsDijkstra(graph, overlay, 15, 50)).toThrow();
  });
});
