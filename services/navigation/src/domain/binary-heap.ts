/**
 * A binary min-heap of (key, value) pairs in typed arrays, growing as needed. Searches use it
 * with lazy deletion: a node is pushed again when its key improves and stale entries are
 * skipped on pop, which avoids a position index per node.
 */
export class BinaryHeap {
  #keys: Float64Array;
  #values: Int32Array;
  #size = 0;

  constructor(capacity = 64) {
    this.#keys = new Float64Array(Math.max(1, capacity));
    this.#values = new Int32Array(Math.max(1, capacity));
  }

  get size(): number {
    return this.#size;
  }

  clear(): void {
    this.#size = 0;
  }

  push(key: number, value: number): void {
    if (this.#size === this.#keys.length) this.#grow();

    let i = this.#size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#keys[parent]! <= key) break;
      this.#keys[i] = this.#keys[parent]!;
      this.#values[i] = this.#values[parent]!;
      i = parent;
    }
    this.#keys[i] = key;
    this.#values[i] = value;
  }

  /** The smallest key, or Infinity when empty. */
  peekKey(): number {
    return this.#size === 0 ? Infinity : this.#keys[0]!;
  }

  /** Removes the entry with the smallest key and returns its value; -1 when empty. */
  pop(): number {
    if (this.#size === 0) return -1;
    const top = this.#values[0]!;

    const size = --this.#size;
    const key = this.#keys[size]!;
    const value = this.#values[size]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && this.#keys[child + 1]! < this.#keys[child]!) child++;
      if (this.#keys[child]! >= key) break;
      this.#keys[i] = this.#keys[child]!;
      this.#values[i] = this.#values[child]!;
      i = child;
    }
    this.#keys[i] = key;
    this.#values[i] = value;
    return top;
  }

  #grow(): void {
    const keys = new Float64Array(this.#keys.length * 2);
    const values = new Int32Array(this.#values.length * 2);
    keys.set(this.#keys);
    values.set(this.#values);
    this.#keys = keys;
    this.#values = values;
  }
}
