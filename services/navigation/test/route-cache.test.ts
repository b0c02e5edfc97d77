import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@platform/kit/testing';
import { parseNavigationConfig, runNavigation, type RunningNavigation } from '../src/index.ts';
import { defaultOsmDir } from '../src/config.ts';

/**
 * The route cache seen from outside: a pair asked again is a hit with the same answer, a
 * traffic update empties it (the next answer sees the new speeds), and its lookups are
 * counted on navigation_route_cache_requests_total.
 */
const OSM_DIR = process.env.OSM_DIR ?? defaultOsmDir();
const CASINO = '43.7396,7.4281';
const STADIUM = '43.7275,7.4156';

let running: RunningNavigation;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  running = await runNavigation(
    parseNavigationConfig({
      PORT: String(port),
      DATA_DIR: mkdtempSync(join(tmpdir(), 'navigation-cache-')),
      OSM_DIR,
      OSM_FILE: 'monaco.osm.pbf',
      LOG_LEVEL: 'silent',
      ROUTE_CACHE_SIZE: '2',
    }),
  );
  base = `http://127.0.0.1:${port}`;
  await running.ready;
});

afterAll(async () => {
  await running?.stop();
});

async function lookups(): Promise<{ hit: number; miss: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const count = (result: string) =>
    Number(
      new RegExp(
        `navigation_route_cache_requests_total\\{[^}]*result="${result}"[^}]*\\} (\\d+)`,
      ).exec(text)?.[1] ?? 0,
    );
  return { hit: count('hit'), miss: count('miss') };
}

const route = async (from: string, to: string) =>
  (await fetch(`${base}/route?from=${from}&to=${to}`)).json() as Promise<{
    properties: { durationS: number };
  }>;

it('answers a pair asked again from the cache, the same route', async () => {
  const before = await lookups();
  const first = await route(CASINO, STADIUM);
  const second = await route(CASINO, STADIUM);
  expect(second).toEqual(first);
  expect(await lookups()).toEqual({ hit: before.hit + 1, miss: before.miss + 1 });
});

it('forgets every route when traffic changes a speed, and routes on the new speeds', async () => {
  const free = await route(CASINO, STADIUM);
  const slowed = await fetch(`${base}/traffic`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ area: { lat: 43.735, lng: 7.42, radiusM: 2000 }, factor: 0.5 }),
  });
  expect(((await slowed.json()) as { changedEdges: number }).changedEdges).toBeGreaterThan(0);

  const before = await lookups();
  const after = await route(CASINO, STADIUM);
  expect(await lookups()).toEqual({ hit: before.hit, miss: before.miss + 1 });
  expect(after.properties.durationS).toBeGreaterThan(free.properties.durationS);

  await fetch(`${base}/traffic`, { method: 'DELETE' });
  // The same route as before the jam; only etaS moves, as the speed history remembers it.
  const again = await route(CASINO, STADIUM);
  expect({ ...again, properties: { ...again.properties, etaS: 0 } }).toEqual({
    ...free,
    properties: { ...free.properties, etaS: 0 },
  });
});
