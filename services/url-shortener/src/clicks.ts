import { setImmediate } from 'node:timers/promises';
import Bowser from 'bowser';
import type { EventLog, EventRecord, Logger } from '@platform/kit';
import {
  CLICKS_PARTITIONS,
  CLICKS_TOPIC,
  CLICK_SHARDS,
  ClickEventEncoder,
  type ClickColumns,
  type Visit,
} from './click-event.ts';
import type { Click } from './store/click-stats.store.ts';

/** What the redirect path records; parsing waits for the aggregator, off the hot path. */
export interface RawClick {
  code: string;
  at: number;
  ip: string;
  userAgent: string;
  referer: string;
  /** The edge's country header, when one is configured and present. */
  country?: string;
}

/**
 * What a buffer keeps while Kafka is unreachable: clicks (28 bytes each in the
 * arrays, about as much again as events) and bytes of their strings and
 * unsent events, which distinct agents and referrers of up to 512 characters
 * would otherwise grow to half a gigabyte. Past either, new clicks are dropped.
 */
export const MAX_BUFFERED_CLICKS = 500_000;
export const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
const MAX_VISITS_PER_EVENT = 20_000;
/** Shards encoded between two turns of the event loop: a 20,000-click flush blocks it for 8 slices of about 0.5 ms. */
const SHARDS_PER_SLICE = 8;
/**
 * Kafka's 1 MB limit holds for a partition's whole record batch in one
 * produce request, so a flush of many events is sent in parts, and no event
 * is larger than a part.
 */
export const MAX_PUBLISH_BYTES = 128 * 1024;

interface Unsent {
  records: EventRecord[];
  clicks: number;
  bytes: number;
}

/**
 * Buffers clicks in memory and publishes them every interval or once the
 * buffer holds a number of clicks. A click costs the redirect a few lookups
 * and stores: its strings are kept once in a table, the click as their
 * indexes in typed arrays, and nothing is folded here (the aggregator adds
 * counts up anyway). Each event carries the clicks of many codes with every
 * string once (click-event.ts): a user agent is sent once a flush, not once a
 * click, which keeps the producer's cost, mostly per byte, small. A failed
 * publish keeps its events for the next try; past a bound, new clicks are
 * dropped and counted.
 */
export class ClickBuffer {
  readonly #log: EventLog;
  readonly #logger: Logger;
  readonly #flushSize: number;
  readonly #onDrop: (count: number) => void;
  #strings: string[] = [];
  #ids = new Map<string, number>();
  /** Characters of the strings in the table: a byte each, as headers are Latin-1. */
  #tableBytes = 0;
  #columns = new Columns(1024);
  /** The other set of columns, free while no flush is encoding it. */
  #spare: Columns | undefined;
  #unsent: Unsent = { records: [], clicks: 0, bytes: 0 };
  #flushing: Promise<void> | undefined;
  /** Clicks and bytes of the flush under way, being encoded or published. */
  #inFlight = 0;
  #inFlightBytes = 0;
  readonly #maxClicks: number;
  readonly #maxBytes: number;
  readonly #timer: NodeJS.Timeout;

  constructor(options: {
    log: EventLog;
    logger: Logger;
    flushSize: number;
    flushMs: number;
    onDrop?: (count: number) => void;
    /** Bounds while Kafka is unreachable; MAX_BUFFERED_CLICKS and MAX_BUFFERED_BYTES by default. */
    maxClicks?: number;
    maxBytes?: number;
  }) {
    this.#log = options.log;
    this.#maxClicks = options.maxClicks ?? MAX_BUFFERED_CLICKS;
    this.#maxBytes = options.maxBytes ?? MAX_BUFFERED_BYTES;
    this.#logger = options.logger;
    this.#flushSize = options.flushSize;
    this.#onDrop = options.onDrop ?? (() => undefined);
    this.#timer = setInterval(() => void this.flush(), options.flushMs);
    this.#timer.unref();
  }

