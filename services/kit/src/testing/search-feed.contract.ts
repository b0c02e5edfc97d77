import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { encodeEvent, envelope, type Envelope } from '../events.ts';
import type { EventLog, EventRecord } from '../ports/event-log/event-log.ts';
import type { IndexSpec, SearchEngine, SearchIndex } from '../ports/search/search.ts';
import { startSearchFeed, type Projection, type SearchFeed } from '../search-feed.ts';

interface HotelChanged {
  hotelId: string;
  version: number;
  name?: string;
  stars?: number | string;
}

const project: Projection<HotelChanged> = (event) => {
  const { hotelId: id, version, name, stars } = event.data;
  if (event.type === 'hotel.removed') return { type: 'delete', deletion: { id, version } };
  if (event.type !== 'hotel.saved') return undefined;
  if (name === 'explode') throw new Error('a projection bug');
  return { type: 'upsert', document: { id, version, fields: { name: name!, stars: stars! } } };
};

const saved = (id: string, version: number, stars: number | string = version) =>
  envelope<HotelChanged>('hotel.saved', 1, id, {
    hotelId: id,
    version,
    name: `${id} at version ${version}`,
    stars,
  });
const removed = (id: string, version: number) =>
  envelope<HotelChanged>('hotel.removed', 1, id, { hotelId: id, version });

