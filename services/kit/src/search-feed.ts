import { Counter, Gauge, type Registry } from 'prom-client';
import { decodeEvent, type Envelope } from './events.ts';
import { AppError } from './http/errors.ts';
import type { ConsumedRecord, EventBatch, EventLog } from './ports/event-log/event-log.ts';
import { searchErrors } from './ports/search/errors.ts';
import type { IndexChange, SearchIndex, WriteOutcome } from './ports/search/search.ts';
import type { Logger } from './telemetry/logger.ts';

/** The index change an entity event means, or undefined for an event the index ignores. */
export type Projection<T> = (event: Envelope<T>) => IndexChange | undefined;

export interface SearchFeedOptions<T> {
  eventLog: EventLog;
  index: SearchIndex;
  /** The consumer group: the feed's replicas share the topics' partitions. */
  group: string;
  topics: string[];
  project: Projection<T>;
  registry: Registry;
  logger: Logger;
  maxBatchSize?: number;
  /** The subscription stopped for good; the process should exit and be restarted. */
  onStopped?: (error: Error) => void;
}

export interface SearchFeed {
  /** Records of the feed's topics not yet applied by its group. */
  lag(): Promise<number>;
  close(): Promise<void>;
}

/**
 * What became of an event: applied; stale (the index holds a newer version);
 * replayed (the index holds the version this very event wrote); conflict
 * (another event wrote the same version); skipped (no change for the index);
 * unreadable (not an event, or its projection failed); invalid (the change
 * does not fit the index).
 */
export type FeedOutcome =
  'applied' | 'stale' | 'replayed' | 'conflict' | 'skipped' | 'unreadable' | 'invalid';

interface Pending {
  change: IndexChange;
  event: Envelope<unknown>;
}

/**
 * Feeds an index from entity events: a consumer group on the event log whose
 * batches become index writes. Every write carries the entity's version and
 * the event's id, so a replayed or late event never regresses a document;
 * delivery is at least once, and applying twice changes nothing. Events it
 * cannot apply are counted and skipped rather than retried forever.
 */
export async function startSearchFeed<T>(options: SearchFeedOptions<T>): Promise<SearchFeed> {
  const { eventLog, index, group, topics, logger } = options;
  const metrics = feedMetrics(options.registry);
  const log = logger.child({ component: 'search-feed', index: index.spec.name, group });
  const count = (outcome: FeedOutcome, by = 1) =>
    by > 0 && metrics.events.inc({ index: index.spec.name, outcome }, by);

  const handleBatch = async (batch: EventBatch) => {
    const pending: Pending[] = [];
    for (const record of batch.records) {
      const read = readChange(record, options.project, log);
      if (read === 'skipped' || read === 'unreadable') count(read);
      else pending.push(read);
    }
    for (const [outcome, n] of tally(await apply(index, pending, log))) count(outcome, n);
  };

  const subscription = await eventLog.subscribe({
    group,
    topics,
    handleBatch,
    ...(options.maxBatchSize ? { maxBatchSize: options.maxBatchSize } : {}),
    ...(options.onStopped ? { onStopped: options.onStopped } : {}),
  });
  const feed: FeedLag = { eventLog, group, topics };
  metrics.feeds.add(feed);

  return {
    lag: () => totalLag(feed),
    close: async () => {
      metrics.feeds.delete(feed);
      await subscription.close();
    },
  };
}

function readChange<T>(
  record: ConsumedRecord,
  project: Projection<T>,
  log: Logger,
): Pending | 'skipped' | 'unreadable' {
  let event: Envelope<T>;
  try {
    event = decodeEvent<T>(record);
  } catch {
    log.warn({ partition: record.partition, offset: record.offset }, 'unreadable event skipped');
    return 'unreadable';
  }
  if (typeof event?.id !== 'string') return 'unreadable';

  let change: IndexChange | undefined;
  try {
    change = project(event);
  } catch (err) {
    log.warn({ err, event: event.id, type: event.type }, 'projection failed, event skipped');
    return 'unreadable';
  }
  if (!change) return 'skipped';
  // The event's id marks what it wrote, to tell its replay from a rival write.
  return {
    event: event as Envelope<unknown>,
    change:
      change.type === 'upsert'
        ? { type: 'upsert', document: { ...change.document, origin: event.id } }
        : { type: 'delete', deletion: { ...change.deletion, origin: event.id } },
  };
}

