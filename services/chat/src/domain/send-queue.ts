/** Typing is worth sending only while fresh; everything else must arrive. */
export type FrameKind = 'essential' | 'droppable';

export type EnqueueOutcome = 'queued' | 'dropped' | 'overflow';

/**
 * A connection's bounded queue of frames not yet handed to the socket. When
 * full, the oldest droppable frame makes room; a droppable frame that finds
 * no room is dropped itself; an essential frame that finds none overflows,
 * and the connection is then closed as a slow consumer.
 */
export class SendQueue<T> {
  readonly #limit: number;
  #items: { item: T; kind: FrameKind }[] = [];
  #dropped = 0;

  constructor(limit: number) {
    if (limit < 1) throw new Error('limit must be at least 1');
    this.#limit = limit;
  }

  push(item: T, kind: FrameKind): EnqueueOutcome {
    if (this.#items.length >= this.#limit) {
      const victim = this.#items.findIndex((entry) => entry.kind === 'droppable');
      if (victim >= 0) {
        this.#items.splice(victim, 1);
        this.#dropped += 1;
      } else if (kind === 'droppable') {
        this.#dropped += 1;
        return 'dropped';
      } else {
        return 'overflow';
      }
    }
    this.#items.push({ item, kind });
    return 'queued';
  }

  shift(): T | undefined {
    return this.#items.shift()?.item;
  }

  get length(): number {
    return this.#items.length;
  }

  /** Droppable frames dropped so far, evicted or refused. */
  get dropped(): number {
    return this.#dropped;
  }

  clear(): void {
    this.#items = [];
  }
}
