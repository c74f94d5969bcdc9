import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/types';
import { chunkRows } from '../db/statement-size';

/**
 * The price histogram (docs/decisions/0015-maintained-search-counts.md): how many live products have each
 * price, in `product_price_counts`, at two widths: per cent (width_cents 1, bucket = price_cents)
 * and per whole currency unit (width_cents 100, bucket = price_cents DIV 100). A price-only
 * filter's `total` is read from it instead of counting up to 10,000 index entries of products.
 *
 * Every writer of products keeps it in the transaction that writes the product, through
 * movePriceCounts: a live product created (+1), re-priced (−1 at the old price, +1 at the new) or
 * archived (−1). The service, the seed, the test factories and the benchmark all make products
 * through insertProducts, which calls it; the migration that built the table backfilled the rest.
 *
 * Rows exist only with products ≥ 1 (a row that reaches 0 is deleted in the same transaction), so
 * reading at most `cap` rows of a range either reads all of it or proves at least `cap` products.
 */

/** The widths kept, narrowest first. A range reads whole units from the wider one. */
export const PRICE_WIDTHS = [1, 100] as const;
const UNIT = 100;

/** counters row written once the migration's backfill has finished: the table is complete. */
export const PRICE_COUNTS_READY = 'price_counts_ready';

/** The highest price a product can have (the CHECK on products.price_cents). */
const MAX_PRICE_CENTS = 9_999_999_999;

/** A live product entering (+1) or leaving (−1) a price. */
export interface PriceMove {
  priceCents: number;
  delta: number;
}

/**
 * Applies the moves to both widths in one upsert, rows in ascending (width_cents, bucket) order:
 * every writer locks histogram rows in that one order, so concurrent admin writes queue on a
 * shared row instead of deadlocking. Moves that cancel out (a re-price within a unit) write
 * nothing. Rows brought to 0 are deleted (they are locked by the upsert already). Call it after
 * the products rows are written and before the live-product counter (the lock every create and
 * archive shares, taken last).
 */
export async function movePriceCounts(db: Kysely<DB>, moves: readonly PriceMove[]): Promise<void> {
  const net = new Map<string, { width_cents: number; bucket: number; products: number }>();
  for (const m of moves) {
    for (const width of PRICE_WIDTHS) {
      const bucket = Math.floor(m.priceCents / width);
      const key = `${width}:${bucket}`;
      const row = net.get(key);
      if (row) row.products += m.delta;
      else net.set(key, { width_cents: width, bucket, products: m.delta });
    }
  }
  const rows = [...net.values()]
    .filter((r) => r.products !== 0)
    .sort((a, b) => a.width_cents - b.width_cents || a.bucket - b.bucket);
  if (rows.length === 0) return;
  for (const chunk of chunkRows(rows)) {
    // VALUES(col) in ON DUPLICATE KEY UPDATE: MariaDB has no `AS new` row alias; MySQL 8 still
    // accepts VALUES() (deprecated since 8.0.20, with a warning only).
    await sql`
      INSERT INTO product_price_counts (width_cents, bucket, products)
      VALUES ${sql.join(chunk.map((r) => sql`(${r.width_cents}, ${r.bucket}, ${r.products})`))}
      ON DUPLICATE KEY UPDATE products = products + VALUES(products)`.execute(db);
  }
  const lowered = rows.filter((r) => r.products < 0);
  for (const width of PRICE_WIDTHS) {
    const buckets = lowered.filter((r) => r.width_cents === width).map((r) => ({ bucket: r.bucket }));
    for (const chunk of chunkRows(buckets)) {
      await sql`
        DELETE FROM product_price_counts
         WHERE width_cents = ${width} AND bucket IN (${sql.join(chunk.map((r) => r.bucket))}) AND products = 0`.execute(
        db,
      );
    }
  }
}

/** The moves of live products created at these prices. */
export const pricesAdded = (prices: readonly number[]): PriceMove[] =>
  prices.map((priceCents) => ({ priceCents, delta: 1 }));

/**
 * How many live products cost between `minCents` and `maxCents` (inclusive; either open), counting
 * no further than `cap`; undefined while the histogram is not complete yet (the migration's
 * backfill is running), and the caller counts products instead.
 *
 * One statement, at most three ranges of the primary key, each read to at most `cap` rows: the
 * cents below the first whole unit of the range, the whole units, the cents after the last whole
 * unit (the ends hold fewer than 100 rows each). Every row holds at least one product, so a part
 * that stops at `cap` rows already proves `cap` products.
 */
export async function countPriced(
  db: Kysely<DB>,
  minCents: number | undefined,
  maxCents: number | undefined,
  cap: number,
): Promise<number | undefined> {
  const lo = minCents ?? 0;
  const hi = Math.min(maxCents ?? MAX_PRICE_CENTS, MAX_PRICE_CENTS);
  if (lo > hi) return 0;
  // Whole units inside [lo, hi]: first..last (none when the range is within two units' edges).
  const first = Math.ceil(lo / UNIT);
  const last = Math.floor((hi + 1) / UNIT) - 1;
  const part = (width: number, from: number, to: number) => sql`
    SELECT COALESCE(SUM(products), 0) FROM (
      SELECT products FROM product_price_counts
       WHERE width_cents = ${width} AND bucket BETWEEN ${from} AND ${to}
       ORDER BY width_cents, bucket LIMIT ${cap}) r`;
  const ranges: [width: number, from: number, to: number][] =
    first <= last
      ? [
          [1, lo, first * UNIT - 1],
          [UNIT, first, last],
          [1, (last + 1) * UNIT, hi],
        ]
      : [[1, lo, hi]];
  const parts = ranges.filter(([, from, to]) => from <= to).map(([width, from, to]) => part(width, from, to));
  const { rows } = await sql<{ n: number | string; ready: number | string | null }>`
    SELECT ${sql.join(
      parts.map((p) => sql`(${p})`),
      sql` + `,
    )} AS n,
           (SELECT value FROM counters WHERE name = ${PRICE_COUNTS_READY}) AS ready`.execute(db);
  const row = rows[0];
  if (row?.ready === null || row?.ready === undefined) return undefined;
  return Math.min(Number(row.n), cap);
}
