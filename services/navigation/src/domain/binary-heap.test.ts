import { BinaryHeap } from './binary-heap.ts';

describe('BinaryHeap', () => {
  it('pops in key order, growing past its capacity', () => {
    const heap = new BinaryHeap(2);
    const keys = [5, 3, 9, 1, 7, 3, 0.5, 12, 8];
    keys.forEach((key, value) => heap.push(key, value));
    expect(heap.size).toBe(keys.length);

    const popped: number[] = [];
    while (heap.size > 0) {
      popped.push(keys[heap.pop()]!);
    }
    expect(popped).toEqual([...keys].sort((a, b) => a - b));
  });

  it('reports empty as -1 and an Infinity key', () => {
    const heap = new BinaryHeap();
    expect(heap.pop()).toBe(-1);
    expect(heap.peekKey()).toBe(Infinity);
  });

  it('sorts random keys like Array.sort', () => {
    const heap = new BinaryHeap(1);
    const keys = Array.from({ length: 2000 }, (_, i) => ((i * 7919) % 1009) / 7);
    keys.forEach((key, value) => heap.push(key, value));
    const popped = Array.from({ length: keys.length }, () => {
      const key = heap.peekKey();
      heap.pop();
      return key;
    });
    expect(popped).toEqual([...keys].sort((a, b) => a - b));
  });

  it('can be cleared and reused', () => {
    const heap = new BinaryHeap();
    heap.push(1, 1);
    heap.clear();
    heap.push(2, 2);
    expect(heap.pop()).toBe(2);
    expect(heap.size).toBe(0);
  });
});
