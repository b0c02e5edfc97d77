import { seeded } from '@platform/kit/testing';
import { allowance, plan, type BalanceSpec, type HandlerLoad, type Plan } from './plan.ts';

const spec: BalanceSpec = {
  allowedImbalance: { fraction: 0.1, minConnections: 20 },
  drainRate: 50,
  cooldownSeconds: 30,
};

const handler = (name: string, connections: number, more: Partial<HandlerLoad> = {}) => ({
  name,
  ready: true,
  terminating: false,
  connections,
  draining: 0,
  ...more,
});

const drained = (result: Plan) =>
  Object.fromEntries(result.drains.map((d) => [d.handler, d.connections]));

describe('plan', () => {
  it('does nothing for a balanced pool', () => {
    const result = plan({
      handlers: [handler('a', 100), handler('b', 110), handler('c', 95)],
      spec,
      secondsSinceLastAction: undefined,
    });
    expect(result).toMatchObject({ state: 'Balanced', drains: [] });
  });

  it('drains one loaded handler down to the mean when two empty ones join (scale-out)', () => {
    const result = plan({
      handlers: [handler('a', 1000), handler('b', 0), handler('c', 0)],
      spec,
      secondsSinceLastAction: undefined,
    });
    expect(result.state).toBe('Rebalancing');
    expect(result.mean).toBeCloseTo(333.33, 2);
    expect(result.drains).toEqual([
      { handler: 'a', connections: 666, perSecond: 50, reason: 'Overloaded' },
    ]);
  });

  it('lets a handler sit within the allowance above the mean', () => {
    // Mean 100, allowance max(10, 20) = 20: 119 stays, 121 sheds down to the mean.
    const within = plan({
      handlers: [handler('a', 119), handler('b', 81), handler('c', 100)],
      spec,
      secondsSinceLastAction: undefined,
    });
    expect(within.drains).toEqual([]);
    const beyond = plan({
      handlers: [handler('a', 121), handler('b', 79), handler('c', 100)],
      spec,
      secondsSinceLastAction: undefined,
    });
    expect(drained(beyond)).toEqual({ a: 21 });
  });

  it('uses the fraction once it exceeds the absolute floor', () => {
    expect(allowance(1000, spec)).toBe(100);
    expect(allowance(50, spec)).toBe(20);
    const result = plan({
      handlers: [handler('a', 1090), handler('b', 910)],
      spec,
      secondsSinceLastAction: undefined,
    });
    expect(result.drains).toEqual([]);
  });

  it('keeps a tiny pool from flapping over a handful of connections', () => {
    const result = plan({
      handlers: [handler('a', 15), handler('b', 0), handler('c', 0)],
      spec,
      secondsSinceLastAction: undefined,
    });
    expect(result).toMatchObject({ state: 'Balanced', drains: [] });
  });

  it('holds back within the cool-down and says how long is left', () => {
    const result = plan({
      handlers: [handler('a', 1000), handler('b', 0)],
      spec,
      secondsSinceLastAction: 12,
    });
    expect(result).toMatchObject({
      state: 'CoolingDown',
      drains: [],
      cooldownRemainingSeconds: 18,
    });
  });

  it('acts again once the cool-down has passed', () => {
    const result = plan({
      handlers: [handler('a', 1000), handler('b', 0)],
      spec,
      secondsSinceLastAction: 30,
    });
    expect(drained(result)).toEqual({ a: 500 });
    expect(result.cooldownRemainingSeconds).toBe(0);
  });

  it('drains a terminating pod to zero, even within the cool-down', () => {
    const result = plan({
      handlers: [handler('a', 300, { terminating: true }), handler('b', 300), handler('c', 300)],
      spec,
      secondsSinceLastAction: 1,
    });
    expect(result.drains).toEqual([
      { handler: 'a', connections: 300, perSecond: 50, reason: 'Terminating' },
    ]);
    // Its connections land on the others: the mean counts them.
    expect(result.mean).toBe(450);
  });

  it('does not repeat a terminating drain that already covers every connection', () => {
    const result = plan({
      handlers: [handler('a', 120, { terminating: true, draining: 120 }), handler('b', 300)],
      spec,
      secondsSinceLastAction: 1,
    });
    expect(result).toMatchObject({ state: 'Rebalancing', drains: [] });
  });

  it('calls an emptied terminating pod and a balanced rest balanced', () => {
    const result = plan({
      handlers: [handler('a', 0, { terminating: true }), handler('b', 300), handler('c', 290)],
      spec,
      secondsSinceLastAction: 1,
    });
    expect(result).toMatchObject({ state: 'Balanced', drains: [] });
  });

  it('leaves a handler whose drain in progress brings it under the limit', () => {
    const result = plan({
      handlers: [handler('a', 600, { draining: 400 }), handler('b', 200), handler('c', 200)],
      spec,
      secondsSinceLastAction: undefined,
    });
    expect(result).toMatchObject({ state: 'Rebalancing', drains: [] });
  });

  it('replaces a drain in progress that falls short', () => {
    const result = plan({
      handlers: [handler('a', 900, { draining: 100 }), handler('b', 0), handler('c', 0)],
      spec,
      secondsSinceLastAction: undefined,
    });
    expect(drained(result)).toEqual({ a: 600 });
  });

  it('ignores handlers that are not ready', () => {
    const result = plan({
      handlers: [handler('a', 100), handler('b', 100), handler('c', 0, { ready: false })],
      spec,
      secondsSinceLastAction: undefined,
    });
    expect(result).toMatchObject({ state: 'Balanced', mean: 100 });
  });

  it('reports a pool with nowhere for connections to go', () => {
    const result = plan({
      handlers: [handler('a', 50, { terminating: true }), handler('b', 10, { ready: false })],
      spec,
      secondsSinceLastAction: undefined,
    });
    expect(result.state).toBe('NoServingHandlers');
    expect(drained(result)).toEqual({ a: 50 });
  });

  it('reports an empty pool as having no serving handlers', () => {
    expect(plan({ handlers: [], spec, secondsSinceLastAction: undefined })).toMatchObject({
      state: 'NoServingHandlers',
      drains: [],
    });
  });

  it('drains several overloaded handlers at the configured rate', () => {
    const result = plan({
      handlers: [handler('a', 500), handler('b', 500), handler('c', 0), handler('d', 0)],
      spec: { ...spec, drainRate: 7.5 },
      secondsSinceLastAction: undefined,
    });
    expect(result.drains).toEqual([
      { handler: 'a', connections: 250, perSecond: 7.5, reason: 'Overloaded' },
      { handler: 'b', connections: 250, perSecond: 7.5, reason: 'Overloaded' },
    ]);
  });
});

