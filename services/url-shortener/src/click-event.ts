import { decodeEvent, encodeEvent, envelope, type EventRecord } from '@platform/kit';

/**
 * The wire format of click events: what the API publishes and the aggregator
 * reads, in the platform's envelope on the topic below.
 *
 * Version 2 (written): the visits of the codes of one shard in one event,
 * every string once. Version 1 (one event per code, every visit spelled out)
 * is no longer written but still read, so events an older API published are
 * counted after an upgrade.
 */
export const CLICKS_TOPIC = 'url-shortener.clicks';
export const CLICKS_EVENT = 'url-shortener.clicks';
export const CLICKS_SCHEMA_VERSION = 2;

/** Identical visits of one code in one minute, folded into a count. */
export interface Visit {
  code: string;
  /** Epoch milliseconds of the first of the visits. */
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
 * Codes are spread over this many shards, each published under its own key,
 * so a code's events always land on one partition and one aggregator owns its
 * rows: two aggregators never update one count at once.
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
 * The visits a record carries, or undefined when it is not a click event this
 * version understands or is malformed: such a record is skipped (and counted)
 * rather than retried forever, which would stop the partition behind it.
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
    const [code, offset, ip, userAgent, referer, country, count] = visits.slice(
      i,
      i + VISIT_FIELDS,
    );
    const visit = {
      code: string(code),
      at: since + offset!,
      ip: string(ip),
      userAgent: string(userAgent),
      referer: string(referer),
      count: count!,
    };
    const countryName = country === -1 ? '' : string(country);
    if (!Number.isSafeInteger(visit.at) || !Number.isInteger(count) || count! <= 0) {
      return undefined;
    }
    if (!isVisit(visit) || countryName === undefined) return undefined;
    read.push(countryName ? { ...visit, country: countryName } : visit);
  }
  return read;
}

function readVersion1({ code, visits }: ClickEventDataV1): Visit[] | undefined {
  if (typeof code !== 'string' || !Array.isArray(visits)) return undefined;
  const read = visits.map((visit) => ({ ...visit, code }));
  const valid = read.every(
    (v) =>
      isVisit(v) &&
      typeof v.at === 'number' &&
      Number.isInteger(v.count) &&
      v.count > 0 &&
      (v.country === undefined || typeof v.country === 'string'),
  );
  return valid ? read : undefined;
}

function isVisit(visit: Partial<Record<keyof Visit, unknown>>): visit is Visit {
  return (
    typeof visit.code === 'string' &&
    typeof visit.ip === 'string' &&
    typeof visit.userAgent === 'string' &&
    typeof visit.referer === 'string'
  );
}

/**
 * Builds the events of one shard from visits whose strings are indexes into
 * a table: each event gets a table of its own with the strings its visits
 * name. An event is closed before its JSON could pass `maxBytes` (bounded from
 * the lengths of its strings, not measured) or once it holds `maxVisits`.
 */
export class ClickEventWriter {
  readonly #key: string;
  readonly #table: readonly string[];
  readonly #maxBytes: number;
  readonly #maxVisits: number;
  readonly #done: EventRecord[] = [];
  #strings: string[] = [];
  /** The table's index to the event's. */
  #local = new Map<number, number>();
  #visits: number[] = [];
  #since = 0;
  #bytes = ENVELOPE_BYTES;

  constructor(
    shard: number,
    table: readonly string[],
    limits: { maxBytes: number; maxVisits: number },
  ) {
    this.#key = `shard-${shard}`;
    this.#table = table;
    this.#maxBytes = limits.maxBytes;
    this.#maxVisits = limits.maxVisits;
  }

  /** A visit; its strings are indexes into the table, country -1 for none. */
  add(
    code: number,
    at: number,
    ip: number,
    userAgent: number,
    referer: number,
    country: number,
    count: number,
  ): void {
    const visits = this.#visits.length / VISIT_FIELDS;
    if (visits > 0) {
      const bytes =
        this.#cost(code) +
        this.#cost(ip) +
        this.#cost(userAgent) +
        this.#cost(referer) +
        this.#cost(country);
      if (visits >= this.#maxVisits || this.#bytes + bytes > this.#maxBytes) this.#close();
    }
    if (this.#visits.length === 0) this.#since = at;
    this.#bytes += VISIT_FIELDS * NUMBER_BYTES;
    this.#visits.push(
      this.#id(code),
      at - this.#since,
      this.#id(ip),
      this.#id(userAgent),
      this.#id(referer),
      country < 0 ? -1 : this.#id(country),
      count,
    );
  }

  /** The events built, the open one closed. */
  records(): EventRecord[] {
    if (this.#visits.length > 0) this.#close();
    return this.#done;
  }

  #id(index: number): number {
    let id = this.#local.get(index);
    if (id === undefined) {
      const value = this.#table[index]!;
      id = this.#strings.push(value) - 1;
      this.#local.set(index, id);
      this.#bytes += stringBytes(value);
    }
    return id;
  }

  /** What a string adds to the event, at most. */
  #cost(index: number): number {
    return index < 0 || this.#local.has(index) ? 0 : stringBytes(this.#table[index]!);
  }

  #close(): void {
    const data: ClickEventData = {
      since: this.#since,
      strings: this.#strings,
      visits: this.#visits,
    };
    this.#done.push(encodeEvent(envelope(CLICKS_EVENT, CLICKS_SCHEMA_VERSION, this.#key, data)));
    this.#strings = [];
    this.#local = new Map();
    this.#visits = [];
    this.#bytes = ENVELOPE_BYTES;
  }
}
