import type { RoadGraph } from './road-graph.ts';

/** The slowest speed traffic may set: a crawl, not a closure (closures would change the shape). */
export const MIN_TRAFFIC_SPEED_KMH = 1;

export type TrafficArea =
  | { south: number; west: number; north: number; east: number }
  | { lat: number; lng: number; radiusM: number };

/** Which edges a traffic report covers. */
export type TrafficSelection = { wayIds: readonly number[] } | { area: TrafficArea };

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