  push(click: RawClick): void {
    const clicks = this.#columns.length + this.#unsent.clicks + this.#inFlight;
    const bytes = this.#tableBytes + this.#unsent.bytes + this.#inFlightBytes;
    if (clicks >= this.#maxClicks || bytes >= this.#maxBytes) {
      this.#onDrop(1);
      return;
    }
    if (this.#columns.length === this.#columns.capacity) this.#columns = this.#columns.grown();
    const columns = this.#columns;
    const i = columns.length;
    columns.code[i] = this.#id(click.code);
    columns.at[i] = click.at;
    columns.ip[i] = this.#id(click.ip);
    columns.userAgent[i] = this.#id(click.userAgent);
    columns.referer[i] = this.#id(click.referer);
    columns.country[i] = click.country ? this.#id(click.country) : -1;
    columns.length = i + 1;
    if (columns.length >= this.#flushSize) void this.flush();
  }

  /** Clicks not yet on the log. */
  get size(): number {
    return this.#columns.length + this.#unsent.clicks;
  }

  /** Publishes what is buffered; concurrent calls share one publish. */
  flush(): Promise<void> {
    this.#flushing ??= this.#publish().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  /**
   * Stops the timer and publishes what is left, for at most `withinMs`: a
   * process being stopped has a grace period, and an unreachable Kafka would
   * hold it past that. What is still unsent then is logged as lost.
   */
  async close(withinMs = 8000): Promise<void> {
    clearInterval(this.#timer);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), withinMs);
    });
    const drained = (async () => {
      await this.flush();
      if (this.size > 0) await this.flush();
    })();
    const outcome = await Promise.race([drained, deadline]);
    clearTimeout(timer);
    const lost = this.size + (outcome === 'late' ? this.#inFlight : 0);
    if (lost > 0)
      this.#logger.error({ clicks: lost }, 'clicks not published before shutdown, lost');
  }

  #id(value: string): number {
    let id = this.#ids.get(value);
    if (id === undefined) {
      id = this.#strings.push(value) - 1;
      this.#ids.set(value, id);
      this.#tableBytes += value.length;
    }
    return id;
  }

  /**
   * Publishes the events of a failed publish, then everything buffered. A
   * retried event keeps its id, so the aggregator counts it once even when
   * part of the failed publish did reach the log.
   */
  async #publish(): Promise<void> {
    const { records, clicks: unsentClicks, bytes: unsentBytes } = this.#unsent;
    const columns = this.#columns;
    const clicks = unsentClicks + columns.length;
    if (clicks === 0) return;
    // Clicks from now on go to the other set of columns while these are sent.
    const encoder = new ClickEventEncoder(columns, this.#strings, {
      maxBytes: MAX_PUBLISH_BYTES,
      maxVisits: MAX_VISITS_PER_EVENT,
    });
    this.#columns = this.#spare ?? new Columns(columns.capacity);
    this.#spare = undefined;
    this.#inFlight = clicks;
    this.#inFlightBytes = unsentBytes + this.#tableBytes;
    this.#strings = [];
    this.#ids = new Map();
    this.#tableBytes = 0;
    this.#unsent = { records: [], clicks: 0, bytes: 0 };
    try {
      // A slice of shards at a time, letting requests in between.
      for (let from = 0; from < CLICK_SHARDS; from += SHARDS_PER_SLICE) {
        records.push(...encoder.encode(from, from + SHARDS_PER_SLICE));
        await setImmediate();
      }
      columns.length = 0;
      this.#spare = columns;
      // Kafka makes no topic on a write: an API must not wait for an aggregator to have made it.
      // Known once made, so it costs a round trip only once per process.
      await this.#log.createTopic(CLICKS_TOPIC, { partitions: CLICKS_PARTITIONS });
      for (const part of byteBounded(records, MAX_PUBLISH_BYTES)) {
        await this.#log.publish(CLICKS_TOPIC, part);
      }
    } catch (error) {
      this.#logger.warn({ err: error, clicks }, 'click publish failed, kept for retry');
      const bytes = records.reduce((sum, record) => sum + record.value.length, 0);
      this.#unsent = { records, clicks, bytes };
    } finally {
      this.#inFlight = 0;
      this.#inFlightBytes = 0;
    }
  }
}

