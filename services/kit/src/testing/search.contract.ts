import { randomBytes } from 'node:crypto';
import type {
  IndexSpec,
  SearchDocument,
  SearchEngine,
  SearchIndex,
  SearchPage,
  SearchQuery,
} from '../ports/search/search.ts';

const hotelFields: IndexSpec['fields'] = {
  name: { type: 'text', boost: 3 },
  city: { type: 'text' },
  description: { type: 'text' },
  country: { type: 'keyword' },
  amenities: { type: 'keyword' },
  stars: { type: 'number' },
  price: { type: 'number' },
  opened: { type: 'date' },
  location: { type: 'geo_point' },
  petsAllowed: { type: 'boolean' },
};

type Hotel = [
  id: string,
  name: string,
  city: string,
  country: string,
  stars: number,
  price: number | null,
  opened: string,
  lat: number,
  lon: number,
  pets: boolean,
  amenities: string[],
  description?: string,
];

const HOTELS: Hotel[] = [
  [
    'h01',
    'Hôtel du Lac',
    'Genève',
    'CH',
    4,
    220,
    '2001-05-01T00:00:00Z',
    46.2044,
    6.1432,
    true,
    ['pool', 'spa'],
  ],
  [
    'h02',
    'Grand Hotel Zürich',
    'Zürich',
    'CH',
    5,
    410,
    '1899-03-15T00:00:00Z',
    47.3769,
    8.5417,
    false,
    ['spa', 'gym'],
  ],
  [
    'h03',
    'Hotel Monaco Palace',
    'Monaco',
    'MC',
    5,
    650,
    '1925-06-01T00:00:00Z',
    43.7384,
    7.4246,
    true,
    ['pool'],
  ],
  [
    'h04',
    'Andorra Mountain Lodge',
    'Andorra la Vella',
    'AD',
    3,
    120,
    '2015-12-01T00:00:00Z',
    42.5063,
    1.5218,
    true,
    ['ski'],
  ],
  [
    'h05',
    'Casa Señorita',
    'Málaga',
    'ES',
    2,
    75,
    '1990-07-01T00:00:00Z',
    36.7213,
    -4.4214,
    false,
    [],
  ],
  [
    'h06',
    'Pension Müller',
    'München',
    'DE',
    2,
    60,
    '1978-01-20T00:00:00Z',
    48.1351,
    11.582,
    true,
    [],
  ],
  [
    'h07',
    'Sea View Resort',
    'Nice',
    'FR',
    4,
    300,
    '2010-04-01T00:00:00Z',
    43.7102,
    7.262,
    false,
    ['pool', 'spa'],
    'a short drive from Monaco',
  ],
  [
    'h08',
    'Hotel Nice Central',
    'Nice',
    'FR',
    3,
    140,
    '2005-09-09T00:00:00Z',
    43.7031,
    7.2661,
    true,
    ['gym'],
  ],
  [
    'h09',
    'Harbour Rooms',
    'Antibes',
    'FR',
    3,
    null,
    '2019-02-02T00:00:00Z',
    43.5808,
    7.1251,
    false,
    [],
  ],
  [
    'h10',
    'Crème Brûlée Inn',
    'Lyon',
    'FR',
    3,
    95,
    '2012-11-11T00:00:00Z',
    45.764,
    4.8357,
    true,
    [],
  ],
  [
    'h11',
    'Ørestad Apartments',
    'København',
    'DK',
    1,
    40,
    '2020-08-08T00:00:00Z',
    55.6295,
    12.5794,
    false,
    [],
  ],
];

const hotelDocument = (hotel: Hotel, version = 1): SearchDocument => {
  const [id, name, city, country, stars, price, opened, lat, lon, pets, amenities, description] =
    hotel;
  return {
    id,
    version,
    fields: {
      name,
      city,
      country,
      stars,
      price,
      opened,
      location: { lat, lon },
      petsAllowed: pets,
      amenities,
      ...(description ? { description } : {}),
    },
  };
};

const ids = (page: SearchPage) => page.hits.map((hit) => hit.id);
const sorted = (page: SearchPage) => ids(page).sort();

