import { EventEmitter } from 'node:events';
import type { Cache } from './cache.ts';

type Entry =
  | { kind: 'string'; value: string; expiresAt: number }
  | { kind: 'set'; value: Set<string>; expiresAt: number }
  | { kind: 'zset'; value: Map<string, number>; expiresAt: number }
  | { kind: 'list'; value: string[]; expiresAt: number };

interface Collections {
  set: Set<string>;
  zset: Map<string, number>;
  list: string[];
}

/** In-process stand-in for Redis, with the behaviour the contract suite checks. */
export class MemoryCache implements Cache {
  readonly #entries = new Map<string, Entry>();
  readonly #channels = new EventEmitter();
  readonly #expiryHandlers = new Set<{ prefix: string; onExpired: (key: string) => void }>();
  readonly #now: () => number;
  readonly #sweeper: NodeJS.Timeout;
  /** Runs while someone listens for expirations, as often as Redis's active expiry. */
  #expirySweeper: NodeJS.Timeout | undefined;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#channels.setMaxListeners(0);
    this.#sweeper = setInterval(() => this.#sweep(), 1000);
    this.#sweeper.unref();
  }

  async get(key: string): Promise<string | undefined> {
    return this.#read(key, 'string')?.value;
  }

  async set(key: string, value: string, options: { ttlMs?: number } = {}): Promise<void> {
    this.#live(key); // an overwritten key that had expired is reported, as Redis does
    this.#entries.set(key, { kind: 'string', value, expiresAt: this.#expiry(options.ttlMs) });
  }

  async setIfAbsent(key: string, value: string, options: { ttlMs?: number } = {}) {
    if (this.#live(key)) return false;
    await this.set(key, value, options);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    const existed = this.#live(key) !== undefined;
    this.#entries.delete(key);
    return existed;
  }

  async incrBy(key: string, by: number): Promise<number> {
    const entry = this.#read(key, 'string');
    const current = entry ? Number(entry.value) : 0;
    if (!Number.isInteger(current)) throw new Error(`value at ${key} is not an integer`);
    const next = current + by;
    this.#entries.set(key, {
      kind: 'string',
      value: String(next),
      expiresAt: entry?.expiresAt ?? Infinity,
    });
    return next;
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    const entry = this.#live(key);
    if (!entry) return false;
    entry.expiresAt = this.#expiry(ttlMs);
    return true;
  }

  async ttlMs(key: string): Promise<number | undefined> {
    const entry = this.#live(key);
    if (!entry) return undefined;
    return entry.expiresAt === Infinity ? Infinity : entry.expiresAt - this.#now();
  }

  async setAdd(key: string, members: string[]): Promise<number> {
    const set = this.#writable(key, 'set', () => new Set<string>());
    const before = set.size;
    for (const member of members) set.add(member);
    return set.size - before;
  }

  async setRemove(key: string, members: string[]): Promise<number> {
    const entry = this.#read(key, 'set');
    if (!entry) return 0;
    let removed = 0;
    for (const member of members) if (entry.value.delete(member)) removed += 1;
    if (entry.value.size === 0) this.#entries.delete(key);
    return removed;
  }

  async setMembers(key: string): Promise<string[]> {
    return [...(this.#read(key, 'set')?.value ?? [])];
  }

  async sortedSetAdd(key: string, entries: { member: string; score: number }[]) {
    const zset = this.#writable(key, 'zset', () => new Map<string, number>());
    let added = 0;
    for (const { member, score } of entries) {
      if (!zset.has(member)) added += 1;
      zset.set(member, score);
    }
    return added;
  }

  async sortedSetRange(
    key: string,
    range: { min: number; max: number; limit?: number; reverse?: boolean },
  ) {
    const zset = this.#read(key, 'zset')?.value;
    if (!zset) return [];
    const inRange = [...zset]
      .filter(([, score]) => score >= range.min && score <= range.max)
      .map(([member, score]) => ({ member, score }))
      .sort((a, b) => a.score - b.score || (a.member < b.member ? -1 : 1));
    if (range.reverse) inRange.reverse();
    return range.limit === undefined ? inRange : inRange.slice(0, range.limit);
  }

  async sortedSetRemove(key: string, members: string[]): Promise<number> {
    const entry = this.#read(key, 'zset');
    if (!entry) return 0;
    let removed = 0;
    for (const member of members) if (entry.value.delete(member)) removed += 1;
    if (entry.value.size === 0) this.#entries.delete(key);
    return removed;
  }

  async listPush(key: string, values: string[]): Promise<number> {
    const list = this.#writable(key, 'list', () => [] as string[]);
    for (const value of values) list.unshift(value);
    return list.length;
  }

  async listRange(key: string, start: number, stop: number): Promise<string[]> {
    const list = this.#read(key, 'list')?.value ?? [];
    const [from, to] = resolveRange(list.length, start, stop);
    return list.slice(from, to + 1);
  }

  async listTrim(key: string, start: number, stop: number): Promise<void> {
    const entry = this.#read(key, 'list');
    if (!entry) return;
    const [from, to] = resolveRange(entry.value.length, start, stop);
    entry.value = entry.value.slice(from, to + 1);
    if (entry.value.length === 0) this.#entries.delete(key);
  }

  async publish(channel: string, message: string): Promise<void> {
    queueMicrotask(() => this.#channels.emit(channel, message));
  }

  async subscribe(channel: string, onMessage: (message: string) => void) {
    this.#channels.on(channel, onMessage);
    return async () => {
      this.#channels.off(channel, onMessage);
    };
  }

  async subscribeExpirations(keyPrefix: string, onExpired: (key: string) => void) {
    const handler = { prefix: keyPrefix, onExpired };
    this.#expiryHandlers.add(handler);
    if (!this.#expirySweeper) {
      this.#expirySweeper = setInterval(() => this.#sweep(), 100);
      this.#expirySweeper.unref();
    }
    return async () => {
      this.#expiryHandlers.delete(handler);
      if (this.#expiryHandlers.size > 0) return;
      clearInterval(this.#expirySweeper);
      this.#expirySweeper = undefined;
    };
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    clearInterval(this.#expirySweeper);
    this.#expiryHandlers.clear();
    this.#channels.removeAllListeners();
  }

  #expiry(ttlMs: number | undefined): number {
    return ttlMs === undefined ? Infinity : this.#now() + ttlMs;
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#expired(key);
      return undefined;
    }
    return entry;
  }

  #read<K extends Entry['kind']>(key: string, kind: K): Extract<Entry, { kind: K }> | undefined {
    const entry = this.#live(key);
    if (!entry) return undefined;
    if (entry.kind !== kind) {
      throw new Error(`WRONGTYPE operation against a key holding the wrong kind of value: ${key}`);
    }
    return entry as Extract<Entry, { kind: K }>;
  }

  #writable<K extends keyof Collections>(
    key: string,
    kind: K,
    create: () => Collections[K],
  ): Collections[K] {
    const existing = this.#read(key, kind) as { value: unknown } | undefined;
    if (existing) return existing.value as Collections[K];
    const value = create();
    this.#entries.set(key, { kind, value, expiresAt: Infinity } as Entry);
    return value;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#expired(key);
  }

  /** Removes an expired key and tells whoever listens, after the current call, as Redis would. */
  #expired(key: string): void {
    this.#entries.delete(key);
    for (const handler of this.#expiryHandlers) {
      if (key.startsWith(handler.prefix)) queueMicrotask(() => handler.onExpired(key));
    }
  }
}

/** Redis list index semantics: negative counts from the end, stop is inclusive and clamped. */
function resolveRange(length: number, start: number, stop: number): [number, number] {
  const from = Math.max(0, start < 0 ? length + start : start);
  const to = Math.min(length - 1, stop < 0 ? length + stop : stop);
  return [from, to];
}
