import type { RoadGraph } from './road-graph.ts';

/**
 * Which per-node labels belong to the current search: a node's label counts only when its
 * stamp equals the current generation, so a search reuses the label arrays of the last one
 * without clearing them. `reached` marks a tentative cost, `settled` a final one.
 */
export class SearchStamps {
  readonly reached: Uint32Array;
  readonly settled: Uint32Array;
  #generation = 0;

  constructor(nodeCount: number) {
    this.reached = new Uint32Array(nodeCount);
    this.settled = new Uint32Array(nodeCount);
  }

  /** The generation of the last search begun. */
  get current(): number {
    return this.#generation;
  }

  /** Begins a search: a new generation (the stamps are cleared once every 2^32 searches). */
  next(): number {
    if (this.#generation === 0xffffffff) {
      this.reached.fill(0);
      this.settled.fill(0);
      this.#generation = 0;
    }
    return ++this.#generation;
  }
}

/** Refuses a node index the graph does not have. */
export function checkNode(graph: RoadGraph, node: number): void {
  if (!Number.isInteger(node) || node < 0 || node >= graph.nodeCount) {
    throw new RangeError(`node ${node} is not in the graph (0…${graph.nodeCount - 1})`);
  }
}

/**
 * The row of a CSR offsets array that holds `index`: the last row whose offset is at most
 * `index` (offsets ascending, row r spanning offsets[r] … offsets[r + 1] - 1).
 */
export function rowOf(offsets: Int32Array, index: number): number {
  let low = 0;
  let high = offsets.length - 2;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (offsets[mid]! <= index) low = mid;
    else high = mid - 1;
  }
  return low;
}
