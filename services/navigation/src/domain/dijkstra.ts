import { BinaryHeap } from './binary-heap.ts';
import { edgeWeights, type Metric, type RoadGraph } from './road-graph.ts';
import { checkNode, rowOf, SearchStamps } from './search-stamps.ts';
import { endpoints, type Endpoint, type Route, type Router } from './router.ts';

/**
 * Plain Dijkstra on the full graph with a binary heap, stopping when the destination is
 * settled. One instance per graph: its label arrays are reused between queries (a generation
 * stamp marks which labels belong to the current query), so a query allocates only its path.
 * Not safe to share between concurrent callers, which in Node means nothing.
 */
export class Dijkstra implements Router {
  readonly #graph: RoadGraph;
  readonly #cost: Float64Array;
  readonly #parentEdge: Int32Array;
  readonly #stamps: SearchStamps;
  readonly #heap: BinaryHeap;

  constructor(graph: RoadGraph) {
    this.#graph = graph;
    this.#cost = new Float64Array(graph.nodeCount);
    this.#parentEdge = new Int32Array(graph.nodeCount);
    this.#stamps = new SearchStamps(graph.nodeCount);
    this.#heap = new BinaryHeap(1024);
  }

  /**
   * The cheapest route by travel time or by distance between any source and any target
   * (their endpoint costs included), or unreachable.
   */
  route(
    from: number | readonly Endpoint[],
    to: number | readonly Endpoint[],
    metric: Metric,
  ): Route {
    const targets = endpoints(to);
    for (const target of targets) checkNode(this.#graph, target.node);
    const { settled, best, bestCost } = this.#search(endpoints(from), targets, metric);
    if (best === -1) return { reachable: false, settled };
    return { reachable: true, ...this.#path(best), cost: bestCost, settled };
  }

  /** Cost from `from` to every node (Infinity where unreachable): a full shortest-path tree. */
  costs(from: number, metric: Metric): { cost: Float64Array; settled: number } {
    const { settled } = this.#search(endpoints(from), [], metric);
    const cost = new Float64Array(this.#graph.nodeCount).fill(Infinity);
    for (let n = 0; n < this.#graph.nodeCount; n++) {
      if (this.#stamps.reached[n] === this.#stamps.current) cost[n] = this.#cost[n]!;
    }
    return { cost, settled };
  }

  /**
   * Settles nodes in cost order from the sources until no unsettled node can improve the best
   * target (every node when there are no targets).
   */
  #search(
    sources: readonly Endpoint[],
    targets: readonly Endpoint[],
    metric: Metric,
  ): { settled: number; best: number; bestCost: number } {
    const graph = this.#graph;
    const weights = edgeWeights(graph, metric);
    const generation = this.#stamps.next();
    const { reached, settled: final } = this.#stamps;
    const heap = this.#heap;
    heap.clear();

    for (const { node, cost } of sources) {
      checkNode(this.#graph, node);
      if (reached[node] === generation && this.#cost[node]! <= cost) continue;
      reached[node] = generation;
      this.#cost[node] = cost;
      this.#parentEdge[node] = -1;
      heap.push(cost, node);
    }

    // A node's cost still to pay on arrival when it is a target; the best target so far.
    const remaining = new Map<number, number>();
    for (const { node, cost } of targets) {
      remaining.set(node, Math.min(cost, remaining.get(node) ?? Infinity));
    }
    let best = -1;
    let bestCost = Infinity;
    let settled = 0;

    while (heap.size > 0) {
      const key = heap.peekKey();
      if (key >= bestCost) break;
      const node = heap.pop();
      if (final[node] === generation || key > this.#cost[node]!) continue;
      final[node] = generation;
      settled++;
      const tail = remaining.get(node);
      if (tail !== undefined && key + tail < bestCost) {
        best = node;
        bestCost = key + tail;
      }

      for (let e = graph.firstEdge[node]!, end = graph.firstEdge[node + 1]!; e < end; e++) {
        const target = graph.edgeTarget[e]!;
        const cost = key + weights[e]!;
        if (reached[target] !== generation || cost < this.#cost[target]!) {
          reached[target] = generation;
          this.#cost[target] = cost;
          this.#parentEdge[target] = e;
          heap.push(cost, target);
        }
      }
    }
    return { settled, best, bestCost };
  }

  #path(to: number): { nodes: number[]; edges: number[]; distanceM: number; durationS: number } {
    const edges: number[] = [];
    for (
      let node = to, edge = this.#parentEdge[node]!;
      edge !== -1;
      edge = this.#parentEdge[node]!
    ) {
      edges.push(edge);
      node = edgeSource(this.#graph, edge);
    }
    return pathOf(this.#graph, edges.reverse(), to);
  }
}

/** The node an edge leaves from: a binary search of the CSR offsets. */
export function edgeSource(graph: RoadGraph, edge: number): number {
  return rowOf(graph.firstEdge, edge);
}

/** Nodes, length and travel time of an edge path; `to` names the node of an empty path. */
export function pathOf(
  graph: RoadGraph,
  edges: number[],
  to: number,
): { nodes: number[]; edges: number[]; distanceM: number; durationS: number } {
  const nodes = [edges.length === 0 ? to : edgeSource(graph, edges[0]!)];
  let distanceM = 0;
  let durationS = 0;
  for (const edge of edges) {
    nodes.push(graph.edgeTarget[edge]!);
    distanceM += graph.edgeLengthM[edge]!;
    durationS += graph.edgeDurationS[edge]!;
  }
  return { nodes, edges, distanceM, durationS };
}
