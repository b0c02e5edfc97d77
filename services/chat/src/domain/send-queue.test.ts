import { SendQueue } from './send-queue.ts';

describe('a connection send queue', () => {
  test('when full, typing makes room for messages, oldest typing first', () => {
    const queue = new SendQueue<string>(3);
    expect(queue.push('typing-1', 'droppable')).toBe('queued');
    expect(queue.push('m1', 'essential')).toBe('queued');
    expect(queue.push('typing-2', 'droppable')).toBe('queued');
    expect(queue.push('m2', 'essential')).toBe('queued');
    expect(queue.push('m3', 'essential')).toBe('queued');
    expect(queue.dropped).toBe(2);
    expect([queue.shift(), queue.shift(), queue.shift()]).toEqual(['m1', 'm2', 'm3']);
  });

  test('typing that finds no room is dropped; a message that finds none overflows', () => {
    const queue = new SendQueue<string>(2);
    queue.push('m1', 'essential');
    queue.push('m2', 'essential');
    expect(queue.push('typing', 'droppable')).toBe('dropped');
    expect(queue.push('m3', 'essential')).toBe('overflow');
    expect(queue.length).toBe(2);
    expect(queue.dropped).toBe(1);
  });
});
