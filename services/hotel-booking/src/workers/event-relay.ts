import {
  Counter,
  Gauge,
  encodeEvent,
  type Envelope,
  type EventLog,
  type EventRecord,
  type Logger,
  type Metrics,
  type Relational,
} from '@platform/kit';
import { TOPICS } from '../events.ts';
import { RepeatingTask } from './repeating-task.ts';

type OutboxRow = {
  id: string;
  topic: string;
  event_key: string;
  payload: string;
  created_at: number;
};

export interface EventRelayOptions {
  db: Relational;
  eventLog: EventLog;
  logger: Logger;
  metrics: Metrics;
  intervalMs: number;
  batchSize: number;
  partitions: number;
}

/**
 * Moves events from the outbox to the log: reads the oldest rows, publishes
 * them (publish resolves once the log has them durably), then deletes them.
 * A crash between the two publishes a batch again, which consumers dedupe by
 * event id, so delivery is at least once and nothing committed is lost. One
 * relay runs at a time (the chart runs one replica); a second one would only
 * duplicate events, never lose them.
 */
export class EventRelay {
  readonly #options: EventRelayOptions;
  readonly #task: RepeatingTask;
  readonly #published: Counter<'topic'>;
  readonly #oldest: Gauge;

  constructor(options: EventRelayOptions) {
    this.#options = options;
    this.#task = new RepeatingTask(
      'event relay',
      () => this.#relayBatch(),
      options.intervalMs,
      options.logger,
    );
    const registers = [options.metrics.registry];
    this.#published = new Counter({
      name: 'hotelbooking_events_published_total',
      help: 'Events moved from the outbox to the log, by topic.',
      labelNames: ['topic'],
      registers,
    });
    this.#oldest = new Gauge({
      name: 'hotelbooking_outbox_oldest_seconds',
      help: 'Age of the oldest event still waiting in the outbox (0 when it is empty).',
      registers,
    });
  }

  async start(): Promise<void> {
    for (const topic of Object.values(TOPICS)) {
      await this.#options.eventLog.createTopic(topic, { partitions: this.#options.partitions });
    }
    this.#task.start();
  }

  /** Relays everything waiting now (tests, and shutdown of the embedded platform). */
  flush(): Promise<void> {
    return this.#task.runNow();
  }

  close(): Promise<void> {
    return this.#task.close();
  }

  /** Relays one batch; true when the outbox may hold more. */
  async #relayBatch(): Promise<boolean> {
    const { db, eventLog, batchSize } = this.#options;
    const rows = await db.query<OutboxRow>(
      'SELECT id, topic, event_key, payload, created_at FROM outbox ' +
        'ORDER BY created_at, id LIMIT ?',
      [batchSize],
    );
    this.#oldest.set(rows.length > 0 ? (Date.now() - Number(rows[0]!.created_at)) / 1000 : 0);
    if (rows.length === 0) return false;

    // Per topic in outbox order, so one entity's events keep their order on the log.
    const byTopic = new Map<string, EventRecord[]>();
    for (const row of rows) {
      const records = byTopic.get(row.topic) ?? [];
      records.push({
        ...encodeEvent(JSON.parse(row.payload) as Envelope<unknown>),
        key: row.event_key,
      });
      byTopic.set(row.topic, records);
    }
    for (const [topic, records] of byTopic) {
      await eventLog.publish(topic, records);
      this.#published.inc({ topic }, records.length);
    }
    await db.execute(
      `DELETE FROM outbox WHERE id IN (${rows.map(() => '?').join(', ')})`,
      rows.map((row) => row.id),
    );
    return rows.length === batchSize;
  }
}
