import { MemoryEventLog } from '../ports/event-log/memory-event-log.ts';
import { consumerLagGauge, createMetrics } from './metrics.ts';

const record = (key: string) => ({ key, value: Buffer.from(key) });

describe('consumerLagGauge', () => {
  it('reports the records the group has not committed, asked at each scrape', async () => {
    const eventLog = new MemoryEventLog();
    const { registry } = createMetrics('kit-test');
    consumerLagGauge({
      name: 'test_lag',
      help: 'lag',
      registry,
      eventLog,
      group: 'readers',
      topic: 'things',
    });
    await eventLog.createTopic('things', { partitions: 2 });
    await eventLog.publish('things', ['a', 'b', 'c'].map(record));
    expect(await registry.metrics()).toMatch(/^test_lag\{service="kit-test"\} 3$/m);

    await eventLog.publish('things', [record('d')]);
    expect(await registry.metrics()).toMatch(/^test_lag\{service="kit-test"\} 4$/m);
    await eventLog.close();
  });

  it('reads NaN, not zero, when the log cannot say', async () => {
    const { registry } = createMetrics('kit-test');
    const eventLog = { lag: () => Promise.reject(new Error('broker down')) };
    consumerLagGauge({ name: 'test_lag', help: 'lag', registry, eventLog, group: 'g', topic: 't' });
    expect(await registry.metrics()).toMatch(/^test_lag\{service="kit-test"\} Nan$/m);
  });
});
