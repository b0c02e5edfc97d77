import {
  Counter,
  consumerLagGauge,
  decodeEvent,
  type EventLog,
  type IndexSpec,
  type Logger,
  type Metrics,
  type SearchDocument,
  type SearchIndex,
  type Subscription,
} from '@platform/kit';
import type { CalendarDate } from './domain/dates.ts';
import { TOPICS } from './events.ts';
import type { Hotel, HotelStore, Room } from './store/hotel.store.ts';

export const SEARCH_GROUP = 'hotel-booking.search-indexer';

/** The hotel search index: text to search, and the fields the filters need. */
export const HOTEL_INDEX: IndexSpec = {
  name: 'hotel-booking-hotels',
  version: 1,
  fields: {
    name: { type: 'text', boost: 3 },
    locality: { type: 'text', boost: 2 },
    description: { type: 'text' },
    locality_key: { type: 'keyword' },
    facilities: { type: 'keyword' },
    min_price: { type: 'number' },
    max_price: { type: 'number' },
    currency: { type: 'keyword' },
    rooms: { type: 'number' },
  },
};

/** A locality as filters compare it: trimmed, lower case. */
export const localityKey = (locality: string) => locality.trim().toLowerCase();

/**
 * A hotel as the index holds it, with its room types folded in. Its version
 * is the sum of the hotel's and its room types' versions: every change raises
 * one of them by one and room types are never removed, so the sum grows with
 * every change and an older state can never overwrite a newer one.
 */
export function hotelDocument(hotel: Hotel, rooms: Room[]): SearchDocument {
  const priced = rooms.filter((room) => room.quantity > 0);
  return {
    id: hotel.id,
    version: hotel.version + rooms.reduce((sum, room) => sum + room.version, 0),
    fields: {
      name: hotel.name,
      locality: hotel.locality,
      description: hotel.description ?? null,
      locality_key: localityKey(hotel.locality),
      facilities: hotel.facilities.map((facility) => facility.toLowerCase()),
      min_price: priced.length > 0 ? Math.min(...priced.map((room) => room.minPrice)) : null,
      max_price: priced.length > 0 ? Math.max(...priced.map((room) => room.maxPrice)) : null,
      currency: hotel.currency,
      rooms: priced.reduce((sum, room) => sum + room.quantity, 0),
    },
  };
}

/**
 * The search indexer: a consumer group on hotel events. An event only says
 * which hotel changed; the indexer reads the hotel and its room types as they
 * are now and writes that, under the version above. Replayed, duplicated and
 * out-of-order events therefore converge on the current state.
 */
export class HotelIndexer {
  readonly #deps: {
    hotels: HotelStore;
    index: SearchIndex;
    eventLog: EventLog;
    logger: Logger;
  };
  readonly #written: Counter<'outcome'>;
  #subscription: Subscription | undefined;

  constructor(deps: {
    hotels: HotelStore;
    index: SearchIndex;
    eventLog: EventLog;
    logger: Logger;
    metrics: Metrics;
  }) {
    this.#deps = deps;
    const registers = [deps.metrics.registry];
    this.#written = new Counter({
      name: 'hotelbooking_search_index_writes_total',
      help: 'Hotel documents written to the search index, by outcome (applied or stale).',
      labelNames: ['outcome'],
      registers,
    });
    consumerLagGauge({
      name: 'hotelbooking_search_indexer_lag',
      help: 'Hotel events on the log not yet committed by the search indexer group.',
      registry: deps.metrics.registry,
      eventLog: deps.eventLog,
      group: SEARCH_GROUP,
      topic: TOPICS.hotels,
    });
  }

  async start(options: { partitions: number; onStopped?: (error: Error) => void }): Promise<void> {
    const { eventLog } = this.#deps;
    await eventLog.createTopic(TOPICS.hotels, { partitions: options.partitions });
    this.#subscription = await eventLog.subscribe({
      group: SEARCH_GROUP,
      topics: [TOPICS.hotels],
      ...(options.onStopped ? { onStopped: options.onStopped } : {}),
      handleBatch: async (batch) => {
        // Several events of one hotel in a batch need one read and one write.
        const hotelIds = new Set(batch.records.map((record) => decodeEvent(record).key));
        for (const id of hotelIds) await this.reindex(id);
      },
    });
  }

  /**
   * Indexes every hotel as it is now: at start, so an index that is new or
   * lost its documents (the embedded one lives in memory) catches up without
   * events. Versions make it harmless where the index is already current.
   */
  async backfill(): Promise<number> {
    let after = '';
    let count = 0;
    for (;;) {
      const ids = await this.#deps.hotels.hotelIds(after, 200);
      for (const id of ids) await this.reindex(id);
      count += ids.length;
      if (ids.length < 200) return count;
      after = ids.at(-1)!;
    }
  }

  /** Writes a hotel's current state to the index. */
  async reindex(hotelId: string): Promise<void> {
    const { hotels, index } = this.#deps;
    const hotel = await hotels.findHotel(hotelId);
    if (!hotel) return;
    const [outcome] = await index.upsert([hotelDocument(hotel, await hotels.roomsOf(hotelId))]);
    this.#written.inc({ outcome: outcome! });
  }

  async close(): Promise<void> {
    await this.#subscription?.close();
  }
}

