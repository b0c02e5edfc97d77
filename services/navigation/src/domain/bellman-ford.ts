import { edgeWeights, type Metric, type RoadGraph } from './road-graph.ts';

/**
 * Bellman-Ford costs from one node: O(nodes × edges), far too slow for queries, but simple
 * enough to trust as the reference the searches are checked against.
 */
export function bellmanFordCosts(graph: RoadGraph, from: number, metric: Metric): Float64Array {
  const weights = edgeWeights(graph, metric);
  const cost = new Float64Array(graph.nodeCount).fill(Infinity);
  cost[from] = 0;

  for (let round = 1; round < graph.nodeCount; round++) {
    let changed = false;
    for (let node = 0; node < graph.nodeCount; node++) {
      const base = cost[node]!;
      if (base === Infinity) continue;
      for (let e = graph.firstEdge[node]!; e < graph.firstEdge[node + 1]!; e++) {
        const target = graph.edgeTarget[e]!;
        if (base + weights[e]! < cost[target]!) {
          cost[target] = base + weights[e]!;
          changed = true;
        }
      }
    }
    if (!changed) break;
  }
  return cost;
}

/**
 * Checks that `cost` is the exact shortest-path cost from `from`: zero at the origin, no edge
 * can improve any label (the Bellman-Ford condition), and every finite label is reached by
 * some edge that realises it. Returns the first violation found, or null.
 */
export function shortestPathViolation(
  graph: RoadGraph,
  from: number,
  metric: Metric,
  cost: Float64Array,
  tolerance = 1e-6,
): string | null {
  const weights = edgeWeights(graph, metric);
  if (cost[from] !== 0) return `origin ${from} has cost ${cost[from]}`;

  const realised = new Uint8Array(graph.nodeCount);
  realised[from] = 1;
  for (let node = 0; node < graph.nodeCount; node++) {
    const base = cost[node]!;
    if (base === Infinity) continue;
    for (let e = graph.firstEdge[node]!; e < graph.firstEdge[node + 1]!; e++) {
      const target = graph.edgeTarget[e]!;
      const through = base + weights[e]!;
      if (through < cost[target]! - tolerance) {
        return `edge ${e} (${node}->${target}) improves ${cost[target]} to ${through}`;
      }
      if (Math.abs(through - cost[target]!) <= tolerance) realised[target] = 1;
    }
  }

  for (let node = 0; node < graph.nodeCount; node++) {
    if (cost[node] !== Infinity && realised[node] === 0) {
      return `node ${node} has cost ${cost[node]} that no edge realises`;
    }
  }
  return null;
}
