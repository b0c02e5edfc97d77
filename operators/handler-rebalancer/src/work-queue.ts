/**
 * A keyed work queue: a key waits at most once, is never handled twice at
 * once, and comes back with exponential backoff when its handler fails.
 * A key added while it is being handled runs again right after.
 */
export interface WorkQueueOptions {
  /** Handles one key; resolves to seconds until the key should run again, or undefined. */
  handle: (key: string) => Promise<number | undefined>;
  /** First retry delay after a failure; doubles per consecutive failure. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  onError?: (key: string, error: unknown, retryInMs: number) => void;
}

export class WorkQueue {
  readonly #options: Required<Omit<WorkQueueOptions, 'onError'>> &
    Pick<WorkQueueOptions, 'onError'>;
  readonly #timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  readonly #running = new Set<string>();
  readonly #again = new Set<string>();
  readonly #failures = new Map<string, number>();
  #stopped = false;

  constructor(options: WorkQueueOptions) {
    this.#options = { baseBackoffMs: 500, maxBackoffMs: 30_000, ...options };
  }

  /** Schedules a key after `delayMs`; an earlier schedule of the same key wins. */
  add(key: string, delayMs = 0): void {
    if (this.#stopped) return;
    if (this.#running.has(key) && delayMs === 0) {
      this.#again.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const waiting = this.#timers.get(key);
    if (waiting && waiting.at <= at) return;
    if (waiting) clearTimeout(waiting.timer);
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      void this.#run(key);
    }, delayMs);
    timer.unref();
    this.#timers.set(key, { at, timer });
  }

  /** Forgets a key: its waiting run and its failure count. */
  forget(key: string): void {
    const waiting = this.#timers.get(key);
    if (waiting) clearTimeout(waiting.timer);
    this.#timers.delete(key);
    this.#failures.delete(key);
    this.#again.delete(key);
  }

  /** Keys waiting or running. */
  get size(): number {
    return new Set([...this.#timers.keys(), ...this.#running]).size;
  }

  stop(): void {
    this.#stopped = true;
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  async #run(key: string): Promise<void> {
    if (this.#stopped) return;
    if (this.#running.has(key)) {
      this.#again.add(key);
      return;
    }
    this.#running.add(key);
    let next: number | undefined;
    try {
      const after = await this.#options.handle(key);
      this.#failures.delete(key);
      if (after !== undefined) next = after * 1000;
    } catch (error) {
      const failures = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, failures);
      next = Math.min(
        this.#options.baseBackoffMs * 2 ** (failures - 1),
        this.#options.maxBackoffMs,
      );
      this.#options.onError?.(key, error, next);
    } finally {
      this.#running.delete(key);
    }
    if (this.#again.delete(key)) next = 0;
    if (next !== undefined) this.add(key, next);
  }
}
