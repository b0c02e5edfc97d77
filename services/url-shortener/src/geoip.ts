import { open, type CountryResponse, type Reader } from 'maxmind';
import type { CountryLookup } from './clicks.ts';

/** Country lookup from a MaxMind-format database (GeoLite2-Country or compatible). */
export async function openGeoIp(path: string | undefined): Promise<CountryLookup> {
  if (!path) return () => undefined;
  const reader: Reader<CountryResponse> = await open<CountryResponse>(path);
  return (ip) => {
    try {
      return reader.get(ip)?.country?.iso_code;
    } catch {
      return undefined;
    }
  };
}
