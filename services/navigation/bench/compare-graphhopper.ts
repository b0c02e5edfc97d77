// Our routes against GraphHopper's on the same extract, in one run:
//   node services/navigation/bench/compare-graphhopper.ts [--pairs 1000] [--examples 5] [extract…]
// Needs the runner: scripts/tools.sh install graphhopper && eval "$(scripts/tools.sh env)".
// Extract names are looked up in OSM_DIR (default the repository's data/osm); by default
// monaco andorra.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAverage, machine } from '@platform/kit/testing';
import { Dijkstra } from '../src/domain/dijkstra.ts';
import type { Route } from '../src/domain/router.ts';
import type { RoadGraph } from '../src/domain/road-graph.ts';
import { importOsm } from '../src/import/osm-import.ts';
import {
  GraphHopperPeer,
  graphHopperRunner,
  type PeerAnswer,
  type PeerQuery,
} from './graphhopper.ts';
import { comparePairs, quantile, randomPairs, type PairComparison } from './peer-comparison.ts';
import { readConfig } from '../src/config.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    pairs: { type: 'string', default: '1000' },
    examples: { type: 'string', default: '5' },
    seed: { type: 'string', default: '7' },
  },
});
const PAIRS = Number(values.pairs);
const EXAMPLES = Number(values.examples);
// The service's own configuration, read once: OSM_DIR as the service finds the extracts.
const { OSM_DIR } = readConfig();
const extracts = positionals.length > 0 ? positionals : ['monaco', 'andorra'];
/** Queries run once unmeasured first, so both sides are past JIT warm-up when timed. */
const WARM_UP = 300;

const runner = graphHopperRunner();
console.log(`# GraphHopper comparison: ${PAIRS} random node pairs per extract, ${machine()}`);
for (const name of extracts) await compare(name);

async function compare(name: string): Promise<void> {
  const extract = name.includes('/') ? name : join(OSM_DIR, `${name}.osm.pbf`);
  const { graph } = await importOsm(extract);
  const graphDir = await mkdtemp(join(tmpdir(), 'graphhopper-'));
  const peer = await GraphHopperPeer.start({ runner, extract, graphDir });
  try {
    const pairs = randomPairs(graph, PAIRS, Number(values.seed));
    const search = new Dijkstra(graph);
    const at = (node: number) => [graph.lat[node]!, graph.lon[node]!] as const;
    const queries = (profile: PeerQuery['profile'], ch = true, ways = false): PeerQuery[] =>
      pairs.map(([from, to], id) => ({ id, from: at(from), to: at(to), profile, ch, ways }));

    await peer.route(queries('car').slice(0, WARM_UP));
    await peer.route(queries('car_shortest').slice(0, WARM_UP));
    const shortest = await peer.route(queries('car_shortest'));
    const fastest = await peer.route(queries('car'));
    await peer.route(queries('car', false).slice(0, WARM_UP));
    const flexible = await peer.route(queries('car', false));

    for (const [from, to] of pairs.slice(0, WARM_UP)) search.route(from, to, 'time');
    const ours = { distance: timed(search, pairs, 'distance'), time: timed(search, pairs, 'time') };

    console.log(
      `\n## ${name}: our graph ${graph.nodeCount} nodes; load average ${loadAverage()}; GraphHopper`,
      peer.ready,
    );
    report(
      'by distance (car_shortest vs our distance metric)',
      comparePairs(
        ours.distance.routes,
        shortest,
        (answer) => answer.distanceM!,
        (route) => route.distanceM,
      ),
    );
    report(
      'fastest, distance of the route (car vs our time metric)',
      comparePairs(
        ours.time.routes,
        fastest,
        (answer) => answer.distanceM!,
        (route) => route.distanceM,
      ),
    );
    report(
      'fastest, travel time (car vs our time metric)',
      comparePairs(
        ours.time.routes,
        fastest,
        (answer) => answer.timeS!,
        (route) => route.durationS,
      ),
    );
    latency(
      'GraphHopper CH, car',
      fastest.map((answer) => answer.micros),
    );
    latency(
      'GraphHopper CH, car_shortest',
      shortest.map((answer) => answer.micros),
    );
    latency(
      'GraphHopper flexible, car',
      flexible.map((answer) => answer.micros),
    );
    latency('our Dijkstra, time', ours.time.micros);
    latency('our Dijkstra, distance', ours.distance.micros);
    const traced = await peer.route(queries('car_shortest', true, true));
    examples(graph, pairs, ours.distance.routes, traced);
  } finally {
    await peer.stop();
    await rm(graphDir, { recursive: true, force: true });
  }
}

