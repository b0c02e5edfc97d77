import type { Migration, Relational } from '@platform/kit';

const roomColumns = [
  'id VARCHAR(64) NOT NULL PRIMARY KEY',
  'hotel_id VARCHAR(36) NOT NULL',
  'name VARCHAR(200) NOT NULL',
  'quantity INT NOT NULL',
  'min_price BIGINT NOT NULL',
  'max_price BIGINT NOT NULL',
  'created_at BIGINT NOT NULL',
  'updated_at BIGINT NOT NULL',
  'CONSTRAINT rooms_quantity_not_negative CHECK (quantity >= 0)',
  'CONSTRAINT rooms_price_range CHECK (min_price >= 0 AND min_price <= max_price)',
].join(', ');

// A request key is unique per room and user: a retried booking lands on the
// same room, so the constraint holds within one shard.
const bookingColumns = [
  'id VARCHAR(36) NOT NULL PRIMARY KEY',
  'room_id VARCHAR(64) NOT NULL',
  'hotel_id VARCHAR(36) NOT NULL',
  'user_id VARCHAR(64) NOT NULL',
  'request_key VARCHAR(128) NOT NULL',
  'quantity INT NOT NULL',
  'start_date CHAR(10) NOT NULL',
  'end_date CHAR(10) NOT NULL',
  'amount BIGINT NOT NULL',
  'currency CHAR(3) NOT NULL',
  'status VARCHAR(16) NOT NULL',
  'expires_at BIGINT NOT NULL',
  'invoice_id VARCHAR(36)',
  'payment_reference VARCHAR(128)',
  'cancel_reason VARCHAR(16)',
  'created_at BIGINT NOT NULL',
  'updated_at BIGINT NOT NULL',
  'CONSTRAINT bookings_request UNIQUE (room_id, user_id, request_key)',
  'CONSTRAINT bookings_quantity_positive CHECK (quantity > 0)',
  "CONSTRAINT bookings_status CHECK (status IN ('RESERVED', 'BOOKED', 'CANCELLED'))",
].join(', ');

const refundColumns = [
  'id VARCHAR(36) NOT NULL PRIMARY KEY',
  'booking_id VARCHAR(36) NOT NULL',
  'room_id VARCHAR(64) NOT NULL',
  'payment_reference VARCHAR(128) NOT NULL',
  'amount BIGINT NOT NULL',
  'currency CHAR(3) NOT NULL',
  'reason VARCHAR(32) NOT NULL',
  'created_at BIGINT NOT NULL',
  'CONSTRAINT refunds_once_per_payment UNIQUE (booking_id, payment_reference)',
].join(', ');

const EXACT = 'CHARACTER SET utf8mb4 COLLATE utf8mb4_bin';

// Events waiting for the relay. A row is written in the transaction that made
// the change it reports; shard_key is the row's shard on Vitess (the room, or
// the hotel), so that transaction stays on one shard.
const outboxColumns = [
  'id VARCHAR(36) NOT NULL PRIMARY KEY',
  'shard_key VARCHAR(64) NOT NULL',
  'topic VARCHAR(100) NOT NULL',
  'event_key VARCHAR(64) NOT NULL',
  'payload TEXT NOT NULL',
  'created_at BIGINT NOT NULL',
].join(', ');

/**
 * The schema, written to run on MySQL, MariaDB, Vitess and SQLite. For Vitess
 * every table but hotels is sharded by room_id, so each statement of a
 * booking, a release or a payment stays on one shard; there are no foreign
 * keys (they cannot cross shards) and no auto-increment ids.
 */
