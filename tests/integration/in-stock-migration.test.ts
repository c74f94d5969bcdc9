import { randomBytes } from 'node:crypto';
import { Migrator, sql } from 'kysely';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDb } from '../../lib/db/client';
import { migrations } from '../../lib/db/migrations';
import { countMatching } from '../../lib/products/repository';
import { createDatabase, dropDatabase, serverUrlOf, withDatabase } from '../../scripts/lib/mysql-server';

/*
 * Migration 2026_11_30_0001 on a database that already has products and shards (as a live one
 * would): more than one backfill batch of products, every 7th archived, a third sold out, some
 * with several shards of which some are dry. Afterwards every shard's `live` mirrors its product,
 * `sellable` is live AND stock > 0, and the in_stock=true count equals the definition.
 */

const serverUrl = serverUrlOf(inject('databaseUrl'));
const name = `shop_test_in_stock_migration_${Date.now()}_${randomBytes(3).toString('hex')}`;
const db = createDb(withDatabase(serverUrl, name), { poolSize: 1, statementTimeoutMs: 0 });

afterAll(async () => {
  await db.destroy();
  if (process.env.KEEP_TEST_DB !== '1') await dropDatabase(serverUrl, name);
});

const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
const PRODUCTS = 12_345; // the backfill reads 10,000 product ids a batch

describe('migration 2026_11_30_0001_in_stock_index', () => {
  it('marks the shards of archived products, and the sellable index counts exactly the live products in stock', async () => {
    await createDatabase(serverUrl, name);
    const before = await migrator.migrateTo('2026_11_29_0003_stock_shards');
    expect(before.error).toBeUndefined();
    const digits = sql.raw(
      '(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)',
    );
    await sql`
      INSERT INTO products (name, name_key, description, price_cents, stock, archived_at, created_at, updated_at)
      SELECT CONCAT('p ', s.n), CONCAT('p ', s.n), '', 100, 0, IF(s.n % 7 = 0, NOW(3), NULL), NOW(3), NOW(3)
        FROM (SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d AS n
                FROM ${digits} a CROSS JOIN ${digits} b CROSS JOIN ${digits} c CROSS JOIN ${digits} e CROSS JOIN ${digits} f) s
       WHERE s.n < ${PRODUCTS}`.execute(db);
    // Shard 0 holds (id % 3) units: a third of the products are sold out. Every 5th product also has
    // shards 1–3, of which shard 2 is dry: stock on some rows, none on others.
    await sql`INSERT INTO stock_shards (product_id, shard_no, stock) SELECT id, 0, id % 3 FROM products`.execute(db);
    await sql`
      INSERT INTO stock_shards (product_id, shard_no, stock)
      SELECT p.id, k.no, IF(k.no = 2, 0, 1) FROM products p
       CROSS JOIN (SELECT 1 AS no UNION ALL SELECT 2 UNION ALL SELECT 3) k
       WHERE p.id % 5 = 0`.execute(db);

    const after = await migrator.migrateToLatest();
    expect(after.error).toBeUndefined();
    expect(after.results?.map((r) => r.migrationName)).toContain('2026_11_30_0001_in_stock_index');

    const wrong = await sql<{ n: unknown }>`
      SELECT COUNT(*) AS n FROM stock_shards s JOIN products p ON p.id = s.product_id
       WHERE s.live <> (p.archived_at IS NULL) OR s.sellable <> (p.archived_at IS NULL AND s.stock > 0)
          OR s.sellable IS NULL`.execute(db);
    expect(Number(wrong.rows[0]?.n)).toBe(0);
    const archivedShards = await sql<{ n: unknown }>`SELECT COUNT(*) AS n FROM stock_shards WHERE live = 0`.execute(db);
    expect(Number(archivedShards.rows[0]?.n)).toBeGreaterThan(1_000);

    const defined = await sql<{ n: unknown }>`
      SELECT COUNT(*) AS n FROM products p
       WHERE p.archived_at IS NULL
         AND (SELECT SUM(s.stock) FROM stock_shards s WHERE s.product_id = p.id) > 0`.execute(db);
    const expected = Number(defined.rows[0]?.n);
    expect(expected).toBeGreaterThan(5_000);
    expect(expected).toBeLessThan(10_001);
    expect(await countMatching(db, { inStock: true }, 10_001)).toBe(expected);

    const index = await sql<{ column_name: string; seq: unknown }>`
      SELECT COLUMN_NAME AS column_name, SEQ_IN_INDEX AS seq FROM information_schema.STATISTICS
       WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'stock_shards' AND INDEX_NAME = 'idx_stock_shards_sellable'
       ORDER BY SEQ_IN_INDEX`.execute(db);
    expect(index.rows.map((r) => r.column_name)).toEqual(['sellable', 'product_id']);
    // VIRTUAL: computed, not stored (adding it copied nothing).
    const column = await sql<{ extra: string }>`
      SELECT EXTRA AS extra FROM information_schema.COLUMNS
       WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'stock_shards' AND COLUMN_NAME = 'sellable'`.execute(db);
    expect(column.rows[0]?.extra).toMatch(/VIRTUAL/i);
  }, 120_000);
});
