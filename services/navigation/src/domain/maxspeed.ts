const KMH_PER_MPH = 1.609344;
const KMH_PER_KNOT = 1.852;

/** Walking pace, what `maxspeed=walk` asks of a car. */
export const WALK_KMH = 6;

/**
 * Implicit limits written as `<country>:<zone>`, for the zones whose meaning is the same almost
 * everywhere.
 */
const ZONE_KMH: Record<string, number> = {
  urban: 50,
  rural: 90,
  motorway: 130,
  trunk: 110,
  living_street: 20,
  walk: WALK_KMH,
};

/**
 * A `maxspeed` value in km/h, or null when it names no usable limit: absent, "none" (no limit,
 * so the road class decides), "signals"/"variable", or anything unparsable. Several values
 * separated by ";" give the lowest.
 */
export function parseMaxspeed(raw: string | undefined): number | null {
  if (raw === undefined) return null;

  const limits = raw
    .split(';')
    .map((part) => parseOne(part.trim().toLowerCase()))
    .filter((limit): limit is number => limit !== null);
  return limits.length === 0 ? null : Math.min(...limits);
}

function parseOne(value: string): number | null {
  if (value === 'walk') return WALK_KMH;

  const numeric = /^(\d+(?:\.\d+)?)\s*(km\/h|kmh|kph|mph|knots)?$/.exec(value);
  if (numeric) {
    const amount = Number(numeric[1]);
    const unit = numeric[2];
    const kmh =
      unit === 'mph' ? amount * KMH_PER_MPH : unit === 'knots' ? amount * KMH_PER_KNOT : amount;
    return kmh > 0 ? kmh : null;
  }

  // "FR:urban", "DE:zone30", "DE:zone:30", "RU:living_street".
  const zone = /^[a-z]{2}(?:-[a-z]+)?:(.+)$/.exec(value);
  if (zone) {
    const name = zone[1]!;
    const numbered = /^zone:?(\d+)$/.exec(name);
    if (numbered) return Number(numbered[1]);
    return ZONE_KMH[name] ?? null;
  }

  return null;
}
