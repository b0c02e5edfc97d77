import type { RoadGraph } from './road-graph.ts';
import { MIN_TRAFFIC_SPEED_KMH } from './traffic.ts';

export const HOURS_PER_WEEK = 168;

export interface SpeedHistoryOptions {
  /** The extract's time zone: weekdays and hours are local there. */
  timeZone?: string;
  /** Weight of a new observation in its hour's moving average. */
  learningRate?: number;
  /** How fast trust moves from live to historical speed along a trip, in seconds (e-folding). */
  horizonS?: number;
}

export interface Eta {
  /** Live and historical speeds blended along the trip. */
  durationS: number;
  /** Live speeds only (what the route was chosen by). */
  liveDurationS: number;
  /** Historical speeds only, for the hours the trip runs through. */
  historicalDurationS: number;
}

const WEEKDAYS: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

/**
 * Speeds by edge, weekday and hour, learnt from the live speeds traffic reports: each report
 * moves the edge's average for that hour of the week towards what it saw. Edges never reported
 * keep their free-flow speed (the speed of the imported road). An ETA trusts live speeds near
 * the start of a trip and the history of the hour it will reach each edge farther on.
 */
export class SpeedHistory {
  readonly #graph: RoadGraph;
  readonly #freeFlowKmh: Float32Array;
  readonly #profiles = new Map<number, Float32Array>();
  readonly #learningRate: number;
  readonly #horizonS: number;
  readonly #format: Intl.DateTimeFormat;

  constructor(graph: RoadGraph, options: SpeedHistoryOptions = {}) {
    this.#graph = graph;
    this.#freeFlowKmh = Float32Array.from(graph.edgeSpeedKmh);
    this.#learningRate = options.learningRate ?? 0.2;
    this.#horizonS = options.horizonS ?? 1800;
    if (!(this.#learningRate > 0 && this.#learningRate <= 1) || !(this.#horizonS > 0)) {
      throw new RangeError('speed history needs 0 < learningRate ≤ 1 and horizonS > 0');
    }
    this.#format = new Intl.DateTimeFormat('en-GB', {
      timeZone: options.timeZone ?? 'Europe/Andorra',
      weekday: 'short',
      hour: '2-digit',
      hourCycle: 'h23',
    });
  }

  /** Hour of the week in the extract's time zone: 0 is Monday 00:00–00:59, 167 Sunday 23:00. */
  hourOfWeek(at: Date): number {
    let weekday = 0;
    let hour = 0;
    for (const part of this.#format.formatToParts(at)) {
      if (part.type === 'weekday') weekday = WEEKDAYS[part.value]!;
      else if (part.type === 'hour') hour = Number(part.value);
    }
    return weekday * 24 + hour;
  }

  /**
   * Records the edges' speeds as seen at `at`: their live speeds, or what `speedKmh` says (the
   * service passes traffic alone, as weather is no pattern of the week).
   */
  observe(
    edges: Iterable<number>,
    at: Date,
    speedKmh: (edge: number) => number = (edge) => this.#graph.edgeSpeedKmh[edge]!,
  ): void {
    const hour = this.hourOfWeek(at);
    for (const edge of edges) {
      let profile = this.#profiles.get(edge);
      if (!profile) {
        profile = new Float32Array(HOURS_PER_WEEK).fill(this.#freeFlowKmh[edge]!);
        this.#profiles.set(edge, profile);
      }
      profile[hour]! += this.#learningRate * (speedKmh(edge) - profile[hour]!);
    }
  }

  /** The edge's usual speed in that hour of the week. */
  historicalKmh(edge: number, hourOfWeek: number): number {
    return this.#profiles.get(edge)?.[hourOfWeek] ?? this.#freeFlowKmh[edge]!;
  }

  freeFlowKmh(edge: number): number {
    return this.#freeFlowKmh[edge]!;
  }

  /**
   * Travel time along the edges leaving at `departure`, live and historical speeds blended. The
   * weather (a factor of free flow per edge, 1 for none) is taken to last the whole trip: it
   * caps the historical speeds as it caps the live ones.
   */
  eta(edges: readonly number[], departure: Date, weather: (edge: number) => number = () => 1): Eta {
    const graph = this.#graph;
    const startHour = this.hourOfWeek(departure);
    // Seconds already gone in the departure hour; the trip's hour advances from there.
    const intoHour = (departure.getTime() / 1000) % 3600;
    let durationS = 0;
    let liveDurationS = 0;
    let historicalDurationS = 0;
    for (const edge of edges) {
      const lengthM = graph.edgeLengthM[edge]!;
      const hour = (startHour + Math.floor((intoHour + durationS) / 3600)) % HOURS_PER_WEEK;
      const historicalHour =
        (startHour + Math.floor((intoHour + historicalDurationS) / 3600)) % HOURS_PER_WEEK;
      const live = graph.edgeSpeedKmh[edge]!;
      const trustLive = Math.exp(-durationS / this.#horizonS);
      const factor = weather(edge);
      const cap =
        factor < 1 ? Math.max(MIN_TRAFFIC_SPEED_KMH, this.#freeFlowKmh[edge]! * factor) : Infinity;
      const usual = (at: number) => Math.min(this.historicalKmh(edge, at), cap);
      const blended = trustLive * live + (1 - trustLive) * usual(hour);
      durationS += lengthM / (blended / 3.6);
      liveDurationS += lengthM / (live / 3.6);
      historicalDurationS += lengthM / (usual(historicalHour) / 3.6);
    }
    return { durationS, liveDurationS, historicalDurationS };
  }
}
