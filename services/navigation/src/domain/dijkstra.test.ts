import { bellmanFordCosts, shortestPathViolation } from './bellman-ford.ts';
import { Dijkstra, edgeSource } from './dijkstra.ts';
import { buildRoadGraph, type EdgeSpec, type RoadGraph } from './road-graph.ts';
import { seeded } from './test-graphs.ts';

/**
 * A graph of `count` nodes on a line of longitudes, with edges given as [from, to, metres, km/h].
 */
function graphOf(count: number, edges: [number, number, number, number][]): RoadGraph {
  const nodes = Array.from({ length: count }, (_, i) => ({ lat: 0, lon: i / 1000, osmId: i + 1 }));
  const specs: EdgeSpec[] = edges.map(([from, to, lengthM, speedKmh], i) => ({
    from,
    to,
    lengthM,
    speedKmh,
    wayId: i + 1,
    oneway: true,
  }));
  return buildRoadGraph(nodes, specs);
}

/** Both directions of a road. */
function twoWay(from: number, to: number, lengthM: number, speedKmh: number) {
  return [
    [from, to, lengthM, speedKmh],
    [to, from, lengthM, speedKmh],
  ] as [number, number, number, number][];
}

describe('Dijkstra', () => {
  // 0 -1km @36- 1 -1km @36- 2, and a 3 km bypass 0 -> 2 at 108 km/h.
  const triangle = graphOf(3, [
    ...twoWay(0, 1, 1000, 36),
    ...twoWay(1, 2, 1000, 36),
    ...twoWay(0, 2, 3000, 108),
  ]);

  it('takes the shorter road by distance and the faster one by time', () => {
    const search = new Dijkstra(triangle);

    const short = search.route(0, 2, 'distance');
    expect(short).toMatchObject({ reachable: true, nodes: [0, 1, 2], distanceM: 2000 });
    expect(short.reachable && short.durationS).toBeCloseTo(200, 9);

    const fast = search.route(0, 2, 'time');
    expect(fast).toMatchObject({ reachable: true, nodes: [0, 2], distanceM: 3000 });
    expect(fast.reachable && fast.durationS).toBeCloseTo(100, 9);
  });

  it('routes from a node to itself with nothing to travel', () => {
    expect(new Dijkstra(triangle).route(1, 1, 'time')).toEqual({
      reachable: true,
      nodes: [1],
      edges: [],
      distanceM: 0,
      durationS: 0,
      cost: 0,
      settled: 1,
    });
  });

  it('starts from the cheapest source and ends at the cheapest target, their costs counted', () => {
    // A line 0 - 1 - 2 - 3 - 4 of 100 m roads: a point between 1 and 2, 30 m from 1, routed to
    // a point between 3 and 4, 10 m from 4.
    const line = graphOf(
      5,
      [0, 1, 2, 3].flatMap((i) => twoWay(i, i + 1, 100, 36)),
    );
    const route = new Dijkstra(line).route(
      [
        { node: 1, cost: 30 },
        { node: 2, cost: 70 },
      ],
      [
        { node: 3, cost: 90 },
        { node: 4, cost: 10 },
      ],
      'distance',
    );
    // Through 3: 70 + 100 + 90 = 260; through 4: 70 + 200 + 10 = 280.
    expect(route).toMatchObject({ reachable: true, nodes: [2, 3], distanceM: 100, cost: 260 });
  });

  it('follows one-way streets only forwards', () => {
    // 0 -> 1 -> 2 one way, and a long two-way road 2 - 0.
    const graph = graphOf(3, [[0, 1, 100, 30], [1, 2, 100, 30], ...twoWay(2, 0, 1000, 30)]);
    const search = new Dijkstra(graph);

    expect(search.route(0, 2, 'distance')).toMatchObject({ nodes: [0, 1, 2], distanceM: 200 });
    expect(search.route(2, 0, 'distance')).toMatchObject({ nodes: [2, 0], distanceM: 1000 });
    expect(search.route(1, 0, 'distance')).toMatchObject({ nodes: [1, 2, 0], distanceM: 1100 });
  });

  it('reports unreachable nodes: a dead-end one-way and a separate island', () => {
    // 0 -> 1 one way out; 2 - 3 an island.
    const graph = graphOf(4, [[0, 1, 100, 30], ...twoWay(2, 3, 100, 30)]);
    const search = new Dijkstra(graph);

    expect(search.route(1, 0, 'time')).toEqual({ reachable: false, settled: 1 });
    expect(search.route(0, 3, 'time')).toEqual({ reachable: false, settled: 2 });
    expect(search.route(0, 1, 'time').reachable).toBe(true);
  });

  it('refuses nodes outside the graph', () => {
    const search = new Dijkstra(triangle);
    expect(() => search.route(0, 3, 'time')).toThrow(RangeError);
    expect(() => search.route(-1, 0, 'time')).toThrow(RangeError);
  });

  it('finds the source of every edge', () => {
    const graph = graphOf(5, [
      [0, 1, 1, 1],
      [0, 2, 1, 1],
      [3, 4, 1, 1],
      [4, 0, 1, 1],
    ]);
    for (let node = 0; node < graph.nodeCount; node++) {
      for (let e = graph.firstEdge[node]!; e < graph.firstEdge[node + 1]!; e++) {
        expect(edgeSource(graph, e)).toBe(node);
      }
    }
  });

  it('agrees with Bellman-Ford on random small graphs, by time and by distance', () => {
    const random = seeded(6);
    for (let trial = 0; trial < 200; trial++) {
      const count = 2 + Math.floor(random() * 12);
      const edgeCount = Math.floor(random() * count * 3);
      const edges = Array.from(
        { length: edgeCount },
        () =>
          [
            Math.floor(random() * count),
            Math.floor(random() * count),
            1 + Math.floor(random() * 500),
            10 + Math.floor(random() * 100),
          ] as [number, number, number, number],
      );
      const graph = graphOf(count, edges);
      const search = new Dijkstra(graph);

      for (const metric of ['time', 'distance'] as const) {
        const from = Math.floor(random() * count);
        const reference = bellmanFordCosts(graph, from, metric);
        expect(shortestPathViolation(graph, from, metric, reference)).toBeNull();
        expect(Array.from(search.costs(from, metric).cost)).toEqual(Array.from(reference));

        for (let to = 0; to < count; to++) {
          const route = search.route(from, to, metric);
          if (reference[to] === Infinity) {
            expect(route.reachable).toBe(false);
            continue;
          }
          if (!route.reachable) throw new Error(`${from}->${to} should be reachable`);
          const cost = metric === 'time' ? route.durationS : route.distanceM;
          expect(cost).toBeCloseTo(reference[to]!, 6);
          expect(route.nodes[0]).toBe(from);
          expect(route.nodes.at(-1)).toBe(to);
        }
      }
    }
  });
});

describe('shortestPathViolation', () => {
  it('catches a label that is too high, too low or unrealised', () => {
    const graph = graphOf(3, [
      [0, 1, 10, 36],
      [1, 2, 10, 36],
    ]);
    expect(shortestPathViolation(graph, 0, 'distance', Float64Array.of(0, 10, 20))).toBeNull();
    expect(shortestPathViolation(graph, 0, 'distance', Float64Array.of(0, 10, 25))).toMatch(
      /improves/,
    );
    expect(shortestPathViolation(graph, 0, 'distance', Float64Array.of(0, 10, 15))).toMatch(
      /realises/,
    );
    expect(shortestPathViolation(graph, 0, 'distance', Float64Array.of(0, 10, Infinity))).toMatch(
      /improves/,
    );
  });
});
