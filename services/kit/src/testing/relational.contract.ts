import { randomBytes } from 'node:crypto';
import { ConstraintViolation, type Relational } from '../ports/relational/relational.ts';

/** The behaviour every relational adapter must have; run once per adapter. */
export function relationalContract(name: string, open: () => Promise<Relational>): void {
  describe(`relational contract: ${name}`, () => {
    let db: Relational;
    const suffix = randomBytes(4).toString('hex');
    const stock = `contract_stock_${suffix}`;
    const counts = `contract_counts_${suffix}`;
    const migrations = [
      {
        id: '001-stock',
        statements: [
          `CREATE TABLE IF NOT EXISTS ${stock} (id VARCHAR(32) NOT NULL PRIMARY KEY, ` +
            `qty INT NOT NULL, CHECK (qty >= 0))`,
        ],
      },
      {
        id: '002-counts',
        statements: {
          mysql: [
            `CREATE TABLE IF NOT EXISTS ${counts} (k VARCHAR(32) NOT NULL PRIMARY KEY, ` +
              `n BIGINT NOT NULL, label VARCHAR(32))`,
          ],
          sqlite: [
            `CREATE TABLE IF NOT EXISTS ${counts} (k TEXT NOT NULL PRIMARY KEY, ` +
              `n INTEGER NOT NULL, label TEXT)`,
          ],
        },
      },
    ];

    beforeAll(async () => {
      db = await open();
    });
    afterAll(async () => {
      await db.execute(`DROP TABLE IF EXISTS ${stock}`);
      await db.execute(`DROP TABLE IF EXISTS ${counts}`);
      await db.execute(`DELETE FROM schema_migrations WHERE scope = ?`, [`contract-${suffix}`]);
      await db.close();
    });

    it('applies migrations once, even when several processes start together', async () => {
      const scope = `contract-${suffix}`;
      const other = await open();
      const [first, second] = await Promise.all([
        db.migrate(scope, migrations),
        other.migrate(scope, migrations),
      ]);
      await other.close();
      expect([...first, ...second].sort()).toEqual(['001-stock', '002-counts']);
      expect(await db.migrate(scope, migrations)).toEqual([]);
    });

    it('runs parameterised statements and reports affected rows', async () => {
      await db.execute(`INSERT INTO ${stock} (id, qty) VALUES (?, ?), (?, ?)`, ['a', 1, 'b', 2]);
      const rows = await db.query<{ id: string; qty: number }>(
        `SELECT id, qty FROM ${stock} WHERE id IN (?, ?) ORDER BY id`,
        ['a', 'b'],
      );
      expect(rows).toEqual([
        { id: 'a', qty: 1 },
        { id: 'b', qty: 2 },
      ]);
      const result = await db.execute(`UPDATE ${stock} SET qty = qty + 1 WHERE id = ?`, ['b']);
      expect(result.affectedRows).toBe(1);
    });

    it('rolls back everything a failed transaction wrote', async () => {
      await expect(
        db.transaction(async (tx) => {
          await tx.execute(`INSERT INTO ${stock} (id, qty) VALUES (?, ?)`, ['rollback', 5]);
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(await db.query(`SELECT id FROM ${stock} WHERE id = ?`, ['rollback'])).toEqual([]);
    });

    it('names constraint violations the same way', async () => {
      await expect(db.execute(`UPDATE ${stock} SET qty = -1 WHERE id = ?`, ['a'])).rejects.toEqual(
        expect.objectContaining({ kind: 'check' }),
      );
      const duplicate = db.execute(`INSERT INTO ${stock} (id, qty) VALUES (?, ?)`, ['a', 1]);
      await expect(duplicate).rejects.toBeInstanceOf(ConstraintViolation);
      await expect(duplicate).rejects.toEqual(expect.objectContaining({ kind: 'unique' }));
    });

    it('serialises locking reads so concurrent decrements never oversell', async () => {
      await db.execute(`INSERT INTO ${stock} (id, qty) VALUES (?, ?)`, ['hot', 5]);
      const attempts = await Promise.all(
        Array.from({ length: 20 }, () =>
          db.transaction(async (tx) => {
            const [row] = await tx.query<{ qty: number }>(
              `SELECT qty FROM ${stock} WHERE id = ? FOR UPDATE`,
              ['hot'],
            );
            if (!row || row.qty < 1) return false;
            await tx.execute(`UPDATE ${stock} SET qty = ? WHERE id = ?`, [row.qty - 1, 'hot']);
            return true;
          }),
        ),
      );
      expect(attempts.filter(Boolean)).toHaveLength(5);
      const [row] = await db.query<{ qty: number }>(`SELECT qty FROM ${stock} WHERE id = ?`, [
        'hot',
      ]);
      expect(row?.qty).toBe(0);
    });

    it('upserts by adding to and replacing columns atomically', async () => {
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          db.upsert({
            table: counts,
            row: { k: 'x', n: 2, label: `l${i}` },
            key: ['k'],
            increment: ['n'],
            replace: ['label'],
          }),
        ),
      );
      const [row] = await db.query<{ n: number; label: string }>(
        `SELECT n, label FROM ${counts} WHERE k = ?`,
        ['x'],
      );
      expect(row?.n).toBe(60);
      expect(row?.label).toMatch(/^l\d+$/);

      const inserted = await db.upsert({
        table: counts,
        row: { k: 'y', n: 1, label: 'first' },
        key: ['k'],
      });
      const ignored = await db.upsert({
        table: counts,
        row: { k: 'y', n: 9, label: 'second' },
        key: ['k'],
      });
      expect(inserted.affectedRows).toBe(1);
      expect(ignored.affectedRows).toBe(0);
      expect(await db.query(`SELECT n, label FROM ${counts} WHERE k = ?`, ['y'])).toEqual([
        { n: 1, label: 'first' },
      ]);
    });
  });
}
