import { randomBytes } from 'node:crypto';
import type { TableSpec, WideColumn } from '../ports/wide-column/wide-column.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The behaviour every wide-column adapter must have; run once per adapter. */
export function wideColumnContract(name: string, open: () => Promise<WideColumn>): void {
  describe(`wide-column contract: ${name}`, () => {
    let store: WideColumn;
    const suffix = randomBytes(4).toString('hex');
    const events: TableSpec = {
      name: `events_${suffix}`,
      columns: { stream: 'text', at: 'timestamp', seq: 'int', body: 'text', flag: 'boolean' },
      partitionKey: ['stream'],
      clustering: [
        { column: 'at', order: 'desc' },
        { column: 'seq', order: 'asc' },
      ],
    };
    const things: TableSpec = {
      name: `things_${suffix}`,
      columns: { id: 'text', owner: 'text', size: 'bigint', data: 'blob', score: 'double' },
      partitionKey: ['id'],
    };

    beforeAll(async () => {
      store = await open();
      await store.defineTables([events, things]);
      await store.defineTables([events, things]);
    });
    afterAll(async () => {
      await store.close();
    });

    it('adds the columns a newer spec declares to a table an older one made', async () => {
      const v1: TableSpec = {
        name: `evolving_${suffix}`,
        columns: { id: 'text', at: 'timestamp', body: 'text' },
        partitionKey: ['id'],
        clustering: [{ column: 'at', order: 'asc' }],
      };
      await store.defineTables([v1]);
      await store.insert(v1.name, { id: 'x', at: 1, body: 'old' });

      const v2 = { ...v1, columns: { ...v1.columns, attachments: 'text', size: 'bigint' } };
      // Processes of the new version start side by side; all of them add the columns.
      const others = await Promise.all([open(), open()]);
      await Promise.all([store, ...others].map((s) => s.defineTables([v2 as TableSpec])));
      await Promise.all(others.map((s) => s.close()));

      const old = await store.get(v2.name, { id: 'x', at: 1 });
      expect(old).toMatchObject({ id: 'x', body: 'old' });
      expect(old?.attachments ?? null).toBeNull();
      await store.insert(v2.name, { id: 'x', at: 2, body: 'new', attachments: 'a,b', size: 7 });
      expect(await store.get(v2.name, { id: 'x', at: 2 })).toMatchObject({
        attachments: 'a,b',
        size: 7,
      });
      // The older spec still works against the wider table.
      await store.defineTables([v1]);
      expect(await store.select(v1.name, { id: 'x' })).toHaveLength(2);
    });

    it('refuses a spec whose key or column type changed, naming the table', async () => {
      const table: TableSpec = {
        name: `fixed_${suffix}`,
        columns: { id: 'text', n: 'int' },
        partitionKey: ['id'],
      };
      await store.defineTables([table]);
      await expect(
        store.defineTables([{ ...table, columns: { id: 'text', n: 'text' } }]),
        // Each adapter names the stored type its own way (SQLite: INTEGER for int).
      ).rejects.toThrow(new RegExp(`^fixed_${suffix}\\.n is \\w+ but the code declares text;`));
      await expect(store.defineTables([{ ...table, partitionKey: ['n'] }])).rejects.toThrow(
        `fixed_${suffix}: its primary key is (id) but the code declares (n)`,
      );
    });

    it('reads back what it wrote, with each type intact', async () => {
      const row = {
        id: 'a',
        owner: 'ann',
        size: 2 ** 40 + 3,
        data: Buffer.from([0, 255, 7]),
        score: 1.5,
      };
      expect(await store.insert(things.name, row)).toBe(true);
      expect(await store.get(things.name, { id: 'a' })).toEqual(row);
      expect(await store.get(things.name, { id: 'missing' })).toBeUndefined();
    });

    it('upserts only the columns a write names', async () => {
      await store.insert(things.name, { id: 'b', owner: 'bob', size: 1 });
      await store.insert(things.name, { id: 'b', size: 2 });
      expect(await store.get(things.name, { id: 'b' })).toMatchObject({ owner: 'bob', size: 2 });
      await store.delete(things.name, { id: 'b' });
      expect(await store.get(things.name, { id: 'b' })).toBeUndefined();
    });

    it('returns a partition in clustering order, bounded and limited', async () => {
      const base = Date.UTC(2026, 0, 1);
      for (let i = 0; i < 6; i += 1) {
        await store.insert(events.name, {
          stream: 's',
          at: base + i * 1000,
          seq: i,
          body: `e${i}`,
          flag: i % 2 === 0,
        });
      }
      await store.insert(events.name, {
        stream: 'other',
        at: base,
        seq: 0,
        body: 'x',
        flag: false,
      });

      const newest = await store.select(events.name, { stream: 's' }, { limit: 3 });
      expect(newest.map((r) => r.body)).toEqual(['e5', 'e4', 'e3']);
      expect(newest[0]?.flag).toBe(false);
      const oldest = await store.select(events.name, { stream: 's' }, { reverse: true, limit: 2 });
      expect(oldest.map((r) => r.body)).toEqual(['e0', 'e1']);
      const window = await store.select(
        events.name,
        { stream: 's' },
        { after: base + 1000, before: base + 4000 },
      );
      expect(window.map((r) => r.body)).toEqual(['e3', 'e2']);
    });

    it('gives exactly one winner to concurrent conditional inserts', async () => {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          store.insert(things.name, { id: 'alias', owner: `o${i}` }, { ifNotExists: true }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect((await store.get(things.name, { id: 'alias' }))?.owner).toBe(`o${winner}`);
    });

    it('forgets rows after their time to live, freeing the key', async () => {
      await store.insert(things.name, { id: 'ttl', owner: 'x' }, { ttlSeconds: 1 });
      expect(await store.get(things.name, { id: 'ttl' })).toBeDefined();
      await sleep(2100);
      expect(await store.get(things.name, { id: 'ttl' })).toBeUndefined();
      expect(
        await store.insert(things.name, { id: 'ttl', owner: 'y' }, { ifNotExists: true }),
      ).toBe(true);
    });
  });
}
