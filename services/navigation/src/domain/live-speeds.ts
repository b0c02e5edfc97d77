import type { RoadGraph } from './road-graph.ts';
import { MAX_SPEED_KMH } from './road-rules.ts';
import { MIN_TRAFFIC_SPEED_KMH, type SpeedChange } from './traffic.ts';

/** What one layer's update did: the edges whose live speed moved, and whose layer value did. */
export interface LayerUpdate {
  /** Edges whose live speed and travel time changed: the router must hear of these. */
  changed: number[];
  /** Edges whose value in the updated layer changed, whether or not the live speed followed. */
  layerChanged: number[];
}

/**
 * The live speed of every edge as two layers over the import's free flow: traffic (a speed per
 * edge, absent for free flow) and weather (a factor of free flow per edge, 1 for none). The live
 * speed is `min(traffic, freeFlow × weather)`: traffic reports come from cars already driving in
 * that weather, so a jam in the rain keeps its speed (a product would count the rain twice),
 * while on an empty road the weather caps what free flow can be. Clamped to 1–140 km/h like
 * traffic; an edge whose live speed is its free-flow speed gets the import's exact travel time.
 * The graph's `edgeSpeedKmh` and `edgeDurationS` are written in place.
 */
export class LiveSpeeds {
  readonly #graph: RoadGraph;
  readonly #freeFlowKmh: Float32Array;
  readonly #freeFlowS: Float64Array;
  /** NaN where no traffic is reported. */
  readonly #trafficKmh: Float32Array;
  readonly #weather: Float32Array;

  constructor(graph: RoadGraph) {
    this.#graph = graph;
    this.#freeFlowKmh = graph.edgeSpeedKmh.slice();
    this.#freeFlowS = graph.edgeDurationS.slice();
    this.#trafficKmh = new Float32Array(graph.edgeCount).fill(Number.NaN);
    this.#weather = new Float32Array(graph.edgeCount).fill(1);
  }

  freeFlowKmh(edge: number): number {
    return this.#freeFlowKmh[edge]!;
  }

  /** The speed traffic reports for the edge, its free-flow speed when none does. */
  trafficKmh(edge: number): number {
    const traffic = this.#trafficKmh[edge]!;
    return Number.isNaN(traffic) ? this.#freeFlowKmh[edge]! : traffic;
  }

  /** The share of free flow the weather allows on the edge; 1 when there is none. */
  weatherFactor(edge: number): number {
    return this.#weather[edge]!;
  }

  /**
   * Sets the edges' traffic speed: absolute, or a factor of free flow (so reports do not
   * compound), clamped to 1–140 km/h.
   */
  setTraffic(edges: readonly number[], change: SpeedChange): LayerUpdate {
    return this.#update(edges, (edge) => {
      const wanted =
        'speedKmh' in change ? change.speedKmh : this.#freeFlowKmh[edge]! * change.factor;
      this.#trafficKmh[edge] = clamp(wanted);
    });
  }

  /** Every edge back to free-flow traffic; weather stays. */
  clearTraffic(): LayerUpdate {
    return this.#update(
      this.#edgesWhere(this.#trafficKmh, (v) => !Number.isNaN(v)),
      (edge) => {
        this.#trafficKmh[edge] = Number.NaN;
      },
    );
  }

  /** Sets the edges' weather factor (replacing, not compounding, what was there); 1 is none. */
  setWeather(edges: readonly number[], factorOf: (freeFlowKmh: number) => number): LayerUpdate {
    return this.#update(edges, (edge) => {
      this.#weather[edge] = Math.min(1, factorOf(this.#freeFlowKmh[edge]!));
    });
  }

  /** Every edge back to no weather; traffic stays. */
  clearWeather(): LayerUpdate {
    return this.#update(
      this.#edgesWhere(this.#weather, (v) => v !== 1),
      (edge) => {
        this.#weather[edge] = 1;
      },
    );
  }

  #update(edges: readonly number[], write: (edge: number) => void): LayerUpdate {
    const update: LayerUpdate = { changed: [], layerChanged: [] };
    for (const edge of edges) {
      const before = [this.#trafficKmh[edge]!, this.#weather[edge]!];
      write(edge);
      if (!Object.is(before[0], this.#trafficKmh[edge]) || before[1] !== this.#weather[edge]) {
        update.layerChanged.push(edge);
      }
      if (this.#applyLive(edge)) update.changed.push(edge);
    }
    return update;
  }

  #edgesWhere(layer: Float32Array, test: (value: number) => boolean): number[] {
    const edges: number[] = [];
    for (let edge = 0; edge < layer.length; edge++) if (test(layer[edge]!)) edges.push(edge);
    return edges;
  }

  /** Writes the edge's combined speed and travel time; true when the time changed. */
  #applyLive(edge: number): boolean {
    const graph = this.#graph;
    const freeFlow = this.#freeFlowKmh[edge]!;
    const weather = this.#weather[edge]!;
    const traffic = this.trafficKmh(edge);
    // No weather is no cap: traffic may report a road faster than its free flow.
    const speed = weather < 1 ? clamp(Math.min(traffic, freeFlow * weather)) : traffic;
    // The free-flow speed gets back the import's exact travel time, not a rounded one.
    const duration =
      speed === freeFlow ? this.#freeFlowS[edge]! : graph.edgeLengthM[edge]! / (speed / 3.6);
    if (graph.edgeDurationS[edge] === duration) return false;
    graph.edgeSpeedKmh[edge] = speed;
    graph.edgeDurationS[edge] = duration;
    return true;
  }
}

function clamp(speedKmh: number): number {
  return Math.fround(Math.min(MAX_SPEED_KMH, Math.max(MIN_TRAFFIC_SPEED_KMH, speedKmh)));
}
