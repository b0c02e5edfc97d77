import { haversineM } from './geo.ts';
import { NodeGrid } from './node-grid.ts';
import { buildRoadGraph } from './road-graph.ts';

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('NodeGrid', () => {
  const random = seeded(42);
  // 500 nodes scattered over about 4 km × 4 km around Monaco.
  const nodes = Array.from({ length: 500 }, (_, i) => ({
    lat: 43.72 + random() * 0.036,
    lon: 7.4 + random() * 0.05,
    osmId: i + 1,
  }));
  const graph = buildRoadGraph(nodes, []);

  it('finds the same node as a linear scan', () => {
    const grid = new NodeGrid(graph, { cellM: 200, maxSnapM: 10_000 });
    for (let i = 0; i < 300; i++) {
      const lat = 43.717 + random() * 0.041;
      const lon = 7.397 + random() * 0.056;
      const snap = grid.nearest(lat, lon);

      let best = Infinity;
      for (const node of nodes) best = Math.min(best, haversineM(lat, lon, node.lat, node.lon));
      expect(snap).toMatchObject({ ok: true });
      expect(snap.ok && snap.distanceM).toBeCloseTo(best, 6);
    }
  });

  it('snaps a point on a node to that node', () => {
    const grid = new NodeGrid(graph);
    expect(grid.nearest(nodes[17]!.lat, nodes[17]!.lon)).toEqual({
      ok: true,
      node: 17,
      distanceM: 0,
    });
  });

  it('refuses points outside the extract and impossible coordinates', () => {
    const grid = new NodeGrid(graph);
    expect(grid.nearest(48.85, 2.35)).toEqual({ ok: false, reason: 'outside-extract' });
    expect(grid.nearest(91, 7.4)).toEqual({ ok: false, reason: 'invalid-coordinate' });
    expect(grid.nearest(43.73, Number.NaN)).toEqual({ ok: false, reason: 'invalid-coordinate' });
  });

  it('refuses a point inside the box but farther than the snapping distance from any node', () => {
    const sparse = buildRoadGraph(
      [
        { lat: 43.7, lon: 7.4, osmId: 1 },
        { lat: 43.8, lon: 7.5, osmId: 2 },
      ],
      [],
    );
    const grid = new NodeGrid(sparse, { maxSnapM: 1000 });
    expect(grid.nearest(43.75, 7.45)).toEqual({ ok: false, reason: 'no-road-nearby' });
    expect(grid.nearest(43.7005, 7.4)).toMatchObject({ ok: true, node: 0 });
  });
});
