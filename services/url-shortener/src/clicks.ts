import Bowser from 'bowser';
import { encodeEvent, envelope, type EventLog, type EventRecord, type Logger } from '@platform/kit';
import type { Click } from './store/click-stats.store.ts';

export const CLICKS_TOPIC = 'url-shortener.clicks';
export const CLICKS_EVENT = 'url-shortener.clicks';
export const CLICKS_SCHEMA_VERSION = 1;

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

/** Identical visits of one code in one minute, folded into a count. */
export interface Visit extends Omit<RawClick, 'code'> {
  count: number;
}

/** The event: the visits of one code since the last flush. Keyed by code. */
export interface ClickBatch {
  code: string;
  visits: Visit[];
}

const MAX_BUFFERED_VISITS = 100_000;
/** Keeps every event far below Kafka's default 1 MB record limit. */
const MAX_VISITS_PER_EVENT = 500;
/**
 * Kafka's 1 MB limit holds for a partition's whole record batch in one
 * produce request, so a flush of many distinct visits is sent in parts,
 * counted before compression so the bound holds whatever the ratio.
 */
export const MAX_PUBLISH_BYTES = 512 * 1024;

interface Unsent {
  records: EventRecord[];
  clicks: number;
  visits: number;
}

/**
 * Buffers clicks in memory and publishes them every interval or once the
 * buffer holds a number of clicks, as one event per code with identical
 * visits folded together: the log carries a record per code per flush rather
 * than one per redirect, compressed: visits repeat agents and referrers, and
 * the producer's cost per click is mostly per byte. A failed publish keeps its
 * events for the next try; past a bound, new visits are dropped and counted.
 */
export class ClickBuffer {
  readonly #log: EventLog;
  readonly #logger: Logger;
  readonly #flushSize: number;
  readonly #onDrop: (count: number) => void;
  #codes = new Map<string, Map<string, Visit>>();
  #visits = 0;
  #clicks = 0;
  #unsent: Unsent = { records: [], clicks: 0, visits: 0 };
  #flushing: Promise<void> | undefined;
  /** Clicks of the publish under way. */
  #inFlight = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(options: {
    log: EventLog;
    logger: Logger;
    flushSize: number;
    flushMs: number;
    onDrop?: (count: number) => void;
  }) {
    this.#log = options.log;
    this.#logger = options.logger;
    this.#flushSize = options.flushSize;
    this.#onDrop = options.onDrop ?? (() => undefined);
    this.#timer = setInterval(() => void this.flush(), options.flushMs);
    this.#timer.unref();
  }

  push(click: RawClick): void {
    const minute = Math.floor(click.at / 60_000);
    const { ip, userAgent, referer, country = '' } = click;
    const key = `${minute}\n${ip}\n${userAgent}\n${referer}\n${country}`;
    let visits = this.#codes.get(click.code);
    if (!visits) {
      visits = new Map();
      this.#codes.set(click.code, visits);
    }

    const visit = visits.get(key);
    if (visit) {
      visit.count += 1;
    } else if (this.#visits + this.#unsent.visits >= MAX_BUFFERED_VISITS) {
      this.#onDrop(1);
      return;
    } else {
      const { at, ip, userAgent, referer, country } = click;
      visits.set(key, { at, ip, userAgent, referer, ...(country ? { country } : {}), count: 1 });
      this.#visits += 1;
    }
    this.#clicks += 1;
    if (this.#clicks >= this.#flushSize) void this.flush();
  }

  /** Clicks not yet on the log. */
  get size(): number {
    return this.#clicks + this.#unsent.clicks;
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

  async #publish(): Promise<void> {
    const batch = this.#take();
    if (batch.records.length === 0) return;
    this.#inFlight = batch.clicks;
    try {
      for (const part of byteBounded(batch.records, MAX_PUBLISH_BYTES)) {
        await this.#log.publish(CLICKS_TOPIC, part, { compress: true });
      }
      this.#inFlight = 0;
    } catch (error) {
      this.#inFlight = 0;
      this.#logger.warn(
        { err: error, clicks: batch.clicks },
        'click publish failed, kept for retry',
      );
      this.#unsent = batch;
    }
  }

  /**
   * Everything buffered as events, the events of a failed publish first. A
   * retried event keeps its id, so the aggregator counts it once even when
   * part of the failed publish did reach the log.
   */
  #take(): Unsent {
    const records = this.#unsent.records;
    const clicks = this.#unsent.clicks + this.#clicks;
    const visitCount = this.#unsent.visits + this.#visits;
    for (const [code, visits] of this.#codes) {
      const all = [...visits.values()];
      for (let i = 0; i < all.length; i += MAX_VISITS_PER_EVENT) {
        const data: ClickBatch = { code, visits: all.slice(i, i + MAX_VISITS_PER_EVENT) };
        records.push(encodeEvent(envelope(CLICKS_EVENT, CLICKS_SCHEMA_VERSION, code, data)));
      }
    }
    this.#codes = new Map();
    this.#visits = 0;
    this.#clicks = 0;
    this.#unsent = { records: [], clicks: 0, visits: 0 };
    return { records, clicks, visits: visitCount };
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

/** Device, browser, country and referrer host of a visit. */
export function enrichClick(code: string, raw: Visit, lookupCountry: CountryLookup): Click {
  const agent = raw.userAgent ? Bowser.parse(raw.userAgent) : undefined;
  return {
    code,
    at: raw.at,
    count: raw.count,
    country: normaliseCountry(raw.country) ?? normaliseCountry(lookupCountry(raw.ip)) ?? 'unknown',
    device: agent?.platform.type || 'unknown',
    browser: agent?.browser.name || 'unknown',
    referrer: refererHost(raw.referer),
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
