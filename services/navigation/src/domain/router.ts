import type { Metric } from './road-graph.ts';

/**
 * Where a search may start or end: a graph node and what it costs (in the search's metric) to
 * get from the true start to that node, or from that node to the true end. A point snapped
 * onto the middle of an edge becomes up to two endpoints, one at each end of the edge.
 */
export interface Endpoint {
  node: number;
  cost: number;
}

export type Route =
  | {
      reachable: true;
      /** Graph nodes from the chosen source to the chosen target, both included. */
      nodes: number[];
      /** Edge indexes along the route, one fewer than the nodes. */
      edges: number[];
      /** Length and travel time of `edges` (endpoint costs not included). */
      distanceM: number;
      durationS: number;
      /** The minimised total: endpoint costs plus the edges' weights in the metric. */
      cost: number;
      settled: number;
    }
  | { reachable: false; settled: number };

/** A one-to-one route search; plain Dijkstra and the overlay router both implement it. */
export interface Router {
  route(
    from: number | readonly Endpoint[],
    to: number | readonly Endpoint[],
    metric: Metric,
  ): Route;
}

/** A node given alone starts or ends the route there at no cost. */
export function endpoints(at: number | readonly Endpoint[]): readonly Endpoint[] {
  return typeof at === 'number' ? [{ node: at, cost: 0 }] : at;
}
