import { createLogger, createMetrics } from '@platform/kit';
import { Drainer } from './drain.ts';
import type { Connection } from './handler.ts';
import { chatMetrics } from './metrics.ts';

function fakeConnections(n: number) {
  const closed: { index: number; code: number; at: number }[] = [];
  const connections = Array.from(
    { length: n },
    (_, index) =>
      ({
        openedAt: index,
        close: (code: number) => closed.push({ index, code, at: Date.now() }),
      }) as unknown as Connection,
  );
  return { connections, closed };
}

describe('draining connections', () => {
  const metrics = chatMetrics(createMetrics('chat-test'), 'h1');
  const logger = createLogger('chat-test', 'silent');

  test('closes the asked number, newest first, at about the asked rate, with 1012', async () => {
    const { connections, closed } = fakeConnections(30);
    const drainer = new Drainer({ connections: () => [...connections] }, metrics, logger);
    const started = Date.now();
    expect(drainer.start(10, 20)).toBe(10);
    expect(drainer.remaining).toBe(10);
    await drainer.done();
    const took = Date.now() - started;
    expect(closed.map((c) => c.index)).toEqual([29, 28, 27, 26, 25, 24, 23, 22, 21, 20]);
    expect(closed.every((c) => c.code === 1012)).toBe(true);
    expect(took).toBeGreaterThan(400);
    expect(took).toBeLessThan(1500);
  });

  test('a new drain replaces the running one, and 0 cancels', async () => {
    const { connections, closed } = fakeConnections(10);
    const drainer = new Drainer({ connections: () => [...connections] }, metrics, logger);
    drainer.start(10, 1);
    expect(drainer.start(3, 1000)).toBe(3);
    await drainer.done();
    expect(closed).toHaveLength(3);
    drainer.start(5, 2);
    expect(drainer.start(0, 10)).toBe(0);
    expect(drainer.remaining).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(closed.length).toBeLessThanOrEqual(4);
  });
});
