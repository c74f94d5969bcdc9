import { type Kysely, sql } from 'kysely';

/*
 * Stock shards (docs/decisions/0012-stock-shards.md): a product's stock lives in 1–64 rows of
 * stock_shards, numbered 0…n−1; the product's stock is their sum and n is their count (no column
 * on products, so no ALTER that rebuilds the hot table and no total that every order would update).
 *
 * Safe on a live database:
 * - CREATE TABLE touches nothing that exists.
 * - Today's stock moves into shard 0 in id ranges, one autocommitted INSERT … SELECT each. Under
 *   REPEATABLE READ that statement share-locks the product rows it copies, so an order still
 *   holding a product row (an in-flight request of the previous code) commits first and its
 *   decrement is copied. Products that already have shards (created by the new code while this
 *   runs) are skipped. DEPLOY.md gives the order: deploy, let the previous code drain, migrate.
 * - products.stock gets DEFAULT 0 with ALGORITHM=INSTANT (metadata only on MySQL 8 and MariaDB
 *   10.11; the statement fails rather than copy the table). It waits for transactions open on
 *   products (orders last milliseconds). The column stays until a later release drops it: from
 *   this release on nothing reads or writes it, and new products leave it at 0.
 */
const BATCH = 10_000;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE stock_shards (
      product_id BIGINT UNSIGNED NOT NULL,
      shard_no TINYINT UNSIGNED NOT NULL,
      stock INT UNSIGNED NOT NULL,
      PRIMARY KEY (product_id, shard_no),
      CONSTRAINT fk_stock_shards_product FOREIGN KEY (product_id) REFERENCES products (id),
      CONSTRAINT chk_stock_shards_stock CHECK (stock >= 0),
      CONSTRAINT chk_stock_shards_no CHECK (shard_no < 64)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
  `.execute(db);

  // Batches by id range; the upper bound is re-read so that rows added meanwhile are covered.
  const first = await sql<{ lo: unknown }>`SELECT MIN(id) AS lo FROM products`.execute(db);
  for (let from = Number(first.rows[0]?.lo ?? 1); ; from += BATCH) {
    const { rows } = await sql<{ hi: unknown }>`SELECT MAX(id) AS hi FROM products`.execute(db);
    if (from > Number(rows[0]?.hi ?? 0)) break;
    await sql`
      INSERT INTO stock_shards (product_id, shard_no, stock)
      SELECT p.id, 0, p.stock FROM products p
       WHERE p.id BETWEEN ${from} AND ${from + BATCH - 1}
         AND NOT EXISTS (SELECT 1 FROM stock_shards s WHERE s.product_id = p.id)`.execute(db);
  }

  // Last, so that the copies above never queue behind this statement's brief metadata lock.
  await sql`ALTER TABLE products ALTER COLUMN stock SET DEFAULT 0, ALGORITHM=INSTANT`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('Migrations are forward-only');
}
