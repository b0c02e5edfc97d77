import { BinaryHeap } from './binary-heap.ts';
import { edgeSource, pathOf } from './dijkstra.ts';
import { gridPartition, type Partition, type PartitionOptions } from './partition.ts';
import { edgeWeights, type Metric, type RoadGraph } from './road-graph.ts';
import { checkNode, rowOf, SearchStamps } from './search-stamps.ts';
import { endpoints, type Endpoint, type Route, type Router } from './router.ts';

const METRICS: readonly Metric[] = ['time', 'distance'];
const NO_TARGETS: ReadonlyMap<number, number> = new Map();

/**
 * The boundary of one level's cells. An entry node is the head of an edge coming from another
 * cell of the level, an exit node the tail of an edge leaving for another cell. Each cell keeps
 * a clique: the cheapest cost, inside the cell, from each of its entries to each of its exits.
 */
interface Level {
  readonly cellOf: Int32Array;
  readonly entryStart: Int32Array;
  readonly entryNodes: Int32Array;
  readonly exitStart: Int32Array;
  readonly exitNodes: Int32Array;
  /** A node's index among its cell's entries (or exits), -1 when it is not one. */
  readonly entrySlot: Int32Array;
  readonly exitSlot: Int32Array;
  /** Where each cell's entries × exits matrix starts in the clique arrays. */
  readonly matrixStart: Int32Array;
  readonly clique: Record<Metric, Float64Array>;
  /** Per metric and cell, the path behind each clique arc (see `ArcPaths`). */
  readonly paths: Record<Metric, ArcPaths[]>;
}

/**
 * The paths behind one cell's clique arcs, arc after arc: arc `a` (row-major in the cell's
 * matrix) is `items[start[a]] … items[start[a + 1] - 1]`, each a road edge (≥ 0) or, one
 * level down, the clique arc with global index `-item - 1`.
 */
interface ArcPaths {
  start: Int32Array;
  items: Int32Array;
}

/** How a search walks the graph. */
interface Scope {
  /** Every node at this level of the overlay; -1: each node's level relative to the query. */
  fixedLevel: number;
  /** Only nodes inside `cell` of `level` are reached (level 0: anywhere). */
  restrictLevel: number;
  restrictCell: number;
}

/** A step of a found path: one road edge, or one clique arc of `level` between two nodes. */
interface Hop {
  from: number;
  to: number;
  edge: number;
  level: number;
}

export interface OverlayStats {
  levels: { level: number; cells: number; entries: number; exits: number; cliqueArcs: number }[];
}

/**
 * Multi-level overlay routing (the customizable route planning of Delling et al.): the road
 * graph is cut into nested cells, each cell's boundary nodes are joined by precomputed cheapest
 * paths (cliques), and a query searches the road graph only inside the cells of its own ends,
 * and above them the cliques of ever larger cells. Clique arcs are unpacked into road edges by
 * searching inside their cell one level down, so routes carry the full geometry.
 *
 * Customization is per metric: distances never change; travel times change with traffic, and
 * `onEdgesChanged` recomputes only the cells that hold a changed edge, and those above them.
 */
export class OverlayRouter implements Router {
  readonly partition: Partition;
  readonly #graph: RoadGraph;
  readonly #levels: Level[];
  readonly #cost: Float64Array;
  readonly #parentNode: Int32Array;
  /** The edge that reached a node; -1 for a source; -(level + 1) for a clique arc. */
  readonly #parentEdge: Int32Array;
  readonly #stamps: SearchStamps;
  readonly #heap = new BinaryHeap(1024);
  #anchorCells: Int32Array[] = [];

  constructor(graph: RoadGraph, options: PartitionOptions = {}) {
    this.#graph = graph;
    this.partition = gridPartition(graph, options);
    this.#cost = new Float64Array(graph.nodeCount);
    this.#parentNode = new Int32Array(graph.nodeCount);
    this.#parentEdge = new Int32Array(graph.nodeCount);
    this.#stamps = new SearchStamps(graph.nodeCount);
    this.#levels = [];
    for (let level = 1; level <= this.partition.levels; level++) {
      this.#levels[level] = this.#boundary(level);
    }
    for (const metric of METRICS) this.customize(metric);
  }

  /** Recomputes the cliques of every cell for a metric, bottom-up. */
  customize(metric: Metric): void {
    for (let level = 1; level <= this.partition.levels; level++) {
      for (let cell = 0; cell < this.partition.cellCount[level]!; cell++) {
        this.#customizeCell(level, cell, metric);
      }
    }
  }

