import { isBase62 } from './base62.ts';
import { CodeSpace } from './code-space.ts';

describe('CodeSpace', () => {
  it('maps a large sample of counters to distinct codes of the right length', () => {
    const space = new CodeSpace(7, 'test-secret');
    const codes = new Set<string>();
    let wrongLength = 0;
    for (let counter = 0; counter < 500_000; counter += 1) {
      const code = space.encode(counter);
      if (code.length !== 7) wrongLength += 1;
      codes.add(code);
    }
    expect(wrongLength).toBe(0);
    expect(codes.size).toBe(500_000);
  });

  it('is a bijection on a whole small space', () => {
    const space = new CodeSpace(3, 'small');
    const seen = new Set<string>();
    for (let counter = 0; counter < space.size; counter += 1) seen.add(space.encode(counter));
    expect(seen.size).toBe(62 ** 3);
    for (const code of ['000', 'zzz', 'Z9a']) expect(space.encode(space.decode(code)!)).toBe(code);
  });

  it('inverts every code it produces, in every supported length', () => {
    for (let length = 1; length <= 8; length += 1) {
      const space = new CodeSpace(length, 'inverse');
      const wrong: number[] = [];
      for (let i = 0; i < 2000; i += 1) {
        const counter = Math.floor((i / 2000) * space.size);
        const code = space.encode(counter);
        if (!isBase62(code) || space.decode(code) !== counter) wrong.push(counter);
      }
      expect(wrong).toEqual([]);
    }
  });

  it('does not reveal the order of consecutive counters', () => {
    const space = new CodeSpace(7, 'order');
    const codes = Array.from({ length: 1000 }, (_, i) => space.encode(i));
    const ascending = codes.filter((code, i) => i > 0 && code > codes[i - 1]!).length;
    expect(ascending).toBeGreaterThan(350);
    expect(ascending).toBeLessThan(650);
    const sharedPrefix = codes.filter((code, i) => i > 0 && code[0] === codes[i - 1]![0]).length;
    expect(sharedPrefix).toBeLessThan(100);
  });

  it('depends on the secret and refuses counters outside the space', () => {
    expect(new CodeSpace(7, 'a').encode(42)).not.toBe(new CodeSpace(7, 'b').encode(42));
    const space = new CodeSpace(2, 'x');
    expect(() => space.encode(62 ** 2)).toThrow(RangeError);
    expect(() => space.encode(-1)).toThrow(RangeError);
    expect(space.decode('abc')).toBeUndefined();
    expect(space.decode('a-')).toBeUndefined();
  });
});
