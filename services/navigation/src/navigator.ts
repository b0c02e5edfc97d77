import { EdgeSnapper, type EdgeSnap } from './domain/edge-snap.ts';
import { LiveSpeeds, type LayerUpdate } from './domain/live-speeds.ts';
import type { Metric, RoadGraph } from './domain/road-graph.ts';
import { RoutePlanner, type PlannedRoute } from './domain/route-planner.ts';
import { SpeedHistory } from './domain/speed-history.ts';
import {
  selectEdges,
  type SpeedChange,
  type TrafficArea,
  type TrafficSelection,
} from './domain/traffic.ts';
import { weatherFactor, type Weather } from './domain/weather.ts';
import { navigationError } from './errors.ts';
import type { WayLabel } from './import/osm-import.ts';
import type { NavigationMetrics, RouteKind, SpeedUpdateKind } from './metrics.ts';
import { RouteCache, routeKey } from './route-cache.ts';
import type { LiveRouter } from './routers.ts';

export interface LatLng {
  lat: number;
  lng: number;
}

export interface RouteResult {
  type: 'Feature';
  geometry: { type: 'LineString'; coordinates: [number, number][] };
  properties: {
    metric: Metric;
    distanceM: number;
    /** Travel time at the current (live) speeds, which the route was chosen by. */
    durationS: number;
    /** Expected travel time leaving now: live speeds near the start, history farther on. */
    etaS: number;
    settledNodes: number;
    /** Where the origin and destination were snapped onto the road, and how far they moved. */
    snapped: { from: SnappedPoint; to: SnappedPoint };
    steps: PlannedSteps;
  };
}

type PlannedSteps = (PlannedRoute & { reachable: true })['steps'];

export interface SnappedPoint {
  lat: number;
  lng: number;
  distanceM: number;
}

export type EtaResult =
  | { status: 'ok'; distanceM: number; durationS: number; etaS: number }
  | { status: 'unreachable' | 'outside_extract' | 'no_road_nearby' };

/**
 * Routing on one loaded graph: snapping, routing through the configured engine, turn-by-turn
 * steps, ETAs, and traffic and weather updates that change edge speeds and tell the engine
 * which edges.
 */
export class Navigator {
  readonly graph: RoadGraph;
  readonly #snapper: EdgeSnapper;
  readonly #planner: RoutePlanner;
  readonly #router: LiveRouter;
  readonly #speeds: LiveSpeeds;
  readonly #metrics: NavigationMetrics;
  readonly #history: SpeedHistory;
  readonly #now: () => Date;
  readonly #cache: RouteCache<PlannedRoute>;

  constructor(deps: {
    graph: RoadGraph;
    router: LiveRouter;
    wayLabels: Map<number, WayLabel>;
    metrics: NavigationMetrics;
    snapMaxM: number;
    /** The extract's time zone, for historical speeds by weekday and hour. */
    timeZone?: string;
    now?: () => Date;
    /** Routes kept for pairs asked again; 0 turns the cache off. */
    routeCacheSize?: number;
  }) {
    this.graph = deps.graph;
    this.#router = deps.router;
    this.#metrics = deps.metrics;
    this.#snapper = new EdgeSnapper(deps.graph, { maxSnapM: deps.snapMaxM });
    this.#planner = new RoutePlanner(deps.graph, this.#snapper, deps.router, deps.wayLabels);
    this.#speeds = new LiveSpeeds(deps.graph);
    this.#history = new SpeedHistory(deps.graph, { timeZone: deps.timeZone });
    this.#now = deps.now ?? (() => new Date());
    this.#cache = new RouteCache(deps.routeCacheSize ?? 0);
  }

  /** A point on the road; refusals become 400 (impossible) or 422 (no road) naming the field. */
  snap(point: LatLng, field: string): EdgeSnap {
    const snap = this.#snapper.nearest(point.lat, point.lng);
    if (snap.ok) return snap;
    const code =
      snap.reason === 'invalid-coordinate'
        ? 'coordinate_invalid'
        : snap.reason === 'outside-extract'
          ? 'outside_extract'
          : 'no_road_nearby';
    throw navigationError(code, { field });
  }

