import { type Kysely, sql } from 'kysely';

/*
 * Drops the foreign key order_lines.product_id → products (docs/decisions/0010-order-lock-last.md).
 *
 * An order writes its lines before it locks its products. With the key in place, each line INSERT
 * takes a shared lock on its product row, so the later `SELECT … FOR UPDATE` has to upgrade a lock
 * that every concurrent order on that product also holds: they deadlock one another. The reference
 * stays true without it: products are never deleted (only archived), an order inserts a line only
 * for a product it then locks and finds in the same transaction (or rolls back), and
 * `check-invariants` reports any line whose product is missing (`line_without_product`).
 *
 * Safe on a live database, MySQL 8 and MariaDB 10.11: dropping a foreign key changes metadata
 * only (in place, no table copy, reads and writes go on; ALGORITHM/LOCK make the server refuse
 * rather than fall back to a copy). It keeps idx_order_lines_product. Skipped when the key is
 * already gone, so a database changed by hand still migrates.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<{ n: number | string }>`
    SELECT COUNT(*) AS n FROM information_schema.REFERENTIAL_CONSTRAINTS
    WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'order_lines'
      AND CONSTRAINT_NAME = 'fk_order_lines_product'`.execute(db);
  if (Number(rows[0]?.n ?? 0) === 0) return;
  await sql`
    ALTER TABLE order_lines DROP FOREIGN KEY fk_order_lines_product, ALGORITHM=INPLACE, LOCK=NONE`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('Migrations are forward-only');
}