/**
 * Random pools, checked against what the plan promises. Shed connections are
 * handed, one at a time, to the serving handler with the fewest: what clients
 * reconnecting through the Service aim for.
 */
describe('plan, on random pools', () => {
  const random = seeded(20261204);
  const int = (max: number) => Math.floor(random() * (max + 1));

  const pools = Array.from({ length: 500 }, (_, i) => {
    const handlers: HandlerLoad[] = Array.from({ length: 1 + int(8) }, (_, j) => ({
      name: `h${j}`,
      ready: random() > 0.1,
      terminating: random() < 0.1,
      connections: random() < 0.2 ? 0 : int(random() < 0.3 ? 5000 : 400),
      draining: 0,
    }));
    const poolSpec: BalanceSpec = {
      allowedImbalance: { fraction: [0, 0.05, 0.1, 0.5][i % 4]!, minConnections: int(30) },
      drainRate: 1 + int(100),
      cooldownSeconds: int(60),
    };
    return { handlers, spec: poolSpec };
  });

  const excessOf = (handlers: HandlerLoad[], mean: number) =>
    handlers
      .filter((h) => h.ready && !h.terminating)
      .reduce((sum, h) => sum + Math.max(0, h.connections - mean), 0);

  it('never sheds more than the excess over the mean', () => {
    for (const pool of pools) {
      const result = plan({ ...pool, secondsSinceLastAction: undefined });
      for (const drain of result.drains) {
        const h = pool.handlers.find((x) => x.name === drain.handler)!;
        expect(drain.connections).toBeGreaterThan(0);
        expect(drain.connections).toBeLessThanOrEqual(h.connections);
        if (!h.terminating)
          expect(drain.connections).toBeLessThanOrEqual(h.connections - result.mean);
      }
      const overloadedShed = result.drains
        .filter((d) => d.reason === 'Overloaded')
        .reduce((sum, d) => sum + d.connections, 0);
      expect(overloadedShed).toBeLessThanOrEqual(excessOf(pool.handlers, result.mean));
    }
  });

  it('leaves every serving handler within the limit once the shed connections land', () => {
    for (const pool of pools) {
      const result = plan({ ...pool, secondsSinceLastAction: undefined });
      if (result.state === 'NoServingHandlers') continue;

      const after = new Map(
        pool.handlers.filter((h) => h.ready || h.terminating).map((h) => [h.name, h.connections]),
      );
      let shed = 0;
      for (const drain of result.drains) {
        after.set(drain.handler, after.get(drain.handler)! - drain.connections);
        shed += drain.connections;
      }
      const serving = pool.handlers.filter((h) => h.ready && !h.terminating).map((h) => h.name);
      for (; shed > 0; shed--) {
        const lightest = serving.reduce((a, b) => (after.get(a)! <= after.get(b)! ? a : b));
        after.set(lightest, after.get(lightest)! + 1);
      }

      for (const name of serving) expect(after.get(name)).toBeLessThanOrEqual(result.limit);
      for (const h of pool.handlers.filter((x) => x.terminating)) expect(after.get(h.name)).toBe(0);
    }
  });

  it('takes no action on a pool it calls balanced, and calls a levelled pool balanced', () => {
    for (const pool of pools) {
      const result = plan({ ...pool, secondsSinceLastAction: undefined });
      if (result.state === 'Balanced') expect(result.drains).toEqual([]);

      const total = pool.handlers.reduce((sum, h) => sum + h.connections, 0);
      const levelled = pool.handlers.map((h, i) => ({
        ...h,
        ready: true,
        terminating: false,
        connections:
          Math.floor(total / pool.handlers.length) + (i < total % pool.handlers.length ? 1 : 0),
      }));
      const again = plan({ handlers: levelled, spec: pool.spec, secondsSinceLastAction: 0 });
      expect(again).toMatchObject({ state: 'Balanced', drains: [] });
    }
  });

  it('acts on nothing but terminating pods within the cool-down', () => {
    for (const pool of pools) {
      if (pool.spec.cooldownSeconds === 0) continue;
      const result = plan({ ...pool, secondsSinceLastAction: pool.spec.cooldownSeconds / 2 });
      expect(result.drains.every((d) => d.reason === 'Terminating')).toBe(true);
    }
  });
});