  /** The route as a GeoJSON feature; 422 when no road joins the points. */
  route(from: LatLng, to: LatLng, metric: Metric, kind: RouteKind = 'route'): RouteResult {
    const planned = this.#plan(this.snap(from, 'from'), this.snap(to, 'to'), metric, kind);
    if (!planned.route.reachable) throw navigationError('no_route', { field: 'to' });
    const route = planned.route;
    const snapped = (snap: EdgeSnap): SnappedPoint => ({
      lat: snap.lat,
      lng: snap.lon,
      distanceM: round(snap.distanceM),
    });
    return {
      type: 'Feature',
      geometry: { type: 'LineString', coordinates: route.coordinates },
      properties: {
        metric,
        distanceM: round(route.distanceM),
        durationS: round(route.durationS),
        etaS: round(this.#eta(route)),
        settledNodes: route.settled,
        snapped: { from: snapped(planned.from), to: snapped(planned.to) },
        steps: route.steps.map((step) => ({
          ...step,
          distanceM: round(step.distanceM),
          durationS: round(step.durationS),
        })),
      },
    };
  }

  /** Distance and time of one pair, or why there is none; never throws for a point off the map. */
  eta(from: LatLng, to: LatLng, metric: Metric): EtaResult {
    const a = this.#snapper.nearest(from.lat, from.lng);
    const b = this.#snapper.nearest(to.lat, to.lng);
    for (const snap of [a, b]) {
      if (snap.ok) continue;
      return { status: snap.reason === 'outside-extract' ? 'outside_extract' : 'no_road_nearby' };
    }
    if (!a.ok || !b.ok) throw new Error('unreachable: both snaps were checked');
    const { route } = this.#plan(a, b, metric, 'eta');
    if (!route.reachable) return { status: 'unreachable' };
    return {
      status: 'ok',
      distanceM: round(route.distanceM),
      durationS: round(route.durationS),
      etaS: round(this.#eta(route)),
    };
  }

  /** Changes the selected edges' traffic speed; returns how many were selected and changed. */
  applyTraffic(
    selection: TrafficSelection,
    change: SpeedChange,
  ): { selectedEdges: number; changedEdges: number } {
    const selected = selectEdges(this.graph, selection);
    const update = this.#speeds.setTraffic(selected, change);
    this.#edgesChanged(update, 'wayIds' in selection ? 'ways' : 'area');
    return { selectedEdges: selected.length, changedEdges: update.changed.length };
  }

  /** Every edge back to free-flow traffic; weather stays. */
  resetTraffic(): { changedEdges: number } {
    const update = this.#speeds.clearTraffic();
    this.#edgesChanged(update, 'reset');
    return { changedEdges: update.changed.length };
  }

  /** Sets the weather over an area, replacing what was there; traffic stays. */
  applyWeather(
    area: TrafficArea,
    weather: Weather,
  ): { selectedEdges: number; changedEdges: number } {
    const selected = selectEdges(this.graph, { area });
    const update = this.#speeds.setWeather(selected, weatherFactor(weather));
    this.#edgesChanged(update, 'weather');
    return { selectedEdges: selected.length, changedEdges: update.changed.length };
  }

  /** No weather anywhere; traffic stays. */
  resetWeather(): { changedEdges: number } {
    const update = this.#speeds.clearWeather();
    this.#edgesChanged(update, 'weather_reset');
    return { changedEdges: update.changed.length };
  }

  /**
   * The route's live travel time with its whole edges re-estimated by the speed history; the
   * partial edges at either end keep their live time.
   */
  #eta(route: PlannedRoute & { reachable: true }): number {
    const blended = this.#history.eta(route.edges, this.#now(), (edge) =>
      this.#speeds.weatherFactor(edge),
    );
    return route.durationS - blended.liveDurationS + blended.durationS;
  }

  #edgesChanged(update: LayerUpdate, kind: SpeedUpdateKind): void {
    if (update.changed.length > 0) {
      this.#router.onEdgesChanged?.(update.changed);
      this.#cache.clear();
    }
    // What traffic reports now is what this hour of the week looks like; the weather is not.
    if (kind !== 'weather' && kind !== 'weather_reset') {
      this.#history.observe(update.layerChanged, this.#now(), (edge) =>
        this.#speeds.trafficKmh(edge),
      );
    }
    this.#metrics.trafficUpdates.inc({ kind });
    this.#metrics.trafficEdges.inc(update.changed.length);
  }

  #plan(from: EdgeSnap, to: EdgeSnap, metric: Metric, kind: RouteKind) {
    const started = performance.now();
    const key = routeKey(from, to, metric);
    const cached = this.#cache.get(key);
    this.#metrics.routeCache.inc({ result: cached ? 'hit' : 'miss' });
    const route = cached ?? this.#planner.plan(from, to, metric);
    if (!cached) this.#cache.set(key, route);
    this.#metrics.routeSeconds.observe({ kind }, (performance.now() - started) / 1000);
    // A hit searched nothing: settled nodes describe searches only.
    if (!cached) this.#metrics.settledNodes.observe({ kind }, route.settled);
    return { route, from, to };
  }
}

/** Metres and seconds to the decimetre and decisecond: finer is noise. */
function round(value: number): number {
  return Math.round(value * 10) / 10;
}
