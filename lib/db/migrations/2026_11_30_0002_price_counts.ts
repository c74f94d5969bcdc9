import { type Kysely, sql } from 'kysely';
import { isRetryableLockError } from '../errors';
import { chunkRows } from '../statement-size';

/*
 * The price histogram (docs/decisions/0015-maintained-search-counts.md): live products per price, per cent and
 * per whole currency unit, so a price-only filter's `total` reads a few histogram rows instead of
 * up to 10,000 product index entries. lib/products/price-counts.ts keeps it from then on.
 *   1. product_price_counts (width_cents, bucket, products). The code deployed before this runs
 *      (DEPLOY.md: deploy, then migrate) moves its rows from the moment the table exists, even in
 *      ranges not backfilled yet (a row may then hold a partial or negative count for a while).
 *   2. Backfill by price ranges of about 20,000 live products, aligned to whole units so that a
 *      unit's row is written by one range. Each range is one transaction:
 *        - the live products of the range are counted by price with LOCK IN SHARE MODE: shared
 *          next-key locks on that range of idx_products_live_price (REPEATABLE READ, the default
 *          on both servers). A writer that would add, re-price or archive a product in the range
 *          waits for this transaction; one that already wrote is waited for (its row is locked).
 *        - the range's histogram rows are deleted and written again with those absolute counts.
 *      So a writer's delta lands either before the range is counted (its product is in the count,
 *      and its row is overwritten) or after (added to the right value): both end right. Writers
 *      lock products before histogram rows, as this does, so the two queue rather than deadlock;
 *      a deadlock or lock wait timeout anyway re-runs the range.
 *   3. counters 'price_counts_ready' = 1: from now on the list reads totals from the histogram
 *      (before it, lib/products/price-counts.ts countPriced answers "not ready" and products are
 *      counted as before).
 * The widths are fixed here: if lib/products/price-counts.ts ever keeps others, a new migration
 * rebuilds the table.
 */
const UNIT = 100;
const BATCH = 20_000;

interface Bucket {
  width_cents: number;
  bucket: number;
  products: number;
}

async function backfillRange(db: Kysely<unknown>, from: number, to: number | undefined): Promise<void> {
  const below = (column: string, bound: number | undefined) =>
    bound === undefined ? sql`` : sql`AND ${sql.ref(column)} < ${bound}`;
  await db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ price_cents: unknown; n: unknown }>`
      SELECT price_cents, COUNT(*) AS n FROM products FORCE INDEX (idx_products_live_price)
       WHERE archived_at IS NULL AND price_cents >= ${from} ${below('price_cents', to)}
       GROUP BY price_cents
       LOCK IN SHARE MODE`.execute(trx);
    const fine: Bucket[] = rows.map((r) => ({ width_cents: 1, bucket: Number(r.price_cents), products: Number(r.n) }));
    const units = new Map<number, number>();
    for (const r of fine) {
      const unit = Math.floor(r.bucket / UNIT);
      units.set(unit, (units.get(unit) ?? 0) + r.products);
    }
    const coarse: Bucket[] = [...units].map(([bucket, products]) => ({ width_cents: UNIT, bucket, products }));
    await sql`
      DELETE FROM product_price_counts
       WHERE width_cents = 1 AND bucket >= ${from} ${below('bucket', to)}`.execute(trx);
    await sql`
      DELETE FROM product_price_counts
       WHERE width_cents = ${UNIT} AND bucket >= ${from / UNIT} ${below('bucket', to === undefined ? undefined : to / UNIT)}`.execute(
      trx,
    );
    const all = [...fine, ...coarse].sort((a, b) => a.width_cents - b.width_cents || a.bucket - b.bucket);
    // Under the 16 KB statement size that RDS Proxy pins a session for.
    for (const chunk of chunkRows(all)) {
      await sql`
        INSERT INTO product_price_counts (width_cents, bucket, products)
        VALUES ${sql.join(chunk.map((r) => sql`(${r.width_cents}, ${r.bucket}, ${r.products})`))}`.execute(trx);
    }
  });
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE IF NOT EXISTS product_price_counts (
      width_cents INT UNSIGNED NOT NULL,
      bucket BIGINT UNSIGNED NOT NULL,
      products INT NOT NULL,
      PRIMARY KEY (width_cents, bucket)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`.execute(db);

  for (let from = 0; ; ) {
    // The end of a range of about BATCH live products, read without locks (only a size), rounded
    // up to a whole unit.
    const { rows } = await sql<{ price_cents: unknown }>`
      SELECT price_cents FROM products FORCE INDEX (idx_products_live_price)
       WHERE archived_at IS NULL AND price_cents >= ${from}
       ORDER BY archived_at, price_cents LIMIT 1 OFFSET ${BATCH}`.execute(db);
    const end = rows[0] === undefined ? undefined : (Math.floor(Number(rows[0].price_cents) / UNIT) + 1) * UNIT;
    for (let attempt = 1; ; attempt++) {
      try {
        await backfillRange(db, from, end);
        break;
      } catch (err) {
        if (!isRetryableLockError(err) || attempt >= 10) throw err;
        await new Promise((r) => setTimeout(r, 20 * attempt));
      }
    }
    if (end === undefined) break;
    from = end;
  }

  await sql`
    INSERT INTO counters (name, value) VALUES ('price_counts_ready', 1)
    ON DUPLICATE KEY UPDATE value = 1`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('Migrations are forward-only');
}
