import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { shortestPathViolation } from '../src/domain/bellman-ford.ts';
import { Dijkstra, edgeSource } from '../src/domain/dijkstra.ts';
import { haversineM } from '../src/domain/geo.ts';
import { NodeGrid } from '../src/domain/node-grid.ts';
import type { Metric, RoadGraph } from '../src/domain/road-graph.ts';
import { seeded } from '../src/domain/test-graphs.ts';
import { importOsm, type ImportedGraph } from '../src/import/osm-import.ts';
import { defaultOsmDir } from '../src/config.ts';

const OSM_DIR = process.env.OSM_DIR ?? defaultOsmDir();

/** Plausible sizes of the car graph: the extracts' READMEs give the raw node and way counts. */
const extracts = [
  {
    name: 'monaco',
    nodes: [2000, 6000],
    edges: [3500, 12000],
    box: [43.5137, 7.383, 43.7543, 7.5028],
  },
  {
    name: 'andorra',
    nodes: [10_000, 40_000],
    edges: [20_000, 80_000],
    box: [41.7369, 1.0366, 42.7883, 1.8253],
  },
] as const;

/** Edges whose length is not positive, not their geometry's, or implausibly long. */
function unsoundEdges(graph: RoadGraph): number[] {
  const unsound: number[] = [];
  for (let e = 0; e < graph.edgeCount; e++) {
    const from = edgeSource(graph, e);
    const to = graph.edgeTarget[e]!;
    const crow = haversineM(graph.lat[from]!, graph.lon[from]!, graph.lat[to]!, graph.lon[to]!);
    const length = graph.edgeLengthM[e]!;
    const sound =
      length > 0 &&
      graph.edgeDurationS[e]! > 0 &&
      Math.abs(length - Math.max(crow, 0.01)) < 1e-6 &&
      length < 10_000;
    if (!sound) unsound.push(e);
  }
  return unsound;
}

describe.each(extracts)('importing $name', (extract) => {
  let imported: ImportedGraph;

  beforeAll(async () => {
    imported = await importOsm(join(OSM_DIR, `${extract.name}.osm.pbf`));
  });

  it('keeps a plausible number of nodes, edges and one-way edges', () => {
    const { summary } = imported;
    expect(summary.nodes).toBeGreaterThan(extract.nodes[0]);
    expect(summary.nodes).toBeLessThan(extract.nodes[1]);
    expect(summary.edges).toBeGreaterThan(extract.edges[0]);
    expect(summary.edges).toBeLessThan(extract.edges[1]);
    expect(summary.onewayEdges).toBeGreaterThan(0);
    expect(summary.onewayEdges).toBeLessThan(summary.edges);
    expect(summary.droppedWays['not-for-cars']).toBeGreaterThan(0);
    expect(summary.droppedWays['not-a-road']).toBeGreaterThan(0);
  });

  it('gives every edge a positive length equal to its geometry, inside the extract', () => {
    const { graph } = imported;
    expect(unsoundEdges(graph)).toEqual([]);
    const [south, west, north, east] = extract.box;
    const outside = Array.from(graph.lat.keys()).filter(
      (n) =>
        !(graph.lat[n]! >= south && graph.lat[n]! <= north) ||
        !(graph.lon[n]! >= west && graph.lon[n]! <= east),
    );
    expect(outside).toEqual([]);
  });

  it.each(['time', 'distance'] as Metric[])(
    'routes 150 random pairs by %s exactly, checked against a Bellman-Ford certificate',
    (metric) => {
      const { graph } = imported;
      const search = new Dijkstra(graph);
      const random = seeded(metric === 'time' ? 1 : 2);
      let unreachable = 0;

      for (let pair = 0; pair < 150; pair++) {
        const from = Math.floor(random() * graph.nodeCount);
        const to = Math.floor(random() * graph.nodeCount);
        const { cost } = search.costs(from, metric);
        expect(shortestPathViolation(graph, from, metric, cost)).toBeNull();

        const route = search.route(from, to, metric);
        if (cost[to] === Infinity) {
          expect(route.reachable).toBe(false);
          unreachable++;
          continue;
        }
        if (!route.reachable) throw new Error(`${from}->${to} should be reachable`);
        expect(metric === 'time' ? route.durationS : route.distanceM).toBeCloseTo(cost[to]!, 6);
        const chained = route.edges.every(
          (edge, i) =>
            edgeSource(graph, edge) === route.nodes[i] &&
            graph.edgeTarget[edge] === route.nodes[i + 1],
        );
        expect(chained).toBe(true);
      }
      // Border cuts and private roads leave a few islands, not a shattered graph.
      expect(unreachable).toBeLessThan(30);
    },
  );
});

