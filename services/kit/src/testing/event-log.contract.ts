import { randomBytes } from 'node:crypto';
import type { ConsumedRecord, EventLog, Subscription } from '../ports/event-log/event-log.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(25);
  }
}

const record = (key: string, value: string) => ({ key, value: Buffer.from(value) });

/** The behaviour every event-log adapter must have; run once per adapter. */
export function eventLogContract(name: string, open: () => Promise<EventLog>): void {
  describe(`event-log contract: ${name}`, () => {
    let log: EventLog;
    const run = randomBytes(4).toString('hex');
    let n = 0;
    const fresh = (what: string) => `contract-${run}-${what}-${(n += 1)}`;
    const subscriptions: Subscription[] = [];

    const collect = async (group: string, topic: string, into: ConsumedRecord[]) => {
      const subscription = await log.subscribe({
        group,
        topics: [topic],
        handleBatch: async (batch) => {
          into.push(...batch.records);
        },
      });
      subscriptions.push(subscription);
      return subscription;
    };

    beforeAll(async () => {
      log = await open();
    });
    afterEach(async () => {
      await Promise.all(subscriptions.splice(0).map((s) => s.close()));
    });
    afterAll(async () => {
      await log.close();
    });

    it('delivers every record to a group, in order per key', async () => {
      const topic = fresh('order');
      await log.createTopic(topic, { partitions: 3 });
      const keys = ['a', 'b', 'c', 'd', 'e'];
      await log.publish(
        topic,
        Array.from({ length: 100 }, (_, i) => record(keys[i % keys.length]!, String(i))),
      );

      const seen: ConsumedRecord[] = [];
      await collect(fresh('group'), topic, seen);
      await waitFor(() => seen.length >= 100);

      for (const key of keys) {
        const values = seen.filter((r) => r.key === key).map((r) => Number(r.value.toString()));
        expect(values).toEqual([...values].sort((x, y) => x - y));
        expect(new Set(values).size).toBe(20);
        expect(new Set(seen.filter((r) => r.key === key).map((r) => r.partition)).size).toBe(1);
      }
    });

    it('delivers compressed records as they were published', async () => {
      const topic = fresh('compressed');
      await log.createTopic(topic, { partitions: 2 });
      const bulky = (i: number) => `${i} ${'a repetitive payload '.repeat(200)}`;
      await log.publish(
        topic,
        Array.from({ length: 50 }, (_, i) => record(`k${i % 5}`, bulky(i))),
        { compress: true },
      );

      const seen: ConsumedRecord[] = [];
      await collect(fresh('group'), topic, seen);
      await waitFor(() => seen.length >= 50);

      const values = seen.map((r) => r.value.toString()).sort((x, y) => parseInt(x) - parseInt(y));
      expect(values).toEqual(Array.from({ length: 50 }, (_, i) => bulky(i)));
    });

    it('shares partitions among the members of a group and feeds every group', async () => {
      const topic = fresh('share');
      await log.createTopic(topic, { partitions: 4 });
      const group = fresh('group');
      const first: ConsumedRecord[] = [];
      const second: ConsumedRecord[] = [];
      const other: ConsumedRecord[] = [];
      await collect(group, topic, first);
      await collect(group, topic, second);
      await collect(fresh('group'), topic, other);

      await log.publish(
        topic,
        Array.from({ length: 200 }, (_, i) => record(`k${i}`, String(i))),
      );
      await waitFor(
        () => new Set([...first, ...second].map((r) => r.value.toString())).size >= 200,
      );
      await waitFor(() => other.length >= 200);
      expect(new Set(other.map((r) => r.value.toString())).size).toBe(200);
    });

    it('delivers a batch again when its handler fails', async () => {
      const topic = fresh('retry');
      await log.createTopic(topic, { partitions: 1 });
      await log.publish(topic, [record('k', 'poison'), record('k', 'after')]);

      let attempts = 0;
      const delivered: string[] = [];
      subscriptions.push(
        await log.subscribe({
          group: fresh('group'),
          topics: [topic],
          handleBatch: async (batch) => {
            if (batch.records.some((r) => r.value.toString() === 'poison') && attempts++ === 0) {
              throw new Error('transient failure');
            }
            delivered.push(...batch.records.map((r) => r.value.toString()));
          },
        }),
      );
      await waitFor(() => delivered.includes('after'));
      expect(attempts).toBeGreaterThanOrEqual(2);
      expect(delivered.indexOf('poison')).toBeLessThan(delivered.indexOf('after'));
    });

    it('resumes a group after its committed offsets, and reports lag', async () => {
      const topic = fresh('resume');
      const group = fresh('group');
      await log.createTopic(topic, { partitions: 2 });
      await log.publish(
        topic,
        Array.from({ length: 10 }, (_, i) => record(`k${i}`, `old${i}`)),
      );
      expect(await log.lag(group, topic)).toBe(10);

      const before: ConsumedRecord[] = [];
      const first = await collect(group, topic, before);
      await waitFor(() => before.length >= 10);
      await sleep(200);
      await first.close();
      subscriptions.splice(subscriptions.indexOf(first), 1);
      expect(await log.lag(group, topic)).toBe(0);

      await log.publish(
        topic,
        Array.from({ length: 5 }, (_, i) => record(`k${i}`, `new${i}`)),
      );
      const after: ConsumedRecord[] = [];
      await collect(group, topic, after);
      await waitFor(() => after.length >= 5);
      await sleep(500);
      expect(after.map((r) => r.value.toString()).sort()).toEqual([
        'new0',
        'new1',
        'new2',
        'new3',
        'new4',
      ]);
    });
  });
}
