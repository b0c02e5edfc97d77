import { randomUUID } from 'node:crypto';
import { ConstraintViolation, isDeadlock, type Queryable, type Relational } from '@platform/kit';
import { addDays, nightsOf, type CalendarDate } from '../domain/dates.ts';
import { enqueue, TOPICS, type HotelEventData, type HotelEventType } from '../events.ts';

export interface HotelFields {
  name: string;
  locality: string;
  address?: string | undefined;
  description?: string | undefined;
  facilities: string[];
  imageUrls: string[];
  currency: string;
  timeZone: string;
}

export interface Hotel extends HotelFields {
  id: string;
  createdAt: number;
  updatedAt: number;
  /** Grows by one with every change; events and the search index are ordered by it. */
  version: number;
}

export interface RoomFields {
  name?: string | undefined;
  quantity: number;
  /** Minor units per room and night. */
  minPrice: number;
  maxPrice: number;
}

export interface Room {
  id: string;
  hotelId: string;
  name: string;
  quantity: number;
  minPrice: number;
  maxPrice: number;
  createdAt: number;
  updatedAt: number;
  version: number;
}

export interface NightAvailability {
  night: CalendarDate;
  total: number;
  available: number;
}

/** The nights on sale: from `from` up to, not including, `until`. */
export interface InventoryWindow {
  from: CalendarDate;
  until: CalendarDate;
}

export type PutRoomResult =
  | { outcome: 'created' | 'updated'; room: Room }
  | { outcome: 'other-hotel' }
  | { outcome: 'below-held' };

type HotelRow = {
  id: string;
  name: string;
  locality: string;
  address: string | null;
  description: string | null;
  facilities: string;
  image_urls: string;
  currency: string;
  time_zone: string;
  created_at: number;
  updated_at: number;
  version: number;
};

type RoomRow = {
  id: string;
  hotel_id: string;
  name: string;
  quantity: number;
  min_price: number;
  max_price: number;
  created_at: number;
  updated_at: number;
  version: number;
};

const PUT_ROOM_ATTEMPTS = 8;

/** Room types read at a time by the hourly passes over every room. */
const ROOMS_PER_PAGE = 200;

/** A bounded number of rows per INSERT keeps statements well under max_allowed_packet. */
const NIGHTS_PER_INSERT = 200;

/**
 * Hotels, their room types and the nights on sale. A room type's nights are
 * rows of room_availability holding its total and its unsold rooms; they are
 * opened ahead of time, so a booking only ever updates rows that exist.
 */
export class HotelStore {
  readonly #db: Relational;

  constructor(db: Relational) {
    this.#db = db;
  }

