import { decodeEvent, encodeEvent, envelope, type EventRecord } from '@platform/kit';
import { isCode } from './domain/alias.ts';

/**
 * The wire format of click events: what the API publishes and the aggregator
 * reads, in the platform's envelope on the topic below.
 *
 * Version 2 (written): clicks of the codes of one shard, every string of an
 * event once; a shard with many clicks in a flush takes several events.
 * Version 1 (one event per code, every visit spelled out) is no longer written
 * but still read, so events an older API published are counted after an
 * upgrade.
 */
export const CLICKS_TOPIC = 'url-shortener.clicks';
export const CLICKS_EVENT = 'url-shortener.clicks';
export const CLICKS_SCHEMA_VERSION = 2;
/** Partitions of the topic, created by whichever of the API and the aggregator comes first. */
export const CLICKS_PARTITIONS = 6;

/**
 * A click, or identical clicks of one code in one minute folded into a count
 * by a producer that folds (version 1 did; the API's version 2 writes 1).
 */
export interface Visit {
  code: string;
  /** Epoch milliseconds (of the first, when folded). */
  at: number;
  ip: string;
  userAgent: string;
  referer: string;
  /** The edge's country header, when one is configured and was present. */
  country?: string;
  count: number;
}

/**
 * Version 2's data. `strings` holds every code, address, user agent, referrer
 * and country the visits name; each visit is VISIT_FIELDS integers in
 * `visits`: code, at - since, ip, userAgent, referer, country (-1 for none),
 * count, the strings by their index.
 */
export interface ClickEventData {
  since: number;
  strings: string[];
  visits: number[];
}

/** Version 1's data, keyed by the code. */
interface ClickEventDataV1 {
  code: string;
  visits: Omit<Visit, 'code'>[];
}

export const VISIT_FIELDS = 7;

/**
 * The most identical visits one visit folds: version 2 writes 1, version 1
 * folded the identical visits of one flush, fewer than a buffer holds. Past it
 * a record is garbage, and a batch's sum could pass a safe integer and BIGINT.
 */
export const MAX_VISIT_COUNT = 1_000_000;

/**
 * Codes are spread over this many shards, each published under its own key,
 * so a code's version 2 events always land on one partition and one
 * aggregator owns its rows. (While version 1 events of a code, keyed by the
 * code, are still on the log after an upgrade, two aggregators may update its
 * rows at once: counts stay right, in transactions, but may wait on locks.)
 */
export const CLICK_SHARDS = 64;

export function shardOf(code: string): number {
  // FNV-1a: stable across processes and versions, unlike anything seeded.
  let hash = 0x811c9dc5;
  for (let i = 0; i < code.length; i += 1) {
    hash = Math.imul(hash ^ code.charCodeAt(i), 0x01000193);
  }
  return (hash >>> 0) % CLICK_SHARDS;
}

/**
 * Bounds on the JSON of an event: the envelope's fields; a number of up to 16
 * digits with its sign and comma; a string's quotes and comma and at most six
 * bytes for each UTF-16 unit (an escaped control character or lone surrogate;
 * UTF-8 needs at most three).
 */
const ENVELOPE_BYTES = 512;
const NUMBER_BYTES = 18;
const stringBytes = (value: string) => 6 * value.length + 3;

/**
 * Clicks as columns, one entry per click: strings by their index in a table,
 * country -1 for none.
 */
export interface ClickColumns {
  length: number;
  code: Int32Array;
  at: Float64Array;
  ip: Int32Array;
  userAgent: Int32Array;
  referer: Int32Array;
  country: Int32Array;
}

/** An event and the clicks it carries. */
export interface EncodedEvent {
  record: EventRecord;
  clicks: number;
}

/**
 * The events for a set of clicks, shard by shard, each event with a table of
 * the strings its visits name. An event is closed before its JSON could pass
 * `maxBytes`, a bound worked out from the lengths of its strings, not
 * measured (so at most about 1,000 clicks an event of 128 KB). It runs on
 * the API's event loop, so it sticks to typed arrays and encodes a budget of
 * clicks a call, picking up where the last call stopped: the caller lets
 * requests in between, however the clicks fall into shards.
 */
