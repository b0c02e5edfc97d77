// npm run bench:navigation [-- --quick] [--out FILE] [--pairs N]: on each OSM extract
// (OSM_DIR, default the repository's data/osm), routes the same random node pairs with plain
// Dijkstra, with the overlay router and with GraphHopper (its runner, built by
// `scripts/tools.sh install graphhopper`, as GRAPHHOPPER_BIN), and times a traffic update of
// one cell against a full re-customization. The section of docs/benchmarks.md (or FILE) is
// rewritten. --quick (100 pairs, 5 cells) is the smoke test the integration tests run.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadAverage, machine, median, seeded, writeSection } from '@platform/kit/testing';
import { Dijkstra, edgeSource } from '../src/domain/dijkstra.ts';
import { OverlayRouter } from '../src/domain/overlay.ts';
import type { Metric, RoadGraph } from '../src/domain/road-graph.ts';
import type { Router } from '../src/domain/router.ts';
import { importOsm } from '../src/import/osm-import.ts';
import { GraphHopperPeer, graphHopperRunner, type PeerQuery } from './graphhopper.ts';
import { comparePairs, randomPairs } from './peer-comparison.ts';
import { readConfig } from '../src/config.ts';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: here('../../../docs/benchmarks.md') },
    pairs: { type: 'string' },
  },
});
// The service's own configuration, read once: OSM_DIR as the service finds the extracts.
const { OSM_DIR } = readConfig();
const EXTRACTS = ['andorra', 'monaco'];
const PAIRS = Number(options.pairs ?? (options.quick ? 100 : 1000));
const CELLS = options.quick ? 5 : 30;
const REBUILDS = options.quick ? 2 : 7;
const METRIC: Metric = 'time';

if (!Number.isInteger(PAIRS) || PAIRS < 10) throw new Error('--pairs must be an integer ≥ 10');
const runner = graphHopperRunner();

/** p-th percentile (0–100) of values, nearest rank. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Queries {
  settled: number[];
  micros: number[];
}

/** Routes every pair with each router in turn (pair by pair, so drift hits both alike). */
function runPairs(routers: Record<string, Router>, pairs: [number, number][]) {
  const results: Record<string, Queries> = {};
  for (const name of Object.keys(routers)) results[name] = { settled: [], micros: [] };
  for (const [from, to] of pairs) {
    for (const [name, router] of Object.entries(routers)) {
      const started = performance.now();
      const route = router.route(from, to, METRIC);
      const micros = (performance.now() - started) * 1000;
      results[name]!.settled.push(route.settled);
      results[name]!.micros.push(micros);
    }
  }
  return results;
}

/** Edges with both ends in the level-1 cell. */
function edgesInside(graph: RoadGraph, overlay: OverlayRouter, cell: number): number[] {
  const cellOf = overlay.partition.cellOf[1]!;
  const edges: number[] = [];
  for (let e = 0; e < graph.edgeCount; e++) {
    if (cellOf[edgeSource(graph, e)] === cell && cellOf[graph.edgeTarget[e]!] === cell)
      edges.push(e);
  }
  return edges;
}

/** Halves the speed of every road inside one cell, re-customizes, then puts the speeds back. */
function timeOneCellUpdates(graph: RoadGraph, overlay: OverlayRouter, random: () => number) {
  const millis: number[] = [];
  let edgeCount = 0;
  for (let i = 0; i < CELLS; i++) {
    const cell = Math.floor(random() * overlay.partition.cellCount[1]!);
    const edges = edgesInside(graph, overlay, cell);
    const saved = edges.map((e) => [graph.edgeSpeedKmh[e]!, graph.edgeDurationS[e]!] as const);
    for (const e of edges) {
      graph.edgeSpeedKmh[e] = graph.edgeSpeedKmh[e]! / 2;
      graph.edgeDurationS[e] = graph.edgeDurationS[e]! * 2;
    }
    const started = performance.now();
    overlay.onEdgesChanged(edges);
    millis.push(performance.now() - started);
    edgeCount += edges.length;
    edges.forEach((e, k) => {
      graph.edgeSpeedKmh[e] = saved[k]![0];
      graph.edgeDurationS[e] = saved[k]![1];
    });
    overlay.onEdgesChanged(edges);
  }
  return { millis, meanEdges: edgeCount / CELLS };
}