function shuffle<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not in time`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A feed applies entity events idempotently; run once per event log and engine pair. */
export function searchFeedContract(
  name: string,
  open: () => Promise<{ eventLog: EventLog; engine: SearchEngine }>,
): void {
  describe(`search feed contract: ${name}`, () => {
    let eventLog: EventLog;
    let engine: SearchEngine;
    const run = randomBytes(4).toString('hex');
    let n = 0;
    const fresh = (what: string) => `feed_${run}_${what}_${(n += 1)}`;
    const feeds: SearchFeed[] = [];
    const indexes: string[] = [];
    const logger = pino({ level: 'silent' });

    const openIndex = async () => {
      const spec: IndexSpec = {
        name: fresh('hotels'),
        version: 1,
        fields: { name: { type: 'text' }, stars: { type: 'number' } },
      };
      indexes.push(spec.name);
      return engine.openIndex(spec);
    };
    const feed = async (index: SearchIndex, group: string, topic: string, registry: Registry) => {
      const started = await startSearchFeed({
        eventLog,
        index,
        group,
        topics: [topic],
        project,
        registry,
        logger,
        maxBatchSize: 50,
      });
      feeds.push(started);
      return started;
    };
    const publish = (topic: string, events: Envelope<HotelChanged>[]) =>
      eventLog.publish(topic, events.map(encodeEvent));
    const outcomes = async (registry: Registry) => {
      const metric = await registry.getSingleMetric('search_feed_events_total')!.get();
      return Object.fromEntries(
        metric.values.map((v) => [String(v.labels['outcome']), v.value]),
      ) as Record<string, number>;
    };

    beforeAll(async () => {
      ({ eventLog, engine } = await open());
    });
    afterEach(async () => {
      await Promise.all(feeds.splice(0).map((f) => f.close()));
    });
    afterAll(async () => {
      for (const indexName of indexes) await engine.dropIndex(indexName);
      await eventLog.close();
      await engine.close();
    });

    it('ends at the newest version of each entity, whatever the order and however often events come', async () => {
      const topic = fresh('topic');
      await eventLog.createTopic(topic, { partitions: 4 });
      const index = await openIndex();
      const registry = new Registry();
      const group = fresh('group');

      // 30 hotels, five versions each; every third one is removed at version 5.
      const hotels = Array.from({ length: 30 }, (_, i) => `hotel-${i}`);
      const history = hotels.flatMap((id, i) => [
        ...[1, 2, 3, 4].map((version) => saved(id, version)),
        i % 3 === 0 ? removed(id, 5) : saved(id, 5),
      ]);
      // Out of order within each entity, published by four producers at once, then all again.
      const shuffled = shuffle(history);
      const quarter = Math.ceil(shuffled.length / 4);
      await Promise.all(
        [0, 1, 2, 3].map((q) => publish(topic, shuffled.slice(q * quarter, (q + 1) * quarter))),
      );
      // Two members of one group share the partitions while a replay of everything arrives.
      await Promise.all([feed(index, group, topic, registry), feed(index, group, topic, registry)]);
      await publish(topic, shuffle(history));

      await waitFor('every event applied', async () => (await feeds[0]!.lag()) === 0);
      const versions = await index.versions(hotels);
      hotels.forEach((id, i) => {
        expect(versions.get(id)).toMatchObject({ version: 5, deleted: i % 3 === 0 });
      });
      await index.refresh();
      const live = await index.search({ limit: 100, sort: [{ by: 'field', field: 'stars' }] });
      expect(live.total).toBe(20);
      expect(live.hits.every((hit) => hit.fields['name'] === `${hit.id} at version 5`)).toBe(true);

      const counted = await outcomes(registry);
      const sum = Object.values(counted).reduce((a, b) => a + b, 0);
      // At least once: a rebalance between the two members may hand a batch over again.
      expect(sum).toBeGreaterThanOrEqual(history.length * 2);
      // Each final event is applied once and replayed at least once.
      expect(counted['applied']).toBeGreaterThanOrEqual(hotels.length);
      expect(counted['replayed']).toBeGreaterThanOrEqual(hotels.length);
      expect(counted['stale']).toBeGreaterThan(0);
      expect(counted['conflict']).toBeUndefined();
    }, 120_000);

    it('tells a replay from two events that claim one version', async () => {
      const topic = fresh('topic');
      await eventLog.createTopic(topic, { partitions: 1 });
      const index = await openIndex();
      const registry = new Registry();
      const first = saved('h', 1);
      const rival = saved('h', 1, 4);
      await publish(topic, [first, first, rival]);
      const running = await feed(index, fresh('group'), topic, registry);

      await waitFor('consumed', async () => (await running.lag()) === 0);
      expect(await index.versions(['h'])).toEqual(
        new Map([['h', { version: 1, origin: first.id, deleted: false }]]),
      );
      expect((await index.get('h'))?.fields['stars']).toBe(1);
      expect(await outcomes(registry)).toEqual({ applied: 1, replayed: 1, conflict: 1 });
    }, 120_000);

    it('skips what it cannot apply and goes on with the rest', async () => {
      const topic = fresh('topic');
      await eventLog.createTopic(topic, { partitions: 1 });
      const index = await openIndex();
      const registry = new Registry();
      const garbage: EventRecord = { key: 'g', value: Buffer.from('not json') };
      await eventLog.publish(topic, [
        garbage,
        encodeEvent(saved('a', 1)),
        encodeEvent(envelope('hotel.rated', 1, 'a', { hotelId: 'a', version: 2 })),
        encodeEvent(saved('b', 1, 'five')),
        encodeEvent({ ...saved('c', 1), data: { hotelId: 'c', version: 1, name: 'explode' } }),
        encodeEvent(saved('d', 1)),
      ]);
      const running = await feed(index, fresh('group'), topic, registry);

      await waitFor('consumed', async () => (await running.lag()) === 0);
      expect([...(await index.versions(['a', 'b', 'c', 'd'])).keys()].sort()).toEqual(['a', 'd']);
      expect(await outcomes(registry)).toEqual({
        applied: 2,
        skipped: 1,
        unreadable: 2,
        invalid: 1,
      });
    }, 120_000);

    it('exposes its consumer lag as a metric, and catches up after a restart', async () => {
      const topic = fresh('topic');
      await eventLog.createTopic(topic, { partitions: 2 });
      const index = await openIndex();
      const registry = new Registry();
      const group = fresh('group');
      const lagMetric = async () => {
        const metric = await registry.getSingleMetric('search_feed_lag_records')!.get();
        return metric.values.find((v) => v.labels['topic'] === topic)?.value;
      };

      // An index that holds every write until it is let go.
      let letGo: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (letGo = resolve));
      const slow: SearchIndex = {
        spec: index.spec,
        write: async (changes) => {
          await held;
          return index.write(changes);
        },
        upsert: (documents) => index.upsert(documents),
        delete: (deletions) => index.delete(deletions),
        get: (id) => index.get(id),
        versions: (ids) => index.versions(ids),
        search: (query) => index.search(query),
        refresh: () => index.refresh(),
      };
      const running = await feed(slow, group, topic, registry);
      await publish(
        topic,
        Array.from({ length: 7 }, (_, i) => saved(`z${i}`, 1)),
      );
      await waitFor('lag of 7 reported', async () => (await lagMetric()) === 7);
      letGo();
      await waitFor('caught up', async () => (await lagMetric()) === 0);

      await running.close();
      feeds.splice(feeds.indexOf(running), 1);
      // A stopped feed no longer reports.
      expect(await lagMetric()).toBeUndefined();
      await publish(topic, [saved('z0', 2), saved('z7', 1)]);
      expect(await eventLog.lag(group, topic)).toBe(2);

      const restarted = await feed(index, group, topic, registry);
      await waitFor('caught up again', async () => (await restarted.lag()) === 0);
      const versions = await index.versions(['z0', 'z6', 'z7']);
      expect([...versions.values()].map((v) => v.version)).toEqual([2, 1, 1]);
      expect(await outcomes(registry)).toEqual({ applied: 9 });
    }, 120_000);
  });
}
