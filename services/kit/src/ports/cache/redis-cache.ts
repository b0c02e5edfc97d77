import { Cluster, Redis } from 'ioredis';
import type { Cache } from './cache.ts';
import { RedisExpirations } from './redis-expirations.ts';

export type RedisTarget = ({ url: string } | { clusterNodes: string[] }) & {
  /** Put before every key and channel name, so deployments can share one Redis. */
  prefix?: string;
};

/** The cache port on Redis or Redis Cluster through ioredis. */
export class RedisCache implements Cache {
  readonly #client: Redis | Cluster;
  readonly #target: RedisTarget;
  #subscriber: Redis | Cluster | undefined;
  readonly #handlers = new Map<string, Set<(message: string) => void>>();
  readonly #prefix: string;
  readonly #expirations: RedisExpirations;

  constructor(target: RedisTarget) {
    this.#target = target;
    this.#prefix = target.prefix ?? '';
    this.#client = connect(target);
    this.#expirations = new RedisExpirations(this.#client, this.#prefix);
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.#client.get(key)) ?? undefined;
  }

  async set(key: string, value: string, options: { ttlMs?: number } = {}): Promise<void> {
    if (options.ttlMs === undefined) await this.#client.set(key, value);
    else await this.#client.set(key, value, 'PX', Math.max(1, Math.ceil(options.ttlMs)));
  }

  async setIfAbsent(key: string, value: string, options: { ttlMs?: number } = {}) {
    const reply =
      options.ttlMs === undefined
        ? await this.#client.set(key, value, 'NX')
        : await this.#client.set(key, value, 'PX', Math.max(1, Math.ceil(options.ttlMs)), 'NX');
    return reply === 'OK';
  }

  async delete(key: string): Promise<boolean> {
    return (await this.#client.del(key)) > 0;
  }

  async incrBy(key: string, by: number): Promise<number> {
    return this.#client.incrby(key, by);
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    return (await this.#client.pexpire(key, Math.max(1, Math.ceil(ttlMs)))) === 1;
  }

  async ttlMs(key: string): Promise<number | undefined> {
    const ttl = await this.#client.pttl(key);
    if (ttl === -2) return undefined;
    return ttl === -1 ? Infinity : ttl;
  }

  async setAdd(key: string, members: string[]): Promise<number> {
    return members.length === 0 ? 0 : this.#client.sadd(key, ...members);
  }

  async setRemove(key: string, members: string[]): Promise<number> {
    return members.length === 0 ? 0 : this.#client.srem(key, ...members);
  }

  async setMembers(key: string): Promise<string[]> {
    return this.#client.smembers(key);
  }

  async sortedSetAdd(key: string, entries: { member: string; score: number }[]) {
    if (entries.length === 0) return 0;
    return this.#client.zadd(key, ...entries.flatMap(({ member, score }) => [score, member]));
  }

  async sortedSetRange(
    key: string,
    range: { min: number; max: number; limit?: number; reverse?: boolean },
  ) {
    const reply =
      range.limit === undefined
        ? range.reverse
          ? await this.#client.zrevrangebyscore(key, range.max, range.min, 'WITHSCORES')
          : await this.#client.zrangebyscore(key, range.min, range.max, 'WITHSCORES')
        : range.reverse
          ? await this.#client.zrevrangebyscore(
              key,
              range.max,
              range.min,
              'WITHSCORES',
              'LIMIT',
              0,
              range.limit,
            )
          : await this.#client.zrangebyscore(
              key,
              range.min,
              range.max,
              'WITHSCORES',
              'LIMIT',
              0,
              range.limit,
            );
    const entries: { member: string; score: number }[] = [];
    for (let i = 0; i < reply.length; i += 2) {
      entries.push({ member: reply[i]!, score: Number(reply[i + 1]) });
    }
    return entries;
  }

  async sortedSetRemove(key: string, members: string[]): Promise<number> {
    return members.length === 0 ? 0 : this.#client.zrem(key, ...members);
  }

  async listPush(key: string, values: string[]): Promise<number> {
    return values.length === 0 ? this.#client.llen(key) : this.#client.lpush(key, ...values);
  }

  async listRange(key: string, start: number, stop: number): Promise<string[]> {
    return this.#client.lrange(key, start, stop);
  }

  async listTrim(key: string, start: number, stop: number): Promise<void> {
    await this.#client.ltrim(key, start, stop);
  }

  /**
   * On a cluster, sharded pub/sub (SPUBLISH/SSUBSCRIBE): a channel lives on
   * the node owning its slot, so its messages arrive in publish order. Plain
   * PUBLISH would go to any node and reach subscribers over the cluster bus,
   * where messages published on different nodes overtake each other.
   */
  async publish(channel: string, message: string): Promise<void> {
    // ioredis prefixes keys, and a shard channel is a key (it picks the slot); others are not.
    if (this.#client instanceof Cluster) await this.#client.spublish(channel, message);
    else await this.#client.publish(this.#prefix + channel, message);
  }

  async subscribe(name: string, onMessage: (message: string) => void) {
    const channel = this.#prefix + name;
    const subscriber = this.#ensureSubscriber();
    const sharded = subscriber instanceof Cluster;
    let handlers = this.#handlers.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(channel, handlers);
      if (sharded) await subscriber.ssubscribe(name);
      else await subscriber.subscribe(channel);
    }
    handlers.add(onMessage);

    return async () => {
      handlers.delete(onMessage);
      if (handlers.size === 0 && this.#handlers.get(channel) === handlers) {
        this.#handlers.delete(channel);
        if (sharded) await subscriber.sunsubscribe(name);
        else await subscriber.unsubscribe(channel);
      }
    };
  }

  /**
   * Keyspace notifications (`__keyevent@<db>__:expired`) on every node; they
   * are turned on with CONFIG SET where the server has them off.
   */
  subscribeExpirations(keyPrefix: string, onExpired: (key: string) => void) {
    return this.#expirations.add(keyPrefix, onExpired);
  }

  async ping(): Promise<void> {
    await this.#client.ping();
  }

  async close(): Promise<void> {
    await this.#expirations.close();
    await Promise.all([this.#client.quit(), this.#subscriber?.quit()]);
  }

  #ensureSubscriber(): Redis | Cluster {
    if (!this.#subscriber) {
      const subscriber = connect(this.#target, { sharded: true });
      const deliver = (channel: string, message: string) => {
        for (const handler of this.#handlers.get(channel) ?? []) handler(message);
      };
      subscriber.on('message', deliver);
      subscriber.on('smessage', deliver);
      this.#subscriber = subscriber;
    }
    return this.#subscriber;
  }
}

function connect(target: RedisTarget, options: { sharded?: boolean } = {}): Redis | Cluster {
  const keyPrefix = target.prefix ?? '';
  if ('url' in target) {
    return new Redis(target.url, {
      maxRetriesPerRequest: 3,
      enableAutoPipelining: true,
      keyPrefix,
    });
  }
  const nodes = target.clusterNodes.map((node) => {
    const [host, port] = node.split(':');
    return { host: host!, port: Number(port) };
  });
  return new Cluster(nodes, {
    keyPrefix,
    enableAutoPipelining: true,
    redisOptions: { maxRetriesPerRequest: 3 },
    // One subscriber connection per primary, for the channels of its slots.
    shardedSubscribers: options.sharded ?? false,
    // Re-resolve slots from the seed list when every known node is gone (pods restarted).
    clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
  });
}
