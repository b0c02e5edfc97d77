import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { MiniSearchEngine, OpenSearchEngine, type SearchEngine } from '@platform/kit';
import { serverAddress } from '@platform/kit/testing';
import { importOsm, type Place } from '../src/import/osm-import.ts';
import { PLACES_INDEX, PlaceSearch } from '../src/places.ts';
import { defaultOsmDir } from '../src/config.ts';

const OSM_DIR = process.env.OSM_DIR ?? defaultOsmDir();

const engines: [string, () => SearchEngine][] = [
  ['minisearch', () => new MiniSearchEngine()],
  [
    'opensearch',
    () =>
      new OpenSearchEngine({
        node: serverAddress('OPENSEARCH_URL'),
        prefix: `navigation-test-${randomBytes(3).toString('hex')}.`,
      }),
  ],
];

describe.each(engines)('place search on %s', (_name, open) => {
  let engine: SearchEngine;
  let places: Place[];

  beforeAll(async () => {
    engine = open();
    places = (await importOsm(join(OSM_DIR, 'monaco.osm.pbf'))).places;
  });

  afterAll(async () => {
    await engine.dropIndex(PLACES_INDEX.name);
    await engine.close();
  });

  it('finds Monaco places by name despite typos, and none of another extract', async () => {
    const monaco = await PlaceSearch.open(engine, 'monaco', places);
    const elsewhere = { id: 'node/1', name: 'Casino Elsewhere', kind: 'casino', lat: 1, lon: 1 };
    await PlaceSearch.open(engine, 'elsewhere', [elsewhere]);

    const names = (await monaco.search('casnio', 10)).map((place) => place.name);
    expect(names).toContain('Place du Casino');
    expect(names).not.toContain('Casino Elsewhere');
    const stadium = await monaco.search('Boulevard Luis II', 3);
    expect(stadium[0]).toMatchObject({ name: 'Boulevard Louis II', kind: 'street' });
    // Completion of the last word.
    expect((await monaco.search('Monte-Ca', 5)).map((p) => p.name)).toContain('Monte-Carlo');
    expect(await monaco.search('casino', 1)).toHaveLength(1);
  });

  it('opens again at the next start without duplicating anything', async () => {
    const again = await PlaceSearch.open(engine, 'monaco', places);
    const hits = await again.search('Place du Casino', 50);
    expect(hits.filter((hit) => hit.name === 'Place du Casino')).toHaveLength(1);
  });
});
