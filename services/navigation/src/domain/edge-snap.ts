import { metresPerDegree } from './geo.ts';
import { buildCellLists, GridFrame, type CellLists, type OutsideGrid } from './grid-frame.ts';
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

export type EdgeSnapResult = EdgeSnap | { ok: false; reason: OutsideGrid | 'no-road-nearby' };

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
  readonly #frame: GridFrame;
  readonly #cells: CellLists;

  constructor(graph: RoadGraph, options: EdgeSnapperOptions = {}) {
    if (graph.edgeCount === 0) throw new RangeError('cannot index a graph without edges');
    this.#graph = graph;
    this.#maxSnapM = options.maxSnapM ?? 1000;

    this.#source = new Int32Array(graph.edgeCount);
    for (let n = 0; n < graph.nodeCount; n++) {
      for (let e = graph.firstEdge[n]!; e < graph.firstEdge[n + 1]!; e++) this.#source[e] = n;
    }
    this.#twin = twins(graph, this.#source);

    const { lat, lon, edgeTarget } = graph;
    const frame = new GridFrame(lat, lon, options.cellM ?? 250, options.marginM ?? 500);
    this.#frame = frame;
    // One entry per road piece, under every cell its bounding box touches: a
    // two-way piece is listed once, by its lower-numbered edge.
    this.#cells = buildCellLists(frame, graph.edgeCount, (e, visit) => {
      if (this.#twin[e] !== -1 && e > this.#twin[e]!) return;
      const a = this.#source[e]!;
      const b = edgeTarget[e]!;
      frame.forEachCellOfBox(lat[a]!, lon[a]!, lat[b]!, lon[b]!, visit);
    });
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
    const refused = this.#frame.refuse(lat, lon);
    if (refused) return { ok: false, reason: refused };

    const scale = metresPerDegree(lat);
    const { start, items } = this.#cells;
    let best = -1;
    let bestM = Infinity;
    let bestT = 0;
    const reachM = () => Math.min(bestM, this.#maxSnapM);
    this.#frame.forEachCellNear(lat, lon, reachM, (cell) => {
      for (let i = start[cell]!; i < start[cell + 1]!; i++) {
        const edge = items[i]!;
        const { t, distanceM } = this.project(edge, lat, lon, scale);
        if (distanceM < bestM || (distanceM === bestM && edge < best)) {
          best = edge;
          bestM = distanceM;
          bestT = t;
        }
      }
    });
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
