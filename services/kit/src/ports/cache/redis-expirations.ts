import type { Cluster, Redis } from 'ioredis';

type Handler = { prefix: string; onExpired: (key: string) => void };

/**
 * The notify-keyspace-events flags with expiry events added (E: the keyevent
 * channel, x: expired; A includes x), or undefined when they are there already.
 */
export function withExpiredEvents(flags: string): string | undefined {
  const keyevent = flags.includes('E');
  const expired = flags.includes('x') || flags.includes('A');
  if (keyevent && expired) return undefined;
  return `${flags}${keyevent ? '' : 'E'}${expired ? '' : 'x'}`;
}

/**
 * Expiry events of a Redis or a Redis Cluster. A node publishes the keys it
 * expires itself, so in a cluster every node gets its own subscriber: masters
 * fire the events, and a replica's subscriber is already in place when it is
 * promoted. Nodes that appear after a slot refresh are subscribed then.
 */
export class RedisExpirations {
  readonly #client: Redis | Cluster;
  /** The deployment's key prefix (ioredis keyPrefix), stripped before handlers see a key. */
  readonly #keyPrefix: string;
  readonly #handlers = new Set<Handler>();
  readonly #subscribers = new Map<string, Redis>();
  #started: Promise<void> | undefined;
  #onRefresh: (() => void) | undefined;

  constructor(client: Redis | Cluster, keyPrefix: string) {
    this.#client = client;
    this.#keyPrefix = keyPrefix;
  }

  async add(prefix: string, onExpired: (key: string) => void): Promise<() => Promise<void>> {
    const handler = { prefix: this.#keyPrefix + prefix, onExpired };
    this.#handlers.add(handler);
    try {
      await (this.#started ??= this.#start());
    } catch (error) {
      this.#handlers.delete(handler);
      if (this.#handlers.size === 0) await this.close();
      throw error;
    }
    return async () => {
      this.#handlers.delete(handler);
      if (this.#handlers.size === 0) await this.close();
    };
  }

  async close(): Promise<void> {
    this.#started = undefined;
    if (this.#onRefresh) this.#client.off('refresh', this.#onRefresh);
    this.#onRefresh = undefined;
    const subscribers = [...this.#subscribers.values()];
    this.#subscribers.clear();
    await Promise.all(subscribers.map((subscriber) => subscriber.quit().catch(() => undefined)));
  }

  async #start(): Promise<void> {
    await this.#client.ping();
    await this.#syncNodes();
    if (this.#client.isCluster) {
      this.#onRefresh = () => void this.#syncNodes().catch(() => undefined);
      this.#client.on('refresh', this.#onRefresh);
    }
  }

  /** One subscriber per node; nodes gone from the cluster lose theirs. */
  async #syncNodes(): Promise<void> {
    const nodes = this.#nodes();
    for (const [key, subscriber] of this.#subscribers) {
      if (nodes.has(key)) continue;
      this.#subscribers.delete(key);
      void subscriber.quit().catch(() => undefined);
    }
    await Promise.all(
      [...nodes].filter(([key]) => !this.#subscribers.has(key)).map(([k, n]) => this.#listen(k, n)),
    );
  }

  #nodes(): Map<string, Redis> {
    if (!this.#client.isCluster) return new Map([['standalone', this.#client as Redis]]);
    const nodes = (this.#client as Cluster).nodes('all');
    return new Map(nodes.map((node) => [`${node.options.host}:${node.options.port}`, node]));
  }

  async #listen(key: string, node: Redis): Promise<void> {
    await enableExpiredEvents(node);
    const channel = `__keyevent@${node.options.db ?? 0}__:expired`;
    const subscriber = node.duplicate({ keyPrefix: '', lazyConnect: false });
    this.#subscribers.set(key, subscriber);
    subscriber.on('error', () => undefined);
    subscriber.on('message', (_channel: string, name: string) => this.#dispatch(name));
    // A restarted server may have lost the setting; the subscription itself comes back alone.
    subscriber.on('ready', () => void enableExpiredEvents(node).catch(() => undefined));
    await subscriber.subscribe(channel);
  }

  #dispatch(name: string): void {
    for (const handler of this.#handlers) {
      if (name.startsWith(handler.prefix)) handler.onExpired(name.slice(this.#keyPrefix.length));
    }
  }
}

/** Turns expiry events on where they are off; a server that refuses CONFIG is reported. */
async function enableExpiredEvents(node: Redis): Promise<void> {
  try {
    const reply = (await node.config('GET', 'notify-keyspace-events')) as string[];
    const wanted = withExpiredEvents(reply[1] ?? '');
    if (wanted !== undefined) await node.config('SET', 'notify-keyspace-events', wanted);
  } catch (error) {
    throw new Error(
      `could not turn on expiry events at ${node.options.host}:${node.options.port}: ` +
        'set notify-keyspace-events to include "Ex" on the server',
      { cause: error },
    );
  }
}
