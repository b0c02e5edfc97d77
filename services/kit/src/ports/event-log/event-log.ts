export interface EventRecord {
  /** The entity key: records with one key land in one partition, in order. */
  key: string;
  value: Buffer;
  headers?: Record<string, string>;
}

export interface ConsumedRecord extends EventRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
}

/** Consecutive records of one partition, oldest first. */
export interface EventBatch {
  topic: string;
  partition: number;
  records: ConsumedRecord[];
}

export interface SubscribeOptions {
  /** Members of one group share the partitions; each group sees every record. */
  group: string;
  topics: string[];
  /**
   * Called with each batch; the batch's offsets are committed when it resolves.
   * When it throws, the batch is delivered again (at least once).
   */
  handleBatch: (batch: EventBatch) => Promise<void>;
  maxBatchSize?: number;
  /**
   * Called when the subscription stops for good on its own (the Kafka client
   * gives up on an error it cannot retry) rather than through close(). Nothing
   * is consumed after it; a service should exit so that it is restarted.
   */
  onStopped?: (error: Error) => void;
}

export interface PublishOptions {
  /**
   * Compress the records on the wire and on disk (gzip on Kafka; the in-process
   * log ignores it). Worth it for bulky, repetitive payloads: the producer then
   * checksums and copies a tenth of the bytes, and compresses off the event loop.
   */
  compress?: boolean;
}

export interface Subscription {
  /** Stops fetching, waits for the batch in hand, and leaves the group. */
  close(): Promise<void>;
}

/** The event log: topics of keyed partitions, consumer groups, at-least-once delivery. */
export interface EventLog {
  /**
   * Names this log's offset history. Offsets are only comparable within one
   * incarnation: an in-process log starts again at zero every time the process
   * starts, so positions a consumer stored elsewhere must be keyed by it.
   */
  readonly incarnation: string;
  createTopic(topic: string, options?: { partitions?: number }): Promise<void>;
  /** Resolves once every record is durably appended. */
  publish(topic: string, records: EventRecord[], options?: PublishOptions): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Records not yet committed by a group, summed over the topic's partitions. */
  lag(group: string, topic: string): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