function timed(search: Dijkstra, pairs: [number, number][], metric: 'time' | 'distance') {
  const routes: Route[] = [];
  const micros: number[] = [];
  for (const [from, to] of pairs) {
    const started = process.hrtime.bigint();
    routes.push(search.route(from, to, metric));
    micros.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  return { routes, micros };
}

function report(title: string, comparison: PairComparison): void {
  const { ratios, oursOnly, peerOnly, neither, both } = comparison;
  const q = (p: number) => quantile(ratios, p).toFixed(3);
  console.log(
    `${title}: both found ${both}, ours only ${oursOnly}, GraphHopper only ${peerOnly}, ` +
      `neither ${neither}; GraphHopper/ours p1 ${q(0.01)} p50 ${q(0.5)} p99 ${q(0.99)} ` +
      `min ${q(0)} max ${q(1)}; within ±1 %: ` +
      `${ratios.filter((ratio) => Math.abs(ratio - 1) <= 0.01).length}`,
  );
}

function latency(title: string, micros: number[]): void {
  const ms = (p: number) => (quantile(micros, p) / 1000).toFixed(3);
  console.log(`${title}: p50 ${ms(0.5)} ms, p99 ${ms(0.99)} ms`);
}

/** The pairs whose distances differ most, with the OSM ways only one side drove on. */
function examples(
  graph: RoadGraph,
  pairs: [number, number][],
  routes: Route[],
  answers: PeerAnswer[],
): void {
  const entries = pairs.map((pair, i) => ({ pair, route: routes[i]!, answer: answers[i]! }));
  const oneSided = entries.filter(({ route, answer }) => route.reachable !== answer.found);
  const differing = entries
    .filter(({ route, answer }) => route.reachable && answer.found)
    .map((entry) => ({ ...entry, gap: gap(entry.route, entry.answer) }))
    .sort((a, b) => b.gap - a.gap);
  console.log(`largest distance gaps, then pairs found by one side only:`);
  for (const { pair, route, answer } of [
    ...differing.slice(0, EXAMPLES),
    ...oneSided.slice(0, EXAMPLES),
  ]) {
    const endWays = [pair[0], pair[1]].map((node) => wayIds(graph, edgesAt(graph, node)).join('/'));
    const ourWays = route.reachable ? wayIds(graph, route.edges) : [];
    const theirs = answer.wayIds ?? [];
    console.log(
      `  pair ${pair[0]}->${pair[1]} (osm node ${graph.osmNodeId[pair[0]]} -> ` +
        `${graph.osmNodeId[pair[1]]}, on ways ${endWays.join(' -> ')}): ours ${route.reachable ? route.distanceM.toFixed(0) : '—'} m, ` +
        `GraphHopper ${answer.found ? answer.distanceM!.toFixed(0) : answer.error} m; ` +
        `ways only ours ${JSON.stringify(ourWays.filter((id) => !theirs.includes(id)))}, ` +
        `only GraphHopper ${JSON.stringify(theirs.filter((id) => !ourWays.includes(id)))}`,
    );
  }
}

/** Relative gap of the distances, for pairs both sides found. */
function gap(route: Route, answer: PeerAnswer): number {
  if (!route.reachable || !answer.found || route.distanceM === 0) return 0;
  return Math.abs(Math.log(answer.distanceM! / route.distanceM));
}

/** The edges leaving a node. */
function edgesAt(graph: RoadGraph, node: number): number[] {
  const edges: number[] = [];
  for (let e = graph.firstEdge[node]!; e < graph.firstEdge[node + 1]!; e++) edges.push(e);
  return edges;
}

function wayIds(graph: RoadGraph, edges: number[]): number[] {
  const ids: number[] = [];
  for (const edge of edges) {
    const id = graph.osmWayId[edge]!;
    if (ids.at(-1) !== id) ids.push(id);
  }
  return ids;
}
