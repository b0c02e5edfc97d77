import { metresPerDegree } from './geo.ts';
import type { RoadGraph } from './road-graph.ts';

export interface PartitionOptions {
  /** Side of a level-1 cell in metres. */
  cellM?: number;
  /** How many level-(l-1) cells a level-l cell spans along each side. */
  fanout?: number;
  /** Levels of cells above the road graph (level 0), at least 1. */
  levels?: number;
}

/**
 * Nested square cells over the graph: level 1 cells are about `cellM` across, and each level
 * above groups `fanout × fanout` cells of the level below, so a level-l cell lies wholly inside
 * one level-(l+1) cell. Only cells that hold nodes get an id; ids are dense per level.
 */
export interface Partition {
  /** Levels above the road graph; `cellOf[l]` exists for 1 ≤ l ≤ levels. */
  readonly levels: number;
  /** `cellOf[l][node]`: the node's cell at level l (index 0 is unused). */
  readonly cellOf: readonly Int32Array[];
  /** `cellCount[l]`: how many non-empty cells level l has. */
  readonly cellCount: readonly number[];
  /** `parentOf[l][cell]`: the level-(l+1) cell holding a level-l cell (for l < levels). */
  readonly parentOf: readonly Int32Array[];
}

/** A grid partition sized in metres at the graph's mean latitude. */
export function gridPartition(graph: RoadGraph, options: PartitionOptions = {}): Partition {
  const cellM = options.cellM ?? 1000;
  const fanout = options.fanout ?? 4;
  const levels = options.levels ?? 3;
  if (!(cellM > 0) || !Number.isInteger(fanout) || fanout < 2 || !Number.isInteger(levels)) {
    throw new RangeError('partition needs cellM > 0, an integer fanout ≥ 2 and integer levels');
  }
  if (levels < 1) throw new RangeError('partition needs at least one level');

  let minLat = Infinity;
  let minLon = Infinity;
  let sumLat = 0;
  for (let n = 0; n < graph.nodeCount; n++) {
    minLat = Math.min(minLat, graph.lat[n]!);
    minLon = Math.min(minLon, graph.lon[n]!);
    sumLat += graph.lat[n]!;
  }
  const scale = metresPerDegree(sumLat / Math.max(1, graph.nodeCount));

  // Grid coordinates of each node at level 1; a level-l cell is (row, col) divided by fanout^(l-1).
  const row = new Int32Array(graph.nodeCount);
  const col = new Int32Array(graph.nodeCount);
  for (let n = 0; n < graph.nodeCount; n++) {
    row[n] = Math.floor(((graph.lat[n]! - minLat) * scale.lat) / cellM);
    col[n] = Math.floor(((graph.lon[n]! - minLon) * scale.lon) / cellM);
  }

  const cellOf: Int32Array[] = [new Int32Array(0)];
  const cellCount: number[] = [graph.nodeCount];
  for (let level = 1; level <= levels; level++) {
    const divisor = fanout ** (level - 1);
    const ids = new Map<number, number>();
    const cells = new Int32Array(graph.nodeCount);
    for (let n = 0; n < graph.nodeCount; n++) {
      // Rows and columns stay far below 2^20 for any extract a process can hold.
      const key = Math.floor(row[n]! / divisor) * 2 ** 20 + Math.floor(col[n]! / divisor);
      let id = ids.get(key);
      if (id === undefined) ids.set(key, (id = ids.size));
      cells[n] = id;
    }
    cellOf.push(cells);
    cellCount.push(ids.size);
  }

  const parentOf: Int32Array[] = [new Int32Array(0)];
  for (let level = 1; level < levels; level++) {
    const parents = new Int32Array(cellCount[level]!);
    for (let n = 0; n < graph.nodeCount; n++) parents[cellOf[level]![n]!] = cellOf[level + 1]![n]!;
    parentOf.push(parents);
  }
  return { levels, cellOf, cellCount, parentOf };
}
