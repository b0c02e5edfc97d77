import type { Migration, Relational } from '@platform/kit';

/** Identical clicks as the aggregator counts them. */
export interface Click {
  code: string;
  at: number;
  count: number;
  country: string;
  device: string;
  browser: string;
  referrer: string;
}

export const DIMENSIONS = ['country', 'device', 'browser', 'referrer'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export interface ClickStats {
  code: string;
  total: number;
  from: string;
  to: string;
  perMinute: { minute: string; clicks: number }[];
  country: Record<string, number>;
  device: Record<string, number>;
  browser: Record<string, number>;
  referrer: Record<string, number>;
}

export const CLICK_MIGRATIONS: Migration[] = [
  {
    id: '001-click-counts',
    statements: [
      'CREATE TABLE IF NOT EXISTS click_counts (code VARCHAR(64) NOT NULL, ' +
        'minute_start BIGINT NOT NULL, dimension VARCHAR(16) NOT NULL, ' +
        'dim_value VARCHAR(128) NOT NULL, clicks BIGINT NOT NULL, ' +
        'PRIMARY KEY (code, minute_start, dimension, dim_value))',
      'CREATE TABLE IF NOT EXISTS consumer_offsets (consumer VARCHAR(128) NOT NULL, ' +
        'topic VARCHAR(128) NOT NULL, part INT NOT NULL, next_offset BIGINT NOT NULL, ' +
        'PRIMARY KEY (consumer, topic, part))',
    ],
  },
  {
    id: '002-click-events-seen',
    statements: [
      'CREATE TABLE IF NOT EXISTS click_events_seen (event_id VARCHAR(64) NOT NULL PRIMARY KEY, ' +
        'seen_at BIGINT NOT NULL)',
    ],
  },
  {
    // Codes are base62: "abc" and "ABC" are two links. MySQL's default collation
    // compares case-insensitively and merged their counts; SQLite compares bytes.
    id: '003-codes-case-sensitive',
    statements: {
      mysql: [
        'ALTER TABLE click_counts MODIFY code VARCHAR(64) ' +
          'CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL',
      ],
      sqlite: [],
    },
  },
];

const MINUTE = 60_000;

/**
 * Click counts per code, minute and dimension in the relational store. The
 * consumer's position is stored in the same transaction as the counts it
 * produced, so a batch delivered twice (after a crash or a rebalance) is
 * counted once: records below the stored position are skipped.
 */
export class ClickStatsStore {
  readonly #db: Relational;

  constructor(db: Relational) {
    this.#db = db;
  }

  async init(): Promise<void> {
    await this.#db.migrate('url-shortener-clicks', CLICK_MIGRATIONS);
  }

  /** Applies one partition's records once; returns the clicks of the records that were new. */
  async apply(
    consumer: string,
    topic: string,
    partition: number,
    records: { offset: number; eventId?: string; clicks: Click[] }[],
  ): Promise<number> {
    if (records.length === 0) return 0;
    return this.#db.transaction(async (tx) => {
      await tx.upsert({
        table: 'consumer_offsets',
        row: { consumer, topic, part: partition, next_offset: 0 },
        key: ['consumer', 'topic', 'part'],
      });
      const [position] = await tx.query<{ next_offset: number }>(
        'SELECT next_offset FROM consumer_offsets ' +
          'WHERE consumer = ? AND topic = ? AND part = ? FOR UPDATE',
        [consumer, topic, partition],
      );
      const from = Number(position?.next_offset ?? 0);
      const fresh = records.filter((r) => r.offset >= from);
      if (fresh.length === 0) return 0;

      // A producer that retries a partly failed publish appends an event again at
      // a new offset: its id, not its offset, shows it was counted already.
      const firstSeen: typeof fresh = [];
      for (const record of fresh) {
        if (record.eventId === undefined) {
          firstSeen.push(record);
          continue;
        }
        const seen = await tx.upsert({
          table: 'click_events_seen',
          row: { event_id: record.eventId, seen_at: Date.now() },
          key: ['event_id'],
        });
        if (seen.affectedRows > 0) firstSeen.push(record);
      }

      const clicks = firstSeen.flatMap((r) => r.clicks);
      for (const [key, count] of tally(clicks)) {
        const [code, minute, dimension, value] = JSON.parse(key) as [
          string,
          number,
          string,
          string,
        ];
        await tx.upsert({
          table: 'click_counts',
          row: { code, minute_start: minute, dimension, dim_value: value, clicks: count },
          key: ['code', 'minute_start', 'dimension', 'dim_value'],
          increment: ['clicks'],
        });
      }
      await tx.execute(
        'UPDATE consumer_offsets SET next_offset = ? WHERE consumer = ? AND topic = ? AND part = ?',
        [fresh[fresh.length - 1]!.offset + 1, consumer, topic, partition],
      );
      return clicks.reduce((sum, click) => sum + click.count, 0);
    });
  }

  /** Forgets the ids of events seen before a time; redeliveries come within hours, not days. */
  async forgetEventsSeenBefore(time: number): Promise<number> {
    return (await this.#db.execute('DELETE FROM click_events_seen WHERE seen_at < ?', [time]))
      .affectedRows;
  }

  async stats(code: string, from: number, to: number): Promise<ClickStats> {
    const rows = await this.#db.query<{
      minute: number;
      dimension: string;
      value: string;
      clicks: number;
    }>(
      'SELECT minute_start AS minute, dimension, dim_value AS value, clicks FROM click_counts ' +
        'WHERE code = ? AND minute_start >= ? AND minute_start < ? ORDER BY minute_start',
      [code, Math.floor(from / MINUTE) * MINUTE, to],
    );
    // Values come from clients (a referrer host, a browser named by the agent), so a
    // breakdown has no prototype whose members "constructor" or "__proto__" would hit.
    const breakdown = () => Object.create(null) as Record<string, number>;
    const stats: ClickStats = {
      code,
      total: 0,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      perMinute: [],
      country: breakdown(),
      device: breakdown(),
      browser: breakdown(),
      referrer: breakdown(),
    };
    for (const row of rows) {
      const clicks = Number(row.clicks);
      if (row.dimension === 'total') {
        stats.total += clicks;
        stats.perMinute.push({ minute: new Date(Number(row.minute)).toISOString(), clicks });
      } else if ((DIMENSIONS as readonly string[]).includes(row.dimension)) {
        const breakdown = stats[row.dimension as Dimension];
        breakdown[row.value] = (breakdown[row.value] ?? 0) + clicks;
      }
    }
    return stats;
  }
}

/** Counts per (code, minute, dimension, value), with a 'total' dimension per minute. */
function tally(clicks: Click[]): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (key: unknown[], count: number) => {
    const text = JSON.stringify(key);
    counts.set(text, (counts.get(text) ?? 0) + count);
  };
  for (const click of clicks) {
    const minute = Math.floor(click.at / MINUTE) * MINUTE;
    add([click.code, minute, 'total', ''], click.count);
    for (const dimension of DIMENSIONS) {
      add([click.code, minute, dimension, click[dimension].slice(0, 128)], click.count);
    }
  }
  return counts;
}
