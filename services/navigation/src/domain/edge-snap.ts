import { metresPerDegree } from './geo.ts';
import { edgeWeights, type Metric, type RoadGraph } from './road-graph.ts';
import type { Endpoint } from './router.ts';

/** A point on a road piece: the edge it lies on, where, and how far the query point was. */
export interface EdgeSnap {
  ok: true;
  /** The edge the point lies on, from its source node (fraction 0) to its target (1). */
  edge: number;
  /** The same road piece the other way, or -1 when the road is one-way. */
  twin: number;
  fraction: number;
  lat: number;
  lon: number;
  distanceM: number;
}

export type EdgeSnapResult =
  EdgeSnap | { ok: false; reason: 'invalid-coordinate' | 'outside-extract' | 'no-road-nearby' };

/** An endpoint that remembers the partial edge it stands for, to build the geometry. */
export interface SnapEndpoint extends Endpoint {
  edge: number;
  /** The share of the edge's length and time this endpoint covers. */
  share: number;
}

export interface EdgeSnapperOptions {
  cellM?: number;
  maxSnapM?: number;
  marginM?: number;
}

/**
 * The nearest point on any road edge. A uniform grid lists every edge under each cell its
 * bounding box touches; a lookup searches rings of cells until no nearer edge can exist.
 * Distances use a flat projection around the query point, exact enough at road scale.
 */
export class EdgeSnapper {
  readonly #graph: RoadGraph;
  readonly #source: Int32Array;
  readonly #twin: Int32Array;
  readonly #maxSnapM: number;
  readonly #cellM: number;
  readonly #minLat: number;
  readonly #minLon: number;
  readonly #maxLat: number;
  readonly #maxLon: number;
  readonly #cellLat: number;
  readonly #cellLon: number;
  readonly #rows: number;
  readonly #cols: number;
  readonly #cellStart: Int32Array;
  readonly #cellEdges: Int32Array;

