import {
  CompressionTypes,
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type Producer,
} from 'kafkajs';
import type { Logger } from '../../telemetry/logger.ts';
import type {
  ConsumedRecord,
  EventLog,
  EventRecord,
  PublishOptions,
  SubscribeOptions,
  Subscription,
} from './event-log.ts';

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  defaultPartitions?: number;
  /** Put before every topic and consumer group name, so deployments can share one Kafka. */
  prefix?: string;
}

/**
 * kafkajs 2.2.4's request queue, before any throttling, sets a timer for
 * `throttledUntil - Date.now()`, a large negative delay that Node 24 clamps to
 * 1 ms and reports as a TimeoutNegativeWarning (kafkajs#1751, fixed in no
 * release). Nothing a user can act on, so that warning is dropped when it comes
 * from that queue; every other warning passes.
 */
let kafkajsTimerWarningQuiet = false;
function quietKafkajsTimerWarning(): void {
  if (kafkajsTimerWarningQuiet) return;
  kafkajsTimerWarningQuiet = true;
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string })?.type;
    const fromQueue = () => new Error().stack?.includes('kafkajs/src/network/requestQueue');
    if (type === 'TimeoutNegativeWarning' && fromQueue()) return;
    emitWarning(warning, ...rest);
  }) as typeof process.emitWarning;
}

/** The event-log port on Kafka through kafkajs. */
export class KafkaEventLog implements EventLog {
  /**
   * Kafka offsets never restart, short of deleting and re-creating a topic; a
   * name prefix makes other topics, whose positions are their own.
   */
  readonly incarnation: string;
  readonly #kafka: Kafka;
  readonly #options: KafkaOptions;
  readonly #subscriptions = new Set<Subscription>();
  #admin: Promise<Admin> | undefined;
  #producer: Promise<Producer> | undefined;
  readonly #knownTopics = new Set<string>();
  readonly #log: Logger;