/** Writes the batch's changes in order and says what became of each. */
async function apply(index: SearchIndex, pending: Pending[], log: Logger): Promise<FeedOutcome[]> {
  if (pending.length === 0) return [];
  let written: (WriteOutcome | 'invalid')[];
  try {
    written = await index.write(pending.map((p) => p.change));
  } catch (error) {
    if (!isInvalid(error)) throw error;
    // One change does not fit: write them one at a time to keep the others.
    written = [];
    for (const { change, event } of pending) {
      try {
        written.push(...(await index.write([change])));
      } catch (err) {
        if (!isInvalid(err)) throw err;
        log.warn({ err, event: event.id, type: event.type }, 'change does not fit the index');
        written.push('invalid');
      }
    }
  }

  const staleIds = pending.filter((_, i) => written[i] === 'stale').map((p) => targetOf(p).id);
  const stored = staleIds.length > 0 ? await index.versions(staleIds) : new Map();
  return written.map((outcome, i) => {
    if (outcome !== 'stale') return outcome;
    const target = targetOf(pending[i]!);
    const held = stored.get(target.id);
    if (held?.origin === target.origin) return 'replayed';
    if (held?.version === target.version) {
      log.warn(
        { id: target.id, version: target.version, event: target.origin, held: held.origin },
        'two events wrote one version; the first one stays',
      );
      return 'conflict';
    }
    return 'stale';
  });
}

const targetOf = ({ change }: Pending) =>
  change.type === 'upsert' ? change.document : change.deletion;

const VALIDATION: readonly string[] = [
  'invalid_document',
  'unknown_field',
  'wrong_field_type',
] satisfies (keyof typeof searchErrors)[];

function isInvalid(error: unknown): boolean {
  return error instanceof AppError && VALIDATION.includes(error.code);
}

function tally(outcomes: FeedOutcome[]): Map<FeedOutcome, number> {
  const counts = new Map<FeedOutcome, number>();
  for (const outcome of outcomes) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  return counts;
}

interface FeedLag {
  eventLog: EventLog;
  group: string;
  topics: string[];
}

async function totalLag(feed: FeedLag): Promise<number> {
  const lags = await Promise.all(feed.topics.map((topic) => feed.eventLog.lag(feed.group, topic)));
  return lags.reduce((sum, lag) => sum + lag, 0);
}

interface FeedMetrics {
  events: Counter<'index' | 'outcome'>;
  /** Feeds running against this registry; the lag gauge asks each at scrape time. */
  feeds: Set<FeedLag>;
}

const registered = new WeakMap<Registry, FeedMetrics>();

/** One set of feed metrics per registry, shared by every feed of the process. */
function feedMetrics(registry: Registry): FeedMetrics {
  const existing = registered.get(registry);
  if (existing) return existing;

  const feeds = new Set<FeedLag>();
  const events = new Counter({
    name: 'search_feed_events_total',
    help: 'Entity events a search feed consumed, by index and what became of them.',
    labelNames: ['index', 'outcome'],
    registers: [registry],
  });
  new Gauge({
    name: 'search_feed_lag_records',
    help: 'Records of a search feed topic its consumer group has not applied yet.',
    labelNames: ['group', 'topic'],
    registers: [registry],
    async collect() {
      this.reset();
      await Promise.all(
        [...feeds].flatMap((feed) =>
          feed.topics.map(async (topic) => {
            // A lag the event log cannot tell now is left out of this scrape.
            const lag = await feed.eventLog.lag(feed.group, topic).catch(() => undefined);
            if (lag !== undefined) this.set({ group: feed.group, topic }, lag);
          }),
        ),
      );
    },
  });
  const metrics = { events, feeds };
  registered.set(registry, metrics);
  return metrics;
}
