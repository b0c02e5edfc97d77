import { metresPerDegree } from './geo.ts';

/** Why a point cannot be looked up in a grid. */
export type OutsideGrid = 'invalid-coordinate' | 'outside-extract';

/**
 * A uniform grid of square-ish cells over a bounding box of points, with a
 * margin around it. Cells are numbered row by row. It only places points and
 * walks cells: what a cell lists (nodes, edges) is its user's, kept in CSR form
 * over the cell numbers.
 */
export class GridFrame {
  /** Side of a cell in metres; no cell is narrower, whatever its latitude. */
  readonly cellM: number;
  readonly rows: number;
  readonly cols: number;
  readonly #minLat: number;
  readonly #minLon: number;
  readonly #maxLat: number;
  readonly #maxLon: number;
  readonly #cellLat: number;
  readonly #cellLon: number;

  constructor(lat: ArrayLike<number>, lon: ArrayLike<number>, cellM: number, marginM: number) {
    if (lat.length === 0) throw new RangeError('a grid needs at least one point');
    // A loop rather than Math.min(...lat): spreading a large extract overflows the stack.
    let [minLat, maxLat, minLon, maxLon] = [Infinity, -Infinity, Infinity, -Infinity];
    for (let i = 0; i < lat.length; i++) {
      minLat = Math.min(minLat, lat[i]!);
      maxLat = Math.max(maxLat, lat[i]!);
      minLon = Math.min(minLon, lon[i]!);
      maxLon = Math.max(maxLon, lon[i]!);
    }
    // Cells are sized at the latitude farthest from the equator, so none is narrower than cellM.
    const scale = metresPerDegree(Math.max(Math.abs(minLat), Math.abs(maxLat)));
    this.cellM = cellM;
    this.#minLat = minLat - marginM / scale.lat;
    this.#maxLat = maxLat + marginM / scale.lat;
    this.#minLon = minLon - marginM / scale.lon;
    this.#maxLon = maxLon + marginM / scale.lon;
    this.#cellLat = cellM / scale.lat;
    this.#cellLon = cellM / scale.lon;
    this.rows = Math.max(1, Math.ceil((this.#maxLat - this.#minLat) / this.#cellLat));
    this.cols = Math.max(1, Math.ceil((this.#maxLon - this.#minLon) / this.#cellLon));
  }

  get cellCount(): number {
    return this.rows * this.cols;
  }

  /** Why a point cannot be looked up, or undefined when it can. */
  refuse(lat: number, lon: number): OutsideGrid | undefined {
    if (!(Math.abs(lat) <= 90 && Math.abs(lon) <= 180)) return 'invalid-coordinate';
    if (lat < this.#minLat || lat > this.#maxLat || lon < this.#minLon || lon > this.#maxLon) {
      return 'outside-extract';
    }
    return undefined;
  }

  /** The cell a point falls in; points outside are clamped to the border cells. */
  cellOf(lat: number, lon: number): number {
    return this.#row(lat) * this.cols + this.#col(lon);
  }

  /** Every cell a box between two corners touches. */
  forEachCellOfBox(
    lat0: number,
    lon0: number,
    lat1: number,
    lon1: number,
    visit: (cell: number) => void,
  ): void {
    const r1 = this.#row(Math.max(lat0, lat1));
    const c0 = this.#col(Math.min(lon0, lon1));
    const c1 = this.#col(Math.max(lon0, lon1));
    for (let r = this.#row(Math.min(lat0, lat1)); r <= r1; r++) {
      for (let c = c0; c <= c1; c++) visit(r * this.cols + c);
    }
  }

  /**
   * Visits the cells around a point ring by ring outwards, starting with its
   * own, and stops before a ring whose cells all lie farther than `reachM()`
   * metres: whatever a cell of ring r lists is at least (r - 1) cells away.
   */
  forEachCellNear(lat: number, lon: number, reachM: () => number, visit: (cell: number) => void) {
    const row = this.#row(lat);
    const col = this.#col(lon);
    const maxRing = Math.max(this.rows, this.cols);
    for (let ring = 0; ring <= maxRing; ring++) {
      if ((ring - 1) * this.cellM > reachM()) return;
      for (let r = row - ring; r <= row + ring; r++) {
        if (r < 0 || r >= this.rows) continue;
        const onEdgeRow = r === row - ring || r === row + ring;
        for (let c = col - ring; c <= col + ring; c += onEdgeRow || ring === 0 ? 1 : 2 * ring) {
          if (c >= 0 && c < this.cols) visit(r * this.cols + c);
        }
      }
    }
  }

  #row(lat: number): number {
    return Math.min(this.rows - 1, Math.max(0, Math.floor((lat - this.#minLat) / this.#cellLat)));
  }

  #col(lon: number): number {
    return Math.min(this.cols - 1, Math.max(0, Math.floor((lon - this.#minLon) / this.#cellLon)));
  }
}

/** CSR lists over the cells of a frame: `start[c]..start[c+1]` index `items`. */
export interface CellLists {
  start: Int32Array;
  items: Int32Array;
}

/**
 * Builds the cell lists of `count` items, each placed in the cells
 * `place(item, visit)` visits. Items keep their numeric order within a cell.
 */
export function buildCellLists(
  frame: GridFrame,
  count: number,
  place: (item: number, visit: (cell: number) => void) => void,
): CellLists {
  const start = new Int32Array(frame.cellCount + 1);
  for (let i = 0; i < count; i++) place(i, (cell) => start[cell + 1]!++);
  for (let c = 0; c < frame.cellCount; c++) start[c + 1]! += start[c]!;
  const items = new Int32Array(start[frame.cellCount]!);
  const next = start.slice();
  for (let i = 0; i < count; i++) place(i, (cell) => (items[next[cell]!++] = i));
  return { start, items };
}
