/**
 * Cache and ephemeral state: strings with TTLs, counters, sets, sorted sets,
 * lists and pub/sub. Keys are plain strings; in a Redis Cluster each call
 * touches one key, so every operation works on any slot.
 */
export interface Cache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, options?: { ttlMs?: number }): Promise<void>;
  /** Sets only when the key is absent; true when this call set it. */
  setIfAbsent(key: string, value: string, options?: { ttlMs?: number }): Promise<boolean>;
  delete(key: string): Promise<boolean>;
  /** Adds to an integer counter (absent counts as 0) and returns the new value. */
  incrBy(key: string, by: number): Promise<number>;
  /** Sets a time to live; false when the key does not exist. */
  expire(key: string, ttlMs: number): Promise<boolean>;
  /** Remaining time to live: undefined when absent, Infinity when it never expires. */
  ttlMs(key: string): Promise<number | undefined>;

  setAdd(key: string, members: string[]): Promise<number>;
  setRemove(key: string, members: string[]): Promise<number>;
  setMembers(key: string): Promise<string[]>;

  sortedSetAdd(key: string, entries: { member: string; score: number }[]): Promise<number>;
  /** Members with min <= score <= max, by ascending score (descending when reverse). */
  sortedSetRange(
    key: string,
    range: { min: number; max: number; limit?: number; reverse?: boolean },
  ): Promise<{ member: string; score: number }[]>;
  sortedSetRemove(key: string, members: string[]): Promise<number>;

  /** Pushes to the head of a list and returns its new length. */
  listPush(key: string, values: string[]): Promise<number>;
  /** Elements from start to stop inclusive; negative indexes count from the tail. */
  listRange(key: string, start: number, stop: number): Promise<string[]>;
  listTrim(key: string, start: number, stop: number): Promise<void>;

  /**
   * Fire and forget: subscribers connected now get it, in publish order per
   * channel (a cluster uses sharded pub/sub for that); nobody else ever does.
   */
  publish(channel: string, message: string): Promise<void>;
  /** Resolves once the subscription is active; the returned function ends it. */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>>;
  /**
   * Calls onExpired with each key under keyPrefix that the store expires;
   * deleted and overwritten keys are not reported. Like Redis keyspace
   * notifications, a key is reported when the store removes it, which can be
   * after its time to live, and not at all while the subscriber is
   * disconnected: use it to act promptly, never as the only trigger.
   * onExpired must not throw. Resolves once listening; the function ends it.
   */
  subscribeExpirations(
    keyPrefix: string,
    onExpired: (key: string) => void,
  ): Promise<() => Promise<void>>;

  ping(): Promise<void>;
  close(): Promise<void>;
}
