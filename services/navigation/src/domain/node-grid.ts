import { haversineM } from './geo.ts';
import { buildCellLists, GridFrame, type CellLists, type OutsideGrid } from './grid-frame.ts';
import type { RoadGraph } from './road-graph.ts';

export type Snap =
  | { ok: true; node: number; distanceM: number }
  | { ok: false; reason: OutsideGrid | 'no-road-nearby' };

export interface NodeGridOptions {
  /** Side of a grid cell in metres. */
  cellM?: number;
  /** A point farther than this from every graph node is refused. */
  maxSnapM?: number;
  /** How far outside the graph's bounding box a point may lie and still be snapped. */
  marginM?: number;
}

/**
 * A uniform grid over the graph's bounding box for nearest-node lookups. Cells hold node
 * indexes in CSR form; a lookup searches rings of cells around the point until no closer
 * node can exist. Snaps to nodes, not to the nearest point on an edge.
 */
export class NodeGrid {
  readonly #graph: RoadGraph;
  readonly #maxSnapM: number;
  readonly #frame: GridFrame;
  readonly #cells: CellLists;

  constructor(graph: RoadGraph, options: NodeGridOptions = {}) {
    if (graph.nodeCount === 0) throw new RangeError('cannot index an empty graph');
    this.#graph = graph;
    this.#maxSnapM = options.maxSnapM ?? 1000;
    const { lat, lon } = graph;
    this.#frame = new GridFrame(lat, lon, options.cellM ?? 250, options.marginM ?? 500);
    this.#cells = buildCellLists(this.#frame, graph.nodeCount, (node, visit) =>
      visit(this.#frame.cellOf(lat[node]!, lon[node]!)),
    );
  }

  /** The graph node nearest to a point, or why the point is refused. */
  nearest(lat: number, lon: number): Snap {
    const refused = this.#frame.refuse(lat, lon);
    if (refused) return { ok: false, reason: refused };

    const { start, items } = this.#cells;
    let best = -1;
    let bestM = Infinity;
    const reachM = () => Math.min(bestM, this.#maxSnapM);
    this.#frame.forEachCellNear(lat, lon, reachM, (cell) => {
      for (let i = start[cell]!; i < start[cell + 1]!; i++) {
        const node = items[i]!;
        const d = haversineM(lat, lon, this.#graph.lat[node]!, this.#graph.lon[node]!);
        if (d < bestM) {
          bestM = d;
          best = node;
        }
      }
    });

    if (best === -1 || bestM > this.#maxSnapM) return { ok: false, reason: 'no-road-nearby' };
    return { ok: true, node: best, distanceM: bestM };
  }
}
