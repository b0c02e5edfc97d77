// npm run bench:search: indexing rate and query latency of the search port's
// adapters on one corpus (the OpenStreetMap names of the repository's data/osm or
// OSM_DIR, plus a generated hotel catalogue), measured in one run and written
// to docs/benchmarks.md. OpenSearch is measured when OPENSEARCH_URL is set
// (eval "$(npm run -s infra -- env)"), the embedded adapter always.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createOSMStream } from 'osm-pbf-parser-node';
import { format } from 'prettier';
import { z } from 'zod';
import { infraSchema, loadConfig } from '../src/config/index.ts';
import { MiniSearchEngine } from '../src/ports/search/minisearch-engine.ts';
import { OpenSearchEngine } from '../src/ports/search/opensearch-engine.ts';
import { seeded } from '../src/testing/random.ts';
import type {
  IndexSpec,
  SearchDocument,
  SearchEngine,
  SearchQuery,
} from '../src/ports/search/search.ts';

const config = loadConfig(
  infraSchema.extend({
    OSM_DIR: z.string().default(fileURLToPath(new URL('../../../data/osm', import.meta.url))),
    BENCH_HOTELS: z.coerce.number().int().positive().default(50_000),
    BENCH_ROUNDS: z.coerce.number().int().positive().default(3),
    BENCH_QUERIES: z.coerce.number().int().positive().default(300),
  }),
);
const EXTRACTS = ['andorra', 'monaco'];
const BATCH = 1000;
const benchmarksFile = fileURLToPath(new URL('../../../docs/benchmarks.md', import.meta.url));

const spec: IndexSpec = {
  name: 'places',
  version: 1,
  fields: {
    name: { type: 'text', boost: 3 },
    city: { type: 'text' },
    description: { type: 'text' },
    kind: { type: 'keyword' },
    amenities: { type: 'keyword' },
    stars: { type: 'number' },
    price: { type: 'number' },
    opened: { type: 'date' },
    location: { type: 'geo_point' },
  },
};

interface Place {
  name: string;
  kind: string;
  lat: number;
  lon: number;
}

/** Named nodes and ways of the extracts; a way sits at the mean of its nodes. */
async function osmPlaces(): Promise<Place[]> {
  const places: Place[] = [];
  for (const extract of EXTRACTS) {
    const nodes = new Map<number, [number, number]>();
    for await (const item of createOSMStream(`${config.OSM_DIR}/${extract}.osm.pbf`)) {
      const entity = item as {
        type?: string;
        id: number;
        lat?: number;
        lon?: number;
        refs?: number[];
        tags?: Record<string, string>;
      };
      if (entity.type === 'node') nodes.set(entity.id, [entity.lat!, entity.lon!]);
      const name = entity.tags?.['name'];
      if (!name || (entity.type !== 'node' && entity.type !== 'way')) continue;
      const points =
        entity.type === 'node'
          ? [[entity.lat!, entity.lon!]]
          : (entity.refs ?? []).flatMap((ref) => (nodes.has(ref) ? [nodes.get(ref)!] : []));
      if (points.length === 0) continue;
      const tags = entity.tags!;
      const kind =
        ['place', 'tourism', 'amenity', 'shop', 'highway', 'building'].find((k) => tags[k]) ??
        'other';
      places.push({
        name,
        kind,
        lat: points.reduce((sum, p) => sum + p[0]!, 0) / points.length,
        lon: points.reduce((sum, p) => sum + p[1]!, 0) / points.length,
      });
    }
  }
  return places;
}

const WORDS = {
  first: ['Grand', 'Royal', 'Old', 'Little', 'Blue', 'Golden', 'Silver', 'Green', 'Petit', 'Nou'],
  second: ['Palace', 'Garden', 'Harbour', 'Mountain', 'Valley', 'River', 'Castle', 'Square'],
  kind: ['Hotel', 'Hôtel', 'Hostal', 'Inn', 'Lodge', 'Resort', 'Residència', 'Apartments'],
  amenities: ['pool', 'spa', 'gym', 'parking', 'wifi', 'ski', 'sea-view', 'pets'],
  describe: ['quiet', 'central', 'family', 'historic', 'modern', 'cosy', 'panoramic', 'sunny'],
};