  async createHotel(fields: HotelFields, now: number): Promise<Hotel> {
    const hotel: Hotel = {
      ...fields,
      id: randomUUID(),
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    await this.#db.transaction(async (tx) => {
      await tx.execute(
        'INSERT INTO hotels (id, name, locality, address, description, facilities, image_urls, ' +
          'currency, time_zone, created_at, updated_at, version) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)',
        [hotel.id, ...hotelValues(fields), hotel.createdAt, hotel.updatedAt],
      );
      await announce(tx, 'hotel.changed', hotel.id, hotel.id, { hotel }, now);
    });
    return hotel;
  }

  /** Replaces a hotel's fields; undefined when there is no such hotel. */
  async updateHotel(id: string, fields: HotelFields, now: number): Promise<Hotel | undefined> {
    return this.#db.transaction(async (tx) => {
      const updated = await tx.execute(
        'UPDATE hotels SET name = ?, locality = ?, address = ?, description = ?, facilities = ?, ' +
          'image_urls = ?, currency = ?, time_zone = ?, updated_at = ?, version = version + 1 ' +
          'WHERE id = ?',
        [...hotelValues(fields), now, id],
      );
      if (updated.affectedRows !== 1) return undefined;
      const [row] = await tx.query<HotelRow>('SELECT * FROM hotels WHERE id = ?', [id]);
      const hotel = toHotel(row!);
      await announce(tx, 'hotel.changed', hotel.id, hotel.id, { hotel }, now);
      return hotel;
    });
  }

  async findHotel(id: string): Promise<Hotel | undefined> {
    const [row] = await this.#db.query<HotelRow>('SELECT * FROM hotels WHERE id = ?', [id]);
    return row && toHotel(row);
  }

  /** Hotel ids in order, a page after `after` at a time. */
  async hotelIds(after: string, limit: number): Promise<string[]> {
    const rows = await this.#db.query<{ id: string }>(
      'SELECT id FROM hotels WHERE id > ? ORDER BY id LIMIT ?',
      [after, limit],
    );
    return rows.map((row) => row.id);
  }

  async roomsOf(hotelId: string): Promise<Room[]> {
    const rows = await this.#db.query<RoomRow>(
      'SELECT * FROM rooms WHERE hotel_id = ? ORDER BY id',
      [hotelId],
    );
    return rows.map(toRoom);
  }

  async findRoom(id: string): Promise<Room | undefined> {
    const [row] = await this.#db.query<RoomRow>('SELECT * FROM rooms WHERE id = ?', [id]);
    return row && toRoom(row);
  }

  /**
   * Creates a room type or changes it. A new quantity moves the total and the
   * unsold rooms of every night from window.from on by the difference, which
   * the CHECK refuses when rooms already held would no longer fit.
   */
  async putRoom(
    hotelId: string,
    roomId: string,
    fields: RoomFields,
    window: InventoryWindow,
    now: number,
  ): Promise<PutRoomResult> {
    // Puts creating one new room type race for its row: the losers' INSERT
    // meets the winner's (a duplicate key, or a deadlock on the gap both
    // locked). Run again, they find the row and update it.
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.#putRoomOnce(hotelId, roomId, fields, window, now);
      } catch (error) {
        const duplicate = error instanceof ConstraintViolation && error.kind === 'unique';
        if (!(duplicate || isDeadlock(error)) || attempt >= PUT_ROOM_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
  }

  async #putRoomOnce(
    hotelId: string,
    roomId: string,
    fields: RoomFields,
    window: InventoryWindow,
    now: number,
  ): Promise<PutRoomResult> {
    try {
      return await this.#db.transaction(async (tx) => {
        const [current] = await tx.query<RoomRow>('SELECT * FROM rooms WHERE id = ? FOR UPDATE', [
          roomId,
        ]);
        if (current && current.hotel_id !== hotelId) return { outcome: 'other-hotel' as const };

        const room: Room = {
          id: roomId,
          hotelId,
          name: fields.name ?? current?.name ?? roomId,
          quantity: fields.quantity,
          minPrice: fields.minPrice,
          maxPrice: fields.maxPrice,
          createdAt: current ? Number(current.created_at) : now,
          updatedAt: now,
          version: current ? Number(current.version) + 1 : 1,
        };
        if (current) {
          await tx.execute(
            'UPDATE rooms SET name = ?, quantity = ?, min_price = ?, max_price = ?, ' +
              'updated_at = ?, version = version + 1 WHERE id = ?',
            [room.name, room.quantity, room.minPrice, room.maxPrice, now, roomId],
          );
          const change = room.quantity - current.quantity;
          if (change !== 0) {
            await tx.execute(
              'UPDATE room_availability SET total_quantity = total_quantity + ?, ' +
                'available_quantity = available_quantity + ? WHERE room_id = ? AND night >= ?',
              [change, change, roomId, window.from],
            );
          }
        } else {
          await tx.execute(
            'INSERT INTO rooms (id, hotel_id, name, quantity, min_price, max_price, ' +
              'created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
            [roomId, hotelId, room.name, room.quantity, room.minPrice, room.maxPrice, now, now],
          );
        }
        await this.#openNights(tx, roomId, room.quantity, window);
        await announce(tx, 'room.changed', hotelId, roomId, { room }, now);
        return { outcome: current ? ('updated' as const) : ('created' as const), room };
      });
    } catch (error) {
      if (error instanceof ConstraintViolation && error.kind === 'check') {
        return { outcome: 'below-held' };
      }
      throw error;
    }
  }

  /** Opens the nights of every room type up to window.until; returns how many were opened. */
  async extendInventory(window: InventoryWindow): Promise<number> {
    return this.#eachRoom(async (tx, id) => {
      const [room] = await tx.query<{ quantity: number }>(
        'SELECT quantity FROM rooms WHERE id = ? FOR UPDATE',
        [id],
      );
      return room ? this.#openNights(tx, id, room.quantity, window) : 0;
    });
  }

  /**
   * Deletes every room type's nights before `before`, which nobody can book any
   * more, except the nights from the first one a hold still covers: releasing the
   * hold gives them back. Returns the nights deleted.
   */
  async retireNights(before: CalendarDate): Promise<number> {
    return this.#eachRoom(async (tx, id) => {
      // No hold can start on a night past the sale window, so none appears behind this read.
      const [held] = await tx.query<{ first: string | null }>(
        "SELECT MIN(start_date) AS first FROM bookings WHERE status = 'RESERVED' AND room_id = ?",
        [id],
      );
      const first = held?.first ?? null;
      const until = first !== null && first < before ? first : before;
      const deleted = await tx.execute(
        'DELETE FROM room_availability WHERE room_id = ? AND night < ?',
        [id, until],
      );
      return deleted.affectedRows;
    });
  }

  /**
   * Runs `step` for every room type, each in a transaction of its own so it stays on the
   * room's shard, paging through the rooms by id; returns the sum of what the steps return.
   */
  async #eachRoom(step: (tx: Queryable, roomId: string) => Promise<number>): Promise<number> {
    let total = 0;
    let after = '';
    for (;;) {
      const page = await this.#db.query<{ id: string }>(
        'SELECT id FROM rooms WHERE id > ? ORDER BY id LIMIT ?',
        [after, ROOMS_PER_PAGE],
      );
      for (const { id } of page) total += await this.#db.transaction((tx) => step(tx, id));
      if (page.length < ROOMS_PER_PAGE) return total;
      after = page.at(-1)!.id;
    }
  }

  async availability(
    roomId: string,
    from: CalendarDate,
    until: CalendarDate,
  ): Promise<NightAvailability[]> {
    const rows = await this.#db.query<{
      night: string;
      total_quantity: number;
      available_quantity: number;
    }>(
      'SELECT night, total_quantity, available_quantity FROM room_availability ' +
        'WHERE room_id = ? AND night >= ? AND night < ? ORDER BY night',
      [roomId, from, until],
    );
    return rows.map((row) => ({
      night: row.night,
      total: row.total_quantity,
      available: row.available_quantity,
    }));
  }

  /** Of the hotels given, those with `quantity` rooms of one type free on every night. */
  async hotelsWithFreeRooms(
    hotelIds: string[],
    from: CalendarDate,
    until: CalendarDate,
    quantity: number,
  ): Promise<Set<string>> {
    if (hotelIds.length === 0) return new Set();
    const rows = await this.#db.query<{ hotel_id: string }>(
      'SELECT r.hotel_id FROM rooms r JOIN room_availability a ON a.room_id = r.id ' +
        `WHERE r.hotel_id IN (${hotelIds.map(() => '?').join(', ')}) ` +
        'AND a.night >= ? AND a.night < ? AND a.available_quantity >= ? ' +
        'GROUP BY r.hotel_id, r.id HAVING COUNT(*) = ?',
      [...hotelIds, from, until, quantity, nightsOf(from, until).length],
    );
    return new Set(rows.map((row) => row.hotel_id));
  }

  /** Room-nights on sale from `from` up to `until`, and how many are unsold, over all rooms. */
  async roomNights(
    from: CalendarDate,
    until: CalendarDate,
  ): Promise<{ available: number; total: number }> {
    const [row] = await this.#db.query<{ available: number | null; total: number | null }>(
      'SELECT SUM(available_quantity) AS available, SUM(total_quantity) AS total ' +
        'FROM room_availability WHERE night >= ? AND night < ?',
      [from, until],
    );
    return { available: Number(row?.available ?? 0), total: Number(row?.total ?? 0) };
  }

  /**
   * Adds the nights after the room's last open night, up to window.until, with
   * every room unsold. Runs under the room row's lock, so the quantity is current.
   */
  async #openNights(
    tx: Queryable,
    roomId: string,
    quantity: number,
    window: InventoryWindow,
  ): Promise<number> {
    const [row] = await tx.query<{ last: string | null }>(
      'SELECT MAX(night) AS last FROM room_availability WHERE room_id = ?',
      [roomId],
    );
    const last = row?.last ?? null;
    const start = last !== null && last >= window.from ? addDays(last, 1) : window.from;
    const nights = nightsOf(start, window.until);
    const onConflict =
      this.#db.dialect === 'mysql'
        ? ' ON DUPLICATE KEY UPDATE night = night'
        : ' ON CONFLICT (room_id, night) DO NOTHING';

    for (let i = 0; i < nights.length; i += NIGHTS_PER_INSERT) {
      const chunk = nights.slice(i, i + NIGHTS_PER_INSERT);
      await tx.execute(
        'INSERT INTO room_availability (room_id, night, total_quantity, available_quantity) ' +
          `VALUES ${chunk.map(() => '(?, ?, ?, ?)').join(', ')}${onConflict}`,
        chunk.flatMap((night) => [roomId, night, quantity, quantity]),
      );
    }
    return nights.length;
  }
}

