// npm run bench:navigation [-- --quick] [--out FILE] [--pairs N]: on each OSM extract
// (OSM_DIR, default the repository's data/osm), routes the same random node pairs with plain
// Dijkstra and with the overlay router, in turn, and times a traffic update of one cell
// against a full re-customization. Figures are ratios between runs of the same process on
// the same pairs; the section of docs/benchmarks.md (or FILE) is rewritten.
// --quick (100 pairs, 5 cells) is the smoke test the integration tests run.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadAverage, machine, median, seeded, writeSection } from '@platform/kit/testing';
import { Dijkstra, edgeSource } from '../src/domain/dijkstra.ts';
import { OverlayRouter } from '../src/domain/overlay.ts';
import type { Metric, RoadGraph } from '../src/domain/road-graph.ts';
import type { Router } from '../src/domain/router.ts';
import { importOsm } from '../src/import/osm-import.ts';
import { defaultOsmDir } from '../src/config.ts';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: here('../../../docs/benchmarks.md') },
    pairs: { type: 'string' },
  },
});
const OSM_DIR = process.env.OSM_DIR ?? defaultOsmDir();
const EXTRACTS = ['andorra', 'monaco'];
const PAIRS = Number(options.pairs ?? (options.quick ? 100 : 1000));
const CELLS = options.quick ? 5 : 30;
const REBUILDS = options.quick ? 2 : 7;
const METRIC: Metric = 'time';

if (!Number.isInteger(PAIRS) || PAIRS < 10) throw new Error('--pairs must be an integer ≥ 10');

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

async function measure(name: string) {
  const { graph, summary } = await importOsm(`${OSM_DIR}/${name}.osm.pbf`);
  process.stderr.write(`${name}: ${summary.nodes} nodes, ${summary.edges} edges\n`);

  let started = performance.now();
  const overlay = new OverlayRouter(graph);
  const buildMs = performance.now() - started;
  const dijkstra = new Dijkstra(graph);

  const random = seeded(2026);
  const pick = () => Math.floor(random() * graph.nodeCount);
  const pairs = Array.from({ length: PAIRS }, (): [number, number] => [pick(), pick()]);
  // Warm-up: the JIT compiles both searches before anything is timed.
  runPairs({ dijkstra, overlay }, pairs.slice(0, Math.min(200, PAIRS)));
  process.stderr.write(`${name}: routing ${PAIRS} pairs\n`);
  const results = runPairs({ dijkstra, overlay }, pairs);

  process.stderr.write(`${name}: traffic updates\n`);
  const fullMs: number[] = [];
  for (let i = 0; i < REBUILDS; i++) {
    started = performance.now();
    overlay.customize(METRIC);
    fullMs.push(performance.now() - started);
  }
  const oneCell = timeOneCellUpdates(graph, overlay, random);

  const stats = overlay.stats();
  return { name, summary, buildMs, stats, results, fullMs, oneCell };
}

const runs = [];
for (const name of EXTRACTS) runs.push(await measure(name));

const fixed = (value: number, digits = 0) =>
  value.toLocaleString('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ratio = (a: number, b: number) => `${fixed(a / b, 1)}×`;

const rows = runs.map(({ name, results }) => {
  const d = results.dijkstra!;
  const o = results.overlay!;
  return (
    `| ${name} | ${fixed(median(d.settled))} | ${fixed(median(o.settled))} | ` +
    `**${ratio(median(d.settled), median(o.settled))}** | ` +
    `${fixed(median(d.micros))} / ${fixed(percentile(d.micros, 99))} | ` +
    `${fixed(median(o.micros))} / ${fixed(percentile(o.micros, 99))} | ` +
    `**${ratio(median(d.micros), median(o.micros))}** / ` +
    `${ratio(percentile(d.micros, 99), percentile(o.micros, 99))} |`
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
  `## Navigation: overlay routing against plain Dijkstra

Measured by \`npm run bench:navigation\` on ${machine()}; load average ${loadAverage()} at the
end. ${PAIRS} random node pairs per extract (the same pairs for both, routed one after the other,
after a warm-up of 200), by travel time, path unpacked into road edges. Times are each query's
own, in microseconds, in this process. Goals: at least 10× fewer settled nodes and 5× faster than
plain Dijkstra.

| extract | Dijkstra settled (p50) | overlay settled (p50) | fewer settled | Dijkstra µs p50 / p99 | overlay µs p50 / p99 | faster p50 / p99 |
| --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

Cells (grid of 1 km, 4 km, 16 km):

| extract | graph nodes | level 1 | level 2 | level 3 |
| --- | --- | --- | --- | --- |
${overlayRows.join('\n')}

Traffic: every road inside one random level-1 cell slowed to half speed, then the cells that hold
those roads (one per level) re-customized, against re-customizing every cell by travel time
(medians of ${CELLS} cells and ${REBUILDS} full runs). Goal: a one-cell update at least 20× faster.

| extract | roads in the cell (mean) | one cell, ms | every cell, ms | faster | first build (partition + both metrics), ms |
| --- | --- | --- | --- | --- | --- |
${trafficRows.join('\n')}
`,
);
process.stderr.write(`wrote ${options.out}\n`);