  /**
   * Travel times of these edges changed (their lengths never do). A changed edge counts in the
   * lowest cell that holds both its ends; a cell above counts only when a clique below it came
   * out different. Returns how many cells were recomputed.
   */
  onEdgesChanged(edges: Iterable<number>): number {
    const { cellOf, levels, parentOf } = this.partition;
    const dirty: Set<number>[] = [];
    for (let level = 1; level <= levels; level++) dirty[level] = new Set();
    for (const edge of edges) {
      const from = edgeSource(this.#graph, edge);
      const to = this.#graph.edgeTarget[edge]!;
      for (let level = 1; level <= levels; level++) {
        const cell = cellOf[level]![from]!;
        if (cell === cellOf[level]![to]!) {
          dirty[level]!.add(cell);
          break;
        }
      }
    }

    let recomputed = 0;
    for (let level = 1; level <= levels; level++) {
      for (const cell of dirty[level]!) {
        recomputed++;
        const changed = this.#customizeCell(level, cell, 'time');
        if (changed && level < levels) dirty[level + 1]!.add(parentOf[level]![cell]!);
      }
    }
    return recomputed;
  }

  route(
    from: number | readonly Endpoint[],
    to: number | readonly Endpoint[],
    metric: Metric,
  ): Route {
    const sources = endpoints(from);
    const targets = endpoints(to);
    for (const { node } of [...sources, ...targets]) checkNode(this.#graph, node);
    this.#setAnchors([...sources, ...targets]);

    const remaining = new Map<number, number>();
    for (const { node, cost } of targets) {
      remaining.set(node, Math.min(cost, remaining.get(node) ?? Infinity));
    }
    const scope: Scope = { fixedLevel: -1, restrictLevel: 0, restrictCell: 0 };
    const { settled, best, bestCost } = this.#search(sources, remaining, metric, scope);
    if (best === -1) return { reachable: false, settled };

    const edges = this.#unpack(this.#hopsTo(best), metric);
    return { reachable: true, ...pathOf(this.#graph, edges, best), cost: bestCost, settled };
  }

  stats(): OverlayStats {
    const levels = [];
    for (let level = 1; level <= this.partition.levels; level++) {
      const { entryNodes, exitNodes, matrixStart } = this.#levels[level]!;
      levels.push({
        level,
        cells: this.partition.cellCount[level]!,
        entries: entryNodes.length,
        exits: exitNodes.length,
        cliqueArcs: matrixStart[matrixStart.length - 1]!,
      });
    }
    return { levels };
  }

  #boundary(level: number): Level {
    const graph = this.#graph;
    const cellOf = this.partition.cellOf[level]!;
    const cells = this.partition.cellCount[level]!;
    const isEntry = new Uint8Array(graph.nodeCount);
    const isExit = new Uint8Array(graph.nodeCount);
    for (let node = 0; node < graph.nodeCount; node++) {
      for (let e = graph.firstEdge[node]!; e < graph.firstEdge[node + 1]!; e++) {
        const target = graph.edgeTarget[e]!;
        if (cellOf[target] !== cellOf[node]) {
          isExit[node] = 1;
          isEntry[target] = 1;
        }
      }
    }

    const group = (marked: Uint8Array) => {
      const start = new Int32Array(cells + 1);
      for (let node = 0; node < graph.nodeCount; node++) {
        if (marked[node]) start[cellOf[node]! + 1]!++;
      }
      for (let cell = 0; cell < cells; cell++) start[cell + 1]! += start[cell]!;
      const nodes = new Int32Array(start[cells]!);
      const slot = new Int32Array(graph.nodeCount).fill(-1);
      const next = start.slice(0, cells);
      for (let node = 0; node < graph.nodeCount; node++) {
        if (!marked[node]) continue;
        const at = next[cellOf[node]!]!++;
        nodes[at] = node;
        slot[node] = at - start[cellOf[node]!]!;
      }
      return { start, nodes, slot };
    };
    const entries = group(isEntry);
    const exits = group(isExit);

    const matrixStart = new Int32Array(cells + 1);
    for (let cell = 0; cell < cells; cell++) {
      const size =
        (entries.start[cell + 1]! - entries.start[cell]!) *
        (exits.start[cell + 1]! - exits.start[cell]!);
      matrixStart[cell + 1] = matrixStart[cell]! + size;
    }
    const arcs = matrixStart[cells]!;
    return {
      cellOf,
      entryStart: entries.start,
      entryNodes: entries.nodes,
      entrySlot: entries.slot,
      exitStart: exits.start,
      exitNodes: exits.nodes,
      exitSlot: exits.slot,
      matrixStart,
      clique: { time: new Float64Array(arcs), distance: new Float64Array(arcs) },
      paths: { time: new Array(cells), distance: new Array(cells) },
    };
  }

  /**
   * One cell's clique: a search from each entry inside the cell, one level down, keeping the
   * cost and the path to each exit. True when some cost changed.
   */
  #customizeCell(level: number, cell: number, metric: Metric): boolean {
    const overlay = this.#levels[level]!;
    const clique = overlay.clique[metric];
    const exitsFrom = overlay.exitStart[cell]!;
    const exitCount = overlay.exitStart[cell + 1]! - exitsFrom;
    const scope: Scope = { fixedLevel: level - 1, restrictLevel: level, restrictCell: cell };
    const start = [0];
    const items: number[] = [];
    let changed = false;

    let row = overlay.matrixStart[cell]!;
    for (let i = overlay.entryStart[cell]!; i < overlay.entryStart[cell + 1]!; i++) {
      if (exitCount > 0) {
        this.#search([{ node: overlay.entryNodes[i]!, cost: 0 }], NO_TARGETS, metric, scope);
      }
      for (let j = 0; j < exitCount; j++) {
        const exit = overlay.exitNodes[exitsFrom + j]!;
        const reached = this.#stamps.reached[exit] === this.#stamps.current;
        const cost = reached ? this.#cost[exit]! : Infinity;
        if (clique[row + j] !== cost) changed = true;
        clique[row + j] = cost;
        if (reached) this.#pathItems(exit, items);
        start.push(items.length);
      }
      row += exitCount;
    }
    overlay.paths[metric][cell] = { start: Int32Array.from(start), items: Int32Array.from(items) };
    return changed;
  }

  /** Appends the path items of the last search's path to `node`, in travel order. */
  #pathItems(node: number, items: number[]): void {
    const first = items.length;
    for (let at = node; this.#parentEdge[at] !== -1; at = this.#parentNode[at]!) {
      const edge = this.#parentEdge[at]!;
      items.push(edge >= 0 ? edge : this.#arcItem(-1 - edge, this.#parentNode[at]!, at));
    }
    // Reverse the appended run in place.
    for (let i = first, j = items.length - 1; i < j; i++, j--) {
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
  }

  /** A clique arc as a path item: its global index in its level, encoded below 0. */
  #arcItem(level: number, from: number, to: number): number {
    const overlay = this.#levels[level]!;
    const cell = overlay.cellOf[to]!;
    const exitCount = overlay.exitStart[cell + 1]! - overlay.exitStart[cell]!;
    const arc =
      overlay.matrixStart[cell]! + overlay.entrySlot[from]! * exitCount + overlay.exitSlot[to]!;
    return -arc - 1;
  }

  /** The cells of the query's own ends, per level: nodes inside them are searched lower down. */
  #setAnchors(ends: readonly Endpoint[]): void {
    this.#anchorCells = [];
    for (let level = 1; level <= this.partition.levels; level++) {
      const cellOf = this.partition.cellOf[level]!;
      this.#anchorCells[level] = Int32Array.from(new Set(ends.map(({ node }) => cellOf[node]!)));
    }
  }

  /** The highest level whose cell of the node holds none of the query's ends (0 if none). */
  #queryLevel(node: number): number {
    levels: for (let level = this.partition.levels; level >= 1; level--) {
      const cell = this.#levels[level]!.cellOf[node]!;
      const anchors = this.#anchorCells[level]!;
      for (let i = 0; i < anchors.length; i++) if (anchors[i] === cell) continue levels;
      return level;
    }
    return 0;
  }

