import { Dijkstra } from './dijkstra.ts';
import { EdgeSnapper } from './edge-snap.ts';
import { buildRoadGraph, type EdgeSpec } from './road-graph.ts';
import { RoutePlanner } from './route-planner.ts';

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random roads over about 4 km × 4 km: each node joined to a few near ones, some one-way. */
function randomRoads(seed: number) {
  const random = seeded(seed);
  const nodes = Array.from({ length: 300 }, (_, i) => ({
    lat: 43.72 + random() * 0.036,
    lon: 7.4 + random() * 0.05,
    osmId: i + 1,
  }));
  const edges: EdgeSpec[] = [];
  for (let a = 0; a < nodes.length; a++) {
    for (let k = 0; k < 2; k++) {
      const b = Math.floor(random() * nodes.length);
      if (b === a) continue;
      const lengthM = 100 + random() * 900;
      const oneway = random() < 0.2;
      const edge = { lengthM, speedKmh: 30, wayId: a * 10 + k, oneway };
      edges.push({ from: a, to: b, ...edge });
      if (!oneway) edges.push({ from: b, to: a, ...edge });
    }
  }
  return buildRoadGraph(nodes, edges);
}

describe('EdgeSnapper', () => {
  const graph = randomRoads(7);
  const snapper = new EdgeSnapper(graph, { cellM: 200, maxSnapM: 10_000 });

  it('finds the same distance as projecting onto every edge', () => {
    const random = seeded(11);
    for (let i = 0; i < 300; i++) {
      const lat = 43.717 + random() * 0.041;
      const lon = 7.397 + random() * 0.056;
      const snap = snapper.nearest(lat, lon);

      let best = Infinity;
      for (let e = 0; e < graph.edgeCount; e++) {
        best = Math.min(best, snapper.project(e, lat, lon).distanceM);
      }
      expect(snap.ok).toBe(true);
      if (!snap.ok) continue;
      expect(snap.distanceM).toBeCloseTo(best, 6);
      expect(snap.fraction).toBeGreaterThanOrEqual(0);
      expect(snap.fraction).toBeLessThanOrEqual(1);
      // The projected point is on the edge, at the distance reported.
      expect(snapper.project(snap.edge, snap.lat, snap.lon).distanceM).toBeLessThan(1e-3);
    }
  });

  it('pairs two-way edges with their twin and leaves one-way edges alone', () => {
    for (let e = 0; e < graph.edgeCount; e++) {
      const twin = snapper.twinOf(e);
      if (graph.edgeOneway[e] === 1) expect(twin).toBe(-1);
      else {
        expect(snapper.twinOf(twin)).toBe(e);
        expect(graph.edgeTarget[twin]).toBe(snapper.sourceOf(e));
      }
    }
  });

  it('turns a snap into endpoints whose costs are the partial edge weights', () => {
    const snap = snapper.nearest(43.74, 7.42);
    if (!snap.ok) throw new Error('expected a snap');
    const [ahead, back] = snapper.sources(snap, 'distance');
    expect(ahead!.node).toBe(graph.edgeTarget[snap.edge]);
    expect(ahead!.cost).toBeCloseTo(graph.edgeLengthM[snap.edge]! * (1 - snap.fraction), 9);
    if (snap.twin === -1) expect(back).toBeUndefined();
    else expect(back!.cost).toBeCloseTo(graph.edgeLengthM[snap.twin]! * snap.fraction, 9);
  });

  it('refuses points outside the extract, far from roads, and impossible ones', () => {
    expect(snapper.nearest(48.85, 2.35)).toEqual({ ok: false, reason: 'outside-extract' });
    expect(snapper.nearest(91, 7.4)).toEqual({ ok: false, reason: 'invalid-coordinate' });
    const strict = new EdgeSnapper(graph, { maxSnapM: 0.001 });
    expect(strict.nearest(43.7215, 7.4015)).toEqual({ ok: false, reason: 'no-road-nearby' });
  });
});

describe('RoutePlanner on a straight road', () => {
  // Three nodes on a line west to east, 0.01° of longitude apart (about 800 m), one way.
  const line = (oneway: boolean) => {
    const nodes = [0, 1, 2].map((i) => ({ lat: 43.73, lon: 7.4 + i * 0.01, osmId: i + 1 }));
    const edges: EdgeSpec[] = [];
    for (const [a, b] of [
      [0, 1],
      [1, 2],
    ] as const) {
      const spec = { lengthM: 800, speedKmh: 36, wayId: 1, oneway };
      edges.push({ from: a, to: b, ...spec });
      if (!oneway) edges.push({ from: b, to: a, ...spec });
    }
    return buildRoadGraph(nodes, edges);
  };
  const labels = new Map([[1, { name: 'Boulevard' }]]);

  it('goes straight along the edge when the destination lies ahead on it', () => {
    const graph = line(true);
    const snapper = new EdgeSnapper(graph);
    const planner = new RoutePlanner(graph, snapper, new Dijkstra(graph), labels);
    const from = snapper.nearest(43.7301, 7.4025);
    const to = snapper.nearest(43.7299, 7.4075);
    if (!from.ok || !to.ok) throw new Error('expected snaps');
    expect(from.edge).toBe(to.edge);

    const route = planner.plan(from, to, 'distance');
    expect(route.reachable).toBe(true);
    if (!route.reachable) return;
    expect(route.distanceM).toBeCloseTo(400, 6);
    expect(route.durationS).toBeCloseTo(40, 6);
    expect(route.coordinates).toEqual([
      [from.lon, from.lat],
      [to.lon, to.lat],
    ]);
    expect(route.steps.map((s) => s.maneuver)).toEqual(['depart', 'arrive']);
    expect(route.steps[0]!.name).toBe('Boulevard');
  });

  it('cannot go back against a one-way road, and can on a two-way one', () => {
    const oneway = line(true);
    const snapper = new EdgeSnapper(oneway);
    const planner = new RoutePlanner(oneway, snapper, new Dijkstra(oneway), labels);
    const from = snapper.nearest(43.73, 7.4075);
    const to = snapper.nearest(43.73, 7.4025);
    if (!from.ok || !to.ok) throw new Error('expected snaps');
    expect(planner.plan(from, to, 'distance').reachable).toBe(false);

    const twoway = line(false);
    const snapper2 = new EdgeSnapper(twoway);
    const planner2 = new RoutePlanner(twoway, snapper2, new Dijkstra(twoway), labels);
    const from2 = snapper2.nearest(43.73, 7.4175);
    const to2 = snapper2.nearest(43.73, 7.4025);
    if (!from2.ok || !to2.ok) throw new Error('expected snaps');
    const route = planner2.plan(from2, to2, 'distance');
    expect(route.reachable && route.distanceM).toBeCloseTo(1200, 6);
    expect(route.reachable && route.coordinates.length).toBe(3);
    expect(route.reachable && route.coordinates[0]).toEqual([from2.lon, from2.lat]);
    expect(route.reachable && route.coordinates.at(-1)).toEqual([to2.lon, to2.lat]);
  });
});
