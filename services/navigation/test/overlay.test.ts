import { Dijkstra, edgeSource } from '../src/domain/dijkstra.ts';
import { OverlayRouter } from '../src/domain/overlay.ts';
import type { Metric, RoadGraph } from '../src/domain/road-graph.ts';
import { seeded, setEdgeSpeed } from '../src/domain/test-graphs.ts';
import { importOsm } from '../src/import/osm-import.ts';
import { defaultOsmDir } from '../src/config.ts';

const OSM_DIR = process.env.OSM_DIR ?? defaultOsmDir();

interface Mismatch {
  from: number;
  to: number;
  metric: Metric;
  expected: number | 'unreachable';
  got: number | 'unreachable';
}

/**
 * Routes `pairs` random node pairs with both routers and lists where they disagree: reachability,
 * cost (to the millimetre, so to the metre by distance), or a path that is not a chain of real
 * edges adding up to its cost.
 */
function compare(
  graph: RoadGraph,
  overlay: OverlayRouter,
  metric: Metric,
  pairs: number,
  seed: number,
) {
  const dijkstra = new Dijkstra(graph);
  const random = seeded(seed);
  const mismatches: Mismatch[] = [];
  let unreachable = 0;
  for (let i = 0; i < pairs; i++) {
    const from = Math.floor(random() * graph.nodeCount);
    const to = Math.floor(random() * graph.nodeCount);
    const expected = dijkstra.route(from, to, metric);
    const route = overlay.route(from, to, metric);
    if (!expected.reachable) unreachable++;
    const costOf = (r: typeof route) => (r.reachable ? r.cost : 'unreachable');
    let sound = route.reachable === expected.reachable;
    if (sound && route.reachable && expected.reachable) {
      const length = metric === 'time' ? route.durationS : route.distanceM;
      sound =
        Math.abs(route.cost - expected.cost) < 1e-3 &&
        Math.abs(length - route.cost) < 1e-3 &&
        route.nodes[0] === from &&
        route.nodes.at(-1) === to &&
        route.edges.every(
          (edge, k) =>
            edgeSource(graph, edge) === route.nodes[k] &&
            graph.edgeTarget[edge] === route.nodes[k + 1],
        );
    }
    if (!sound)
      mismatches.push({ from, to, metric, expected: costOf(expected), got: costOf(route) });
  }
  return { mismatches: mismatches.slice(0, 5), count: mismatches.length, unreachable };
}

describe.each(['monaco', 'andorra'])('overlay routing on %s', (name) => {
  let graph: RoadGraph;
  let overlay: OverlayRouter;

  beforeAll(async () => {
    ({ graph } = await importOsm(`${OSM_DIR}/${name}.osm.pbf`));
    overlay = new OverlayRouter(graph);
  });

  it('has cells of about 1 km and two levels of larger cells above them', () => {
    const { levels } = overlay.stats();
    expect(levels.map((level) => level.level)).toEqual([1, 2, 3]);
    expect(levels[0]!.cells).toBeGreaterThan(name === 'andorra' ? 100 : 4);
    expect(levels[0]!.cliqueArcs).toBeGreaterThan(0);
  });

  it('routes 10,000 random pairs by distance exactly as plain Dijkstra, unreachable ones too', () => {
    const result = compare(graph, overlay, 'distance', 10_000, 1);
    expect(result).toMatchObject({ count: 0 });
    // Both extracts have pieces cut off by private roads and one-way ramps.
    expect(result.unreachable).toBeGreaterThan(0);
  });

  it('routes 10,000 random pairs by time exactly as plain Dijkstra', () => {
    expect(compare(graph, overlay, 'time', 10_000, 2)).toMatchObject({ count: 0 });
  });

  it('after a traffic jam in one cell, recomputes that cell and those above it, and still routes as Dijkstra', () => {
    const cellOf = overlay.partition.cellOf;
    // The busiest level-1 cell, by edges inside it.
    const inside = new Map<number, number[]>();
    for (let e = 0; e < graph.edgeCount; e++) {
      const cell = cellOf[1]![edgeSource(graph, e)]!;
      if (cell === cellOf[1]![graph.edgeTarget[e]!])
        inside.set(cell, [...(inside.get(cell) ?? []), e]);
    }
    const jammed = [...inside.values()].sort((a, b) => b.length - a.length)[0]!;
    for (const edge of jammed) setEdgeSpeed(graph, edge, 5);

    // The cell, and its parent as the jam changed its clique; Monaco's level-2 cell is the whole
    // city, without a boundary, so its clique cannot change and level 3 is left alone.
    expect(overlay.onEdgesChanged(jammed)).toBe(name === 'monaco' ? 2 : 3);
    expect(compare(graph, overlay, 'time', 2_000, 3)).toMatchObject({ count: 0 });
    expect(compare(graph, overlay, 'distance', 500, 4)).toMatchObject({ count: 0 });
  });
});
