import { Histogram, Registry } from 'prom-client';
import { FastHistogram } from './fast-histogram.ts';

const buckets = [0.001, 0.01, 0.1, 1];
const labelNames = ['method', 'status_code'] as const;

/** The samples of an exposition, keyed by name and sorted labels, with the TYPE lines. */
function samples(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE')) found.set(line, 0);
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = (match[2] ?? '').split(',').filter(Boolean).sort().join(',');
    found.set(`${match[1]}{${labels}}`, Number(match[3]));
  }
  return found;
}

describe('FastHistogram', () => {
  it('exposes what prom-client exposes for the same observations', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    for (const registry of [theirs, ours]) registry.setDefaultLabels({ service: 'test' });
    const config = { name: 'request_seconds', help: 'Requests.', labelNames, buckets };
    const reference = new Histogram({ ...config, registers: [theirs] });
    const fast = new FastHistogram({ ...config, registers: [ours] });
    const bound = fast.labels({ method: 'GET', status_code: 301 });

    // On a bound, between bounds, below the first, above the last, zero.
    const values = [0.001, 0.0005, 0.05, 0.01, 1, 7.5, 0, 0.1, 0.2];
    for (const value of values) {
      reference.observe({ method: 'GET', status_code: '301' }, value);
      bound.observe(value);
      reference.observe({ method: 'POST', status_code: '201' }, value * 2);
      fast.observe({ method: 'POST', status_code: '201' }, value * 2);
    }

    const expected = samples(await theirs.metrics());
    expect(expected.size).toBeGreaterThan(2 * (buckets.length + 3));
    expect(samples(await ours.metrics())).toEqual(expected);
  });

  it('shows a series once observed, and after a reset once observed again', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const config = { name: 'h', help: 'h', labelNames, buckets };
    const reference = new Histogram({ ...config, registers: [theirs] });
    const fast = new FastHistogram({ ...config, registers: [ours] });
    const same = async () =>
      expect(samples(await ours.metrics())).toEqual(samples(await theirs.metrics()));
    const a = { method: 'GET', status_code: '200' };
    const b = { method: 'PUT', status_code: '204' };
    const boundA = fast.labels(a);
    reference.labels(a);
    fast.labels(b);
    await same();
    reference.observe(a, 0.5);
    boundA.observe(0.5);
    reference.observe(b, 0.05);
    fast.observe(b, 0.05);
    await same();
    theirs.resetMetrics();
    ours.resetMetrics();
    await same();
    reference.observe(a, 2);
    boundA.observe(2);
    await same();
    expect(samples(await ours.metrics()).get('h_count{method="GET",status_code="200"}')).toBe(1);
  });

  it('hands out one child per label values, and reset zeroes it', async () => {
    const registry = new Registry();
    const fast = new FastHistogram({
      name: 'h',
      help: 'h',
      labelNames,
      buckets,
      registers: [registry],
    });
    const child = fast.labels({ method: 'GET', status_code: 200 });
    expect(fast.labels({ method: 'GET', status_code: '200' })).toBe(child);
    child.observe(0.5);
    expect(samples(await registry.metrics()).get('h_count{method="GET",status_code="200"}')).toBe(
      1,
    );
    registry.resetMetrics();
    child.observe(0.5);
    expect(samples(await registry.metrics()).get('h_count{method="GET",status_code="200"}')).toBe(
      1,
    );
  });

  it('refuses a missing or unknown label and a value that is not a finite number', () => {
    const fast = new FastHistogram({ name: 'h', help: 'h', labelNames, buckets, registers: [] });
    expect(() => fast.labels({ method: 'GET' } as never)).toThrow('label status_code has no value');
    expect(() => fast.labels({ method: 'GET', status_code: 1, route: '/' } as never)).toThrow(
      'no label route',
    );
    expect(() => fast.observe({ method: 'GET', status_code: 200 }, NaN)).toThrow('finite');
  });
});
