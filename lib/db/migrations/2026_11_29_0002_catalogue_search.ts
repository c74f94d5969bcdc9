import { type Kysely, sql } from 'kysely';
import type { DB } from '../types';
import { indexProductNames } from '../../products/search-index';

/*
 * Catalogue search, filters and sorting (docs/decisions/0011-catalogue-search.md). Safe on a live
 * database, MySQL 8.0+ and MariaDB 10.11 (descending index parts need MySQL 8.0 / MariaDB 10.8):
 *   1. products.name_key, appended with ALGORITHM=INSTANT (no table copy);
 *   2. the product_search_terms table;
 *   3. name_key and the terms of every existing product, in batches of short transactions;
 *   4. the sort indexes, built online (ALGORITHM=INPLACE, LOCK=NONE: reads and writes go on).
 * Every sort index leads with archived_at (the lists read live products only) and ends with id
 * (the tie-breaker), in the direction of its sort: `-price` is price descending, id ascending.
 * None contains `stock`, so an order's stock update touches no new index.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE products
      ADD COLUMN name_key VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
      ALGORITHM=INSTANT
  `.execute(db);

  // One row per (term, live product). No secondary index and no foreign key: rows are removed by
  // their primary key, from the name the product had (which the writer holds under its row lock).
  await sql`
    CREATE TABLE product_search_terms (
      term VARCHAR(12) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
      product_id BIGINT UNSIGNED NOT NULL,
      PRIMARY KEY (term, product_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
  `.execute(db);

  let after = 0;
  for (;;) {
    const rows = (
      await sql<{ id: number | string; name: string; archived_at: Date | null }>`
        SELECT id, name, archived_at FROM products WHERE id > ${after} ORDER BY id LIMIT 1000
      `.execute(db)
    ).rows;
    const last = rows.at(-1);
    if (!last) break;
    await (db as Kysely<DB>).transaction().execute((trx) =>
      indexProductNames(
        trx,
        rows.map((r) => ({ id: Number(r.id), name: r.name, live: r.archived_at === null })),
      ),
    );
    after = Number(last.id);
  }

  await sql`
    ALTER TABLE products
      ADD INDEX idx_products_live_price (archived_at, price_cents, id),
      ADD INDEX idx_products_live_price_desc (archived_at, price_cents DESC, id),
      ADD INDEX idx_products_live_name (archived_at, name_key, id),
      ADD INDEX idx_products_live_name_desc (archived_at, name_key DESC, id),
      ADD INDEX idx_products_live_created (archived_at, created_at, id),
      ADD INDEX idx_products_live_created_desc (archived_at, created_at DESC, id),
      ALGORITHM=INPLACE, LOCK=NONE
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('Migrations are forward-only');
}
