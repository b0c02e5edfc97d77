import { readFileSync } from 'node:fs';
import { serverAddress } from '../../services/kit/src/testing/servers.ts';
import { ROOT } from '../observability/tools.ts';

/**
 * The OpenSearch node of scripts/infra.sh does what the search port will ask
 * of it: the mappings it will declare (folded text, keyword, numbers,
 * geo_point, completion and search_as_you_type), the queries it will send
 * (fuzzy match, prefixes, range and geo-distance filters, search_after pages)
 * and the reindex path (new index, reindex, alias switch). Plain fetch, so a
 * failure here is the server's or the provisioning's, not a client's.
 */
const url = serverAddress('OPENSEARCH_URL');
// Suites share one node: every index this file makes starts with its own prefix.
const prefix = `infra-test-${process.pid}-${Date.now().toString(36)}`;
const places = `${prefix}-places`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function os(method: string, path: string, body?: unknown): Promise<Json> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      'content-type': typeof body === 'string' ? 'application/x-ndjson' : 'application/json',
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

type Place = {
  id: string;
  name: string;
  category: string;
  stars: number;
  price: number;
  location: { lat: number; lon: number };
};

const PLACES: Place[] = [
  {
    id: 'p1',
    name: 'Hôtel de la Plage',
    category: 'hotel',
    stars: 4,
    price: 180,
    location: { lat: 43.695, lon: 7.265 },
  },
  {
    id: 'p2',
    name: 'Hotel Negresco',
    category: 'hotel',
    stars: 5,
    price: 450,
    location: { lat: 43.6944, lon: 7.2578 },
  },
  {
    id: 'p3',
    name: 'Café Müller',
    category: 'cafe',
    stars: 3,
    price: 12,
    location: { lat: 52.52, lon: 13.405 },
  },
  {
    id: 'p4',
    name: 'Crème de la Crème Bistro',
    category: 'restaurant',
    stars: 4,
    price: 45,
    location: { lat: 48.8566, lon: 2.3522 },
  },
  {
    id: 'p5',
    name: 'Hostel Plaza',
    category: 'hotel',
    stars: 2,
    price: 35,
    location: { lat: 48.86, lon: 2.34 },
  },
  {
    id: 'p6',
    name: 'São Paulo Grill',
    category: 'restaurant',
    stars: 3,
    price: 30,
    location: { lat: 38.7223, lon: -9.1393 },
  },
  {
    id: 'p7',
    name: 'Hotel Lisboa Plaza',
    category: 'hotel',
    stars: 4,
    price: 150,
    location: { lat: 38.72, lon: -9.145 },
  },
];

/** Index settings of the first mapping version: one folded analyzer for every text field. */
const SETTINGS = {
  number_of_shards: 1,
  number_of_replicas: 0,
  analysis: {
    // asciifolding is analysis-common's: "Hôtel" and "hotel" index alike
    analyzer: {
      folded: { type: 'custom', tokenizer: 'standard', filter: ['lowercase', 'asciifolding'] },
    },
    normalizer: { folded: { type: 'custom', filter: ['lowercase', 'asciifolding'] } },
  },
};

/**
 * Version 2 adds a sortable folded name: a change to an existing field, so a new index and a
 * reindex.
 */
const mappings = (version: 1 | 2) => ({
  dynamic: 'strict',
  properties: {
    id: { type: 'keyword' },
    name: {
      type: 'text',
      analyzer: 'folded',
      fields: {
        standard: { type: 'text', analyzer: 'standard' },
        raw: { type: 'keyword' },
        ...(version === 2 && { sort: { type: 'keyword', normalizer: 'folded' } }),
      },
    },
    suggest: { type: 'completion', analyzer: 'folded' },
    name_typeahead: { type: 'search_as_you_type', analyzer: 'folded' },
    category: { type: 'keyword' },
    stars: { type: 'integer' },
    price: { type: 'scaled_float', scaling_factor: 100 },
    location: { type: 'geo_point' },
  },
});

async function createIndex(name: string, mappings: object, aliases: object = {}) {
  await os('PUT', `/${name}`, { settings: SETTINGS, mappings, aliases });
}

async function indexPlaces(target: string) {
  const lines = PLACES.flatMap((place) => [
    JSON.stringify({ index: { _index: target, _id: place.id } }),
    JSON.stringify({ ...place, suggest: { input: [place.name] }, name_typeahead: place.name }),
  ]);
  const result = await os('POST', '/_bulk?refresh=true', `${lines.join('\n')}\n`);
  expect(result.errors).toBe(false);
}

async function search(index: string, body: object): Promise<Json> {
  return os('POST', `/${index}/_search`, body);
}
const ids = (result: Json): string[] => result.hits.hits.map((hit: Json) => hit._id);
const sorted = (values: string[]) => [...values].sort();

beforeAll(async () => {
  await createIndex(places, mappings(1));
  await indexPlaces(places);
});

afterAll(async () => {
  await os('DELETE', `/${prefix}-*`);
});

