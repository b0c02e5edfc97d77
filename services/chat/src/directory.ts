import type { Cache } from '@platform/kit';

/** Far enough ahead to read every live entry; a sorted-set score, not a time. */
const FOREVER = 8.64e15;

/**
 * The WebSocket manager's maps in the cache: user → handlers and handler →
 * users. Each user → handlers entry is a sorted-set member whose score is
 * when it expires, so one handler's entry can lapse while another's lives;
 * live handlers push the scores and the keys' TTLs forward, and a dead
 * handler's entries lapse on their own. Lookups are cached here briefly.
 */
export class Directory {
  readonly #cache: Cache;
  readonly #handler: string;
  readonly #ttlMs: number;
  readonly #cacheMs: number;
  readonly #now: () => number;
  readonly #lookups = new Map<string, { handlers: string[]; until: number }>();

  constructor(options: {
    cache: Cache;
    handler: string;
    ttlMs: number;
    cacheMs: number;
    now?: () => number;
  }) {
    this.#cache = options.cache;
    this.#handler = options.handler;
    this.#ttlMs = options.ttlMs;
    this.#cacheMs = options.cacheMs;
    this.#now = options.now ?? Date.now;
  }

  /** Says (again) that these users are connected here, for another TTL. */
  async register(users: string[]): Promise<void> {
    if (users.length === 0) return;
    const expiresAt = this.#now() + this.#ttlMs;
    await Promise.all(
      users.map(async (user) => {
        await this.#cache.sortedSetAdd(userKey(user), [
          { member: this.#handler, score: expiresAt },
        ]);
        await this.#cache.expire(userKey(user), this.#ttlMs);
        this.#lookups.delete(user);
      }),
    );
    await this.#cache.setAdd(handlerKey(this.#handler), users);
    await this.#cache.expire(handlerKey(this.#handler), this.#ttlMs);
  }

  /** The user's last connection here closed. */
  async unregister(user: string): Promise<void> {
    await this.#cache.sortedSetRemove(userKey(user), [this.#handler]);
    await this.#cache.setRemove(handlerKey(this.#handler), [user]);
    this.#lookups.delete(user);
  }

  /**
   * The handlers holding a connection of the user, as of at most cacheMs ago,
   * or as of now when fresh (a decision that the user has gone must not rest
   * on a lookup made while it was still there).
   */
  async handlersOf(user: string, options: { fresh?: boolean } = {}): Promise<string[]> {
    const now = this.#now();
    const cached = this.#lookups.get(user);
    if (cached && cached.until > now && !options.fresh) return cached.handlers;

    const live = await this.#cache.sortedSetRange(userKey(user), { min: now, max: FOREVER });
    const handlers = live.map((entry) => entry.member);
    if (this.#cacheMs > 0) {
      if (this.#lookups.size > 100_000) this.#lookups.clear();
      this.#lookups.set(user, { handlers, until: now + this.#cacheMs });
    }
    this.#pruneLapsed(user, now);
    return handlers;
  }

  /** The users a handler says it holds (its entries may have lapsed). */
  usersOf(handler: string): Promise<string[]> {
    return this.#cache.setMembers(handlerKey(handler));
  }

  /** Removes lapsed handlers from a user's entry, so it does not grow with every restart. */
  #pruneLapsed(user: string, now: number): void {
    void this.#cache
      .sortedSetRange(userKey(user), { min: 0, max: now - 1 })
      .then((lapsed) =>
        lapsed.length > 0
          ? this.#cache.sortedSetRemove(
              userKey(user),
              lapsed.map((entry) => entry.member),
            )
          : 0,
      )
      .catch(() => undefined);
  }
}

const userKey = (user: string) => `chat:u2h:${user}`;
const handlerKey = (handler: string) => `chat:h2u:${handler}`;

/** The pub/sub channel a handler listens on for deliveries routed to it. */
export const handlerChannel = (handler: string) => `chat:handler:${handler}`;
