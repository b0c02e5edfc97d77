import type { EdgeSnap, EdgeSnapper, SnapEndpoint } from './edge-snap.ts';
import { edgeWeights, type Metric, type RoadGraph } from './road-graph.ts';
import type { Router } from './router.ts';
import { buildSteps, type RoutePiece, type Step, type WayLabelLookup } from './steps.ts';

export type PlannedRoute =
  | {
      reachable: true;
      /** [lng, lat] pairs from the snapped origin to the snapped destination. */
      coordinates: [number, number][];
      distanceM: number;
      durationS: number;
      /** The metric's total: seconds by time, metres by distance. */
      cost: number;
      settled: number;
      steps: Step[];
      /** Whole edges the route uses (the partial first and last ones not included). */
      edges: number[];
    }
  | { reachable: false; settled: number };

/**
 * Routes between two points snapped onto edges: the search starts from both ends of the
 * origin's edge (where the road allows) and ends at both ends of the destination's, each at
 * the cost of the partial edge; a destination ahead on the origin's own edge is reached
 * directly when that is cheaper.
 */
export class RoutePlanner {
  readonly #graph: RoadGraph;
  readonly #snapper: EdgeSnapper;
  readonly #labels: WayLabelLookup;
  #router: Router;

  constructor(graph: RoadGraph, snapper: EdgeSnapper, router: Router, labels: WayLabelLookup) {
    this.#graph = graph;
    this.#snapper = snapper;
    this.#router = router;
    this.#labels = labels;
  }

  plan(from: EdgeSnap, to: EdgeSnap, metric: Metric): PlannedRoute {
    const sources = this.#snapper.sources(from, metric);
    const targets = this.#snapper.targets(to, metric);
    const direct = this.#direct(from, to, metric);
    const route = this.#router.route(sources, targets, metric);

    if (!route.reachable || (direct && direct.cost <= route.cost)) {
      if (!direct) return { reachable: false, settled: route.settled };
      return this.#assemble([direct.piece], [], direct.cost, route.settled);
    }

    const weights = edgeWeights(this.#graph, metric);
    const pathCost = route.edges.reduce((sum, edge) => sum + weights[edge]!, 0);
    const first = route.nodes[0]!;
    const last = route.nodes.at(-1)!;
    let chosen: [SnapEndpoint, SnapEndpoint] | undefined;
    let gap = Infinity;
    for (const source of sources.filter((s) => s.node === first)) {
      for (const target of targets.filter((t) => t.node === last)) {
        const off = Math.abs(source.cost + pathCost + target.cost - route.cost);
        if (off < gap) [chosen, gap] = [[source, target], off];
      }
    }
    const [source, target] = chosen!;

    const pieces = [
      this.#partial(source.edge, from, 'after'),
      ...route.edges.map((edge) => this.#whole(edge)),
      this.#partial(target.edge, to, 'before'),
    ];
    return this.#assemble(pieces, route.edges, route.cost, route.settled);
  }

  /** Swaps the routing engine, for a router built after the planner. */
  useRouter(router: Router): void {
    this.#router = router;
  }

  /** Origin and destination on the same road piece, the destination ahead in a legal direction. */
  #direct(from: EdgeSnap, to: EdgeSnap, metric: Metric) {
    if (from.edge !== to.edge) return undefined;
    const weights = edgeWeights(this.#graph, metric);
    const forward = to.fraction >= from.fraction;
    const edge = forward ? from.edge : from.twin;
    if (edge === -1) return undefined;
    const share = Math.abs(to.fraction - from.fraction);
    const piece: RoutePiece = {
      wayId: this.#graph.osmWayId[edge]!,
      from: { lat: from.lat, lon: from.lon },
      to: { lat: to.lat, lon: to.lon },
      lengthM: this.#graph.edgeLengthM[edge]! * share,
      durationS: this.#graph.edgeDurationS[edge]! * share,
    };
    return { piece, cost: weights[edge]! * share };
  }

  /** The part of `edge` after the snapped point (leaving it) or before it (arriving at it). */
  #partial(edge: number, snap: EdgeSnap, part: 'after' | 'before'): RoutePiece {
    const graph = this.#graph;
    const point = { lat: snap.lat, lon: snap.lon };
    const whole = this.#whole(edge);
    // The snap's fraction runs along snap.edge; on its twin the point sits at 1 - fraction.
    const at = edge === snap.edge ? snap.fraction : 1 - snap.fraction;
    const share = part === 'after' ? 1 - at : at;
    return {
      wayId: graph.osmWayId[edge]!,
      from: part === 'after' ? point : whole.from,
      to: part === 'after' ? whole.to : point,
      lengthM: graph.edgeLengthM[edge]! * share,
      durationS: graph.edgeDurationS[edge]! * share,
    };
  }

  #whole(edge: number): RoutePiece {
    const graph = this.#graph;
    const from = this.#snapper.sourceOf(edge);
    const to = graph.edgeTarget[edge]!;
    return {
      wayId: graph.osmWayId[edge]!,
      from: { lat: graph.lat[from]!, lon: graph.lon[from]! },
      to: { lat: graph.lat[to]!, lon: graph.lon[to]! },
      lengthM: graph.edgeLengthM[edge]!,
      durationS: graph.edgeDurationS[edge]!,
    };
  }

  #assemble(pieces: RoutePiece[], edges: number[], cost: number, settled: number): PlannedRoute {
    const coordinates: [number, number][] = [[pieces[0]!.from.lon, pieces[0]!.from.lat]];
    let distanceM = 0;
    let durationS = 0;
    for (const piece of pieces) {
      const previous = coordinates.at(-1)!;
      if (previous[0] !== piece.to.lon || previous[1] !== piece.to.lat) {
        coordinates.push([piece.to.lon, piece.to.lat]);
      }
      distanceM += piece.lengthM;
      durationS += piece.durationS;
    }
    // A LineString needs two positions, also for a route of no length.
    if (coordinates.length === 1) coordinates.push([...coordinates[0]!]);
    const steps = buildSteps(pieces, this.#labels);
    return { reachable: true, coordinates, distanceM, durationS, cost, settled, steps, edges };
  }
}
