import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { OSMTransform } from 'osm-pbf-parser-node';
import { navigationError } from '../errors.ts';
import { haversineM } from '../domain/geo.ts';
import {
  buildRoadGraph,
  type EdgeSpec,
  type NodeSpec,
  type RoadGraph,
} from '../domain/road-graph.ts';
import {
  classifyWay,
  RULE_TAG_KEYS,
  type DropReason,
  type WayRule,
  type WayTags,
} from '../domain/road-rules.ts';

export interface ImportProgress {
  phase: 'reading' | 'building';
  bytesRead: number;
  bytesTotal: number;
  nodesRead: number;
  waysRead: number;
}

export interface ImportSummary {
  file: string;
  nodes: number;
  edges: number;
  onewayEdges: number;
  keptWays: number;
  waysWithMaxspeed: number;
  droppedWays: Partial<Record<DropReason | 'too-few-nodes', number>>;
  /** Way node references to nodes the extract does not hold (ways cut at its border). */
  missingNodeRefs: number;
  /** Consecutive distinct nodes at the same position, joined by an edge of MIN_EDGE_M. */
  zeroLengthSegments: number;
  seconds: number;
}

/** What a kept way is called, for turn-by-turn steps. */
export interface WayLabel {
  name?: string;
  ref?: string;
}

/** A named point of the extract: a named node (place, amenity, tourism, shop) or a street. */
export interface Place {
  /** `node/<osm id>` or `street/<osm way id>` (a street is one place per name). */
  id: string;
  name: string;
  /** The node's place/amenity/tourism/shop value (`town`, `cafe`, …), or `street`. */
  kind: string;
  lat: number;
  lon: number;
}

export interface ImportedGraph {
  graph: RoadGraph;
  summary: ImportSummary;
  /** Name and ref of each kept way that has either, by OSM way id. */
  wayLabels: Map<number, WayLabel>;
  places: Place[];
}

/** Way tags read besides the rules' own: labels for the steps, never for the rules. */
const LABEL_TAG_KEYS = ['name', 'ref'];
/** Node tags that make a named node a place, most telling first. */
const PLACE_KIND_KEYS = ['place', 'amenity', 'tourism', 'shop'];

/**
 * An edge between two distinct nodes at the same position still costs something, so no edge is
 * free.
 */
export const MIN_EDGE_M = 0.01;

interface OsmEntity {
  type?: string;
  id: number;
  lat?: number;
  lon?: number;
  refs?: number[];
  tags?: WayTags;
}

interface KeptWay {
  id: number;
  refs: number[];
  rule: WayRule & { kept: true };
  label: WayLabel;
}

/**
 * Reads an OpenStreetMap PBF extract into a directed road graph for cars. Every pair of
 * consecutive way nodes becomes an edge (two for two-way roads), so the graph keeps the full
 * geometry. A missing, corrupt or truncated file fails with `osm_file_unreadable` naming it.
 */
export async function importOsm(
  file: string,
  onProgress: (progress: ImportProgress) => void = () => {},
): Promise<ImportedGraph> {
  const started = performance.now();
  const { coordinates, ways, dropped, progress, places } = await readExtract(file, onProgress);

  onProgress({ ...progress, phase: 'building' });
  const { graph, missingNodeRefs, zeroLengthSegments } = buildGraph(coordinates, ways);
  if (graph.nodeCount === 0) {
    throw navigationError('osm_no_roads', { message: `no road a car may use in ${file}` });
  }

  let onewayEdges = 0;
  for (let e = 0; e < graph.edgeCount; e++) onewayEdges += graph.edgeOneway[e]!;
  const summary: ImportSummary = {
    file,
    nodes: graph.nodeCount,
    edges: graph.edgeCount,
    onewayEdges,
    keptWays: ways.length,
    waysWithMaxspeed: ways.filter((way) => way.rule.maxspeedTagged).length,
    droppedWays: dropped,
    missingNodeRefs,
    zeroLengthSegments,
    seconds: (performance.now() - started) / 1000,
  };
  return {
    graph,
    summary,
    wayLabels: wayLabels(ways),
    places: [...places, ...streets(ways, coordinates)],
  };
}

function wayLabels(ways: readonly KeptWay[]): Map<number, WayLabel> {
  const labels = new Map<number, WayLabel>();
  for (const way of ways) if (way.label.name || way.label.ref) labels.set(way.id, way.label);
  return labels;
}

/** One place per street name, at the middle node of the first way that bears it. */
function streets(ways: readonly KeptWay[], coordinates: Map<number, [number, number]>): Place[] {
  const byName = new Map<string, Place>();
  for (const way of ways) {
    const name = way.label.name;
    if (!name || byName.has(name)) continue;
    const at = coordinates.get(way.refs[way.refs.length >> 1]!);
    if (at)
      byName.set(name, { id: `street/${way.id}`, name, kind: 'street', lat: at[0], lon: at[1] });
  }
  return [...byName.values()];
}