function hotelValues(fields: HotelFields) {
  return [
    fields.name,
    fields.locality,
    fields.address ?? null,
    fields.description ?? null,
    JSON.stringify(fields.facilities),
    JSON.stringify(fields.imageUrls),
    fields.currency,
    fields.timeZone,
  ];
}

function toHotel(row: HotelRow): Hotel {
  return {
    id: row.id,
    name: row.name,
    locality: row.locality,
    address: row.address ?? undefined,
    description: row.description ?? undefined,
    facilities: JSON.parse(row.facilities) as string[],
    imageUrls: JSON.parse(row.image_urls) as string[],
    currency: row.currency,
    timeZone: row.time_zone,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    version: Number(row.version),
  };
}

function toRoom(row: RoomRow): Room {
  return {
    id: row.id,
    hotelId: row.hotel_id,
    name: row.name,
    quantity: Number(row.quantity),
    minPrice: Number(row.min_price),
    maxPrice: Number(row.max_price),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    version: Number(row.version),
  };
}

/** Hotel and room events share the hotel's key, so search sees them in order. */
function announce(
  tx: Queryable,
  type: HotelEventType,
  hotelId: string,
  shardKey: string,
  data: HotelEventData,
  now: number,
) {
  return enqueue(tx, { topic: TOPICS.hotels, type, key: hotelId, shardKey, data, now });
}