describe('the node', () => {
  it('is the pinned version, healthy, with the modules the mappings need', async () => {
    const pinned = /^OPENSEARCH_VERSION=(\S+)$/m.exec(
      readFileSync(`${ROOT}infra/versions.env`, 'utf8'),
    )?.[1];
    expect((await os('GET', '/')).version.number).toBe(pinned);
    expect(['green', 'yellow']).toContain((await os('GET', '/_cluster/health')).status);

    const nodes = await os('GET', '/_nodes/plugins');
    const node = Object.values(nodes.nodes)[0] as Json;
    const modules = node.modules.map((module: Json) => module.name);
    expect(modules).toEqual(
      expect.arrayContaining([
        'transport-netty4',
        'analysis-common',
        'lang-painless',
        'mapper-extras',
        'reindex',
      ]),
    );
  });
});

describe('analysis', () => {
  it('folds accents and case with the standard tokenizer and asciifolding', async () => {
    const folded = await os('POST', `/${places}/_analyze`, {
      analyzer: 'folded',
      text: 'Crème Brûlée, São Paulo!',
    });
    expect(folded.tokens.map((token: Json) => token.token)).toEqual([
      'creme',
      'brulee',
      'sao',
      'paulo',
    ]);
    // the standard analyzer alone keeps the accents: the folding is the filter's doing
    const standard = await os('POST', `/${places}/_analyze`, {
      analyzer: 'standard',
      text: 'Crème Brûlée',
    });
    expect(standard.tokens.map((token: Json) => token.token)).toEqual(['crème', 'brûlée']);
  });

  it('matches accented text from plain queries and plain text from accented ones', async () => {
    const match = (query: string) => search(places, { query: { match: { name: query } } });
    expect(ids(await match('muller'))).toEqual(['p3']);
    expect(ids(await match('sao'))).toEqual(['p6']);
    expect(sorted(ids(await match('hôtel')))).toEqual(['p1', 'p2', 'p7']);
    // on the unfolded subfield the accent still matters
    expect(ids(await search(places, { query: { match: { 'name.standard': 'muller' } } }))).toEqual(
      [],
    );
  });
});

describe('fuzzy text', () => {
  const fuzzy = (query: string, fuzziness: string | number) =>
    search(places, { query: { match: { name: { query, fuzziness } } } });

  it('finds words within an edit distance that grows with their length (AUTO)', async () => {
    // "hotle": 5 letters, one edit allowed (a transposition counts as one)
    expect(sorted(ids(await fuzzy('hotle', 'AUTO')))).toEqual(['p1', 'p2', 'p7']);
    // "negrsko": 7 letters, two edits allowed (a missing "e", "k" for "c")
    expect(ids(await fuzzy('negrsko', 'AUTO'))).toEqual(['p2']);
    expect(ids(await fuzzy('negrsko', 1))).toEqual([]);
    // "hxtle" is two edits from "hotel": too many for 5 letters
    expect(ids(await fuzzy('hxtle', 'AUTO'))).toEqual([]);
    // and without fuzziness the typo finds nothing
    expect(ids(await fuzzy('hotle', 0))).toEqual([]);
  });

  it('scores the exact word above the words one edit away', async () => {
    const result = await search(places, {
      query: { match: { name: { query: 'hostel', fuzziness: 'AUTO' } } },
    });
    // "hostel" itself, then the three "hotel"s (one edit: 6 letters allow two)
    expect(ids(result)[0]).toBe('p5');
    expect(sorted(ids(result).slice(1))).toEqual(['p1', 'p2', 'p7']);
    expect(result.hits.hits[0]._score).toBeGreaterThan(result.hits.hits[1]._score);
  });
});

describe('prefixes', () => {
  it('completes the last word of a phrase (match_phrase_prefix)', async () => {
    const result = await search(places, {
      query: { match_phrase_prefix: { name: 'hôtel de la pl' } },
    });
    expect(ids(result)).toEqual(['p1']);
  });

  it('matches keyword and text prefixes (prefix)', async () => {
    expect(sorted(ids(await search(places, { query: { prefix: { category: 'rest' } } })))).toEqual([
      'p4',
      'p6',
    ]);
    expect(ids(await search(places, { query: { prefix: { name: 'negr' } } }))).toEqual(['p2']);
  });

  it('suggests names from a folded prefix (completion)', async () => {
    const suggest = async (prefixText: string, fuzzy?: object) => {
      const result = await search(places, {
        _source: false,
        suggest: {
          names: {
            prefix: prefixText,
            completion: { field: 'suggest', size: 10, ...(fuzzy && { fuzzy }) },
          },
        },
      });
      return result.suggest.names[0].options.map((option: Json) => option._id);
    };
    expect(sorted(await suggest('hot'))).toEqual(['p1', 'p2', 'p7']);
    expect(await suggest('crem')).toEqual(['p4']);
    expect(await suggest('cafe m')).toEqual(['p3']);
    // completion matches from the start of the name; fuzzy forgives the swapped letters
    expect(await suggest('negr')).toEqual([]);
    expect(await suggest('hotle n', { fuzziness: 'AUTO' })).toEqual(['p2']);
  });

  it('matches as you type across words (search_as_you_type, bool_prefix)', async () => {
    const result = await search(places, {
      query: {
        multi_match: {
          query: 'lisboa pl',
          type: 'bool_prefix',
          operator: 'and',
          fields: ['name_typeahead', 'name_typeahead._2gram', 'name_typeahead._3gram'],
        },
      },
    });
    expect(ids(result)).toEqual(['p7']);
  });
});

