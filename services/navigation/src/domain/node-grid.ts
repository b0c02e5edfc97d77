import { haversineM, metresPerDegree } from './geo.ts';
import type { RoadGraph } from './road-graph.ts';

export type Snap =
  | { ok: true; node: number; distanceM: number }
  | { ok: false; reason: 'invalid-coordinate' | 'outside-extract' | 'no-road-nearby' };

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
  readonly #minLat: number;
  readonly #minLon: number;
  readonly #maxLat: number;
  readonly #maxLon: number;
  readonly #cellLat: number;
  readonly #cellLon: number;
  readonly #cellM: number;
  readonly #rows: number;
  readonly #cols: number;
  readonly #cellStart: Int32Array;
  readonly #cellNodes: Int32Array;

  constructor(graph: RoadGraph, options: NodeGridOptions = {}) {
    if (graph.nodeCount === 0) throw new RangeError('cannot index an empty graph');
    this.#graph = graph;
    this.#cellM = options.cellM ?? 250;
    this.#maxSnapM = options.maxSnapM ?? 1000;
    const marginM = options.marginM ?? 500;

    const lats = graph.lat;
    const lons = graph.lon;
    const scale = metresPerDegree(Math.max(...lats.map(Math.abs)));
    this.#minLat = Math.min(...lats) - marginM / scale.lat;
    this.#maxLat = Math.max(...lats) + marginM / scale.lat;
    this.#minLon = Math.min(...lons) - marginM / scale.lon;
    this.#maxLon = Math.max(...lons) + marginM / scale.lon;
    // Cells are sized at the latitude farthest from the equator, so none is narrower than cellM.
    this.#cellLat = this.#cellM / scale.lat;
    this.#cellLon = this.#cellM / scale.lon;
    this.#rows = Math.max(1, Math.ceil((this.#maxLat - this.#minLat) / this.#cellLat));
    this.#cols = Math.max(1, Math.ceil((this.#maxLon - this.#minLon) / this.#cellLon));

    const cellOf = new Int32Array(graph.nodeCount);
    this.#cellStart = new Int32Array(this.#rows * this.#cols + 1);
    for (let n = 0; n < graph.nodeCount; n++) {
      cellOf[n] = this.#cell(this.#row(lats[n]!), this.#col(lons[n]!));
      this.#cellStart[cellOf[n]! + 1]!++;
    }
    for (let c = 0; c < this.#rows * this.#cols; c++)
      this.#cellStart[c + 1]! += this.#cellStart[c]!;
    this.#cellNodes = new Int32Array(graph.nodeCount);
    const next = this.#cellStart.slice();
    for (let n = 0; n < graph.nodeCount; n++) this.#cellNodes[next[cellOf[n]!]!++] = n;
  }

  /** The graph node nearest to a point, or why the point is refused. */
  nearest(lat: number, lon: number): Snap {
    if (!(Math.abs(lat) <= 90 && Math.abs(lon) <= 180))
      return { ok: false, reason: 'invalid-coordinate' };
    if (lat < this.#minLat || lat > this.#maxLat || lon < this.#minLon || lon > this.#maxLon) {
      return { ok: false, reason: 'outside-extract' };
    }

    const row = this.#row(lat);
    const col = this.#col(lon);
    let best = -1;
    let bestM = Infinity;
    const maxRing = Math.max(this.#rows, this.#cols);
    for (let ring = 0; ring <= maxRing; ring++) {
      // Every node in ring r is at least (r - 1) cells away from the point.
      if ((ring - 1) * this.#cellM > Math.min(bestM, this.#maxSnapM)) break;
      for (let r = row - ring; r <= row + ring; r++) {
        if (r < 0 || r >= this.#rows) continue;
        const onEdgeRow = r === row - ring || r === row + ring;
        for (let c = col - ring; c <= col + ring; c += onEdgeRow || ring === 0 ? 1 : 2 * ring) {
          if (c < 0 || c >= this.#cols) continue;
          const cell = this.#cell(r, c);
          for (let i = this.#cellStart[cell]!; i < this.#cellStart[cell + 1]!; i++) {
            const node = this.#cellNodes[i]!;
            const d = haversineM(lat, lon, this.#graph.lat[node]!, this.#graph.lon[node]!);
            if (d < bestM) {
              bestM = d;
              best = node;
            }
          }
        }
      }
    }

    if (best === -1 || bestM > this.#maxSnapM) return { ok: false, reason: 'no-road-nearby' };
    return { ok: true, node: best, distanceM: bestM };
  }

  #row(lat: number): number {
    return Math.min(this.#rows - 1, Math.max(0, Math.floor((lat - this.#minLat) / this.#cellLat)));
  }

  #col(lon: number): number {
    return Math.min(this.#cols - 1, Math.max(0, Math.floor((lon - this.#minLon) / this.#cellLon)));
  }

  #cell(row: number, col: number): number {
    return row * this.#cols + col;
  }
}
