import type { RoadGraph } from './road-graph.ts';
import { MAX_SPEED_KMH } from './road-rules.ts';

/** The slowest speed traffic may set: a crawl, not a closure (closures would change the shape). */
export const MIN_TRAFFIC_SPEED_KMH = 1;

export type TrafficArea =
  | { south: number; west: number; north: number; east: number }
  | { lat: number; lng: number; radiusM: number };

/** Which edges a traffic report covers. */
export type TrafficSelection = { wayIds: readonly number[] } | { area: TrafficArea };

/** The speeds and travel times the import gave, which a reset returns to. */
export interface FreeFlow {
  speedKmh: Float32Array;
  durationS: Float64Array;
}

export function freeFlowOf(graph: RoadGraph): FreeFlow {
  return { speedKmh: graph.edgeSpeedKmh.slice(), durationS: graph.edgeDurationS.slice() };
}

/** A new speed for the selected edges, absolute or as a share of their free-flow speed. */
export type SpeedChange = { speedKmh: number } | { factor: number };

/**
 * Edges covered by a selection: every edge of the named ways, or every edge with both ends in
 * the area (a box or a circle).
 */
export function selectEdges(graph: RoadGraph, selection: TrafficSelection): number[] {
  const selected: number[] = [];
  if ('wayIds' in selection) {
    const ways = new Set(selection.wayIds);
    for (let e = 0; e < graph.edgeCount; e++) if (ways.has(graph.osmWayId[e]!)) selected.push(e);
    return selected;
  }

  const inside = areaTest(selection.area);
  const nodeInside = new Uint8Array(graph.nodeCount);
  for (let n = 0; n < graph.nodeCount; n++)
    nodeInside[n] = inside(graph.lat[n]!, graph.lon[n]!) ? 1 : 0;
  for (let n = 0; n < graph.nodeCount; n++) {
    if (nodeInside[n] === 0) continue;
    for (let e = graph.firstEdge[n]!; e < graph.firstEdge[n + 1]!; e++) {
      if (nodeInside[graph.edgeTarget[e]!] === 1) selected.push(e);
    }
  }
  return selected;
}

function areaTest(area: TrafficArea): (lat: number, lon: number) => boolean {
  if ('radiusM' in area) {
    const { lat, lng, radiusM } = area;
    const perLat = 111_195;
    const perLon = perLat * Math.cos((lat * Math.PI) / 180);
    return (la: number, lo: number) =>
      Math.hypot((la - lat) * perLat, (lo - lng) * perLon) <= radiusM;
  }
  const { south, west, north, east } = area;
  return (la: number, lo: number) => la >= south && la <= north && lo >= west && lo <= east;
}

/**
 * Sets the selected edges' speed (a factor applies to the free-flow speed, so reports do not
 * compound) and their travel time with it, in place. Returns the edges whose speed changed.
 */
export function applySpeed(
  graph: RoadGraph,
  freeFlow: FreeFlow,
  edges: readonly number[],
  change: SpeedChange,
): number[] {
  const changed: number[] = [];
  for (const edge of edges) {
    const wanted =
      'speedKmh' in change ? change.speedKmh : freeFlow.speedKmh[edge]! * change.factor;
    if (setSpeed(graph, freeFlow, edge, wanted)) changed.push(edge);
  }
  return changed;
}

/** Back to free-flow speeds everywhere; returns the edges that had another speed. */
export function resetSpeeds(graph: RoadGraph, freeFlow: FreeFlow): number[] {
  const changed: number[] = [];
  for (let edge = 0; edge < graph.edgeCount; edge++) {
    if (graph.edgeDurationS[edge] === freeFlow.durationS[edge]) continue;
    graph.edgeSpeedKmh[edge] = freeFlow.speedKmh[edge]!;
    graph.edgeDurationS[edge] = freeFlow.durationS[edge]!;
    changed.push(edge);
  }
  return changed;
}

function setSpeed(graph: RoadGraph, freeFlow: FreeFlow, edge: number, wantedKmh: number): boolean {
  const speed = Math.fround(Math.min(MAX_SPEED_KMH, Math.max(MIN_TRAFFIC_SPEED_KMH, wantedKmh)));
  // The free-flow speed gets back the import's exact travel time, not a rounded one.
  const duration =
    speed === freeFlow.speedKmh[edge]
      ? freeFlow.durationS[edge]!
      : graph.edgeLengthM[edge]! / (speed / 3.6);
  if (graph.edgeDurationS[edge] === duration) return false;
  graph.edgeSpeedKmh[edge] = speed;
  graph.edgeDurationS[edge] = duration;
  return true;
}
