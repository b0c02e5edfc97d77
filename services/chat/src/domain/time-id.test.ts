import { TimeIdSource, TIME_ID, timeOfId } from './time-id.ts';

describe('time ids', () => {
  test('sort in the order they were made, within a millisecond and when the clock steps back', () => {
    let now = 1_700_000_000_000;
    const source = new TimeIdSource({ node: 'abcdef', now: () => now });
    const ids = [source.next(), source.next()];
    now -= 5_000;
    ids.push(source.next());
    now += 10_000;
    ids.push(source.next());
    expect(new Set(ids).size).toBe(4);
    expect([...ids].sort()).toEqual(ids);
    expect(ids.every((id) => TIME_ID.test(id))).toBe(true);
    expect(timeOfId(ids[0]!)).toBe(1_700_000_000_000);
  });

  test('a full millisecond borrows the next one instead of repeating', () => {
    const source = new TimeIdSource({ node: '000000', now: () => 1000 });
    const ids = Array.from({ length: 0x10000 + 5 }, () => source.next());
    expect(new Set(ids).size).toBe(ids.length);
    expect(timeOfId(ids.at(-1)!)).toBe(1001);
  });
});
