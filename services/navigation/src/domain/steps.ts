import { bearingDeg } from './geo.ts';

/** A stretch of one edge along a route: whole, or the part before or after a snapped point. */
export interface RoutePiece {
  wayId: number;
  from: { lat: number; lon: number };
  to: { lat: number; lon: number };
  lengthM: number;
  durationS: number;
}

export type Maneuver =
  | 'depart'
  | 'straight'
  | 'slight-right'
  | 'right'
  | 'sharp-right'
  | 'slight-left'
  | 'left'
  | 'sharp-left'
  | 'u-turn'
  | 'arrive';

export interface Step {
  maneuver: Maneuver;
  /** The street's name, or null when the way has none. */
  name: string | null;
  ref: string | null;
  distanceM: number;
  durationS: number;
  /** Where the maneuver happens, [lng, lat] as in GeoJSON. */
  location: [number, number];
}

export interface WayLabelLookup {
  get(wayId: number): { name?: string; ref?: string } | undefined;
}

/** Pieces shorter than this give no reliable heading. */
const MIN_HEADING_M = 0.5;

/** The maneuver for a change of heading: positive turns are to the right (clockwise). */
export function maneuverFor(turnDeg: number): Maneuver {
  const turn = ((turnDeg + 540) % 360) - 180;
  const size = Math.abs(turn);
  if (size < 20) return 'straight';
  if (size > 170) return 'u-turn';
  const side = turn > 0 ? 'right' : 'left';
  if (size < 60) return `slight-${side}`;
  if (size < 120) return side;
  return `sharp-${side}`;
}

/**
 * Turn-by-turn steps: a new step wherever the road changes name (or, for unnamed roads, way),
 * its maneuver from the heading before and after the change; a last `arrive` step.
 */
export function buildSteps(pieces: readonly RoutePiece[], labels: WayLabelLookup): Step[] {
  const steps: Step[] = [];
  let key: string | undefined;
  let heading: number | undefined;

  for (const piece of pieces) {
    const label = labels.get(piece.wayId);
    const pieceKey = label?.name ?? label?.ref ?? `way/${piece.wayId}`;
    const pieceHeading =
      piece.lengthM >= MIN_HEADING_M
        ? bearingDeg(piece.from.lat, piece.from.lon, piece.to.lat, piece.to.lon)
        : undefined;

    const maneuver =
      steps.length === 0
        ? 'depart'
        : heading === undefined || pieceHeading === undefined
          ? 'straight'
          : maneuverFor(pieceHeading - heading);
    // One unnamed way running straight into another is one stretch of road to the driver.
    const unnamedRun =
      maneuver === 'straight' && !label?.name && !label?.ref && key?.startsWith('way/');
    const starts = pieceKey !== key && !unnamedRun && (piece.lengthM > 0 || steps.length === 0);
    if (starts) {
      steps.push({
        maneuver,
        name: label?.name ?? null,
        ref: label?.ref ?? null,
        distanceM: 0,
        durationS: 0,
        location: [piece.from.lon, piece.from.lat],
      });
    }
    if (starts || unnamedRun) key = pieceKey;
    const step = steps.at(-1)!;
    step.distanceM += piece.lengthM;
    step.durationS += piece.durationS;
    if (pieceHeading !== undefined) heading = pieceHeading;
  }

  const end = pieces.at(-1)?.to;
  if (end) {
    steps.push({
      maneuver: 'arrive',
      name: steps.at(-1)?.name ?? null,
      ref: steps.at(-1)?.ref ?? null,
      distanceM: 0,
      durationS: 0,
      location: [end.lon, end.lat],
    });
  }
  return steps;
}
