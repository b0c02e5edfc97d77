/** Mean Earth radius in metres (IUGG), the one haversine uses. */
export const EARTH_RADIUS_M = 6_371_008.8;

const RAD = Math.PI / 180;

/** Great-circle distance in metres between two points given in degrees. */
export function haversineM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const a =
    Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Metres per degree of latitude, and of longitude at the given latitude (small-area scale). */
export function metresPerDegree(lat: number): { lat: number; lon: number } {
  const perDegree = EARTH_RADIUS_M * RAD;
  return { lat: perDegree, lon: perDegree * Math.cos(lat * RAD) };
}

/** Initial bearing in degrees (0 north, 90 east, 0…360) from the first point to the second. */
export function bearingDeg(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const y = Math.sin((lon2 - lon1) * RAD) * Math.cos(lat2 * RAD);
  const x =
    Math.cos(lat1 * RAD) * Math.sin(lat2 * RAD) -
    Math.sin(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.cos((lon2 - lon1) * RAD);
  return (((Math.atan2(y, x) / RAD) % 360) + 360) % 360;
}