  /**
   * Dijkstra over the overlay graph: at level 0 a node relaxes its road edges; at level k ≥ 1
   * it relaxes its cell's clique arcs (when it is an entry) and its road edges that leave the
   * cell. Stops once no unsettled node can beat the best target.
   */
  #search(
    sources: readonly Endpoint[],
    targets: ReadonlyMap<number, number>,
    metric: Metric,
    scope: Scope,
  ): { settled: number; best: number; bestCost: number } {
    const graph = this.#graph;
    const weights = edgeWeights(graph, metric);
    const generation = this.#stamps.next();
    const heap = this.#heap;
    const cost = this.#cost;
    const { reached: stamp, settled: final } = this.#stamps;
    const restrictTo =
      scope.restrictLevel > 0 ? this.partition.cellOf[scope.restrictLevel]! : undefined;
    heap.clear();

    const reach = (node: number, value: number, parent: number, edge: number) => {
      if (stamp[node] !== generation || value < cost[node]!) {
        stamp[node] = generation;
        cost[node] = value;
        this.#parentNode[node] = parent;
        this.#parentEdge[node] = edge;
        heap.push(value, node);
      }
    };
    for (const source of sources) reach(source.node, source.cost, -1, -1);

    let best = -1;
    let bestCost = Infinity;
    let settled = 0;
    while (heap.size > 0) {
      const key = heap.peekKey();
      if (key >= bestCost) break;
      const node = heap.pop();
      if (final[node] === generation || key > cost[node]!) continue;
      final[node] = generation;
      settled++;
      const tail = targets.get(node);
      if (tail !== undefined && key + tail < bestCost) {
        best = node;
        bestCost = key + tail;
      }

      const level = scope.fixedLevel >= 0 ? scope.fixedLevel : this.#queryLevel(node);
      const firstEdge = graph.firstEdge[node]!;
      const lastEdge = graph.firstEdge[node + 1]!;
      if (level === 0) {
        for (let e = firstEdge; e < lastEdge; e++) {
          const target = graph.edgeTarget[e]!;
          if (restrictTo && restrictTo[target] !== scope.restrictCell) continue;
          reach(target, key + weights[e]!, node, e);
        }
        continue;
      }

      const overlay = this.#levels[level]!;
      const cellOf = overlay.cellOf;
      const cell = cellOf[node]!;
      const slot = overlay.entrySlot[node]!;
      if (slot >= 0) {
        const exitsFrom = overlay.exitStart[cell]!;
        const exitCount = overlay.exitStart[cell + 1]! - exitsFrom;
        const row = overlay.matrixStart[cell]! + slot * exitCount;
        const clique = overlay.clique[metric];
        for (let j = 0; j < exitCount; j++) {
          const arc = clique[row + j]!;
          if (arc !== Infinity)
            reach(overlay.exitNodes[exitsFrom + j]!, key + arc, node, -1 - level);
        }
      }
      for (let e = firstEdge; e < lastEdge; e++) {
        const target = graph.edgeTarget[e]!;
        if (cellOf[target] === cell) continue;
        if (restrictTo && restrictTo[target] !== scope.restrictCell) continue;
        reach(target, key + weights[e]!, node, e);
      }
    }
    return { settled, best, bestCost };
  }

  /** The hops of the last search's path to `node`, in travel order (levels mixed). */
  #hopsTo(node: number): Hop[] {
    const hops: Hop[] = [];
    for (let at = node; this.#parentEdge[at] !== -1; at = this.#parentNode[at]!) {
      const edge = this.#parentEdge[at]!;
      hops.push({
        from: this.#parentNode[at]!,
        to: at,
        edge: edge >= 0 ? edge : -1,
        level: edge >= 0 ? 0 : -1 - edge,
      });
    }
    return hops.reverse();
  }

  /** Road edges of a path: each clique arc becomes the path stored for it at customization. */
  #unpack(hops: readonly Hop[], metric: Metric): number[] {
    const edges: number[] = [];
    for (const hop of hops) {
      const item = hop.level === 0 ? hop.edge : this.#arcItem(hop.level, hop.from, hop.to);
      this.#unpackItem(hop.level, item, metric, edges);
    }
    return edges;
  }

  #unpackItem(level: number, item: number, metric: Metric, edges: number[]): void {
    if (item >= 0) {
      edges.push(item);
      return;
    }
    const arc = -item - 1;
    const overlay = this.#levels[level]!;
    const cell = rowOf(overlay.matrixStart, arc);
    const { start, items } = overlay.paths[metric][cell]!;
    const local = arc - overlay.matrixStart[cell]!;
    for (let i = start[local]!; i < start[local + 1]!; i++) {
      this.#unpackItem(level - 1, items[i]!, metric, edges);
    }
  }
}
