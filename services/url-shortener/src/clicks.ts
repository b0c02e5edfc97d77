import Bowser from 'bowser';
import { encodeEvent, envelope, type EventLog, type EventRecord, type Logger } from '@platform/kit';
import type { Click } from './store/click-stats.store.ts';

export const CLICKS_TOPIC = 'url-shortener.clicks';
export const CLICK_EVENT = 'url-shortener.click';
export const CLICK_SCHEMA_VERSION = 1;

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

const MAX_BUFFERED = 100_000;

/**
 * Buffers clicks in memory and publishes them every interval or once the
 * buffer reaches a size. A failed publish keeps the clicks for the next try;
 * past a bound the oldest are dropped and counted.
 */
export class ClickBuffer {
  readonly #log: EventLog;
  readonly #logger: Logger;
  readonly #flushSize: number;
  readonly #onDrop: (count: number) => void;
  #pending: EventRecord[] = [];
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;

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
    this.#pending.push(encodeEvent(envelope(CLICK_EVENT, CLICK_SCHEMA_VERSION, click.code, click)));
    if (this.#pending.length > MAX_BUFFERED) {
      const dropped = this.#pending.length - MAX_BUFFERED;
      this.#pending.splice(0, dropped);
      this.#onDrop(dropped);
    }
    if (this.#pending.length >= this.#flushSize) void this.flush();
  }

  get size(): number {
    return this.#pending.length;
  }

  /** Publishes what is buffered; concurrent calls share one publish. */
  flush(): Promise<void> {
    this.#flushing ??= this.#publish().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  /** Stops the timer and publishes what is left. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
    if (this.#pending.length > 0) await this.flush();
  }

  async #publish(): Promise<void> {
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    try {
      await this.#log.publish(CLICKS_TOPIC, batch);
    } catch (error) {
      this.#logger.warn(
        { err: error, clicks: batch.length },
        'click publish failed, kept for retry',
      );
      this.#pending = batch.concat(this.#pending);
    }
  }
}

export type CountryLookup = (ip: string) => string | undefined;

/** Device, browser, country and referrer host of a raw click. */
export function enrichClick(raw: RawClick, lookupCountry: CountryLookup): Click {
  const agent = raw.userAgent ? Bowser.parse(raw.userAgent) : undefined;
  return {
    code: raw.code,
    at: raw.at,
    country: normaliseCountry(raw.country) ?? normaliseCountry(lookupCountry(raw.ip)) ?? 'unknown',
    device: agent?.platform.type ?? 'unknown',
    browser: agent?.browser.name ?? 'unknown',
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