/** What a failed call threw: its code and the field it names. */
async function failure(call: Promise<unknown>): Promise<{ code?: string; field?: string }> {
  try {
    await call;
  } catch (error) {
    const { code, field } = error as { code?: string; field?: string };
    return { code, field };
  }
  throw new Error('expected the call to fail');
}

/** Every page of a query, following cursors. */
async function allPages(index: SearchIndex, query: SearchQuery): Promise<SearchPage[]> {
  const pages: SearchPage[] = [];
  let cursor: string | undefined;
  do {
    const page = await index.search({ ...query, ...(cursor ? { cursor } : {}) });
    pages.push(page);
    cursor = page.cursor;
    if (pages.length > 100) throw new Error('cursor never ends');
  } while (cursor);
  return pages;
}

/** The behaviour every search adapter must have; run once per adapter. */
export function searchContract(name: string, open: () => Promise<SearchEngine>): void {
  describe(`search contract: ${name}`, () => {
    let engine: SearchEngine;
    let hotels: SearchIndex;
    const run = randomBytes(4).toString('hex');
    const created: string[] = [];
    const fresh = (what: string) => {
      const indexName = `contract_${run}_${what}`;
      created.push(indexName);
      return indexName;
    };
    const search = (query: SearchQuery) => hotels.search(query);

    beforeAll(async () => {
      engine = await open();
      hotels = await engine.openIndex({ name: fresh('hotels'), version: 1, fields: hotelFields });
      expect(await hotels.upsert(HOTELS.map((h) => hotelDocument(h)))).toEqual(
        HOTELS.map(() => 'applied'),
      );
      await hotels.refresh();
    });
    afterAll(async () => {
      for (const indexName of created) await engine.dropIndex(indexName);
      await engine.close();
    });

    describe('text', () => {
      it('finds documents by a word of any text field, with a positive score', async () => {
        const page = await search({ text: 'andorra' });
        expect(ids(page)).toEqual(['h04']);
        expect(page.total).toBe(1);
        expect(page.hits[0]!.score).toBeGreaterThan(0);
        expect(page.hits[0]!.version).toBe(1);
        expect(page.hits[0]!.fields).toMatchObject({ name: 'Andorra Mountain Lodge', stars: 3 });
      });

      it('needs every word, each in any field', async () => {
        expect(sorted(await search({ text: 'hotel nice' }))).toEqual(['h08']);
        expect(sorted(await search({ text: 'resort nice' }))).toEqual(['h07']);
        expect(sorted(await search({ text: 'hotel' }))).toEqual(['h01', 'h02', 'h03', 'h08']);
        expect((await search({ text: 'hotel lyon' })).total).toBe(0);
      });

      it('ranks a match in a boosted field above one in a plain field', async () => {
        const page = await search({ text: 'monaco' });
        expect(ids(page)).toEqual(['h03', 'h07']);
        expect(page.hits[0]!.score).toBeGreaterThan(page.hits[1]!.score);
      });

      it('searches only the text fields asked for', async () => {
        expect(sorted(await search({ text: 'monaco', fields: ['description'] }))).toEqual(['h07']);
        expect(sorted(await search({ text: 'nice', fields: ['name'] }))).toEqual(['h08']);
      });

      it('forgives typos within an edit distance that grows with word length', async () => {
        // 3 to 5 characters: one edit.
        expect(sorted(await search({ text: 'ina' }))).toEqual(['h10']);
        expect(sorted(await search({ text: 'lack' }))).toEqual(['h01']);
        expect(sorted(await search({ text: 'lyonn' }))).toEqual(['h10']);
        // A swap of two neighbours counts as one edit.
        expect(sorted(await search({ text: 'hotle nice' }))).toEqual(['h08']);
        // 6 characters and more: two edits.
        expect(sorted(await search({ text: 'mxnacx' }))).toEqual(['h03', 'h07']);
        expect(sorted(await search({ text: 'mointaan' }))).toEqual(['h04']);
        expect(sorted(await search({ text: 'palaec' }))).toEqual(['h03']);
        expect(sorted(await search({ text: 'seniorta' }))).toEqual(['h05']);
      });

      it('does not stretch the edit distance beyond it', async () => {
        // Up to 2 characters: exact only ("du" is in h01, "da" is nowhere).
        expect((await search({ text: 'da' })).total).toBe(0);
        expect(sorted(await search({ text: 'du' }))).toEqual(['h01']);
        // 3 to 5 characters: not two edits.
        expect((await search({ text: 'ixx' })).total).toBe(0);
        expect((await search({ text: 'lyxnn' })).total).toBe(0);
        expect((await search({ text: 'hxtxl' })).total).toBe(0);
        // 6 and more: not three.
        expect((await search({ text: 'mxintaan' })).total).toBe(0);
      });

      it('ranks an exact match above a fuzzy one', async () => {
        const single = async (doc: SearchDocument) => {
          await scratch.upsert([doc]);
          await scratch.refresh();
        };
        const scratch = await engine.openIndex({
          name: fresh('exact'),
          version: 1,
          fields: { title: { type: 'text' } },
        });
        await single({ id: 'near', version: 1, fields: { title: 'garten' } });
        await single({ id: 'exact', version: 1, fields: { title: 'garden' } });
        const page = await scratch.search({ text: 'garden' });
        expect(ids(page)).toEqual(['exact', 'near']);
        expect(page.hits[0]!.score).toBeGreaterThan(page.hits[1]!.score);
      });

      it('ignores case and accents on both sides', async () => {
        expect(sorted(await search({ text: 'geneve' }))).toEqual(['h01']);
        expect(sorted(await search({ text: 'GENÈVE' }))).toEqual(['h01']);
        expect(sorted(await search({ text: 'zurich' }))).toEqual(['h02']);
        expect(sorted(await search({ text: 'MÜNCHEN' }))).toEqual(['h06']);
        expect(sorted(await search({ text: 'senorita malaga' }))).toEqual(['h05']);
        expect(sorted(await search({ text: 'creme brulee' }))).toEqual(['h10']);
        expect(sorted(await search({ text: 'Hôtel' }))).toEqual(['h01', 'h02', 'h03', 'h08']);
        // Letters that fold without a combining accent.
        expect(sorted(await search({ text: 'orestad kobenhavn' }))).toEqual(['h11']);
        // Decomposed input (e + combining grave) reads as the composed letter.
        expect(sorted(await search({ text: 'Gene\u0300ve' }))).toEqual(['h01']);
      });

      it('completes the last word as a prefix when asked', async () => {
        expect((await search({ text: 'mona' })).total).toBe(0);
        expect(sorted(await search({ text: 'mona', prefix: true }))).toEqual(['h03', 'h07']);
        expect(sorted(await search({ text: 'zurich gra', prefix: true }))).toEqual(['h02']);
        // Earlier words stay fuzzy; the completed one does not.
        expect(sorted(await search({ text: 'zurihc gra', prefix: true }))).toEqual(['h02']);
        expect((await search({ text: 'zurich gar', prefix: true })).total).toBe(0);
      });

      it('matches every document, scored 0, for an empty query', async () => {
        for (const text of [undefined, '', '   ', '!?…', '--']) {
          const page = await search({ ...(text === undefined ? {} : { text }), limit: 100 });
          expect(page.total).toBe(HOTELS.length);
          expect(page.hits.every((hit) => hit.score === 0)).toBe(true);
        }
        const filtered = await search({
          text: ' ',
          filters: [{ type: 'term', field: 'country', value: 'FR' }],
        });
        expect(sorted(filtered)).toEqual(['h07', 'h08', 'h09', 'h10']);
      });

      it('answers very long queries, reading their first 32 words', async () => {
        const repeated = await search({ text: 'hotel '.repeat(2000) });
        expect(sorted(repeated)).toEqual(['h01', 'h02', 'h03', 'h08']);
        const past = await search({ text: `${'hotel '.repeat(32)}zzzzzz` });
        expect(sorted(past)).toEqual(['h01', 'h02', 'h03', 'h08']);
        const within = await search({ text: `${'hotel '.repeat(31)}zzzzzz` });
        expect(within.total).toBe(0);
        const oneWord = await search({ text: 'x'.repeat(10_000) });
        expect(oneWord.total).toBe(0);
      });
    });

    describe('filters', () => {
      it('filters by keyword, number, boolean and date terms', async () => {
        const term = (field: string, value: string | number | boolean) =>
          search({ filters: [{ type: 'term', field, value }], limit: 100 });
        expect(sorted(await term('country', 'CH'))).toEqual(['h01', 'h02']);
        expect((await term('country', 'ch')).total).toBe(0);
        expect(sorted(await term('amenities', 'spa'))).toEqual(['h01', 'h02', 'h07']);
        expect(sorted(await term('stars', 5))).toEqual(['h02', 'h03']);
        expect(sorted(await term('petsAllowed', false))).toEqual([
          'h02',
          'h05',
          'h07',
          'h09',
          'h11',
        ]);
        expect(sorted(await term('opened', '1925-06-01T00:00:00Z'))).toEqual(['h03']);
        const anyOf = await search({
          filters: [{ type: 'terms', field: 'country', values: ['MC', 'AD', 'XX'] }],
        });
        expect(sorted(anyOf)).toEqual(['h03', 'h04']);
      });

      it('filters numbers and dates by range, with inclusive and exclusive bounds', async () => {
        const range = (filter: Record<string, unknown>) =>
          search({ filters: [{ type: 'range', ...filter } as never], limit: 100 });
        expect(sorted(await range({ field: 'price', gte: 120, lte: 220 }))).toEqual([
          'h01',
          'h04',
          'h08',
        ]);
        expect(sorted(await range({ field: 'price', gt: 120, lt: 220 }))).toEqual(['h08']);
        expect(
          sorted(await range({ field: 'opened', gte: '2015-01-01T00:00:00Z', lt: '2020-01-01' })),
        ).toEqual(['h04', 'h09']);
        expect(sorted(await range({ field: 'opened', lt: '1900-01-01T00:00:00Z' }))).toEqual([
          'h02',
        ]);
      });

      it('filters geo points by distance from a centre', async () => {
        const near = (km: number) =>
          search({
            filters: [
              {
                type: 'geo_distance',
                field: 'location',
                center: { lat: 43.7384, lon: 7.4246 },
                km,
              },
            ],
            limit: 100,
          });
        // Monaco to Nice is about 13 km, to Antibes about 30 km.
        expect(sorted(await near(5))).toEqual(['h03']);
        expect(sorted(await near(20))).toEqual(['h03', 'h07', 'h08']);
        expect(sorted(await near(40))).toEqual(['h03', 'h07', 'h08', 'h09']);
      });

      it('combines text with several filters', async () => {
        const page = await search({
          text: 'hotel',
          filters: [
            { type: 'range', field: 'stars', gte: 4 },
            { type: 'term', field: 'petsAllowed', value: true },
          ],
        });
        expect(sorted(page)).toEqual(['h01', 'h03']);
        expect(page.total).toBe(2);
      });
    });

    describe('sort and pages', () => {
      it('sorts by a field either way, documents lacking it last', async () => {
        const byPrice = (order: 'asc' | 'desc') =>
          search({ sort: [{ by: 'field', field: 'price', order }], limit: 100 });
        const ascending = ids(await byPrice('asc'));
        expect(ascending).toEqual([
          'h11',
          'h06',
          'h05',
          'h10',
          'h04',
          'h08',
          'h01',
          'h07',
          'h02',
          'h03',
          'h09',
        ]);
        const descending = ids(await byPrice('desc'));
        expect(descending).toEqual([...ascending.slice(0, -1)].reverse().concat('h09'));
      });

      it('sorts by several keys, then by id', async () => {
        const page = await search({
          sort: [
            { by: 'field', field: 'stars', order: 'desc' },
            { by: 'field', field: 'opened', order: 'asc' },
          ],
          limit: 5,
        });
        expect(ids(page)).toEqual(['h02', 'h03', 'h01', 'h07', 'h08']);
        const byCountry = await search({
          filters: [{ type: 'terms', field: 'country', values: ['CH', 'FR'] }],
          sort: [{ by: 'field', field: 'country', order: 'desc' }],
          limit: 10,
        });
        expect(ids(byCountry)).toEqual(['h07', 'h08', 'h09', 'h10', 'h01', 'h02']);
      });

      it('keeps relevance scores when sorting by a field', async () => {
        const page = await search({ text: 'hotel', sort: [{ by: 'field', field: 'price' }] });
        expect(ids(page)).toEqual(['h08', 'h01', 'h02', 'h03']);
        expect(page.hits.every((hit) => hit.score > 0)).toBe(true);
      });

      describe('over many pages', () => {
        let rooms: SearchIndex;
        const count = 57;
        beforeAll(async () => {
          rooms = await engine.openIndex({
            name: fresh('rooms'),
            version: 1,
            fields: {
              title: { type: 'text' },
              floor: { type: 'number' },
              view: { type: 'keyword' },
            },
          });
          const words = ['garden', 'sea', 'city', 'pool'];
          await rooms.upsert(
            Array.from({ length: count }, (_, i) => ({
              id: `room-${String(i).padStart(3, '0')}`,
              version: 1,
              fields: {
                title: `room with ${words[i % 4]} view${i % 3 === 0 ? ' and balcony' : ''}`,
                floor: i % 5,
                ...(i % 7 === 0 ? {} : { view: words[i % 4]! }),
              },
            })),
          );
          await rooms.refresh();
        });

        it.each<[string, SearchQuery, number]>([
          ['all, by score', {}, count],
          ['text, by score', { text: 'room view' }, count],
          ['text with ties in score', { text: 'balcony' }, 19],
          [
            'by a field with ties',
            { sort: [{ by: 'field', field: 'floor', order: 'desc' }] },
            count,
          ],
          ['by a field some lack', { sort: [{ by: 'field', field: 'view' }] }, count],
          [
            'filtered, by two fields',
            {
              filters: [{ type: 'range', field: 'floor', gte: 1 }],
              sort: [
                { by: 'field', field: 'view', order: 'desc' },
                { by: 'field', field: 'floor' },
              ],
            },
            45,
          ],
        ])('walks %s without duplicates or gaps', async (_what, query, expected) => {
          const single = await rooms.search({ ...query, limit: 100 });
          expect(single.total).toBe(expected);
          expect(single.cursor).toBeUndefined();

          const pages = await allPages(rooms, { ...query, limit: 10 });
          expect(pages).toHaveLength(Math.ceil(expected / 10));
          expect(pages.every((page) => page.total === expected)).toBe(true);
          const walked = pages.flatMap(ids);
          expect(walked).toEqual(ids(single));
          expect(new Set(walked).size).toBe(expected);
        });

        it('ends with the page that holds the last hit', async () => {
          const pages = await allPages(rooms, { limit: 19 });
          expect(pages.map((page) => page.hits.length)).toEqual([19, 19, 19]);
          expect(pages[2]!.cursor).toBeUndefined();
        });

        it('refuses a cursor from another query, or a made-up one', async () => {
          const first = await rooms.search({ text: 'garden', limit: 5 });
          expect(first.cursor).toBeDefined();
          expect(
            await failure(rooms.search({ text: 'pool', limit: 5, cursor: first.cursor! })),
          ).toEqual({ code: 'invalid_cursor', field: 'cursor' });
          expect(await failure(rooms.search({ cursor: 'not-a-cursor' }))).toEqual({
            code: 'invalid_cursor',
            field: 'cursor',
          });
          // The same query with another page size is the same query.
          const next = await rooms.search({ text: 'garden', limit: 3, cursor: first.cursor! });
          expect(next.hits).toHaveLength(3);
        });

        it('refuses a cursor of this query whose values were changed', async () => {
          const first = await rooms.search({ text: 'garden', limit: 5 });
          const { q } = JSON.parse(Buffer.from(first.cursor!, 'base64url').toString()) as {
            q: string;
          };
          const forged = (a: unknown) =>
            Buffer.from(JSON.stringify({ q, a })).toString('base64url');
          for (const a of [['x', 'y'], [], [null, null], [1, 2, 3, 4], [{ x: 1 }, 'id'], [1, 2]]) {
            expect(await failure(rooms.search({ text: 'garden', cursor: forged(a) }))).toEqual({
              code: 'invalid_cursor',
              field: 'cursor',
            });
          }
        });
      });
    });

    describe('writes', () => {
      let index: SearchIndex;
      beforeEach(async () => {
        index = await engine.openIndex({
          name: fresh(`writes_${randomBytes(3).toString('hex')}`),
          version: 1,
          fields: { title: { type: 'text' }, rating: { type: 'number' } },
        });
      });
      const title = async (id: string) => (await index.get(id))?.fields['title'];

      it('replaces a document with a newer version and ignores older ones', async () => {
        expect(await index.upsert([{ id: 'a', version: 2, fields: { title: 'second' } }])).toEqual([
          'applied',
        ]);
        expect(
          await index.upsert([
            { id: 'a', version: 1, fields: { title: 'first' } },
            { id: 'a', version: 2, fields: { title: 'second again' } },
          ]),
        ).toEqual(['stale', 'stale']);
        await index.refresh();
        expect(await title('a')).toBe('second');
        expect((await index.search({ text: 'first' })).total).toBe(0);

        expect(await index.upsert([{ id: 'a', version: 5, fields: { title: 'fifth' } }])).toEqual([
          'applied',
        ]);
        await index.refresh();
        expect(await title('a')).toBe('fifth');
        expect(ids(await index.search({ text: 'fifth' }))).toEqual(['a']);
        expect((await index.search({ text: 'second' })).total).toBe(0);
      });

      it('applies a batch in order, keeping the newest version of each document', async () => {
        const outcomes = await index.upsert([
          { id: 'b', version: 1, fields: { title: 'one' } },
          { id: 'b', version: 3, fields: { title: 'three' } },
          { id: 'b', version: 2, fields: { title: 'two' } },
          { id: 'c', version: 1, fields: { title: 'other' } },
        ]);
        expect(outcomes).toEqual(['applied', 'applied', 'stale', 'applied']);
        expect(await title('b')).toBe('three');
      });

      it('deletes a document, and keeps older writes from bringing it back', async () => {
        await index.upsert([
          { id: 'd', version: 3, fields: { title: 'doomed', rating: 2 }, origin: 'e3' },
          { id: 'k', version: 1, fields: { title: 'kept', rating: 2 } },
        ]);
        expect(await index.delete([{ id: 'd', version: 2 }])).toEqual(['stale']);
        expect(await index.delete([{ id: 'd', version: 4, origin: 'e4' }])).toEqual(['applied']);
        expect(await index.upsert([{ id: 'd', version: 3, fields: { title: 'zombie' } }])).toEqual([
          'stale',
        ]);
        await index.refresh();
        expect(await index.get('d')).toBeUndefined();
        expect((await index.search({ text: 'doomed' })).total).toBe(0);
        expect(
          ids(await index.search({ filters: [{ type: 'term', field: 'rating', value: 2 }] })),
        ).toEqual(['k']);
        expect(await index.versions(['d', 'k', 'never'])).toEqual(
          new Map([
            ['d', { version: 4, origin: 'e4', deleted: true }],
            ['k', { version: 1, origin: undefined, deleted: false }],
          ]),
        );

        expect(await index.upsert([{ id: 'd', version: 5, fields: { title: 'reborn' } }])).toEqual([
          'applied',
        ]);
        await index.refresh();
        expect(ids(await index.search({ text: 'reborn' }))).toEqual(['d']);
      });

      it('deletes a document it never saw, so that its older versions stay out', async () => {
        expect(await index.delete([{ id: 'ghost', version: 2 }])).toEqual(['applied']);
        expect(await index.upsert([{ id: 'ghost', version: 1, fields: { title: 'boo' } }])).toEqual(
          ['stale'],
        );
        await index.refresh();
        expect((await index.search({})).total).toBe(0);
      });

      it('refuses documents that do not fit the index, naming the field', async () => {
        const bad = (fields: Record<string, unknown>, version = 1) =>
          failure(index.upsert([{ id: 'x', version, fields: fields as never }]));
        expect(await bad({ colour: 'red' })).toEqual({ code: 'unknown_field', field: 'colour' });
        expect(await bad({ rating: 'five' })).toEqual({
          code: 'wrong_field_type',
          field: 'rating',
        });
        expect(await bad({ rating: Number.NaN })).toEqual({
          code: 'wrong_field_type',
          field: 'rating',
        });
        expect(await bad({ title: 42 })).toEqual({ code: 'wrong_field_type', field: 'title' });
        expect(await bad({ title: 'ok' }, 0)).toEqual({
          code: 'invalid_document',
          field: 'version',
        });
        expect(await bad({ title: 'ok' }, 1.5)).toEqual({
          code: 'invalid_document',
          field: 'version',
        });
        await index.refresh();
        expect(await index.get('x')).toBeUndefined();
      });
    });

    describe('queries it refuses', () => {
      it.each<[string, SearchQuery, string, string]>([
        [
          'an unknown filter field',
          { filters: [{ type: 'term', field: 'colour', value: 'red' }] },
          'unknown_field',
          'colour',
        ],
        [
          'a term filter on a text field',
          { filters: [{ type: 'term', field: 'name', value: 'Lac' }] },
          'wrong_field_type',
          'name',
        ],
        [
          'a range on a keyword',
          { filters: [{ type: 'range', field: 'country', gte: 'A' }] },
          'wrong_field_type',
          'country',
        ],
        [
          'a range without bounds',
          { filters: [{ type: 'range', field: 'price' }] },
          'invalid_query',
          'price',
        ],
        [
          'a number filter with a string',
          { filters: [{ type: 'term', field: 'stars', value: '5' }] },
          'wrong_field_type',
          'stars',
        ],
        [
          'a date filter that is no date',
          { filters: [{ type: 'range', field: 'opened', gte: 'yesterday' }] },
          'wrong_field_type',
          'opened',
        ],
        [
          'a distance on a number',
          {
            filters: [{ type: 'geo_distance', field: 'stars', center: { lat: 0, lon: 0 }, km: 1 }],
          },
          'wrong_field_type',
          'stars',
        ],
        [
          'a distance of no km',
          {
            filters: [
              { type: 'geo_distance', field: 'location', center: { lat: 0, lon: 0 }, km: 0 },
            ],
          },
          'invalid_query',
          'location',
        ],
        [
          'a centre off the globe',
          {
            filters: [
              { type: 'geo_distance', field: 'location', center: { lat: 91, lon: 0 }, km: 5 },
            ],
          },
          'invalid_query',
          'location',
        ],
        [
          'sorting on a text field',
          { sort: [{ by: 'field', field: 'description' }] },
          'wrong_field_type',
          'description',
        ],
        [
          'sorting on an unknown field',
          { sort: [{ by: 'field', field: 'rank' }] },
          'unknown_field',
          'rank',
        ],
        [
          'searching a keyword as text',
          { text: 'CH', fields: ['country'] },
          'wrong_field_type',
          'country',
        ],
        ['searching an unknown field', { text: 'x', fields: ['title'] }, 'unknown_field', 'title'],
        ['a page of none', { limit: 0 }, 'invalid_query', 'limit'],
        ['a page too large', { limit: 101 }, 'invalid_query', 'limit'],
      ])('refuses %s, naming the field', async (_what, query, code, field) => {
        expect(await failure(search(query))).toEqual({ code, field });
      });
    });

    describe('index versions', () => {
      it('opens an index again without losing its documents', async () => {
        const again = await engine.openIndex({
          name: hotels.spec.name,
          version: 1,
          fields: hotelFields,
        });
        expect((await again.search({})).total).toBe(HOTELS.length);
      });

      it('refuses other fields at the same version', async () => {
        const changed = { ...hotelFields, rooms: { type: 'number' as const } };
        expect(
          await failure(engine.openIndex({ name: hotels.spec.name, version: 1, fields: changed })),
        ).toMatchObject({ code: 'fields_changed' });
      });

      it('rebuilds once when two processes open the new version together', async () => {
        const indexName = fresh('twice');
        const fields: IndexSpec['fields'] = { name: { type: 'text' } };
        const old = await engine.openIndex({ name: indexName, version: 1, fields });
        await old.upsert(
          Array.from({ length: 500 }, (_, i) => ({
            id: `d${i}`,
            version: 1,
            fields: { name: 'x' },
          })),
        );
        const [other, more] = [await open(), { ...fields, size: { type: 'number' as const } }];
        const opened = await Promise.all(
          [engine, other].map((e) => e.openIndex({ name: indexName, version: 2, fields: more })),
        );
        await other.close();
        await opened[0]!.refresh();
        expect((await opened[0]!.search({})).total).toBe(500);
        expect(opened.map((index) => index.spec.version)).toEqual([2, 2]);
      }, 120_000);

      it('rebuilds at a new version without losing writes made meanwhile', async () => {
        const indexName = fresh('places');
        const v1: IndexSpec = {
          name: indexName,
          version: 1,
          fields: { name: { type: 'text' }, kind: { type: 'keyword' } },
        };
        const v2: IndexSpec = {
          name: indexName,
          version: 2,
          fields: {
            ...v1.fields,
            name: { type: 'text', boost: 2 },
            population: { type: 'number' },
          },
        };
        const old = await engine.openIndex(v1);
        const initial = 3000;
        const place = (i: number, version: number, word: string) => ({
          id: `p${i}`,
          version,
          fields: { name: `${word} place ${i}`, kind: i % 2 ? 'town' : 'village' },
        });
        for (let from = 0; from < initial; from += 500) {
          await old.upsert(Array.from({ length: 500 }, (_, i) => place(from + i, 1, 'first')));
        }
        await old.refresh();

        // Writers keep going through the old handle until the rebuild is done.
        let rebuilt = false;
        let rounds = 0;
        let next = initial;
        const deleted = new Set<number>();
        const renamed = new Set<number>();
        const writer = (async () => {
          while (!rebuilt || rounds < 3) {
            const batch = Array.from({ length: 20 }, (_, i) => rounds * 20 + i);
            await old.write([
              ...batch.map((i) => ({
                type: 'upsert' as const,
                document: place(next + i, 1, 'new'),
              })),
              ...batch.map((i) => ({
                type: 'upsert' as const,
                document: place((i * 7) % initial, 2, 'renamed'),
              })),
              { type: 'delete', deletion: { id: `p${rounds * 5 + 1}`, version: 3 } },
            ]);
            for (const i of batch) renamed.add((i * 7) % initial);
            deleted.add(rounds * 5 + 1);
            rounds += 1;
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          next += rounds * 20;
        })();
        const current = await engine.openIndex(v2);
        rebuilt = true;
        await writer;
        await current.refresh();

        const expected = new Set<string>();
        for (let i = 0; i < next; i += 1) if (!deleted.has(i)) expected.add(`p${i}`);
        const all = await allPages(current, { limit: 100, sort: [{ by: 'field', field: 'kind' }] });
        const found = all.flatMap(ids);
        expect(found.length).toBe(expected.size);
        expect(new Set(found)).toEqual(expected);

        const renamedLive = [...renamed].filter((i) => !deleted.has(i));
        const versions = await current.versions(renamedLive.map((i) => `p${i}`));
        expect([...versions.values()].every((v) => v.version === 2 && !v.deleted)).toBe(true);
        for (const i of [...deleted].slice(0, 5))
          expect(await current.get(`p${i}`)).toBeUndefined();
        const renamedHits = await current.search({ text: 'renamed', limit: 1 });
        expect(renamedHits.total).toBe(renamedLive.length);

        // The new field is there to write and filter.
        await current.upsert([
          { id: 'p0', version: 9, fields: { name: 'capital', kind: 'city', population: 22_000 } },
        ]);
        await current.refresh();
        const populous = await current.search({
          filters: [{ type: 'range', field: 'population', gte: 10_000 }],
        });
        expect(ids(populous)).toEqual(['p0']);
        // An old handle follows the index to its new version.
        expect((await old.get('p0'))?.version).toBe(9);
      }, 120_000);
    });
  });
}