export class ClickEventEncoder {
  readonly #clicks: ClickColumns;
  readonly #table: readonly string[];
  readonly #maxBytes: number;
  /** The clicks in shard order; shard s holds order[starts[s]] to order[starts[s + 1] - 1]. */
  readonly #order: Int32Array;
  readonly #starts: Int32Array;
  /** A string's index in the open event's table, valid while its stamp is the event's. */
  readonly #local: Int32Array;
  readonly #stamp: Int32Array;
  /** Where the next call picks up: a position in #order, and the open event's shard. */
  #next = 0;
  #shard = -1;
  #event = 0;
  #strings: string[] = [];
  #visits: number[] = [];
  #since = 0;
  #bytes = 0;

  constructor(clicks: ClickColumns, table: readonly string[], limits: { maxBytes: number }) {
    this.#clicks = clicks;
    this.#table = table;
    this.#maxBytes = limits.maxBytes;
    // A counting sort: clicks per shard, then each placed after its shard's start.
    const { length, code } = clicks;
    const shardOfCode = new Int32Array(table.length).fill(-1);
    const shard = new Int32Array(length);
    const starts = new Int32Array(CLICK_SHARDS + 1);
    for (let i = 0; i < length; i += 1) {
      let s = shardOfCode[code[i]!]!;
      if (s < 0) s = shardOfCode[code[i]!] = shardOf(table[code[i]!]!);
      shard[i] = s;
      starts[s + 1]! += 1;
    }
    for (let s = 0; s < CLICK_SHARDS; s += 1) starts[s + 1]! += starts[s]!;
    const order = new Int32Array(length);
    const next = starts.slice(0, CLICK_SHARDS);
    for (let i = 0; i < length; i += 1) order[next[shard[i]!]!++] = i;
    this.#order = order;
    this.#starts = starts;
    this.#local = new Int32Array(table.length);
    this.#stamp = new Int32Array(table.length);
  }

  /** Every click encoded. */
  get done(): boolean {
    return this.#next >= this.#clicks.length;
  }

  /** The events completed by encoding up to `budget` more clicks (all of them by default). */
  encode(budget = Infinity): EncodedEvent[] {
    const { code, at, ip, userAgent, referer, country } = this.#clicks;
    const events: EncodedEvent[] = [];
    const end = Math.min(this.#clicks.length, this.#next + budget);
    for (; this.#next < end; this.#next += 1) {
      const i = this.#order[this.#next]!;
      // The first click of a shard: close the last shard's open event.
      while (this.#next >= this.#starts[this.#shard + 1]!) {
        if (this.#visits.length > 0) events.push(this.#close());
        this.#shard += 1;
      }
      if (this.#visits.length > 0) {
        const adds =
          VISIT_FIELDS * NUMBER_BYTES +
          this.#cost(code[i]!) +
          this.#cost(ip[i]!) +
          this.#cost(userAgent[i]!) +
          this.#cost(referer[i]!) +
          this.#cost(country[i]!);
        if (this.#bytes + adds > this.#maxBytes) events.push(this.#close());
      }
      if (this.#visits.length === 0) this.#open(at[i]!);
      this.#bytes += VISIT_FIELDS * NUMBER_BYTES;
      this.#visits.push(
        this.#id(code[i]!),
        at[i]! - this.#since,
        this.#id(ip[i]!),
        this.#id(userAgent[i]!),
        this.#id(referer[i]!),
        country[i]! < 0 ? -1 : this.#id(country[i]!),
        1,
      );
    }
    if (this.done && this.#visits.length > 0) events.push(this.#close());
    return events;
  }

  #open(since: number): void {
    this.#event += 1;
    this.#since = since;
    this.#bytes = ENVELOPE_BYTES;
  }

  #close(): EncodedEvent {
    const data: ClickEventData = {
      since: this.#since,
      strings: this.#strings,
      visits: this.#visits,
    };
    const event = envelope(CLICKS_EVENT, CLICKS_SCHEMA_VERSION, `shard-${this.#shard}`, data);
    const clicks = this.#visits.length / VISIT_FIELDS;
    this.#strings = [];
    this.#visits = [];
    return { record: encodeEvent(event), clicks };
  }

  /** What a string adds to the open event, at most. */
  #cost(index: number): number {
    return index < 0 || this.#stamp[index] === this.#event ? 0 : stringBytes(this.#table[index]!);
  }

  #id(index: number): number {
    if (this.#stamp[index] !== this.#event) {
      this.#stamp[index] = this.#event;
      this.#local[index] = this.#strings.push(this.#table[index]!) - 1;
      this.#bytes += stringBytes(this.#table[index]!);
    }
    return this.#local[index]!;
  }
}

