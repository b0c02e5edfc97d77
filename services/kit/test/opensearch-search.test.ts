import { randomBytes } from 'node:crypto';
import { OpenSearchEngine } from '../src/ports/search/opensearch-engine.ts';
import type { IndexSpec } from '../src/ports/search/search.ts';
import { searchContract } from '../src/testing/search.contract.ts';
import { serverAddress } from '../src/testing/servers.ts';

const url = () => serverAddress('OPENSEARCH_URL');
const open = (prefix: string) => new OpenSearchEngine({ node: url(), prefix, switchGraceMs: 200 });

// Suites share one node: each run names its indexes apart. Engines the contract opens
// within a run see the same indexes, as processes of one deployment do.
const runPrefix = `kit-${randomBytes(3).toString('hex')}-`;
searchContract('opensearch', async () => open(runPrefix));

describe('opensearch search with a name prefix', () => {
  const run = randomBytes(3).toString('hex');
  const engines = [open(`A-${run}.`), open(`b-${run}.`)] as const;
  const spec: IndexSpec = { name: 'places', version: 1, fields: { name: { type: 'text' } } };
  afterAll(async () => {
    for (const engine of engines) {
      await engine.dropIndex('places');
      await engine.close();
    }
  });

  it('keeps the indexes of two deployments apart, under versioned names behind an alias', async () => {
    const [a, b] = await Promise.all(engines.map((engine) => engine.openIndex(spec)));
    await a!.upsert([{ id: 'p1', version: 1, fields: { name: 'Monaco' } }]);
    await a!.refresh();
    await b!.refresh();
    expect((await a!.search({ text: 'monaco' })).total).toBe(1);
    expect((await b!.search({ text: 'monaco' })).total).toBe(0);

    // Index names are lower case: the prefix is lower-cased.
    const aliases = (await fetch(`${url()}/_alias/a-${run}.places`).then((r) =>
      r.json(),
    )) as object;
    expect(Object.keys(aliases)).toEqual([`a-${run}.places_v1`]);
  });

  it('refuses a prefix that cannot begin an index name', () => {
    expect(() => open('_hidden')).toThrow(/cannot begin an OpenSearch index name/);
  });
});
