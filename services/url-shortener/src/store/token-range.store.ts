import type { Cache, Migration, Relational } from '@platform/kit';

/** A half-open range of counters [start, end) leased to one holder. */
export interface CounterRange {
  start: number;
  end: number;
}

/** Hands out disjoint counter ranges; a range is never handed out twice. */
export interface RangeAllocator {
  lease(size: number, holder: string): Promise<CounterRange>;
}

export class CodeSpaceExhausted extends Error {
  constructor(capacity: number) {
    super(`the code space of ${capacity} codes is used up; raise WRITE_RPS or RETENTION_DAYS`);
    this.name = 'CodeSpaceExhausted';
  }
}

export const TOKEN_MIGRATIONS: Migration[] = [
  {
    id: '001-token-counter',
    statements: [
      'CREATE TABLE IF NOT EXISTS token_counter (name VARCHAR(64) NOT NULL PRIMARY KEY, ' +
        'next_value BIGINT NOT NULL, CHECK (next_value >= 0))',
      'CREATE TABLE IF NOT EXISTS token_leases (range_start BIGINT NOT NULL PRIMARY KEY, ' +
        'range_end BIGINT NOT NULL, holder VARCHAR(128) NOT NULL, leased_at BIGINT NOT NULL)',
    ],
  },
  {
    // Leases of different counters may start at the same value: key them by counter too.
    id: '002-leases-per-counter',
    statements: {
      mysql: [
        'ALTER TABLE token_leases ' +
          "ADD COLUMN counter_name VARCHAR(64) NOT NULL DEFAULT 'url-codes' FIRST, " +
          'DROP PRIMARY KEY, ADD PRIMARY KEY (counter_name, range_start)',
      ],
      sqlite: [
        'CREATE TABLE token_leases_v2 (counter_name VARCHAR(64) NOT NULL, ' +
          'range_start BIGINT NOT NULL, range_end BIGINT NOT NULL, holder VARCHAR(128) NOT NULL, ' +
          'leased_at BIGINT NOT NULL, PRIMARY KEY (counter_name, range_start))',
        'INSERT INTO token_leases_v2 ' +
          "SELECT 'url-codes', range_start, range_end, holder, leased_at " +
          'FROM token_leases',
        'DROP TABLE token_leases',
        'ALTER TABLE token_leases_v2 RENAME TO token_leases',
      ],
    },
  },
];

/**
 * Leases ranges from one counter row in the relational store: a locking read
 * and an update in one transaction, so concurrent token services never
 * overlap. Each lease is recorded for audit; a lease lost in a crash is
 * simply never spent.
 */
export class RelationalRangeAllocator implements RangeAllocator {
  readonly #db: Relational;
  readonly #capacity: number;
  readonly #counter: string;

  constructor(db: Relational, capacity: number, counter = 'url-codes') {
    this.#db = db;
    this.#capacity = capacity;
    this.#counter = counter;
  }

  async init(): Promise<void> {
    await this.#db.migrate('url-shortener-tokens', TOKEN_MIGRATIONS);
    await this.#db.upsert({
      table: 'token_counter',
      row: { name: this.#counter, next_value: 0 },
      key: ['name'],
    });
  }

  lease(size: number, holder: string): Promise<CounterRange> {
    return this.#db.transaction(async (tx) => {
      const [row] = await tx.query<{ next_value: number }>(
        'SELECT next_value FROM token_counter WHERE name = ? FOR UPDATE',
        [this.#counter],
      );
      if (!row) throw new Error(`token counter ${this.#counter} is missing`);
      const start = Number(row.next_value);
      const end = Math.min(start + size, this.#capacity);
      if (start >= this.#capacity) throw new CodeSpaceExhausted(this.#capacity);

      await tx.execute('UPDATE token_counter SET next_value = ? WHERE name = ?', [
        end,
        this.#counter,
      ]);
      await tx.execute(
        'INSERT INTO token_leases (counter_name, range_start, range_end, holder, leased_at) ' +
          'VALUES (?, ?, ?, ?, ?)',
        [this.#counter, start, end, holder, Date.now()],
      );
      return { start, end };
    });
  }
}

/**
 * Leases ranges with Redis INCRBY. Atomic and fast, but only as durable as
 * Redis persistence: a counter restored from an older snapshot would hand out
 * ranges again, so run Redis with AOF when using it.
 */
export class RedisRangeAllocator implements RangeAllocator {
  readonly #cache: Cache;
  readonly #capacity: number;
  readonly #key: string;

  constructor(cache: Cache, capacity: number, key = 'urlshortener:token-counter') {
    this.#cache = cache;
    this.#capacity = capacity;
    this.#key = key;
  }

  async lease(size: number): Promise<CounterRange> {
    const end = await this.#cache.incrBy(this.#key, size);
    const start = end - size;
    if (start >= this.#capacity) throw new CodeSpaceExhausted(this.#capacity);
    return { start, end: Math.min(end, this.#capacity) };
  }
}