/** Hotels in and around the OSM places, named from the word lists and the places themselves. */
function hotelCatalogue(places: Place[], count: number): SearchDocument[] {
  const random = seeded(7);
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!;
  const towns = places.filter((p) => p.kind === 'place');
  return Array.from({ length: count }, (_, i) => {
    const town = pick(towns);
    const nearby = pick(places);
    const named = random() < 0.3 ? nearby.name : `${pick(WORDS.first)} ${pick(WORDS.second)}`;
    return {
      id: `hotel-${i}`,
      version: 1,
      fields: {
        name: `${named} ${pick(WORDS.kind)}`,
        city: town.name,
        description: `${pick(WORDS.describe)} rooms near ${nearby.name}`,
        kind: 'hotel',
        amenities: WORDS.amenities.filter(() => random() < 0.3),
        stars: 1 + Math.floor(random() * 5),
        price: Math.round(40 + random() * 460),
        opened: new Date(Date.UTC(1950, 0, 1) + random() * 75 * 365 * 86_400_000).toISOString(),
        location: {
          lat: town.lat + (random() - 0.5) * 0.05,
          lon: town.lon + (random() - 0.5) * 0.05,
        },
      },
    };
  });
}

function placeDocuments(places: Place[]): SearchDocument[] {
  return places.map((place, i) => ({
    id: `osm-${i}`,
    version: 1,
    fields: { name: place.name, kind: place.kind, location: { lat: place.lat, lon: place.lon } },
  }));
}

/** One typo in a word: a letter replaced (two for words of six letters and more). */
function misspell(word: string, random: () => number): string {
  const chars = [...word.toLowerCase()];
  const edits = chars.length >= 6 ? 2 : chars.length >= 3 ? 1 : 0;
  for (let e = 0; e < edits; e += 1) {
    const at = Math.floor(random() * chars.length);
    chars[at] = chars[at] === 'x' ? 'z' : 'x';
  }
  return chars.join('');
}

