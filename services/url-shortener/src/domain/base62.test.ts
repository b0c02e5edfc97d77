import { BASE62_ALPHABET, decodeBase62, encodeBase62, isBase62 } from './base62.ts';

describe('base62', () => {
  it('uses 0-9a-zA-Z in that order', () => {
    expect(BASE62_ALPHABET).toHaveLength(62);
    expect(encodeBase62(0, 1)).toBe('0');
    expect(encodeBase62(10, 1)).toBe('a');
    expect(encodeBase62(36, 1)).toBe('A');
    expect(encodeBase62(61, 1)).toBe('Z');
    expect(encodeBase62(62, 2)).toBe('10');
  });

  it('pads to the requested width and refuses values that do not fit', () => {
    expect(encodeBase62(1, 7)).toBe('0000001');
    expect(encodeBase62(62 ** 7 - 1, 7)).toBe('ZZZZZZZ');
    expect(() => encodeBase62(62 ** 7, 7)).toThrow(RangeError);
    expect(() => encodeBase62(-1, 7)).toThrow(RangeError);
    expect(() => encodeBase62(1.5, 7)).toThrow(RangeError);
  });

  it('round-trips values across the range', () => {
    for (let value = 0; value < 62 ** 8; value = value * 7 + 13) {
      expect(decodeBase62(encodeBase62(value, 8))).toBe(value);
    }
  });

  it('rejects characters outside the alphabet', () => {
    expect(decodeBase62('ab-c')).toBeUndefined();
    expect(isBase62('abcXYZ019')).toBe(true);
    expect(isBase62('abc_')).toBe(false);
    expect(isBase62('')).toBe(false);
  });
});
