export const BASE62_ALPHABET =
  '0123456789abcdefghijklmnopqrstuvwxyz' + 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

const DIGIT = new Map([...BASE62_ALPHABET].map((char, index) => [char, index]));

/** Encodes a non-negative safe integer as exactly `width` base62 digits. */
export function encodeBase62(value: number, width: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not encodable: ${value}`);
  let rest = value;
  let code = '';
  while (rest > 0) {
    code = BASE62_ALPHABET[rest % 62] + code;
    rest = Math.floor(rest / 62);
  }
  if (code.length > width) throw new RangeError(`${value} needs more than ${width} digits`);
  return code.padStart(width, '0');
}

/** Decodes base62 digits; undefined when a character is outside the alphabet. */
export function decodeBase62(code: string): number | undefined {
  let value = 0;
  for (const char of code) {
    const digit = DIGIT.get(char);
    if (digit === undefined) return undefined;
    value = value * 62 + digit;
  }
  return Number.isSafeInteger(value) ? value : undefined;
}

export function isBase62(text: string): boolean {
  return /^[0-9a-zA-Z]+$/.test(text);
}
