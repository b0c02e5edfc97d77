import type { Cache, Logger } from '@platform/kit';
import type { Directory } from './directory.ts';
import type { Router } from './router.ts';
import type { ConversationIndex } from './store/conversation-index.store.ts';
import type { PresenceStatus, PresenceStore } from './store/presence.store.ts';

export interface Presence {
  userId: string;
  status: PresenceStatus;
  /** When the user was last seen connected (epoch ms), or null if never. */
  lastSeen: number | null;
}

export interface PresenceOptions {
  /** Directory entries' life: a user none refreshes for this long has gone. */
  directoryTtlMs: number;
  /** At most one presence event per user to its contacts in this long (flapping coalesced). */
  fanOutMs: number;
  /** A connected user's last-seen time is written at most this often. */
  lastSeenWriteMs: number;
  /** Contacts told of a change, at most. */
  maxContacts?: number;
  now?: () => number;
}

/** Users some handler has connected, each scored with when that lapses unless refreshed. */
const LIVE_KEY = 'chat:presence:live';
/** Held for fanOutMs by the process that fans out a user's presence: one per interval, anywhere. */
const fanOutKey = (user: string) => `chat:presence:fanout:${user}`;
/** The status last sent to a user's contacts, so an unchanged one is not sent again. */
const sentKey = (user: string) => `chat:presence:sent:${user}`;
const SENT_TTL_MS = 3_600_000;
const SWEEP_BATCH = 500;

/**
 * Presence and last seen. The stored row says what a user chose (online or
 * away) and when it was last seen; whether it is connected at all is the
 * directory's to say, so a read combines the two and a dead handler's users
 * read offline once their entries lapse. A sweep on every handler notices
 * those lapses too (a sorted set of live users scored by lapse time, claimed
 * member by member), writes them offline and tells their contacts. Contacts
 * hear of a change at most once per fanOutMs per user, whichever handler
 * sees it (a lock key in the cache), with the latest state, and never the
 * same status twice in a row.
 */
export class PresenceService {
  readonly #store: PresenceStore;
  readonly #conversations: ConversationIndex;
  readonly #directory: Directory;
  readonly #router: Router;
  readonly #cache: Cache;
  readonly #logger: Logger;
  readonly #options: Required<PresenceOptions>;
  /** Users whose fan-out waits for another's interval to end. */
  readonly #due = new Map<string, NodeJS.Timeout>();
  readonly #lastSeenWritten = new Map<string, number>();
  /** Each user's changes run one after another here, so a burst of updates ends on the last. */
  readonly #queues = new Map<string, Promise<void>>();

  constructor(deps: {
    store: PresenceStore;
    conversations: ConversationIndex;
    directory: Directory;
    router: Router;
    cache: Cache;
    logger: Logger;
    options: PresenceOptions;
  }) {
    this.#store = deps.store;
    this.#conversations = deps.conversations;
    this.#directory = deps.directory;
    this.#router = deps.router;
    this.#cache = deps.cache;
    this.#logger = deps.logger;
    this.#options = { maxContacts: 500, now: Date.now, ...deps.options };
  }

  /**
   * The user's presence now: offline unless some handler holds a connection
   * (by the directory as this handler last looked, or as it is when fresh).
   */
  async of(userId: string, options: { fresh?: boolean } = {}): Promise<Presence> {
    const [stored, handlers] = await Promise.all([
      this.#store.get(userId),
      this.#directory.handlersOf(userId, options),
    ]);
    const lastSeen = stored?.lastSeen ?? null;
    if (handlers.length === 0) return { userId, status: 'offline', lastSeen };
    return { userId, status: stored?.status === 'away' ? 'away' : 'online', lastSeen };
  }

  /** A connection of the user opened here and is in the directory. */
  connected(userId: string): Promise<void> {
    return this.#serially(userId, () => this.#connected(userId));
  }

  /** The client says it is online or away. */
  update(userId: string, status: 'online' | 'away'): Promise<void> {
    return this.#serially(userId, () => this.#update(userId, status));
  }

  /** The user's last connection here closed and it is out of the directory. */
  disconnected(userId: string): Promise<void> {
    return this.#serially(userId, () => this.#disconnected(userId));
  }