/**
 * The buffered clicks, a typed array per field, strings as indexes into the
 * buffer's table. Kept from flush to flush: the arrays are reused.
 */
class Columns implements ClickColumns {
  length = 0;
  readonly code: Int32Array;
  readonly at: Float64Array;
  readonly ip: Int32Array;
  readonly userAgent: Int32Array;
  readonly referer: Int32Array;
  /** -1 for none. */
  readonly country: Int32Array;
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.code = new Int32Array(capacity);
    this.at = new Float64Array(capacity);
    this.ip = new Int32Array(capacity);
    this.userAgent = new Int32Array(capacity);
    this.referer = new Int32Array(capacity);
    this.country = new Int32Array(capacity);
  }

  /** Twice the room, the clicks so far copied over. */
  grown(): Columns {
    const next = new Columns(this.capacity * 2);
    next.code.set(this.code);
    next.at.set(this.at);
    next.ip.set(this.ip);
    next.userAgent.set(this.userAgent);
    next.referer.set(this.referer);
    next.country.set(this.country);
    next.length = this.length;
    return next;
  }
}

/** Records in order, in parts of at most maxBytes of values (a larger record alone). */
function* byteBounded(records: EventRecord[], maxBytes: number): Generator<EventRecord[]> {
  let part: EventRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    if (part.length > 0 && bytes + record.value.length > maxBytes) {
      yield part;
      part = [];
      bytes = 0;
    }
    part.push(record);
    bytes += record.value.length;
  }
  if (part.length > 0) yield part;
}

export type CountryLookup = (ip: string) => string | undefined;

/** Device and browser named by a user agent. */
type Agent = Pick<Click, 'device' | 'browser'>;

/**
 * What enrichClick has worked out so far, by user agent and by referrer: the
 * visits an aggregator batch carries repeat a few of each, and parsing them is
 * most of its work. One for a batch keeps it bounded.
 */
export interface EnrichCache {
  agents: Map<string, Agent>;
  referrers: Map<string, string>;
}

export const enrichCache = (): EnrichCache => ({ agents: new Map(), referrers: new Map() });

/** Device, browser, country and referrer host of a visit. */
export function enrichClick(
  raw: Visit,
  lookupCountry: CountryLookup,
  cache = enrichCache(),
): Click {
  let agent = cache.agents.get(raw.userAgent);
  if (!agent) {
    const parsed = raw.userAgent ? Bowser.parse(raw.userAgent) : undefined;
    agent = {
      device: parsed?.platform.type || 'unknown',
      browser: parsed?.browser.name || 'unknown',
    };
    cache.agents.set(raw.userAgent, agent);
  }
  let referrer = cache.referrers.get(raw.referer);
  if (referrer === undefined) {
    referrer = refererHost(raw.referer);
    cache.referrers.set(raw.referer, referrer);
  }
  return {
    code: raw.code,
    at: raw.at,
    count: raw.count,
    country: normaliseCountry(raw.country) ?? normaliseCountry(lookupCountry(raw.ip)) ?? 'unknown',
    ...agent,
    referrer,
  };
}

function normaliseCountry(country: string | undefined): string | undefined {
  if (!country) return undefined;
  const upper = country.trim().toUpperCase();
  return /^[A-Z]{2}$/.test(upper) ? upper : undefined;
}

function refererHost(referer: string): string {
  if (!referer) return 'direct';
  try {
    return new URL(referer).hostname || 'direct';
  } catch {
    return 'unknown';
  }
}
