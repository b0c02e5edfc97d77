import { AppError, countInWindow, type Cache, type Logger } from '@platform/kit';
import { chatErrors } from './errors.ts';

/**
 * What a user's budgets count: messages sent, the group recipients those
 * messages reach, typing events, groups created and uploads started.
 */
export const RATE_LIMIT_KINDS = [
  'send',
  'group_recipients',
  'typing',
  'group_create',
  'upload',
] as const;
export type RateLimitKind = (typeof RATE_LIMIT_KINDS)[number];

const TOO_MANY: Record<RateLimitKind, string> = {
  send: 'too many messages',
  group_recipients: 'too many group recipients',
  typing: 'too many typing events',
  group_create: 'too many groups created',
  upload: 'too many uploads',
};

/** A refusal by a per-user limit: 429, and when the window that refused it ends. */
export class RateLimited extends AppError {
  readonly kind: RateLimitKind;
  readonly retryAfterMs: number;

  constructor(kind: RateLimitKind, retryAfterMs: number) {
    const seconds = Math.ceil(retryAfterMs / 1000);
    super(
      'rate_limited',
      chatErrors.rate_limited.status,
      `${TOO_MANY[kind]}, try again in ${seconds} s`,
    );
    this.kind = kind;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The header value: whole seconds, rounded up so a client waiting that long finds a new window. */
export const retryAfterSeconds = (error: RateLimited) =>
  String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));

/**
 * Per-user budgets in fixed windows, counted in the cache so every handler
 * and API process shares them. A refused attempt counts too: hammering past
 * the limit buys nothing, and the budget comes back when the window ends.
 * A cache that fails lets everything through rather than refusing everyone.
 */
export class UserRateLimits {
  readonly #cache: Cache;
  readonly #windowMs: number;
  readonly #limits: Readonly<Record<RateLimitKind, number>>;
  readonly #refused: { labels(kind: string): { inc(): void } };
  readonly #logger: Logger;

  constructor(deps: {
    cache: Cache;
    windowMs: number;
    limits: Record<RateLimitKind, number>;
    /** chat_rate_limited_total, by kind. */
    refused: { labels(kind: string): { inc(): void } };
    logger: Logger;
  }) {
    this.#cache = deps.cache;
    this.#windowMs = deps.windowMs;
    this.#limits = Object.freeze({ ...deps.limits });
    this.#refused = deps.refused;
    this.#logger = deps.logger;
  }

  /** Takes cost from the user's budget of this kind; throws RateLimited past it. */
  async take(kind: RateLimitKind, user: string, cost = 1): Promise<void> {
    const refusal = await this.check(kind, user, cost);
    if (refusal) throw refusal;
  }

  /**
   * A message send: one of the sender's messages and, into a group, one
   * recipient per other member (a group larger than the whole budget takes
   * all of it, so it can still be sent to once a window).
   */
  async takeSend(user: string, recipients: number, group: boolean): Promise<void> {
    await this.take('send', user);
    if (group) {
      await this.take(
        'group_recipients',
        user,
        Math.min(recipients, this.#limits.group_recipients),
      );
    }
  }

  /** Like take, but answers the refusal instead of throwing it (undefined: allowed). */
  async check(kind: RateLimitKind, user: string, cost = 1): Promise<RateLimited | undefined> {
    let counted: { total: number; resetAt: number };
    try {
      counted = await countInWindow(
        this.#cache,
        `chat:limit:${kind}:${user}`,
        cost,
        this.#windowMs,
      );
    } catch (error) {
      this.#logger.warn({ err: error, kind }, 'rate limit unavailable, let through');
      return undefined;
    }
    if (counted.total <= this.#limits[kind]) return undefined;
    this.#refused.labels(kind).inc();
    return new RateLimited(kind, Math.max(1, counted.resetAt - Date.now()));
  }
}
