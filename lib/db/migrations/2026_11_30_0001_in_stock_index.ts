import { type Kysely, sql } from 'kysely';

/*
 * The in-stock index (docs/decisions/0013-in-stock-index.md): `in_stock=true` is counted from one
 * index range on stock_shards instead of one shard lookup per live product.
 *   1. stock_shards.live, 1 while the shard's product is live (archived_at IS NULL), 0 once it is
 *      archived. Appended with ALGORITHM=INSTANT (metadata only on MySQL 8.0.12+ and MariaDB
 *      10.3+; the statement fails rather than copy the table). DEFAULT 1 is right for every live
 *      product, so only the shards of archived products are written afterwards.
 *   2. live = 0 for the shards of archived products, in product id ranges of 10,000: the archived
 *      ids of a range are read without a lock (archiving is one-way, no code clears archived_at),
 *      then their shards are updated in one autocommitted statement that locks only those rows.
 *      Products archived meanwhile by this release's code set their shards' `live` themselves
 *      (lib/products/repository.ts archiveLiveProduct); DEPLOY.md gives the order: deploy, migrate.
 *   3. stock_shards.sellable = (live AND stock > 0), a VIRTUAL generated column: nothing stored,
 *      so adding it is metadata only (ALGORITHM=INSTANT on both servers). Nullable because MariaDB
 *      refuses NOT NULL on a generated column; its inputs are NOT NULL, so it is always 0 or 1.
 *   4. idx_stock_shards_sellable (sellable, product_id), built online (ALGORITHM=INPLACE,
 *      LOCK=NONE: orders keep reading and writing stock_shards while it is built). An order's
 *      stock UPDATE changes an entry of it only when a shard crosses zero.
 */
const BATCH = 10_000;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE stock_shards ADD COLUMN live TINYINT NOT NULL DEFAULT 1, ALGORITHM=INSTANT`.execute(db);

  // Batches by id range; the upper bound is re-read so that rows added meanwhile are covered.
  const first = await sql<{ lo: unknown }>`SELECT MIN(id) AS lo FROM products`.execute(db);
  for (let from = Number(first.rows[0]?.lo ?? 1); ; from += BATCH) {
    const { rows } = await sql<{ hi: unknown }>`SELECT MAX(id) AS hi FROM products`.execute(db);
    if (from > Number(rows[0]?.hi ?? 0)) break;
    const archived = await sql<{ id: unknown }>`
      SELECT id FROM products FORCE INDEX (PRIMARY)
       WHERE id BETWEEN ${from} AND ${from + BATCH - 1} AND archived_at IS NOT NULL`.execute(db);
    const ids = archived.rows.map((r) => Number(r.id));
    for (let i = 0; i < ids.length; i += 1_000) {
      await sql`
        UPDATE stock_shards SET live = 0
         WHERE product_id IN (${sql.join(ids.slice(i, i + 1_000))}) AND live <> 0`.execute(db);
    }
  }

  await sql`
    ALTER TABLE stock_shards
      ADD COLUMN sellable TINYINT GENERATED ALWAYS AS (live <> 0 AND stock > 0) VIRTUAL,
      ALGORITHM=INSTANT`.execute(db);
  await sql`
    ALTER TABLE stock_shards ADD INDEX idx_stock_shards_sellable (sellable, product_id),
      ALGORITHM=INPLACE, LOCK=NONE`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('Migrations are forward-only');
}
