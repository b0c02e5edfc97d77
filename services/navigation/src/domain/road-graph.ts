/**
 * A directed road graph in compressed sparse row form: the edges leaving node `n` are
 * `firstEdge[n] … firstEdge[n + 1] - 1`. Nodes are numbered 0…nodeCount-1; `osmNodeId` and
 * `osmWayId` keep the way back to OpenStreetMap (ids are stored as doubles: they exceed 2^31).
 */
export interface RoadGraph {
  readonly nodeCount: number;
  readonly edgeCount: number;
  readonly lat: Float64Array;
  readonly lon: Float64Array;
  readonly osmNodeId: Float64Array;
  readonly firstEdge: Int32Array;
  readonly edgeTarget: Int32Array;
  readonly edgeLengthM: Float64Array;
  readonly edgeDurationS: Float64Array;
  readonly edgeSpeedKmh: Float32Array;
  readonly osmWayId: Float64Array;
  /** 1 when the edge has no reverse twin because its way is one-way. */
  readonly edgeOneway: Uint8Array;
}

export interface EdgeSpec {
  from: number;
  to: number;
  lengthM: number;
  speedKmh: number;
  wayId: number;
  oneway: boolean;
}

export interface NodeSpec {
  lat: number;
  lon: number;
  osmId: number;
}

/** Builds the CSR arrays from node and edge lists (a counting sort of the edges by origin). */
export function buildRoadGraph(nodes: readonly NodeSpec[], edges: readonly EdgeSpec[]): RoadGraph {
  const nodeCount = nodes.length;
  const edgeCount = edges.length;

  const firstEdge = new Int32Array(nodeCount + 1);
  for (const edge of edges) {
    if (edge.from < 0 || edge.from >= nodeCount || edge.to < 0 || edge.to >= nodeCount) {
      throw new RangeError(`edge ${edge.from}->${edge.to} names a node outside 0…${nodeCount - 1}`);
    }
    firstEdge[edge.from + 1]!++;
  }
  for (let n = 0; n < nodeCount; n++) firstEdge[n + 1]! += firstEdge[n]!;

  const graph: RoadGraph = {
    nodeCount,
    edgeCount,
    lat: Float64Array.from(nodes, (node) => node.lat),
    lon: Float64Array.from(nodes, (node) => node.lon),
    osmNodeId: Float64Array.from(nodes, (node) => node.osmId),
    firstEdge,
    edgeTarget: new Int32Array(edgeCount),
    edgeLengthM: new Float64Array(edgeCount),
    edgeDurationS: new Float64Array(edgeCount),
    edgeSpeedKmh: new Float32Array(edgeCount),
    osmWayId: new Float64Array(edgeCount),
    edgeOneway: new Uint8Array(edgeCount),
  };

  const next = firstEdge.slice(0, nodeCount);
  for (const edge of edges) {
    const slot = next[edge.from]!++;
    graph.edgeTarget[slot] = edge.to;
    graph.edgeLengthM[slot] = edge.lengthM;
    graph.edgeSpeedKmh[slot] = edge.speedKmh;
    graph.edgeDurationS[slot] = edge.lengthM / (edge.speedKmh / 3.6);
    graph.osmWayId[slot] = edge.wayId;
    graph.edgeOneway[slot] = edge.oneway ? 1 : 0;
  }
  return graph;
}

export type Metric = 'time' | 'distance';

/** The per-edge weight array a search minimises. */
export function edgeWeights(graph: RoadGraph, metric: Metric): Float64Array {
  return metric === 'time' ? graph.edgeDurationS : graph.edgeLengthM;
}
