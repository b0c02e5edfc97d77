// Graphs and randomness for the domain's tests (no test runs from this file).
import { seeded } from '@platform/kit/testing';
import { haversineM } from './geo.ts';
import { buildRoadGraph, type EdgeSpec, type RoadGraph } from './road-graph.ts';

export { seeded };

/**
 * Nodes scattered over a square of `spanM` metres near Andorra, each joined to a few of its
 * nearest neighbours by roads at random speeds; about one road in five is one-way, so some
 * pairs are unreachable. Lengths are the straight-line distance.
 */
export function randomRoadGraph(
  random: () => number,
  options: { nodes: number; spanM: number; neighbours?: number },
): RoadGraph {
  const { nodes: count, spanM } = options;
  const neighbours = options.neighbours ?? 3;
  const degreesPerM = 1 / 111_195;
  const nodes = Array.from({ length: count }, (_, i) => ({
    lat: 42.5 + random() * spanM * degreesPerM,
    lon: 1.5 + random() * spanM * degreesPerM * 1.35,
    osmId: i + 1,
  }));
  // Candidates come from the surrounding buckets of a grid about two neighbours wide.
  const bucketM = Math.max(1, spanM * Math.sqrt((2 * neighbours) / count));
  const bucketOf = (lat: number, lon: number) => [
    Math.floor((lat - 42.5) / degreesPerM / bucketM),
    Math.floor((lon - 1.5) / degreesPerM / 1.35 / bucketM),
  ];
  const buckets = new Map<string, number[]>();
  nodes.forEach((node, i) => {
    const key = bucketOf(node.lat, node.lon).join();
    buckets.set(key, [...(buckets.get(key) ?? []), i]);
  });

  const edges: EdgeSpec[] = [];
  nodes.forEach((node, from) => {
    const [row, col] = bucketOf(node.lat, node.lon);
    const candidates: number[] = [];
    for (let r = row! - 2; r <= row! + 2; r++) {
      for (let c = col! - 2; c <= col! + 2; c++)
        candidates.push(...(buckets.get(`${r},${c}`) ?? []));
    }
    const nearest = candidates
      .filter((to) => to !== from)
      .map((to) => ({ to, m: haversineM(node.lat, node.lon, nodes[to]!.lat, nodes[to]!.lon) }))
      .sort((a, b) => a.m - b.m)
      .slice(0, neighbours);
    for (const { to, m } of nearest) {
      const road = { lengthM: Math.max(1, m), speedKmh: 10 + Math.floor(random() * 100) };
      const oneway = random() < 0.2;
      edges.push({ from, to, ...road, wayId: edges.length + 1, oneway });
      if (!oneway) edges.push({ from: to, to: from, ...road, wayId: edges.length, oneway });
    }
  });
  return buildRoadGraph(nodes, edges);
}

/** Sets an edge's speed and the travel time that follows from it, as traffic would. */
export function setEdgeSpeed(graph: RoadGraph, edge: number, speedKmh: number): void {
  graph.edgeSpeedKmh[edge] = speedKmh;
  graph.edgeDurationS[edge] = graph.edgeLengthM[edge]! / (speedKmh / 3.6);
}