export const MIGRATIONS: Migration[] = [
  {
    id: '001-hotels-and-rooms',
    statements: {
      mysql: [
        'CREATE TABLE IF NOT EXISTS hotels (id VARCHAR(36) NOT NULL PRIMARY KEY, ' +
          'name VARCHAR(200) NOT NULL, locality VARCHAR(100) NOT NULL, address VARCHAR(300), ' +
          'description TEXT, facilities TEXT NOT NULL, image_urls TEXT NOT NULL, ' +
          'currency CHAR(3) NOT NULL, time_zone VARCHAR(64) NOT NULL, ' +
          'created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)',
        `CREATE TABLE IF NOT EXISTS rooms (${roomColumns}, INDEX rooms_by_hotel (hotel_id))`,
      ],
      sqlite: [
        'CREATE TABLE IF NOT EXISTS hotels (id VARCHAR(36) NOT NULL PRIMARY KEY, ' +
          'name VARCHAR(200) NOT NULL, locality VARCHAR(100) NOT NULL, address VARCHAR(300), ' +
          'description TEXT, facilities TEXT NOT NULL, image_urls TEXT NOT NULL, ' +
          'currency CHAR(3) NOT NULL, time_zone VARCHAR(64) NOT NULL, ' +
          'created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)',
        `CREATE TABLE IF NOT EXISTS rooms (${roomColumns})`,
        'CREATE INDEX IF NOT EXISTS rooms_by_hotel ON rooms (hotel_id)',
      ],
    },
  },
  {
    id: '002-room-availability',
    statements: [
      'CREATE TABLE IF NOT EXISTS room_availability (room_id VARCHAR(64) NOT NULL, ' +
        'night CHAR(10) NOT NULL, total_quantity INT NOT NULL, ' +
        'available_quantity INT NOT NULL, PRIMARY KEY (room_id, night), ' +
        'CONSTRAINT availability_not_negative CHECK (available_quantity >= 0), ' +
        'CONSTRAINT availability_within_total CHECK (available_quantity <= total_quantity))',
    ],
  },
  {
    id: '003-bookings-and-refunds',
    statements: {
      mysql: [
        `CREATE TABLE IF NOT EXISTS bookings (${bookingColumns}, ` +
          'INDEX bookings_by_user (user_id, created_at), ' +
          'INDEX bookings_by_expiry (status, expires_at))',
        `CREATE TABLE IF NOT EXISTS refunds (${refundColumns})`,
      ],
      sqlite: [
        `CREATE TABLE IF NOT EXISTS bookings (${bookingColumns})`,
        'CREATE INDEX IF NOT EXISTS bookings_by_user ON bookings (user_id, created_at)',
        'CREATE INDEX IF NOT EXISTS bookings_by_expiry ON bookings (status, expires_at)',
        `CREATE TABLE IF NOT EXISTS refunds (${refundColumns})`,
      ],
    },
  },
  {
    id: '004-versions-outbox-exact-keys',
    statements: {
      mysql: [
        // Keys a client chooses compare byte for byte, as they do on SQLite:
        // rooms 'Deluxe' and 'deluxe' are two rooms, users 'Ann' and 'ann' two users.
        `ALTER TABLE rooms MODIFY id VARCHAR(64) ${EXACT} NOT NULL`,
        `ALTER TABLE room_availability MODIFY room_id VARCHAR(64) ${EXACT} NOT NULL`,
        `ALTER TABLE bookings MODIFY room_id VARCHAR(64) ${EXACT} NOT NULL, ` +
          `MODIFY user_id VARCHAR(64) ${EXACT} NOT NULL, ` +
          `MODIFY request_key VARCHAR(128) ${EXACT} NOT NULL, ` +
          'ADD COLUMN version INT NOT NULL DEFAULT 1, ADD COLUMN night_prices TEXT, ' +
          'ADD INDEX bookings_by_update (status, updated_at)',
        `ALTER TABLE refunds MODIFY room_id VARCHAR(64) ${EXACT} NOT NULL, ` +
          `MODIFY payment_reference VARCHAR(128) ${EXACT} NOT NULL`,
        'ALTER TABLE hotels ADD COLUMN version INT NOT NULL DEFAULT 1',
        'ALTER TABLE rooms ADD COLUMN version INT NOT NULL DEFAULT 1',
        `CREATE TABLE IF NOT EXISTS outbox (${outboxColumns}, INDEX outbox_by_age (created_at))`,
      ],
      sqlite: [
        'ALTER TABLE bookings ADD COLUMN version INTEGER NOT NULL DEFAULT 1',
        'ALTER TABLE bookings ADD COLUMN night_prices TEXT',
        'CREATE INDEX IF NOT EXISTS bookings_by_update ON bookings (status, updated_at)',
        'ALTER TABLE hotels ADD COLUMN version INTEGER NOT NULL DEFAULT 1',
        'ALTER TABLE rooms ADD COLUMN version INTEGER NOT NULL DEFAULT 1',
        `CREATE TABLE IF NOT EXISTS outbox (${outboxColumns})`,
        'CREATE INDEX IF NOT EXISTS outbox_by_age ON outbox (created_at)',
      ],
    },
  },
];

/** The migration scope of this system. */
export async function migrate(db: Relational): Promise<string[]> {
  return db.migrate('hotel-booking', MIGRATIONS);
}