  async #connected(userId: string): Promise<void> {
    const now = this.#options.now();
    await this.#markLive([userId], now);
    // A new connection is activity: online, also after an `away` a crash left behind.
    const stored = await this.#store.get(userId);
    if (stored?.status === 'online') return;
    await this.#store.write(userId, 'online', now);
    this.#lastSeenWritten.set(userId, now);
    this.#changed(userId);
  }

  async #update(userId: string, status: 'online' | 'away'): Promise<void> {
    const stored = await this.#store.get(userId);
    if (stored?.status === status) return;
    const now = this.#options.now();
    await this.#store.write(userId, status, now);
    this.#lastSeenWritten.set(userId, now);
    this.#changed(userId);
  }

  async #disconnected(userId: string): Promise<void> {
    this.#lastSeenWritten.delete(userId);
    if ((await this.#directory.handlersOf(userId, { fresh: true })).length > 0) return;
    await this.#cache.sortedSetRemove(LIVE_KEY, [userId]);
    await this.#store.write(userId, 'offline', this.#options.now());
    this.#changed(userId);
  }

  /**
   * Every directory refresh: these users are still connected here. Their
   * lapse times move on; their last-seen times are written only when the
   * last write is lastSeenWriteMs old (never once per heartbeat).
   */
  async refresh(userIds: string[]): Promise<void> {
    const now = this.#options.now();
    await this.#markLive(userIds, now);
    const due = userIds.filter(
      (user) => now - (this.#lastSeenWritten.get(user) ?? 0) >= this.#options.lastSeenWriteMs,
    );
    for (const user of due) {
      await this.#store.touch(user, now);
      this.#lastSeenWritten.set(user, now);
    }
  }

  /**
   * Users whose handler stopped refreshing them (killed, cut off): each is
   * claimed by removing it from the live set (one handler wins), and, unless
   * a live handler holds it after all, written offline with the time it was
   * last refreshed, and its contacts are told.
   */
  async sweep(): Promise<number> {
    const now = this.#options.now();
    const lapsed = await this.#cache.sortedSetRange(LIVE_KEY, {
      min: 0,
      max: now,
      limit: SWEEP_BATCH,
    });
    let swept = 0;
    for (const { member: user, score } of lapsed) {
      if ((await this.#cache.sortedSetRemove(LIVE_KEY, [user])) === 0) continue;
      // Fresh: a cached lookup from just before the lapse would drop the user unannounced.
      if ((await this.#directory.handlersOf(user, { fresh: true })).length > 0) continue;
      const lastRefresh = score - this.#options.directoryTtlMs;
      const stored = await this.#store.get(user);
      await this.#store.write(user, 'offline', Math.max(lastRefresh, stored?.lastSeen ?? 0));
      this.#changed(user);
      swept += 1;
    }
    return swept;
  }

  /** Cancels pending fan-outs. */
  close(): void {
    for (const timer of this.#due.values()) clearTimeout(timer);
    this.#due.clear();
  }

  #serially(userId: string, task: () => Promise<void>): Promise<void> {
    const run = (this.#queues.get(userId) ?? Promise.resolve()).then(task);
    const tail = run.catch(() => undefined);
    this.#queues.set(userId, tail);
    void tail.then(() => {
      if (this.#queues.get(userId) === tail) this.#queues.delete(userId);
    });
    return run;
  }

  async #markLive(userIds: string[], now: number): Promise<void> {
    if (userIds.length === 0) return;
    const until = now + this.#options.directoryTtlMs;
    await this.#cache.sortedSetAdd(
      LIVE_KEY,
      userIds.map((member) => ({ member, score: until })),
    );
  }

  /** The user's presence may have changed: tell its contacts now, or once the throttle allows. */
  #changed(userId: string): void {
    if (this.#due.has(userId)) return;
    this.#fanOut(userId).catch((error: unknown) =>
      this.#logger.warn({ err: error }, 'presence fan-out failed'),
    );
  }

  /** Sends the user's current presence to its contacts, unless it is what they last got. */
  async #fanOut(userId: string): Promise<void> {
    const { fanOutMs, maxContacts } = this.#options;
    if (fanOutMs > 0) {
      const mine = await this.#cache.setIfAbsent(fanOutKey(userId), '1', { ttlMs: fanOutMs });
      if (!mine) return this.#later(userId, (await this.#cache.ttlMs(fanOutKey(userId))) ?? 0);
    }

    const presence = await this.of(userId, { fresh: true });
    if ((await this.#cache.get(sentKey(userId))) === presence.status) return;
    await this.#cache.set(sentKey(userId), presence.status, { ttlMs: SENT_TTL_MS });
    const contacts = await this.#conversations.contactsOf(userId, maxContacts);
    for (const contact of contacts) {
      this.#router.bestEffort(contact, { type: 'presence', ...presence });
    }
  }

  /** Looks again once the interval another fan-out started has ended. */
  #later(userId: string, ms: number): void {
    const timer = setTimeout(
      () => {
        this.#due.delete(userId);
        this.#changed(userId);
      },
      Math.max(0, ms) + 10,
    );
    timer.unref();
    this.#due.set(userId, timer);
  }
}