describe('filters and sorting', () => {
  it('filters by range', async () => {
    const result = await search(places, {
      query: {
        bool: { filter: [{ range: { stars: { gte: 4 } } }, { range: { price: { lte: 200 } } }] },
      },
    });
    expect(sorted(ids(result))).toEqual(['p1', 'p4', 'p7']);
  });

  it('filters by distance from a point and sorts by it', async () => {
    const nice = { lat: 43.7009, lon: 7.2683 };
    const near = await search(places, {
      query: { bool: { filter: { geo_distance: { distance: '5km', location: nice } } } },
    });
    expect(sorted(ids(near))).toEqual(['p1', 'p2']);

    const lisbon = { lat: 38.7223, lon: -9.1393 };
    const combined = await search(places, {
      query: {
        bool: {
          must: { match: { name: { query: 'plaza', fuzziness: 'AUTO' } } },
          filter: [
            { geo_distance: { distance: '10km', location: lisbon } },
            { range: { stars: { gte: 4 } } },
          ],
        },
      },
    });
    expect(ids(combined)).toEqual(['p7']);

    const paris = { lat: 48.8566, lon: 2.3522 };
    const byDistance = await search(places, {
      size: 3,
      sort: [{ _geo_distance: { location: paris, order: 'asc', unit: 'km' } }],
    });
    // Paris, then 1 km away, then Nice (686.4 km) before Berlin (877.5 km)
    expect(ids(byDistance)).toEqual(['p4', 'p5', 'p2']);
    expect(byDistance.hits.hits[0].sort[0]).toBeLessThan(0.01);
  });

  it('pages with search_after through every document once, in order', async () => {
    const sort = [{ stars: 'desc' }, { id: 'asc' }];
    const all = ids(await search(places, { size: 100, sort }));
    expect(all).toEqual(['p2', 'p1', 'p4', 'p7', 'p3', 'p6', 'p5']);

    const pages: string[][] = [];
    let after: unknown[] | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await search(places, { size: 3, sort, ...(after && { search_after: after }) });
      const hits = result.hits.hits;
      if (hits.length === 0) break;
      pages.push(ids(result));
      after = hits[hits.length - 1].sort;
    }
    expect(pages).toEqual([['p2', 'p1', 'p4'], ['p7', 'p3', 'p6'], ['p5']]);
  });

  it('runs painless scripts', async () => {
    const result = await search(places, {
      query: { ids: { values: ['p3'] } },
      script_fields: {
        doubled: { script: { lang: 'painless', source: "doc['price'].value * 2" } },
      },
    });
    expect(result.hits.hits[0].fields.doubled).toEqual([24]);
  });
});

describe('mapping versions behind an alias', () => {
  const alias = `${prefix}-catalogue`;
  const v1 = `${prefix}-catalogue-v1`;
  const v2 = `${prefix}-catalogue-v2`;
  const sortByName = { size: 100, sort: [{ 'name.sort': 'asc' }] };

  it('reindexes into a new mapping and switches the alias at once, losing nothing', async () => {
    await createIndex(v1, mappings(1), { [alias]: { is_write_index: true } });
    await indexPlaces(alias);
    expect((await os('GET', `/${alias}/_count`)).count).toBe(PLACES.length);
    // v1 has no name.sort
    await expect(search(alias, sortByName)).rejects.toThrow(/No mapping found for \[name\.sort\]/);

    await createIndex(v2, mappings(2));
    const reindex = await os('POST', '/_reindex?refresh=true&wait_for_completion=true', {
      source: { index: v1 },
      dest: { index: v2, version_type: 'external' },
    });
    expect(reindex.created).toBe(PLACES.length);
    expect(reindex.failures).toEqual([]);

    await os('POST', '/_aliases', {
      actions: [
        { remove: { index: v1, alias } },
        { add: { index: v2, alias, is_write_index: true } },
      ],
    });
    expect(Object.keys(await os('GET', `/_alias/${alias}`))).toEqual([v2]);
    expect((await os('GET', `/${alias}/_count`)).count).toBe(PLACES.length);

    // the alias now reads v2's mapping: sorted by the folded name
    expect(ids(await search(alias, sortByName))).toEqual([
      'p3',
      'p4',
      'p5',
      'p1',
      'p7',
      'p2',
      'p6',
    ]);
    // and writes go to v2
    await os('PUT', `/${alias}/_doc/p8?refresh=true`, {
      id: 'p8',
      name: 'Ábaco Inn',
      category: 'hotel',
      stars: 3,
      price: 90,
      location: { lat: 40.4168, lon: -3.7038 },
    });
    expect((await os('GET', `/${v2}/_count`)).count).toBe(PLACES.length + 1);
    expect((await os('GET', `/${v1}/_count`)).count).toBe(PLACES.length);
    expect(ids(await search(alias, { ...sortByName, size: 1 }))).toEqual(['p8']);
  });
});
