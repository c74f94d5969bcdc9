import { randomBytes } from 'node:crypto';
import { Migrator, sql } from 'kysely';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDb } from '../../lib/db/client';
import { migrations } from '../../lib/db/migrations';
import { nameKeyOf, termsOf } from '../../lib/products/search';
import { createDatabase, dropDatabase, serverUrlOf, withDatabase } from '../../scripts/lib/mysql-server';

/*
 * Migration 2026_11_29_0002 on a database that already has products (as a live one would): it
 * backfills name_key for every product and the terms of the live ones, then builds the indexes.
 */

const serverUrl = serverUrlOf(inject('databaseUrl'));
const name = `shop_test_search_migration_${Date.now()}_${randomBytes(3).toString('hex')}`;
const db = createDb(withDatabase(serverUrl, name), { poolSize: 1, statementTimeoutMs: 0 });

afterAll(async () => {
  await db.destroy();
  if (process.env.KEEP_TEST_DB !== '1') await dropDatabase(serverUrl, name);
});

const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });

describe('migration 2026_11_29_0002_catalogue_search', () => {
  it('indexes the names of existing products, live and archived, and adds the sort indexes', async () => {
    await createDatabase(serverUrl, name);
    const before = await migrator.migrateTo('2026_11_25_0001_initial');
    expect(before.error).toBeUndefined();
    // 2,345 products written before the migration (more than one backfill batch), every 7th archived.
    const names = Array.from({ length: 2_345 }, (_, i) => `Café ☕ 杯子 Nº${i} Extraordinarily`);
    for (let i = 0; i < names.length; i += 500) {
      const rows = names.slice(i, i + 500).map((n, j) => {
        const archived = (i + j) % 7 === 0;
        return sql`(${n}, '', 100, 1, ${archived ? new Date() : null}, NOW(3), NOW(3))`;
      });
      await sql`INSERT INTO products (name, description, price_cents, stock, archived_at, created_at, updated_at)
        VALUES ${sql.join(rows)}`.execute(db);
    }

    const after = await migrator.migrateToLatest();
    expect(after.error).toBeUndefined();

    const products = await sql<{ id: number; name: string; name_key: string; archived_at: Date | null }>`
      SELECT id, name, name_key, archived_at FROM products ORDER BY id`.execute(db);
    expect(products.rows).toHaveLength(names.length);
    for (const p of products.rows) expect(p.name_key).toBe(nameKeyOf(p.name));

    const terms = await sql<{ product_id: number; term: string }>`
      SELECT product_id, term FROM product_search_terms`.execute(db);
    const byProduct = new Map<number, string[]>();
    for (const t of terms.rows)
      byProduct.set(Number(t.product_id), [...(byProduct.get(Number(t.product_id)) ?? []), t.term]);
    for (const p of products.rows) {
      const expected = p.archived_at === null ? termsOf(p.name).sort() : [];
      expect((byProduct.get(Number(p.id)) ?? []).sort(), p.name).toEqual(expected);
    }

    const indexes = await sql<{ name: string }>`
      SELECT DISTINCT INDEX_NAME AS name FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'products'`.execute(db);
    expect(indexes.rows.map((r) => r.name)).toEqual(
      expect.arrayContaining([
        'idx_products_live_price',
        'idx_products_live_price_desc',
        'idx_products_live_name',
        'idx_products_live_name_desc',
        'idx_products_live_created',
        'idx_products_live_created_desc',
      ]),
    );
    // None of them contains stock: an order's stock update touches no index the migration added.
    const stockIndexed = await sql<{ name: string }>`
      SELECT INDEX_NAME AS name FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'products' AND COLUMN_NAME = 'stock'`.execute(db);
    expect(stockIndexed.rows).toEqual([]);
  });
});
