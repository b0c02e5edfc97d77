import { batchByHandler, forEachLimited, recipientsToDo } from './fanout-plan.ts';

describe('group fan-out planning', () => {
  test('recipients are the members but the sender and those already handled', () => {
    expect(recipientsToDo(['a', 'b', 'c', 'd'], 'b', new Set(['d']))).toEqual(['a', 'c']);
    expect(recipientsToDo(['a', 'b'], 'a', new Set(['b']))).toEqual([]);
  });

  test('one batch per handler with all its users; several devices, several batches', () => {
    const handlersOf = new Map([
      ['u1', ['h1']],
      ['u2', ['h2']],
      ['u3', ['h1', 'h2']],
      ['u4', []],
      ['u5', ['h1', 'h1']],
    ]);
    const batches = batchByHandler(['u1', 'u2', 'u3', 'u4', 'u5', 'u6'], handlersOf);
    expect([...batches.entries()]).toEqual([
      ['h1', ['u1', 'u3', 'u5']],
      ['h2', ['u2', 'u3']],
    ]);
    expect(batchByHandler([], handlersOf).size).toBe(0);
  });

  test('forEachLimited visits every item, never more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const seen: number[] = [];
    await forEachLimited([...Array(25).keys()], 4, async (item) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen.push(item);
      running--;
    });
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(25).keys()]);
    expect(peak).toBe(4);
    await expect(
      forEachLimited([1, 2], 2, (n) =>
        n === 2 ? Promise.reject(new Error('x')) : Promise.resolve(),
      ),
    ).rejects.toThrow('x');
  });
});
