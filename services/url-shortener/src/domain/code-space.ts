import { createHash, createHmac } from 'node:crypto';
import { decodeBase62, encodeBase62 } from './base62.ts';
import { MAX_CODE_LENGTH } from './code-length.ts';

const ROUNDS = 6;

/**
 * A keyed bijection of [0, 62^length) onto itself, then base62: consecutive
 * counters give unrelated-looking codes, and two counters never share one.
 *
 * A balanced Feistel network permutes the smallest even-bit domain covering
 * the space; cycle walking (applying it again while the result falls outside)
 * restricts that permutation to the space itself.
 */
export class CodeSpace {
  readonly length: number;
  readonly size: number;
  /**
   * Names this permutation (secret and length) without revealing the secret:
   * codes stay unique only while every code in a store comes from one space.
   */
  readonly fingerprint: string;
  readonly #halfBits: number;
  readonly #halfSize: number;
  readonly #mask: number;
  readonly #keys: number[];

  constructor(length: number, secret: string) {
    if (!Number.isInteger(length) || length < 1 || length > MAX_CODE_LENGTH) {
      throw new RangeError(`code length must be 1-${MAX_CODE_LENGTH}`);
    }
    this.length = length;
    this.size = 62 ** length;
    this.#halfBits = Math.ceil(Math.ceil(Math.log2(this.size)) / 2);
    this.#halfSize = 2 ** this.#halfBits;
    this.#mask = this.#halfSize - 1;
    const digest = createHash('sha256').update(`code-space:${secret}`).digest();
    this.fingerprint = createHmac('sha256', secret).update(`fingerprint:${length}`).digest('hex');
    this.#keys = Array.from({ length: ROUNDS }, (_, i) => digest.readUInt32BE(i * 4));
  }

  /** The code of a counter value in [0, size). */
  encode(counter: number): string {
    if (!Number.isSafeInteger(counter) || counter < 0 || counter >= this.size) {
      throw new RangeError(`counter ${counter} is outside the code space of ${this.size}`);
    }
    let value = this.#permute(counter);
    while (value >= this.size) value = this.#permute(value);
    return encodeBase62(value, this.length);
  }

  /** The counter a code came from; undefined when it is not a code of this space. */
  decode(code: string): number | undefined {
    if (code.length !== this.length) return undefined;
    const value = decodeBase62(code);
    if (value === undefined) return undefined;
    let counter = this.#unpermute(value);
    while (counter >= this.size) counter = this.#unpermute(counter);
    return counter;
  }

  #permute(value: number): number {
    let left = Math.floor(value / this.#halfSize);
    let right = value % this.#halfSize;
    for (const key of this.#keys) {
      [left, right] = [right, (left ^ this.#round(right, key)) >>> 0];
    }
    return left * this.#halfSize + right;
  }

  #unpermute(value: number): number {
    let left = Math.floor(value / this.#halfSize);
    let right = value % this.#halfSize;
    for (let i = this.#keys.length - 1; i >= 0; i -= 1) {
      [left, right] = [(right ^ this.#round(left, this.#keys[i]!)) >>> 0, left];
    }
    return left * this.#halfSize + right;
  }

  /** murmur3's 32-bit finaliser over the half and the round key, cut to the half's width. */
  #round(half: number, key: number): number {
    let h = (half ^ key) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    return (h >>> 0) & this.#mask;
  }
}
