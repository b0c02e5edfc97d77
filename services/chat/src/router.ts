import type { Cache, Logger } from '@platform/kit';
import { handlerChannel, type Directory } from './directory.ts';
import type { ServerEvent } from './domain/events.ts';

/** What one handler forwards to another: an event for one of its users. */
export interface Routed {
  user: string;
  event: Extract<ServerEvent, { type: 'message' | 'receipt' | 'typing' | 'presence' }>;
}

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
  async toUser(user: string, event: Routed['event']): Promise<boolean> {
    const handlers = await this.#directory.handlersOf(user);
    const payload = JSON.stringify({ user, event } satisfies Routed);
    await Promise.all(
      handlers.map((handler) => this.#cache.publish(handlerChannel(handler), payload)),
    );
    return handlers.length > 0;
  }

  /** Same, but a failure is logged rather than thrown: the stored state is already right. */
  bestEffort(user: string, event: Routed['event']): void {
    this.toUser(user, event).catch((error: unknown) =>
      this.#logger.warn({ err: error, type: event.type }, 'forward failed'),
    );
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
