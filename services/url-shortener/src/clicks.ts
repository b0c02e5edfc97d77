import { setImmediate } from 'node:timers/promises';
import Bowser from 'bowser';
import type { EventLog, Logger } from '@platform/kit';
import {
  CLICKS_PARTITIONS,
  CLICKS_TOPIC,
  ClickEventEncoder,
  type ClickColumns,
  type EncodedEvent,
  type Visit,
} from './click-event.ts';
import type { Click } from './store/click-stats.store.ts';

/** What the redirect path records; parsing waits for the aggregator, off the hot path. */
export type RawClick = Omit<Visit, 'count'>;

/**
 * What a buffer keeps while Kafka is unreachable: clicks (28 bytes each in the
 * arrays) and, about, bytes: the characters of the table's strings and the
 * bytes of encoded, unsent events, which distinct agents and referrers of up
 * to 512 characters would otherwise grow to half a gigabyte. Past either, new
 * clicks are dropped.
 */
export const MAX_BUFFERED_CLICKS = 500_000;
export const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
/** Clicks encoded between two turns of the event loop, about 0.5 ms of work. */
const CLICKS_PER_SLICE = 2500;
/**
 * Kafka's 1 MB limit holds for a partition's whole record batch in one
 * produce request, so a flush of many events is sent in parts, and no event
 * is larger than a part.
 */
export const MAX_PUBLISH_BYTES = 128 * 1024;

interface Unsent {
  events: EncodedEvent[];
  clicks: number;
  bytes: number;
}

/**
 * Buffers clicks in memory and publishes them every interval or once the
 * buffer holds a number of clicks. A click costs the redirect a few lookups
 * and stores: its strings are kept once in a table, the click as their
 * indexes in typed arrays, and nothing is folded here (the aggregator adds
 * counts up anyway). Each event carries the clicks of many codes with every
 * string once (click-event.ts): a user agent is sent once an event, not once
 * a click, which keeps the producer's cost, mostly per byte, small. Events
 * that a failed publish did not get onto the log are kept for the next try;
 * past a bound, new clicks are dropped and counted.
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
  #unsent: Unsent = { events: [], clicks: 0, bytes: 0 };
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

  /** Clicks waiting for a flush, and of failed ones; not those of the flush under way. */
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
   * Publishes the events a failed flush kept, then everything buffered. An
   * event kept keeps its id, so the aggregator counts it once even if a
   * publish that failed did get it onto the log.
   */
  async #publish(): Promise<void> {
    const unsent = this.#unsent;
    const columns = this.#columns;
    const clicks = unsent.clicks + columns.length;
    if (clicks === 0) return;
    // Clicks from now on go to the other set of columns while these are sent.
    const encoder = new ClickEventEncoder(columns, this.#strings, { maxBytes: MAX_PUBLISH_BYTES });
    this.#columns = this.#spare ?? new Columns(columns.capacity);
    this.#spare = undefined;
    this.#inFlight = clicks;
    this.#inFlightBytes = unsent.bytes + this.#tableBytes;
    this.#strings = [];
    this.#ids = new Map();
    this.#tableBytes = 0;
    this.#unsent = { events: [], clicks: 0, bytes: 0 };

    const events = unsent.events;
    const before = events.length;
    try {
      while (!encoder.done) {
        const encoded = encoder.encode(CLICKS_PER_SLICE);
        events.push(...encoded);
        this.#inFlightBytes += encoded.reduce((sum, e) => sum + e.record.value.length, 0);
        await setImmediate();
      }
    } catch (error) {
      // A bug, not an outage: these clicks cannot be sent as they are; the events kept still can.
      const lost = columns.length;
      this.#logger.error({ err: error, clicks: lost }, 'click events could not be built, lost');
      events.length = before;
    } finally {
      columns.length = 0;
      this.#spare = columns;
    }

    let sent = 0;
    try {
      // Kafka makes no topic on a write: an API must not wait for an aggregator to have made it.
      // Known once made, so it costs a round trip only once per process.
      await this.#log.createTopic(CLICKS_TOPIC, { partitions: CLICKS_PARTITIONS });
      for (const part of byteBounded(events, MAX_PUBLISH_BYTES)) {
        await this.#log.publish(
          CLICKS_TOPIC,
          part.map((e) => e.record),
        );
        sent += part.length;
      }
    } catch (error) {
      const kept = events.slice(sent);
      const keptClicks = kept.reduce((sum, e) => sum + e.clicks, 0);
      this.#logger.warn({ err: error, clicks: keptClicks }, 'click publish failed, kept for retry');
      const bytes = kept.reduce((sum, e) => sum + e.record.value.length, 0);
      this.#unsent = { events: kept, clicks: keptClicks, bytes };
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

/** Events in order, in parts of at most maxBytes of values (a larger event alone). */
function* byteBounded(events: EncodedEvent[], maxBytes: number): Generator<EncodedEvent[]> {
  let part: EncodedEvent[] = [];
  let bytes = 0;
  for (const event of events) {
    const size = event.record.value.length;
    if (part.length > 0 && bytes + size > maxBytes) {
      yield part;
      part = [];
      bytes = 0;
    }
    part.push(event);
    bytes += size;
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
