import type { Cache, Logger } from '@platform/kit';
import { handlerChannel, type Directory } from './directory.ts';
import type { ServerEvent } from './domain/events.ts';

type RoutedEvent = Extract<ServerEvent, { type: 'message' | 'receipt' | 'typing' | 'presence' }>;

/**
 * What is forwarded to a handler: an event for one of its users, or (group
 * fan-out, one publish per handler) for several of them.
 */
export type Routed = { user: string; event: RoutedEvent } | { users: string[]; event: RoutedEvent };

/**
 * Forwards events to the handlers holding a user's connections, over one
 * pub/sub channel per handler. Pub/sub is fire and forget: a forward lost to
 * a dead handler or a stale lookup is made up by the pending pull.
 */
export class Router {
  readonly #cache: Cache;
  readonly #directory: Directory;
  readonly #logger: Logger;

  constructor(cache: Cache, directory: Directory, logger: Logger) {
    this.#cache = cache;
    this.#directory = directory;
    this.#logger = logger;
  }

  /** Publishes to each of the user's handlers; false when the user is on none. */
  async toUser(user: string, event: RoutedEvent): Promise<boolean> {
    const handlers = await this.#directory.handlersOf(user);
    const payload = JSON.stringify({ user, event } satisfies Routed);
    await Promise.all(
      handlers.map((handler) => this.#cache.publish(handlerChannel(handler), payload)),
    );
    return handlers.length > 0;
  }

  /** Same, but a failure is logged rather than thrown: the stored state is already right. */
  bestEffort(user: string, event: RoutedEvent): void {
    this.toUser(user, event).catch((error: unknown) =>
      this.#logger.warn({ err: error, type: event.type }, 'forward failed'),
    );
  }

  /** One publish to a handler carrying the event for all these users of it. */
  async toHandler(handler: string, users: string[], event: RoutedEvent): Promise<void> {
    const payload = JSON.stringify({ users, event } satisfies Routed);
    await this.#cache.publish(handlerChannel(handler), payload);
  }

  /** Listens on this handler's channel. */
  listen(handler: string, onRouted: (routed: Routed) => void) {
    return this.#cache.subscribe(handlerChannel(handler), (payload) => {
      try {
        onRouted(JSON.parse(payload) as Routed);
      } catch (error) {
        this.#logger.error({ err: error }, 'unreadable forward');
      }
    });
  }
}