interface Extract {
  coordinates: Map<number, [number, number]>;
  ways: KeptWay[];
  places: Place[];
  dropped: ImportSummary['droppedWays'];
  progress: ImportProgress;
}

async function readExtract(
  file: string,
  onProgress: (progress: ImportProgress) => void,
): Promise<Extract> {
  const coordinates = new Map<number, [number, number]>();
  const ways: KeptWay[] = [];
  const places: Place[] = [];
  const dropped: ImportSummary['droppedWays'] = {};
  const progress: ImportProgress = {
    phase: 'reading',
    bytesRead: 0,
    bytesTotal: 0,
    nodesRead: 0,
    waysRead: 0,
  };

  try {
    progress.bytesTotal = (await stat(file)).size;
    if (progress.bytesTotal === 0) throw new Error('the file is empty');
    // The parser's own stream helper pipes without forwarding read errors (a missing file
    // would crash the process), so the source's errors are passed on here.
    const source = createReadStream(file);
    const blocks = source.pipe(
      new OSMTransform({
        withTags: {
          node: ['name', ...PLACE_KIND_KEYS],
          way: [...RULE_TAG_KEYS, ...LABEL_TAG_KEYS],
          relation: false,
        },
      }),
    );
    source.on('data', (chunk) => (progress.bytesRead += chunk.length));
    source.once('error', (error) => blocks.destroy(error));

    for await (const block of blocks as AsyncIterable<OsmEntity[]>) {
      for (const entity of block) {
        if (entity.type === 'node') {
          coordinates.set(entity.id, [entity.lat!, entity.lon!]);
          progress.nodesRead++;
          const place = placeOf(entity);
          if (place) places.push(place);
        } else if (entity.type === 'way') {
          progress.waysRead++;
          const rule = classifyWay(entity.tags);
          const refs = entity.refs ?? [];
          if (!rule.kept) dropped[rule.reason] = (dropped[rule.reason] ?? 0) + 1;
          else if (refs.length < 2) dropped['too-few-nodes'] = (dropped['too-few-nodes'] ?? 0) + 1;
          else ways.push({ id: entity.id, refs, rule, label: labelOf(entity.tags) });
        }
      }
      onProgress({ ...progress });
    }
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw navigationError('osm_file_unreadable', {
      message: `cannot read OSM extract ${file}: ${reason} (missing, corrupt or truncated?)`,
      cause,
    });
  }
  return { coordinates, ways, places, dropped, progress };
}

function placeOf(node: OsmEntity): Place | undefined {
  const name = node.tags?.name;
  if (!name) return undefined;
  const key = PLACE_KIND_KEYS.find((k) => node.tags![k] !== undefined);
  if (key === undefined) return undefined;
  return { id: `node/${node.id}`, name, kind: node.tags![key]!, lat: node.lat!, lon: node.lon! };
}

function labelOf(tags: WayTags | undefined): WayLabel {
  const label: WayLabel = {};
  if (tags?.name) label.name = tags.name;
  if (tags?.ref) label.ref = tags.ref;
  return label;
}

function buildGraph(
  coordinates: Map<number, [number, number]>,
  ways: readonly KeptWay[],
): { graph: RoadGraph; missingNodeRefs: number; zeroLengthSegments: number } {
  const nodes: NodeSpec[] = [];
  const nodeIndex = new Map<number, number>();
  const edges: EdgeSpec[] = [];
  let missingNodeRefs = 0;
  let zeroLengthSegments = 0;

  const indexOf = (osmId: number, at: [number, number]): number => {
    let index = nodeIndex.get(osmId);
    if (index === undefined) {
      index = nodes.length;
      nodeIndex.set(osmId, index);
      nodes.push({ lat: at[0], lon: at[1], osmId });
    }
    return index;
  };

  for (const way of ways) {
    for (const ref of way.refs) if (!coordinates.has(ref)) missingNodeRefs++;

    for (let i = 1; i < way.refs.length; i++) {
      const fromId = way.refs[i - 1]!;
      const toId = way.refs[i]!;
      const from = coordinates.get(fromId);
      const to = coordinates.get(toId);
      if (from === undefined || to === undefined || fromId === toId) continue;

      let lengthM = haversineM(from[0], from[1], to[0], to[1]);
      if (lengthM < MIN_EDGE_M) {
        zeroLengthSegments++;
        lengthM = MIN_EDGE_M;
      }
      const a = indexOf(fromId, from);
      const b = indexOf(toId, to);
      const { direction, speedKmh } = way.rule;
      const oneway = direction !== 'both';
      const edge = { lengthM, speedKmh, wayId: way.id, oneway };
      if (direction !== 'backward') edges.push({ from: a, to: b, ...edge });
      if (direction !== 'forward') edges.push({ from: b, to: a, ...edge });
    }
  }

  return { graph: buildRoadGraph(nodes, edges), missingNodeRefs, zeroLengthSegments };
}