  constructor(options: KafkaOptions) {
    quietKafkajsTimerWarning();
    this.#options = options;
    this.incarnation = options.prefix ? `kafka/${options.prefix}` : 'kafka';
    const log = options.logger.child({ component: 'kafkajs' });
    this.#log = options.logger.child({ component: 'event-log' });
    this.#kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      logLevel: logLevel.WARN,
      logCreator: () => (entry) => {
        const { message, ...rest } = entry.log;
        if (entry.level <= logLevel.ERROR) log.error(rest, message);
        else log.warn(rest, message);
      },
      retry: { retries: 8, initialRetryTime: 200 },
    });
  }

  async createTopic(name: string, options: { partitions?: number } = {}): Promise<void> {
    const topic = this.#name(name);
    if (this.#knownTopics.has(topic)) return;
    const admin = await this.#adminClient();
    // Asking first keeps kafkajs from logging an error for a topic that exists.
    if (!(await admin.listTopics()).includes(topic)) {
      // kafkajs's own waitForLeaders gives up when the broker answers "does not
      // host this topic-partition", which Kafka 4 does for a moment after creating
      // a topic, so awaitLeaders below does the waiting.
      await admin.createTopics({
        waitForLeaders: false,
        topics: [
          { topic, numPartitions: options.partitions ?? this.#options.defaultPartitions ?? 4 },
        ],
      });
    }
    // This process or another one may have created it a moment ago, before its
    // partitions had leaders: using it then fails.
    await awaitLeaders(admin, topic);
    this.#knownTopics.add(topic);
  }

  async publish(
    topic: string,
    records: EventRecord[],
    options: PublishOptions = {},
  ): Promise<void> {
    if (records.length === 0) return;
    const producer = await this.#producerClient();
    await producer.send({
      topic: this.#name(topic),
      acks: -1,
      // kafkajs gzips through node:zlib's thread pool, off the event loop.
      compression: options.compress ? CompressionTypes.GZIP : CompressionTypes.None,
      messages: records.map((r) => ({ key: r.key, value: r.value, headers: r.headers ?? {} })),
    });
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    for (const topic of options.topics) await this.createTopic(topic);
    const consumer = this.#kafka.consumer({
      groupId: this.#name(options.group),
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 20_000,
    });
    // kafkajs restarts a crashed consumer after retriable errors only; after any
    // other it stops without a word, which a service must hear about.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return;
      this.#log.error({ err: payload.error, group: options.group }, 'consumer stopped');
      options.onStopped?.(payload.error);
    });
    await consumer.connect();
    // On a broker that has just started, or a topic just created elsewhere, the
    // metadata can still say "does not host this topic-partition": kafkajs calls
    // that retriable, and so do we, for a while.
    await whileRetriable(() =>
      consumer.subscribe({ topics: options.topics.map((t) => this.#name(t)), fromBeginning: true }),
    );
    const unprefixed = (topic: string) => topic.slice(this.#name('').length);
    const maxBatch = options.maxBatchSize ?? 500;

    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        const topic = unprefixed(batch.topic);
        const all: ConsumedRecord[] = batch.messages.map((m) => ({
          topic,
          partition: batch.partition,
          offset: Number(m.offset),
          timestamp: Number(m.timestamp),
          key: m.key?.toString() ?? '',
          value: m.value ?? Buffer.alloc(0),
          headers: Object.fromEntries(
            Object.entries(m.headers ?? {}).map(([k, v]) => [k, v?.toString() ?? '']),
          ),
        }));
        for (let i = 0; i < all.length; i += maxBatch) {
          if (!isRunning() || isStale()) return;
          const records = all.slice(i, i + maxBatch);
          await options.handleBatch({ topic, partition: batch.partition, records });
          const last = records[records.length - 1]!;
          resolveOffset(String(last.offset));
          await consumer.commitOffsets([
            { topic: batch.topic, partition: batch.partition, offset: String(last.offset + 1) },
          ]);
          await heartbeat();
        }
      },
    });

    const subscription: Subscription = {
      close: async () => {
        this.#subscriptions.delete(subscription);
        await consumer.disconnect();
      },
    };
    this.#subscriptions.add(subscription);
    return subscription;
  }

  async lag(group: string, topic: string): Promise<number> {
    const admin = await this.#adminClient();
    const [ends, committed] = await Promise.all([
      admin.fetchTopicOffsets(this.#name(topic)),
      admin.fetchOffsets({ groupId: this.#name(group), topics: [this.#name(topic)] }),
    ]);
    const done = new Map(
      (committed[0]?.partitions ?? []).map((p) => [p.partition, Math.max(0, Number(p.offset))]),
    );
    return ends.reduce((sum, p) => sum + Number(p.high) - (done.get(p.partition) ?? 0), 0);
  }

  async ping(): Promise<void> {
    const admin = await this.#adminClient();
    await admin.describeCluster();
  }

  async close(): Promise<void> {
    await Promise.all([...this.#subscriptions].map((s) => s.close()));
    // A client that never connected has nothing to disconnect.
    const disconnect = (client: Promise<Producer | Admin> | undefined) =>
      client?.then(
        (c) => c.disconnect(),
        () => undefined,
      );
    await Promise.all([disconnect(this.#producer), disconnect(this.#admin)]);
  }

  #name(topicOrGroup: string): string {
    return (this.#options.prefix ?? '') + topicOrGroup;
  }

  #adminClient(): Promise<Admin> {
    if (!this.#admin) {
      const pending = connected(this.#kafka.admin());
      this.#admin = pending;
      // A connection that failed (Kafka down) is tried again next time, not kept as failed.
      pending.catch(() => {
        if (this.#admin === pending) this.#admin = undefined;
      });
    }
    return this.#admin;
  }

  #producerClient(): Promise<Producer> {
    if (!this.#producer) {
      const producer = this.#kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
      });
      const pending = connected(producer);
      this.#producer = pending;
      pending.catch(() => {
        if (this.#producer === pending) this.#producer = undefined;
      });
    }
    return this.#producer;
  }
}

/** The client once connected; one that could not connect is let go. */
async function connected<C extends Producer | Admin>(client: C): Promise<C> {
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.disconnect().catch(() => undefined);
    throw error;
  }
}

/** Waits until every partition of the topic has a leader the brokers agree on (up to 30 s). */
async function awaitLeaders(admin: Admin, topic: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = topics[0]?.partitions ?? [];
      if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) {
        // A leader can be named before it hosts the partition. Asking each one for
        // its offsets proves it does: a write before then fails, and a retried
        // write to several partitions duplicates the records of those that took it.
        await admin.fetchTopicOffsets(topic);
        return;
      }
    } catch (error) {
      // Metadata of a new topic reaches every broker a little after its creation.
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`topic ${topic} has partitions without a leader`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs fn again while it fails with an error kafkajs marks retriable, for up to 30 s. */
async function whileRetriable<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (!(error as { retriable?: boolean }).retriable || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
