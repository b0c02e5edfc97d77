/**
 * A per-process cache of async lookups, each answer kept for ttlMs. Lookups
 * of one key in flight together share one load; a failed load is not kept.
 * Undefined answers (e.g. no such group) are kept too, so a flood of sends
 * into an unknown group costs one lookup per ttlMs.
 */
export class TtlCache<V> {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { value: Promise<V>; until: number }>();

  constructor(options: { ttlMs: number; maxEntries?: number; now?: () => number }) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  get(key: string, load: () => Promise<V>): Promise<V> {
    const now = this.#now();
    const held = this.#entries.get(key);
    if (held && held.until > now) return held.value;

    const value = load();
    if (this.#ttlMs > 0) {
      if (this.#entries.size >= this.#maxEntries) this.#evict(now);
      this.#entries.set(key, { value, until: now + this.#ttlMs });
      value.catch(() => {
        if (this.#entries.get(key)?.value === value) this.#entries.delete(key);
      });
    }
    return value;
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Drops lapsed entries, and the oldest ones if that is not enough. */
  #evict(now: number): void {
    for (const [key, entry] of this.#entries) if (entry.until <= now) this.#entries.delete(key);
    for (const key of this.#entries.keys()) {
      if (this.#entries.size < this.#maxEntries) break;
      this.#entries.delete(key);
    }
  }
}
