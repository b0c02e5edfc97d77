import { BinaryHeap } from './binary-heap.ts';
import { edgeWeights, type Metric, type RoadGraph } from './road-graph.ts';

export type Route =
  | {
      reachable: true;
      /** Graph nodes from origin to destination, both included. */
      nodes: number[];
      /** Edge indexes along the route, one fewer than the nodes. */
      edges: number[];
      distanceM: number;
      durationS: number;
      settled: number;
    }
  | { reachable: false; settled: number };

/**
 * Plain Dijkstra on the full graph with a binary heap, stopping when the destination is
 * settled. One instance per graph: its label arrays are reused between queries (a generation
 * stamp marks which labels belong to the current query), so a query allocates only its path.
 * Not safe to share between concurrent callers, which in Node means nothing.
 */
export class Dijkstra {
  readonly #graph: RoadGraph;
  readonly #cost: Float64Array;
  readonly #parentEdge: Int32Array;
  readonly #stamp: Uint32Array;
  readonly #settledStamp: Uint32Array;
  readonly #heap: BinaryHeap;
  #generation = 0;

  constructor(graph: RoadGraph) {
    this.#graph = graph;
    this.#cost = new Float64Array(graph.nodeCount);
    this.#parentEdge = new Int32Array(graph.nodeCount);
    this.#stamp = new Uint32Array(graph.nodeCount);
    this.#settledStamp = new Uint32Array(graph.nodeCount);
    this.#heap = new BinaryHeap(1024);
  }

  /** The cheapest route by travel time or by distance, or unreachable. */
  route(from: number, to: number, metric: Metric): Route {
    const settled = this.#search(from, to, metric);
    if (this.#stamp[to] !== this.#generation || this.#settledStamp[to] !== this.#generation) {
      return { reachable: false, settled };
    }
    return { reachable: true, ...this.#path(from, to), settled };
  }

  /** Cost from `from` to every node (Infinity where unreachable): a full shortest-path tree. */
  costs(from: number, metric: Metric): { cost: Float64Array; settled: number } {
    const settled = this.#search(from, -1, metric);
    const cost = new Float64Array(this.#graph.nodeCount).fill(Infinity);
    for (let n = 0; n < this.#graph.nodeCount; n++) {
      if (this.#stamp[n] === this.#generation) cost[n] = this.#cost[n]!;
    }
    return { cost, settled };
  }

  #search(from: number, to: number, metric: Metric): number {
    const graph = this.#graph;
    this.#checkNode(from);
    if (to !== -1) this.#checkNode(to);
    const weights = edgeWeights(graph, metric);
    const generation = this.#nextGeneration();
    const heap = this.#heap;
    heap.clear();

    this.#stamp[from] = generation;
    this.#cost[from] = 0;
    this.#parentEdge[from] = -1;
    heap.push(0, from);
    let settled = 0;

    while (heap.size > 0) {
      const key = heap.peekKey();
      const node = heap.pop();
      if (this.#settledStamp[node] === generation || key > this.#cost[node]!) continue;
      this.#settledStamp[node] = generation;
      settled++;
      if (node === to) break;

      for (let e = graph.firstEdge[node]!, end = graph.firstEdge[node + 1]!; e < end; e++) {
        const target = graph.edgeTarget[e]!;
        const cost = key + weights[e]!;
        if (this.#stamp[target] !== generation || cost < this.#cost[target]!) {
          this.#stamp[target] = generation;
          this.#cost[target] = cost;
          this.#parentEdge[target] = e;
          heap.push(cost, target);
        }
      }
    }
    return settled;
  }

  #path(from: number, to: number): Omit<Route & { reachable: true }, 'reachable' | 'settled'> {
    const graph = this.#graph;
    const edges: number[] = [];
    for (let node = to; node !== from;) {
      const edge = this.#parentEdge[node]!;
      edges.push(edge);
      node = edgeSource(graph, edge);
    }
    edges.reverse();

    const nodes = [from];
    let distanceM = 0;
    let durationS = 0;
    for (const edge of edges) {
      nodes.push(graph.edgeTarget[edge]!);
      distanceM += graph.edgeLengthM[edge]!;
      durationS += graph.edgeDurationS[edge]!;
    }
    return { nodes, edges, distanceM, durationS };
  }

  #checkNode(node: number): void {
    if (!Number.isInteger(node) || node < 0 || node >= this.#graph.nodeCount) {
      throw new RangeError(`node ${node} is not in the graph (0…${this.#graph.nodeCount - 1})`);
    }
  }

  #nextGeneration(): number {
    if (this.#generation === 0xffffffff) {
      this.#stamp.fill(0);
      this.#settledStamp.fill(0);
      this.#generation = 0;
    }
    return ++this.#generation;
  }
}

/** The node an edge leaves from: a binary search of the CSR offsets. */
export function edgeSource(graph: RoadGraph, edge: number): number {
  let low = 0;
  let high = graph.nodeCount - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (graph.firstEdge[mid]! <= edge) low = mid;
    else high = mid - 1;
  }
  return low;
}