export interface HotelSearchQuery {
  text?: string | undefined;
  locality?: string | undefined;
  minPrice?: number | undefined;
  maxPrice?: number | undefined;
  facilities?: string[] | undefined;
  /** With endDate: only hotels with `quantity` rooms of one type free on every night. */
  startDate?: CalendarDate | undefined;
  endDate?: CalendarDate | undefined;
  quantity: number;
  limit: number;
  cursor?: string | undefined;
}

export interface HotelHit {
  id: string;
  score: number;
  name: string;
  locality: string;
  facilities: string[];
  minPrice: number | null;
  maxPrice: number | null;
  currency: string;
}

/**
 * Hotel search: fuzzy text and the filters the index holds (locality,
 * facilities, a price range overlapping the hotel's), then, for dates, a
 * check of the candidates' nights in MySQL, where availability is exact.
 */
export class HotelSearch {
  readonly #index: SearchIndex;
  readonly #hotels: HotelStore;

  constructor(index: SearchIndex, hotels: HotelStore) {
    this.#index = index;
    this.#hotels = hotels;
  }

  async search(
    query: HotelSearchQuery,
  ): Promise<{ hits: HotelHit[]; total: number; nextCursor: string | null }> {
    const filters: NonNullable<Parameters<SearchIndex['search']>[0]['filters']> = [];
    if (query.locality) {
      filters.push({ type: 'term', field: 'locality_key', value: localityKey(query.locality) });
    }
    for (const facility of query.facilities ?? []) {
      filters.push({ type: 'term', field: 'facilities', value: facility.toLowerCase() });
    }
    if (query.maxPrice !== undefined) {
      filters.push({ type: 'range', field: 'min_price', lte: query.maxPrice });
    }
    if (query.minPrice !== undefined) {
      filters.push({ type: 'range', field: 'max_price', gte: query.minPrice });
    }
    const page = await this.#index.search({
      ...(query.text ? { text: query.text } : {}),
      filters,
      limit: query.limit,
      ...(query.cursor ? { cursor: query.cursor } : {}),
    });
    let hits = page.hits;
    if (query.startDate && query.endDate) {
      const free = await this.#hotels.hotelsWithFreeRooms(
        hits.map((hit) => hit.id),
        query.startDate,
        query.endDate,
        query.quantity,
      );
      hits = hits.filter((hit) => free.has(hit.id));
    }
    return {
      hits: hits.map((hit) => ({
        id: hit.id,
        score: hit.score,
        name: String(hit.fields.name),
        locality: String(hit.fields.locality),
        facilities: (hit.fields.facilities as string[] | undefined) ?? [],
        minPrice: (hit.fields.min_price as number | null | undefined) ?? null,
        maxPrice: (hit.fields.max_price as number | null | undefined) ?? null,
        currency: String(hit.fields.currency),
      })),
      total: page.total,
      nextCursor: page.cursor ?? null,
    };
  }
}
