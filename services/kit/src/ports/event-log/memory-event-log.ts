import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type {
  ConsumedRecord,
  EventLog,
  EventRecord,
  PublishOptions,
  SubscribeOptions,
  Subscription,
} from './event-log.ts';

interface Member {
  id: number;
  options: SubscribeOptions;
  /** Partitions this member owns, as "topic/partition". */
  owned: Set<string>;
}

interface Group {
  committed: Map<string, number>;
  members: Member[];
}

const partitionKey = (topic: string, partition: number) => `${topic}/${partition}`;

/**
 * In-process stand-in for Kafka: keyed partitions, per-group committed
 * offsets, partitions spread over a group's members, redelivery of a batch
 * whose handler failed. Nothing survives the process.
 */
export class MemoryEventLog implements EventLog {
  readonly incarnation = `in-process:${randomUUID()}`;
  readonly #topics = new Map<string, ConsumedRecord[][]>();
  readonly #groups = new Map<string, Group>();
  readonly #appended = new EventEmitter();
  readonly #defaultPartitions: number;
  #nextMember = 1;

  constructor(options: { defaultPartitions?: number } = {}) {
    this.#defaultPartitions = options.defaultPartitions ?? 4;
    this.#appended.setMaxListeners(0);
  }

  async createTopic(topic: string, options: { partitions?: number } = {}): Promise<void> {
    if (this.#topics.has(topic)) return;
    const count = options.partitions ?? this.#defaultPartitions;
    this.#topics.set(
      topic,
      Array.from({ length: count }, () => []),
    );
    for (const group of this.#groups.values()) this.#rebalance(group);
  }

  /** Records are kept as they are: there is no wire to compress for. */
  async publish(topic: string, records: EventRecord[], _options?: PublishOptions): Promise<void> {
    await this.createTopic(topic);
    const partitions = this.#topics.get(topic)!;
    const timestamp = Date.now();
    for (const record of records) {
      const partition = hashKey(record.key) % partitions.length;
      const log = partitions[partition]!;
      log.push({ ...record, topic, partition, offset: log.length, timestamp });
    }
    this.#appended.emit('append');
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    for (const topic of options.topics) await this.createTopic(topic);
    const group = this.#group(options.group);
    const member: Member = { id: this.#nextMember++, options, owned: new Set() };
    group.members.push(member);
    this.#rebalance(group);

    let running = true;
    let wake: () => void = () => undefined;
    const onAppend = () => wake();
    this.#appended.on('append', onAppend);
    const loop = this.#consume(
      group,
      member,
      () => running,
      (resolve) => (wake = resolve),
    );

    return {
      close: async () => {
        running = false;
        wake();
        await loop;
        this.#appended.off('append', onAppend);
        group.members = group.members.filter((m) => m !== member);
        this.#rebalance(group);
      },
    };
  }

  async lag(groupName: string, topic: string): Promise<number> {
    const group = this.#group(groupName);
    const partitions = this.#topics.get(topic) ?? [];
    return partitions.reduce(
      (sum, log, p) => sum + log.length - (group.committed.get(partitionKey(topic, p)) ?? 0),
      0,
    );
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.#appended.emit('append');
    this.#appended.removeAllListeners();
  }

  async #consume(
    group: Group,
    member: Member,
    running: () => boolean,
    onWake: (resolve: () => void) => void,
  ): Promise<void> {
    const maxBatch = member.options.maxBatchSize ?? 500;
    while (running()) {
      let delivered = false;
      for (const owned of [...member.owned]) {
        if (!running()) break;
        const [topic, p] = owned.split('/') as [string, string];
        const log = this.#topics.get(topic)![Number(p)]!;
        const from = group.committed.get(owned) ?? 0;
        if (from >= log.length) continue;

        const records = log.slice(from, from + maxBatch);
        try {
          await member.options.handleBatch({ topic, partition: Number(p), records });
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 100));
          continue;
        }
        // A member that lost the partition meanwhile must not move its offset.
        if (member.owned.has(owned)) {
          group.committed.set(
            owned,
            Math.max(from + records.length, group.committed.get(owned) ?? 0),
          );
        }
        delivered = true;
      }
      if (!delivered && running()) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 200);
          onWake(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    }
  }

  #group(name: string): Group {
    let group = this.#groups.get(name);
    if (!group) {
      group = { committed: new Map(), members: [] };
      this.#groups.set(name, group);
    }
    return group;
  }

  /** Round-robin assignment of each subscribed topic's partitions over the group's members. */
  #rebalance(group: Group): void {
    for (const member of group.members) member.owned.clear();
    const topics = new Set(group.members.flatMap((m) => m.options.topics));
    for (const topic of topics) {
      const subscribers = group.members.filter((m) => m.options.topics.includes(topic));
      const partitions = this.#topics.get(topic)?.length ?? 0;
      for (let p = 0; p < partitions; p += 1) {
        subscribers[p % subscribers.length]?.owned.add(partitionKey(topic, p));
      }
    }
  }
}

/** FNV-1a over the key's UTF-8 bytes. */
function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