/**
 * GraphHopper on the same pairs, placed at our nodes' coordinates: its fastest routes (CH, the
 * `car` profile that follows our speed rules) for latency and visited nodes, its shortest
 * (`car_shortest`) against our shortest by distance.
 */
async function measurePeer(extract: string, graph: RoadGraph, pairs: [number, number][]) {
  const graphDir = await mkdtemp(join(tmpdir(), 'graphhopper-'));
  const peer = await GraphHopperPeer.start({ runner, extract, graphDir });
  try {
    const at = (node: number) => [graph.lat[node]!, graph.lon[node]!] as const;
    const queries = (profile: PeerQuery['profile']): PeerQuery[] =>
      pairs.map(([from, to], id) => ({ id, from: at(from), to: at(to), profile }));
    await peer.route(queries('car').slice(0, 200));
    const fastest = await peer.route(queries('car'));
    const shortest = await peer.route(queries('car_shortest'));

    const dijkstra = new Dijkstra(graph);
    const ours = pairs.map(([from, to]) => dijkstra.route(from, to, 'distance'));
    const distances = comparePairs(
      ours,
      shortest,
      (answer) => answer.distanceM!,
      (route) => route.distanceM,
    );
    return {
      importMs: peer.ready.importMs,
      micros: fastest.filter((a) => a.found).map((a) => a.micros),
      visited: fastest.filter((a) => a.found && a.visitedNodes! >= 0).map((a) => a.visitedNodes!),
      distances,
    };
  } finally {
    await peer.stop();
    await rm(graphDir, { recursive: true, force: true });
  }
}

async function measure(name: string) {
  const extract = `${OSM_DIR}/${name}.osm.pbf`;
  const { graph, summary } = await importOsm(extract);
  process.stderr.write(`${name}: ${summary.nodes} nodes, ${summary.edges} edges\n`);

  let started = performance.now();
  const overlay = new OverlayRouter(graph);
  const buildMs = performance.now() - started;
  const dijkstra = new Dijkstra(graph);

  const pairs = randomPairs(graph, PAIRS, 2026);
  // Warm-up: the JIT compiles both searches before anything is timed.
  runPairs({ dijkstra, overlay }, pairs.slice(0, Math.min(200, PAIRS)));
  process.stderr.write(`${name}: routing ${PAIRS} pairs\n`);
  const results = runPairs({ dijkstra, overlay }, pairs);

  process.stderr.write(`${name}: GraphHopper on the same pairs\n`);
  const peer = await measurePeer(extract, graph, pairs);

  process.stderr.write(`${name}: traffic updates\n`);
  const fullMs: number[] = [];
  for (let i = 0; i < REBUILDS; i++) {
    started = performance.now();
    overlay.customize(METRIC);
    fullMs.push(performance.now() - started);
  }
  const oneCell = timeOneCellUpdates(graph, overlay, seeded(2027));

  const stats = overlay.stats();
  return { name, summary, buildMs, stats, results, peer, fullMs, oneCell };
}

const runs = [];
for (const name of EXTRACTS) runs.push(await measure(name));