/** Query kinds, each drawn from the corpus itself, identical for both adapters. */
function querySets(corpus: SearchDocument[], count: number): Record<string, SearchQuery[]> {
  const random = seeded(11);
  const words = corpus
    .flatMap((doc) => String(doc.fields['name']).split(/[^\p{L}\p{N}]+/u))
    .filter((word) => word.length >= 4);
  const word = () => words[Math.floor(random() * words.length)]!;
  const point = () => {
    const doc = corpus[Math.floor(random() * corpus.length)]!;
    return doc.fields['location'] as { lat: number; lon: number };
  };
  const many = (make: () => SearchQuery) => Array.from({ length: count }, make);
  return {
    'one word': many(() => ({ text: word() })),
    'two words': many(() => ({ text: `${word()} ${word()}` })),
    'one word, misspelt': many(() => ({ text: misspell(word(), random) })),
    'completion (3 letters)': many(() => ({ text: word().slice(0, 3), prefix: true })),
    'word + 5 km + by price': many(() => ({
      text: word(),
      filters: [{ type: 'geo_distance', field: 'location', center: point(), km: 5 }],
      sort: [{ by: 'field', field: 'price' }],
    })),
    'filters only, by price': many(() => ({
      filters: [
        { type: 'range', field: 'stars', gte: 1 + Math.floor(random() * 5) },
        { type: 'term', field: 'amenities', value: WORDS.amenities[Math.floor(random() * 8)]! },
      ],
      sort: [{ by: 'field', field: 'price' }],
    })),
    'page 3 of a word': many(() => ({ text: word() })),
  };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

interface Round {
  docsPerSecond: number;
  queries: Record<string, { p50: number; p99: number; meanTotal: number }>;
  /** Each query's match count, by kind, in query order. */
  totals: Record<string, number[]>;
}

async function measure(
  engine: SearchEngine,
  corpus: SearchDocument[],
  queries: Record<string, SearchQuery[]>,
): Promise<Round> {
  await engine.dropIndex(spec.name);
  const index = await engine.openIndex(spec);
  const started = performance.now();
  for (let from = 0; from < corpus.length; from += BATCH) {
    await index.upsert(corpus.slice(from, from + BATCH));
  }
  await index.refresh();
  const docsPerSecond = corpus.length / ((performance.now() - started) / 1000);

  const results: Round['queries'] = {};
  const totals: Round['totals'] = {};
  for (const [kind, set] of Object.entries(queries)) {
    const took: number[] = [];
    const counts: number[] = (totals[kind] = []);
    for (const query of set) {
      const t0 = performance.now();
      let page = await index.search({ ...query, limit: 10 });
      // Deep pages: follow the cursor to the third page.
      if (kind.startsWith('page 3')) {
        for (let p = 0; p < 2 && page.cursor; p += 1) {
          page = await index.search({ ...query, limit: 10, cursor: page.cursor });
        }
      }
      took.push(performance.now() - t0);
      counts.push(page.total);
    }
    took.sort((a, b) => a - b);
    results[kind] = {
      p50: percentile(took, 50),
      p99: percentile(took, 99),
      meanTotal: counts.reduce((sum, n) => sum + n, 0) / set.length,
    };
  }
  await engine.dropIndex(spec.name);
  return { docsPerSecond, queries: results, totals };
}

/** The machine's 1-minute load when the run started: other work on it skews every figure. */
const loadAtStart = loadavg()[0]!;

async function main(): Promise<void> {
  const places = await osmPlaces();
  const corpus = [...placeDocuments(places), ...hotelCatalogue(places, config.BENCH_HOTELS)];
  const queries = querySets(corpus, config.BENCH_QUERIES);
  console.log(`corpus: ${places.length} OSM names + ${config.BENCH_HOTELS} hotels`);

  const adapters: [string, () => SearchEngine][] = [
    ['MiniSearch (embedded)', () => new MiniSearchEngine()],
  ];
  if (config.OPENSEARCH_URL) {
    const prefix = `bench-${randomBytes(3).toString('hex')}-`;
    adapters.push([
      'OpenSearch 2.19 (1 node)',
      () => new OpenSearchEngine({ node: config.OPENSEARCH_URL!, prefix }),
    ]);
  }

  const rows: string[] = [];
  const lastRounds: Round[] = [];
  for (const [name, open] of adapters) {
    const rounds: Round[] = [];
    for (let r = 0; r < config.BENCH_ROUNDS; r += 1) {
      const engine = open();
      rounds.push(await measure(engine, corpus, queries));
      await engine.close();
      console.log(`${name}: round ${r + 1}: ${rounds.at(-1)!.docsPerSecond.toFixed(0)} docs/s`);
    }
    lastRounds.push(rounds.at(-1)!);
    rows.push(
      `| ${name} | indexing | ${median(rounds.map((r) => r.docsPerSecond)).toFixed(0)} docs/s | | | |`,
    );
    for (const kind of Object.keys(queries)) {
      const of = (pick: (q: Round['queries'][string]) => number) =>
        median(rounds.map((r) => pick(r.queries[kind]!)));
      rows.push(
        `| ${name} | ${kind} | | ${of((q) => q.p50).toFixed(2)} | ${of((q) => q.p99).toFixed(2)} | ` +
          `${of((q) => q.meanTotal).toFixed(0)} |`,
      );
    }
  }
  console.log(rows.join('\n'));
  const agreement = lastRounds.length > 1 ? compareTotals(lastRounds[0]!, lastRounds[1]!) : '';
  console.log(agreement);
  await writeSection(rows, places.length, agreement);
}

/** How many queries found a different number of matches on the two adapters. */
function compareTotals(a: Round, b: Round): string {
  let differing = 0;
  let all = 0;
  for (const [kind, counts] of Object.entries(a.totals)) {
    counts.forEach((count, i) => {
      all += 1;
      if (count !== b.totals[kind]![i]) differing += 1;
    });
  }
  return `${differing} of the ${all} queries found a different number of matches on the two adapters.`;
}

async function writeSection(rows: string[], osmNames: number, agreement: string) {
  const withOpenSearch = agreement !== '';
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const section = [
    '<!-- search:start -->',
    '## Search port',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench:search\` on ` +
      `${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node.js ` +
      `${process.version}, load average ${loadAtStart.toFixed(1)} at the start. Corpus: the ${osmNames} named nodes and ways of the OSM extracts ` +
      `(${EXTRACTS.join(', ')}) and ${config.BENCH_HOTELS} generated hotels placed around them, ` +
      `${osmNames + config.BENCH_HOTELS} documents; indexed in batches of ${BATCH} upserts ` +
      'through the port, the rate including the final refresh. Queries are drawn from the corpus ' +
      `(${config.BENCH_QUERIES} of each kind, one at a time, 10 hits a page; "page 3" follows ` +
      'two cursors and is timed in full), the same for both adapters. ' +
      (withOpenSearch
        ? 'OpenSearch runs on the same machine (512 MiB heap), so its figures include HTTP and JSON. '
        : 'OpenSearch was not measured in this run (OPENSEARCH_URL unset). ') +
      `Median of ${config.BENCH_ROUNDS} rounds; "mean total" is the mean number of matches, ` +
      'where the adapters may differ (OpenSearch expands a fuzzy word to at most 50 terms).',
    '',
    '| adapter | scenario | rate | p50 ms | p99 ms | mean total |',
    '|---|---|---|---|---|---|',
    ...rows,
    ...(withOpenSearch ? ['', agreement] : []),
    '<!-- search:end -->',
  ].join('\n');

  const text = readFileSync(benchmarksFile, 'utf8');
  const pattern = /<!-- search:start -->[\s\S]*<!-- search:end -->/;
  const updated = pattern.test(text)
    ? text.replace(pattern, section)
    : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(benchmarksFile, await format(updated, { parser: 'markdown', printWidth: 100 }));
  console.log(`wrote ${benchmarksFile}`);
}

await main();