/**
 * The visits a record carries, or undefined when it is not a click event this
 * version understands or is malformed: such a record is skipped (and counted)
 * rather than retried forever, which would stop the partition behind it. So
 * a visit must also fit the aggregator's columns: a code as the redirect path
 * takes one, a time and a count that are safe integers.
 */
export function readClickEvent(record: {
  value: Buffer;
}): { id: string; visits: Visit[] } | undefined {
  try {
    const event = decodeEvent<unknown>(record);
    if (event.type !== CLICKS_EVENT) return undefined;
    if (typeof event.id !== 'string' || event.id.length > 64) return undefined;
    const visits =
      event.version === 2
        ? readVersion2(event.data as ClickEventData)
        : event.version === 1
          ? readVersion1(event.data as ClickEventDataV1)
          : undefined;
    return visits && { id: event.id, visits };
  } catch {
    return undefined;
  }
}

function readVersion2({ since, strings, visits }: ClickEventData): Visit[] | undefined {
  if (!Number.isSafeInteger(since) || !Array.isArray(strings) || !Array.isArray(visits)) {
    return undefined;
  }
  if (visits.length % VISIT_FIELDS !== 0) return undefined;
  if (!strings.every((s) => typeof s === 'string')) return undefined;
  const string = (index: number | undefined) =>
    Number.isInteger(index) && index! >= 0 && index! < strings.length ? strings[index!] : undefined;
  const read: Visit[] = [];
  for (let i = 0; i < visits.length; i += VISIT_FIELDS) {
    const offset = visits[i + 1];
    const count = visits[i + 6];
    const country = visits[i + 5] === -1 ? '' : string(visits[i + 5]);
    const visit = {
      code: string(visits[i]),
      at: since + offset!,
      ip: string(visits[i + 2]),
      userAgent: string(visits[i + 3]),
      referer: string(visits[i + 4]),
      count: count!,
    };
    if (!Number.isSafeInteger(offset)) return undefined;
    if (!isVisit(visit) || country === undefined) return undefined;
    read.push(country ? { ...visit, country } : visit);
  }
  return read;
}

function readVersion1({ code, visits }: ClickEventDataV1): Visit[] | undefined {
  if (typeof code !== 'string' || !Array.isArray(visits)) return undefined;
  const read = visits.map((visit) => ({ ...visit, code }));
  const valid = read.every(
    (v) => isVisit(v) && (v.country === undefined || typeof v.country === 'string'),
  );
  return valid ? read : undefined;
}

function isVisit(visit: Partial<Record<keyof Visit, unknown>>): visit is Visit {
  return (
    typeof visit.code === 'string' &&
    isCode(visit.code) &&
    Number.isSafeInteger(visit.at) &&
    Number.isSafeInteger(visit.count) &&
    (visit.count as number) > 0 &&
    (visit.count as number) <= MAX_VISIT_COUNT &&
    typeof visit.ip === 'string' &&
    typeof visit.userAgent === 'string' &&
    typeof visit.referer === 'string'
  );
}