const fixed = (value: number, digits = 0) =>
  value.toLocaleString('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ratio = (a: number, b: number) => `${fixed(a / b, 1)}×`;

const rows = runs.map(({ name, results, peer }) => {
  const d = results.dijkstra!;
  const o = results.overlay!;
  return (
    `| ${name} | ${fixed(median(d.settled))} | ${fixed(median(o.settled))} | ` +
    `**${ratio(median(d.settled), median(o.settled))}** | ` +
    `${fixed(median(d.micros))} / ${fixed(percentile(d.micros, 99))} | ` +
    `${fixed(median(o.micros))} / ${fixed(percentile(o.micros, 99))} | ` +
    `**${ratio(median(d.micros), median(o.micros))}** / ` +
    `${ratio(percentile(d.micros, 99), percentile(o.micros, 99))} | ` +
    `${peer.visited.length > 0 ? fixed(median(peer.visited)) : '-'} | ` +
    `${fixed(median(peer.micros))} / ${fixed(percentile(peer.micros, 99))} |`
  );
});
const peerRows = runs.map(({ name, peer }) => {
  const { ratios, both, oursOnly, peerOnly, neither } = peer.distances;
  const within = ratios.filter((r) => Math.abs(r - 1) <= 0.01).length / Math.max(1, ratios.length);
  const q = (p: number) => fixed(percentile(ratios, p), 3);
  return (
    `| ${name} | ${both} / ${oursOnly} / ${peerOnly} / ${neither} | ` +
    `${q(1)} / ${q(50)} / ${q(99)} | ${fixed(Math.min(...ratios), 3)} / ` +
    `${fixed(Math.max(...ratios), 3)} | ${fixed(100 * within)} % | ${fixed(peer.importMs)} |`
  );
});
const trafficRows = runs.map(({ name, fullMs, oneCell, buildMs }) => {
  return (
    `| ${name} | ${fixed(oneCell.meanEdges)} | ${fixed(median(oneCell.millis), 2)} | ` +
    `${fixed(median(fullMs), 1)} | **${ratio(median(fullMs), median(oneCell.millis))}** | ` +
    `${fixed(buildMs)} |`
  );
});
const overlayRows = runs.map(
  ({ name, summary, stats }) =>
    `| ${name} | ${fixed(summary.nodes)} | ` +
    stats.levels
      .map((level) => `${level.cells} cells, ${fixed(level.entries)} entries`)
      .join(' | ') +
    ' |',
);

await writeSection(
  options.out,
  'navigation',
  `## Navigation: overlay routing against plain Dijkstra and GraphHopper

Measured on ${machine()}
by \`npm run bench:navigation\`; load average ${loadAverage()} at the end. ${PAIRS} random node
pairs per extract (the same pairs for both, routed one after the other, after a warm-up of 200),
by travel time, path unpacked into road edges. Times are each query's
own, in microseconds, in this process. Goals: at least 10× fewer settled nodes and 5× faster than
plain Dijkstra. GraphHopper 11 (contraction hierarchies, its \`car\` profile set to our speed
rules) answers the same pairs at our nodes' coordinates in its runner, a JVM beside this process;
its times are measured in Java around \`GraphHopper.route\`, its visited nodes are its own count
(\`visited_nodes.sum\`), for the pairs it found.

| extract | Dijkstra settled (p50) | overlay settled (p50) | fewer settled | Dijkstra µs p50 / p99 | overlay µs p50 / p99 | faster p50 / p99 | GraphHopper CH visited (p50) | GraphHopper CH µs p50 / p99 |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

Shortest routes by distance, GraphHopper's \`car_shortest\` over our Dijkstra by distance, same
pairs. Why they differ, with the ways behind the largest gaps:
\`services/navigation/peer/graphhopper/FINDINGS.md\` (GraphHopper moves points on small cut-off
pieces to its main network where we answer unreachable, and road rules differ on a few tags).

| extract | found by both / ours only / GraphHopper only / neither | ratio p1 / p50 / p99 | min / max | within ±1 % | GraphHopper import, ms |
| --- | --- | --- | --- | --- | --- |
${peerRows.join('\n')}

Cells (grid of 1 km, 4 km, 16 km):

| extract | graph nodes | level 1 | level 2 | level 3 |
| --- | --- | --- | --- | --- |
${overlayRows.join('\n')}

Traffic: every road inside one random level-1 cell slowed to half speed, then re-customized: the
cell, and each cell above it whose clique below changed; against re-customizing every cell by
travel time
(medians of ${CELLS} cells and ${REBUILDS} full runs). Goal: a one-cell update at least 20× faster.

| extract | roads in the cell (mean) | one cell, ms | every cell, ms | faster | first build (partition + both metrics), ms |
| --- | --- | --- | --- | --- | --- |
${trafficRows.join('\n')}
`,
);
process.stderr.write(`wrote ${options.out}\n`);
