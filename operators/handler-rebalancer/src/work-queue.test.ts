import { setTimeout as sleep } from 'node:timers/promises';
import { WorkQueue } from './work-queue.ts';

describe('WorkQueue', () => {
  it('never handles one key twice at once, and runs it again when added meanwhile', async () => {
    let active = 0;
    let most = 0;
    let runs = 0;
    const queue = new WorkQueue({
      handle: async () => {
        active++;
        most = Math.max(most, active);
        runs++;
        await sleep(30);
        active--;
        return undefined;
      },
    });
    queue.add('a');
    await sleep(5);
    queue.add('a');
    queue.add('a');
    await sleep(120);
    queue.stop();
    expect(most).toBe(1);
    expect(runs).toBe(2);
  });

  it('retries a failing key with growing backoff, then succeeds', async () => {
    const times: number[] = [];
    const errors: number[] = [];
    const queue = new WorkQueue({
      baseBackoffMs: 20,
      handle: async () => {
        times.push(Date.now());
        if (times.length < 4) throw new Error('boom');
        return undefined;
      },
      onError: (_key, _error, retryInMs) => errors.push(retryInMs),
    });
    queue.add('a');
    await sleep(400);
    queue.stop();
    expect(errors).toEqual([20, 40, 80]);
    expect(times).toHaveLength(4);
    expect(times[3]! - times[2]!).toBeGreaterThanOrEqual(75);
  });

  it('requeues after the seconds the handler returns; an earlier add wins', async () => {
    let runs = 0;
    const queue = new WorkQueue({
      handle: async () => {
        runs++;
        return runs === 1 ? 0.05 : undefined;
      },
    });
    queue.add('a', 10_000);
    queue.add('a', 0);
    await sleep(20);
    expect(runs).toBe(1);
    await sleep(80);
    expect(runs).toBe(2);
    queue.stop();
  });
});
