import { parseMaxspeed } from './maxspeed.ts';

export type WayTags = Readonly<Record<string, string>>;

/**
 * Cruising speed in km/h by highway class, used when a way has no usable `maxspeed`. Chosen
 * below the usual legal limits because a car rarely holds the limit on small roads.
 */
export const CLASS_SPEED_KMH: Readonly<Record<string, number>> = {
  motorway: 110,
  trunk: 90,
  primary: 70,
  secondary: 60,
  tertiary: 50,
  unclassified: 40,
  residential: 30,
  living_street: 10,
  service: 20,
  motorway_link: 60,
  trunk_link: 50,
  primary_link: 50,
  secondary_link: 40,
  tertiary_link: 30,
};

/** A tagged limit is clamped to this range: below it the way is a crawl, above it no car goes. */
export const MIN_SPEED_KMH = 5;
export const MAX_SPEED_KMH = 140;

/**
 * Access values that shut cars out. Anything else (yes, destination, customers, …) lets them in.
 */
const DENYING_ACCESS = new Set([
  'no',
  'private',
  'agricultural',
  'forestry',
  'emergency',
  'military',
  'delivery',
  'psv',
  'bus',
  'restricted',
  'discouraged',
]);

/**
 * Most specific first: `motorcar` overrides `motor_vehicle`, which overrides `vehicle`, then
 * `access`.
 */
const ACCESS_KEYS = ['motorcar', 'motor_vehicle', 'vehicle', 'access'];

/** `service=*` values a car cannot use even though the highway is `service`. */
const CLOSED_SERVICE = new Set(['emergency_access']);

export type Direction = 'both' | 'forward' | 'backward';

export type DropReason =
  | 'not-a-road'
  | 'not-for-cars'
  | 'no-access'
  | 'area'
  | 'construction'
  | 'reversible'
  | 'closed-service';

export type WayRule =
  | { kept: true; highway: string; direction: Direction; speedKmh: number; maxspeedTagged: boolean }
  | { kept: false; reason: DropReason };

/** The tag keys the rules read; the reader can drop every other tag. */
export const RULE_TAG_KEYS = [
  'highway',
  'area',
  'oneway',
  'junction',
  'maxspeed',
  'service',
  'impassable',
  ...ACCESS_KEYS,
];

/**
 * Decides whether a car may use a way, in which direction and how fast.
 * The rules, in order:
 * 1. `highway` must be a class in CLASS_SPEED_KMH (motorway … residential, service,
 *    unclassified, the *_link roads, living_street); footways, tracks, paths, steps,
 *    pedestrian, construction, proposed and other classes are dropped.
 * 2. `area=yes` is a square, not a road: dropped.
 * 3. `impassable=yes`: dropped. A `construction=*` sub-tag on a road class is not a closure
 *    (a closed road is `highway=construction`); GraphHopper and OSRM read it the same way,
 *    and Andorra's CG-2 through Encamp carries one while open.
 * 4. The most specific of motorcar, motor_vehicle, vehicle, access decides; a denying value
 *    (no, private, agricultural, …) drops the way. `service=emergency_access` is dropped.
 * 5. Direction: oneway=yes/1/true is forward, -1/reverse is backward, no/false/0 is both;
 *    otherwise motorways, motorway links and roundabouts (`junction=roundabout|circular`)
 *    are forward. oneway=reversible/alternating changes with time: dropped.
 * 6. Speed: `maxspeed` when it parses (clamped to 5…140 km/h), otherwise the class speed.
 */
export function classifyWay(tags: WayTags | undefined): WayRule {
  const highway = tags?.highway;
  if (tags === undefined || highway === undefined) return { kept: false, reason: 'not-a-road' };

  const classSpeed = CLASS_SPEED_KMH[highway];
  if (classSpeed === undefined) {
    return { kept: false, reason: highway === 'construction' ? 'construction' : 'not-for-cars' };
  }
  if (tags.area === 'yes') return { kept: false, reason: 'area' };

  if (tags.impassable === 'yes') return { kept: false, reason: 'no-access' };

  const access = ACCESS_KEYS.map((key) => tags[key]).find((value) => value !== undefined);
  if (access !== undefined && DENYING_ACCESS.has(access))
    return { kept: false, reason: 'no-access' };
  if (highway === 'service' && CLOSED_SERVICE.has(tags.service ?? '')) {
    return { kept: false, reason: 'closed-service' };
  }

  const direction = wayDirection(highway, tags);
  if (direction === null) return { kept: false, reason: 'reversible' };

  const tagged = parseMaxspeed(tags.maxspeed);
  const speedKmh =
    tagged === null ? classSpeed : Math.min(MAX_SPEED_KMH, Math.max(MIN_SPEED_KMH, tagged));
  return { kept: true, highway, direction, speedKmh, maxspeedTagged: tagged !== null };
}

function wayDirection(highway: string, tags: WayTags): Direction | null {
  switch (tags.oneway) {
    case 'yes':
    case '1':
    case 'true':
      return 'forward';
    case '-1':
    case 'reverse':
      return 'backward';
    case 'no':
    case 'false':
    case '0':
      return 'both';
    case 'reversible':
    case 'alternating':
      return null;
  }

  const roundabout = tags.junction === 'roundabout' || tags.junction === 'circular';
  const motorway = highway === 'motorway' || highway === 'motorway_link';
  return roundabout || motorway ? 'forward' : 'both';
}
