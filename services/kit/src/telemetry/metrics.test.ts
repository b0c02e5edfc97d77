import { MemoryEventLog } from '../ports/event-log/memory-event-log.ts';
import { consumerLagGauge, counterOf, createMetrics } from './metrics.ts';

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

describe('counterOf', () => {
  it('exposes every label value at 0 before the first increment', async () => {
    const metrics = createMetrics('kit-test');
    const counter = counterOf({
      name: 'kit_test_outcomes_total',
      help: 'Outcomes.',
      registry: metrics.registry,
      label: 'outcome',
      values: ['ok', 'error'],
    });
    counter.labels('ok').inc(2);

    const text = await metrics.registry.metrics();
    expect(text).toContain('kit_test_outcomes_total{outcome="ok",service="kit-test"} 2');
    expect(text).toContain('kit_test_outcomes_total{outcome="error",service="kit-test"} 0');
  });
});
