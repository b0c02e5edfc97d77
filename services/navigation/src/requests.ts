import { z } from 'zod';
import { invalidField } from '@platform/kit';
import { WEATHER_CONDITION_NAMES } from './domain/weather.ts';
import { navigationError } from './errors.ts';
import type { LatLng } from './navigator.ts';

const NUMBER = String.raw`\s*-?\d+(?:\.\d+)?\s*`;
const LAT_LNG = new RegExp(`^(${NUMBER}),(${NUMBER})$`);

/** `lat,lng` in degrees; a missing or malformed value, or one off the globe, is a 400. */
export function parseLatLng(raw: unknown, field: string): LatLng {
  if (raw === undefined || raw === '') throw invalidField(field, 'is required, as lat,lng');
  const match = typeof raw === 'string' ? LAT_LNG.exec(raw) : null;
  if (!match) throw invalidField(field, 'expected lat,lng in decimal degrees');
  return checkedLatLng({ lat: Number(match[1]), lng: Number(match[2]) }, field);
}

export function checkedLatLng(point: LatLng, field: string): LatLng {
  if (!(Math.abs(point.lat) <= 90 && Math.abs(point.lng) <= 180)) {
    throw navigationError('coordinate_invalid', { field });
  }
  return point;
}

export const metric = z.enum(['time', 'distance'], { message: 'expected time or distance' });

export const routeQuery = z.object({
  from: z.unknown().optional(),
  to: z.unknown().optional(),
  metric: metric.default('time'),
});

export const etaQuery = z.object({
  pairs: z.string({ message: 'is required, as lat,lng;lat,lng|lat,lng;lat,lng…' }).min(1),
  metric: metric.default('time'),
});

// Numbers only here: the range is checked by checkedPairs, which names pairs[i].from/.to (and
// answers coordinate_invalid) exactly as GET /eta does.
const latLng = z.object({ lat: z.number(), lng: z.number() });

export const etaBody = z.object({
  pairs: z.array(z.object({ from: latLng, to: latLng }).strict()).min(1),
  metric: metric.default('time'),
});

/** A posted batch's coordinates, each off the globe a 400 naming `pairs[i].from` or `.to`. */
export function checkedPairs(
  pairs: readonly { from: LatLng; to: LatLng }[],
): { from: LatLng; to: LatLng }[] {
  return pairs.map(({ from, to }, i) => ({
    from: checkedLatLng(from, `pairs[${i}].from`),
    to: checkedLatLng(to, `pairs[${i}].to`),
  }));
}

/** `lat,lng;lat,lng` pairs joined by `|`; more than `max` pairs is a 400 naming `pairs`. */
export function parsePairs(raw: string, max: number): { from: LatLng; to: LatLng }[] {
  const pairs = raw.split('|');
  if (pairs.length > max) throw invalidField('pairs', `at most ${max} pairs per request`);
  return pairs.map((pair, i) => {
    const ends = pair.split(';');
    if (ends.length !== 2) throw invalidField(`pairs[${i}]`, 'expected lat,lng;lat,lng');
    return {
      from: parseLatLng(ends[0], `pairs[${i}].from`),
      to: parseLatLng(ends[1], `pairs[${i}].to`),
    };
  });
}

export function placesQuery(maxLimit: number) {
  return z.object({
    q: z
      .string({ message: 'is required' })
      .trim()
      .min(1, 'is required')
      .max(100, 'at most 100 characters'),
    limit: z.coerce.number().int().min(1).max(maxLimit).default(10),
  });
}

const speed = z.number().min(1, 'at least 1 km/h').max(140, 'at most 140 km/h');

const area = z.union(
  [
    z
      .object({
        south: z.number().min(-90).max(90),
        west: z.number().min(-180).max(180),
        north: z.number().min(-90).max(90),
        east: z.number().min(-180).max(180),
      })
      .strict()
      .refine((box) => box.south <= box.north && box.west <= box.east, {
        message: 'south must not exceed north, nor west east',
        path: ['north'],
      }),
    z
      .object({
        lat: z.number().min(-90).max(90),
        lng: z.number().min(-180).max(180),
        radiusM: z.number().positive().max(50_000),
      })
      .strict(),
  ],
  { message: 'expected {south, west, north, east} or {lat, lng, radiusM}' },
);

const TRAFFIC_FIELDS = ['wayIds', 'area', 'speedKmh', 'factor'];
const WEATHER_FIELDS = ['area', 'condition', 'factor'];

/** A traffic body's first unknown field, named in the 400 (zod names only the body). */
export function unknownTrafficField(body: unknown): string | undefined {
  return unknownField(body, TRAFFIC_FIELDS);
}

/** A weather body's first unknown field, named in the 400 as for traffic. */
export function unknownWeatherField(body: unknown): string | undefined {
  return unknownField(body, WEATHER_FIELDS);
}

function unknownField(body: unknown, fields: readonly string[]): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  return Object.keys(body).find((key) => !fields.includes(key));
}

/** One selection (way ids or an area) and one change (a speed or a factor of free flow). */
export const trafficBody = z
  .object({
    wayIds: z.array(z.number().int().positive()).min(1).max(10_000).optional(),
    area: area.optional(),
    speedKmh: speed.optional(),
    factor: z.number().min(0.01).max(2).optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if ((body.wayIds === undefined) === (body.area === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['wayIds'],
        message: 'give exactly one of wayIds or area',
      });
    }
    if ((body.speedKmh === undefined) === (body.factor === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['speedKmh'],
        message: 'give exactly one of speedKmh or factor',
      });
    }
  });

/** An area and exactly one of a named condition or a factor of free flow (1 is no weather). */
export const weatherBody = z
  .object({
    area: area.optional(),
    condition: z
      .enum(WEATHER_CONDITION_NAMES, {
        message: `expected one of ${WEATHER_CONDITION_NAMES.join(', ')}`,
      })
      .optional(),
    factor: z.number().min(0.01, 'at least 0.01').max(1, 'at most 1').optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.area === undefined) {
      ctx.addIssue({ code: 'custom', path: ['area'], message: 'is required' });
    }
    if ((body.condition === undefined) === (body.factor === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['condition'],
        message: 'give exactly one of condition or factor',
      });
    }
  });