describe('a known route in Monaco', () => {
  it('drives from the Place du Casino to the Stade Louis II in 1.7 to 3 km', async () => {
    const { graph } = await importOsm(join(OSM_DIR, 'monaco.osm.pbf'));
    const grid = new NodeGrid(graph);
    const casino = grid.nearest(43.7393, 7.4276);
    const stadium = grid.nearest(43.7276, 7.4155);
    if (!casino.ok || !stadium.ok) throw new Error('both places are in Monaco');

    // 1.62 km as the crow flies; the road winds around the port and the Rock.
    const route = new Dijkstra(graph).route(casino.node, stadium.node, 'distance');
    expect(route.reachable).toBe(true);
    if (!route.reachable) return;
    expect(route.distanceM).toBeGreaterThan(1700);
    expect(route.distanceM).toBeLessThan(3000);
    expect(route.durationS).toBeGreaterThan(60);
    expect(route.durationS).toBeLessThan(600);

    expect(grid.nearest(48.8566, 2.3522)).toEqual({ ok: false, reason: 'outside-extract' });
  });
});

describe('a damaged extract', () => {
  let dir: string;
  const original = join(OSM_DIR, 'monaco.osm.pbf');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'navigation-import-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function expectUnreadable(file: string): Promise<void> {
    await expect(importOsm(file)).rejects.toMatchObject({
      code: 'osm_file_unreadable',
      message: expect.stringContaining(file),
    });
  }

  it.each([0.5, 0.9, 0.999])('stops with an error naming a copy truncated to %d', async (share) => {
    const file = join(dir, `truncated-${share}.osm.pbf`);
    await copyFile(original, file);
    const { length } = await readFile(file);
    await truncate(file, Math.floor(length * share));
    await expectUnreadable(file);
  });

  it('stops with an error naming a corrupted copy', async () => {
    const bytes = await readFile(original);
    bytes.fill(0xff, Math.floor(bytes.length / 2), Math.floor(bytes.length / 2) + 64);
    const file = join(dir, 'corrupt.osm.pbf');
    await writeFile(file, bytes);
    await expectUnreadable(file);
  });

  it('stops with an error naming an empty or missing file', async () => {
    const empty = join(dir, 'empty.osm.pbf');
    await writeFile(empty, '');
    await expectUnreadable(empty);
    await expectUnreadable(join(dir, 'missing.osm.pbf'));
  });
});

describe('the import CLI', () => {
  const CLI = fileURLToPath(new URL('../src/import-cli.ts', import.meta.url));
  const run = (file: string) =>
    promisify(execFile)(process.execPath, [CLI, file]).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  it('prints progress and what it kept; a damaged file stops it, named', async () => {
    const file = join(OSM_DIR, 'monaco.osm.pbf');
    const { code, stdout } = await run(file);
    expect(code).toBe(0);
    expect(stdout).toContain(`importing ${file}`);
    expect(stdout).toMatch(/reading: 100% of \d+ kB, \d+ nodes, \d+ ways/);
    expect(stdout).toMatch(/building: 100% of/);
    const summary = JSON.parse(stdout.slice(stdout.indexOf('{')));
    const { summary: expected } = await importOsm(file);
    expect(summary).toMatchObject({
      nodes: expected.nodes,
      edges: expected.edges,
      keptWays: expected.keptWays,
      droppedWays: expected.droppedWays,
    });

    const dir = await mkdtemp(join(tmpdir(), 'navigation-import-cli-'));
    try {
      const cut = join(dir, 'cut.osm.pbf');
      const bytes = await readFile(file);
      await writeFile(cut, bytes.subarray(0, bytes.length >> 1));
      const failed = await run(cut);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain(`cannot read OSM extract ${cut}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