  constructor(graph: RoadGraph, options: EdgeSnapperOptions = {}) {
    if (graph.edgeCount === 0) throw new RangeError('cannot index a graph without edges');
    this.#graph = graph;
    this.#cellM = options.cellM ?? 250;
    this.#maxSnapM = options.maxSnapM ?? 1000;
    const marginM = options.marginM ?? 500;

    this.#source = new Int32Array(graph.edgeCount);
    for (let n = 0; n < graph.nodeCount; n++) {
      for (let e = graph.firstEdge[n]!; e < graph.firstEdge[n + 1]!; e++) this.#source[e] = n;
    }
    this.#twin = twins(graph, this.#source);

    const { lat, lon } = graph;
    const scale = metresPerDegree(Math.max(...lat.map(Math.abs)));
    this.#minLat = Math.min(...lat) - marginM / scale.lat;
    this.#maxLat = Math.max(...lat) + marginM / scale.lat;
    this.#minLon = Math.min(...lon) - marginM / scale.lon;
    this.#maxLon = Math.max(...lon) + marginM / scale.lon;
    this.#cellLat = this.#cellM / scale.lat;
    this.#cellLon = this.#cellM / scale.lon;
    this.#rows = Math.max(1, Math.ceil((this.#maxLat - this.#minLat) / this.#cellLat));
    this.#cols = Math.max(1, Math.ceil((this.#maxLon - this.#minLon) / this.#cellLon));

    // One entry per road piece: a two-way piece is listed once, by its lower-numbered edge.
    const listed = (e: number) => this.#twin[e] === -1 || e < this.#twin[e]!;
    const counts = new Int32Array(this.#rows * this.#cols + 1);
    this.#forEachCell(listed, (cell) => counts[cell + 1]!++);
    for (let c = 0; c < this.#rows * this.#cols; c++) counts[c + 1]! += counts[c]!;
    this.#cellStart = counts;
    this.#cellEdges = new Int32Array(counts[this.#rows * this.#cols]!);
    const next = counts.slice();
    this.#forEachCell(listed, (cell, edge) => (this.#cellEdges[next[cell]!++] = edge));
  }

  /** The edge leaving from `edge`'s target back to its source on the same way, or -1. */
  twinOf(edge: number): number {
    return this.#twin[edge]!;
  }

  sourceOf(edge: number): number {
    return this.#source[edge]!;
  }

  /** The nearest point on a road, or why the point is refused. */
  nearest(lat: number, lon: number): EdgeSnapResult {
    if (!(Math.abs(lat) <= 90 && Math.abs(lon) <= 180)) {
      return { ok: false, reason: 'invalid-coordinate' };
    }
    if (lat < this.#minLat || lat > this.#maxLat || lon < this.#minLon || lon > this.#maxLon) {
      return { ok: false, reason: 'outside-extract' };
    }

    const row = this.#row(lat);
    const col = this.#col(lon);
    const scale = metresPerDegree(lat);
    let best = -1;
    let bestM = Infinity;
    let bestT = 0;
    const maxRing = Math.max(this.#rows, this.#cols);
    for (let ring = 0; ring <= maxRing; ring++) {
      // Any edge first listed in ring r passes at least (r - 1) cells away from the point.
      if ((ring - 1) * this.#cellM > Math.min(bestM, this.#maxSnapM)) break;
      for (let r = row - ring; r <= row + ring; r++) {
        if (r < 0 || r >= this.#rows) continue;
        const onEdgeRow = r === row - ring || r === row + ring;
        for (let c = col - ring; c <= col + ring; c += onEdgeRow || ring === 0 ? 1 : 2 * ring) {
          if (c < 0 || c >= this.#cols) continue;
          const cell = r * this.#cols + c;
          for (let i = this.#cellStart[cell]!; i < this.#cellStart[cell + 1]!; i++) {
            const edge = this.#cellEdges[i]!;
            const { t, distanceM } = this.project(edge, lat, lon, scale);
            if (distanceM < bestM || (distanceM === bestM && edge < best)) {
              best = edge;
              bestM = distanceM;
              bestT = t;
            }
          }
        }
      }
    }
    if (best === -1 || bestM > this.#maxSnapM) return { ok: false, reason: 'no-road-nearby' };

    const from = this.#source[best]!;
    const to = this.#graph.edgeTarget[best]!;
    const { lat: lats, lon: lons } = this.#graph;
    return {
      ok: true,
      edge: best,
      twin: this.#twin[best]!,
      fraction: bestT,
      lat: lats[from]! + (lats[to]! - lats[from]!) * bestT,
      lon: lons[from]! + (lons[to]! - lons[from]!) * bestT,
      distanceM: bestM,
    };
  }

  /** Where a point falls on an edge (0…1 from its source) and how far it is from it. */
  project(
    edge: number,
    lat: number,
    lon: number,
    scale = metresPerDegree(lat),
  ): { t: number; distanceM: number } {
    const from = this.#source[edge]!;
    const to = this.#graph.edgeTarget[edge]!;
    const ax = (this.#graph.lon[from]! - lon) * scale.lon;
    const ay = (this.#graph.lat[from]! - lat) * scale.lat;
    const bx = (this.#graph.lon[to]! - lon) * scale.lon;
    const by = (this.#graph.lat[to]! - lat) * scale.lat;
    const dx = bx - ax;
    const dy = by - ay;
    const squared = dx * dx + dy * dy;
    const t = squared === 0 ? 0 : Math.min(1, Math.max(0, -(ax * dx + ay * dy) / squared));
    return { t, distanceM: Math.hypot(ax + t * dx, ay + t * dy) };
  }

  /**
   * Where a search may start from a snapped point: ahead along the edge to its target, and
   * back along the twin (when the road is two-way) to the edge's source.
   */
  sources(snap: EdgeSnap, metric: Metric): SnapEndpoint[] {
    const weights = edgeWeights(this.#graph, metric);
    const { edge, twin, fraction } = snap;
    const found: SnapEndpoint[] = [
      {
        node: this.#graph.edgeTarget[edge]!,
        cost: weights[edge]! * (1 - fraction),
        edge,
        share: 1 - fraction,
      },
    ];
    if (twin !== -1) {
      found.push({
        node: this.#source[edge]!,
        cost: weights[twin]! * fraction,
        edge: twin,
        share: fraction,
      });
    }
    return found;
  }

  /** Where a search may end to reach a snapped point: from the edge's source, or its target. */
  targets(snap: EdgeSnap, metric: Metric): SnapEndpoint[] {
    const weights = edgeWeights(this.#graph, metric);
    const { edge, twin, fraction } = snap;
    const found: SnapEndpoint[] = [
      { node: this.#source[edge]!, cost: weights[edge]! * fraction, edge, share: fraction },
    ];
    if (twin !== -1) {
      found.push({
        node: this.#graph.edgeTarget[edge]!,
        cost: weights[twin]! * (1 - fraction),
        edge: twin,
        share: 1 - fraction,
      });
    }
    return found;
  }

  #forEachCell(listed: (edge: number) => boolean, visit: (cell: number, edge: number) => void) {
    const { lat, lon, edgeTarget } = this.#graph;
    for (let e = 0; e < this.#graph.edgeCount; e++) {
      if (!listed(e)) continue;
      const a = this.#source[e]!;
      const b = edgeTarget[e]!;
      const r0 = this.#row(Math.min(lat[a]!, lat[b]!));
      const r1 = this.#row(Math.max(lat[a]!, lat[b]!));
      const c0 = this.#col(Math.min(lon[a]!, lon[b]!));
      const c1 = this.#col(Math.max(lon[a]!, lon[b]!));
      for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) visit(r * this.#cols + c, e);
    }
  }

  #row(lat: number): number {
    return Math.min(this.#rows - 1, Math.max(0, Math.floor((lat - this.#minLat) / this.#cellLat)));
  }

  #col(lon: number): number {
    return Math.min(this.#cols - 1, Math.max(0, Math.floor((lon - this.#minLon) / this.#cellLon)));
  }
}

/** For each edge, the edge of the same way that runs back between the same two nodes. */
function twins(graph: RoadGraph, source: Int32Array): Int32Array {
  const twin = new Int32Array(graph.edgeCount).fill(-1);
  for (let e = 0; e < graph.edgeCount; e++) {
    if (graph.edgeOneway[e] === 1 || twin[e] !== -1) continue;
    const back = graph.edgeTarget[e]!;
    for (let f = graph.firstEdge[back]!; f < graph.firstEdge[back + 1]!; f++) {
      if (
        twin[f] === -1 &&
        f !== e &&
        graph.edgeTarget[f] === source[e] &&
        graph.osmWayId[f] === graph.osmWayId[e] &&
        graph.edgeOneway[f] === 0
      ) {
        twin[e] = f;
        twin[f] = e;
        break;
      }
    }
  }
  return twin;
}
