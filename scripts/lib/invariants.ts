import { Kysely, sql } from 'kysely';
import type { DB } from '../../lib/db/types';
import { PRICE_COUNTS_READY, PRICE_WIDTHS } from '../../lib/products/price-counts';
import { MAX_SHARDS, MIN_SHARDS } from '../../lib/products/schema';
import { TERM_COUNTS_READY } from '../../lib/products/search-index';

/**
 * The data invariants the service promises, checked with set-based SQL (one GROUP BY per rule,
 * no per-row round trips), so the check runs on a catalogue of a million products. Used by
 * `npm run check-invariants` and by the stress, fault and property tests.
 */

export type InvariantName =
  | 'stock_equals_ledger'
  | 'ledger_without_product'
  | 'line_without_product'
  | 'negative_stock'
  | 'shard_count'
  | 'shard_live'
  | 'line_total'
  | 'order_total'
  | 'order_without_lines'
  | 'order_ledger'
  | 'movement_sign'
  | 'idempotency_key_without_order'
  | 'live_products_counter'
  | 'price_counts'
  | 'term_counts';

export interface Violation {
  invariant: InvariantName;
  /** What is wrong, e.g. `product 7` or `order ord_…`. */
  subject: string;
  expected: string;
  actual: string;
}

export interface InvariantReport {
  ok: boolean;
  violations: Violation[];
  /** Invariants that had more violations than the per-check limit (only the first ones are listed). */
  truncated: InvariantName[];
  counts: { products: number; orders: number; orderLines: number; movements: number };
  elapsedMs: number;
}

export interface CheckOptions {
  /** Most violations listed per invariant (default 100). */
  limitPerCheck?: number;
}

const n = (v: unknown): number => Number(v ?? 0);

interface Check {
  name: InvariantName;
  run: (db: Kysely<DB>, limit: number) => Promise<Violation[]>;
}

const CHECKS: Check[] = [
  {
    // For every product, stock (Σ of its shards) = Σ ledger deltas (created + adjusted − ordered +
    // cancelled). Streams products in primary-key order, sums each one's shards on the PRIMARY key
    // of stock_shards and its movements through idx_stock_movements_product: no temporary table
    // however large the catalogue.
    name: 'stock_equals_ledger',
    run: async (db, limit) => {
      const { rows } = await sql<{
        id: number;
        stock: unknown;
        ledger: unknown;
        created: unknown;
        adjusted: unknown;
        ordered: unknown;
        cancelled: unknown;
      }>`
        SELECT p.id,
               (SELECT COALESCE(SUM(s.stock), 0) FROM stock_shards s WHERE s.product_id = p.id) AS stock,
               COALESCE(SUM(m.delta), 0) AS ledger,
               COALESCE(SUM(CASE WHEN m.reason = 'created' THEN m.delta END), 0) AS created,
               COALESCE(SUM(CASE WHEN m.reason = 'adjusted' THEN m.delta END), 0) AS adjusted,
               COALESCE(SUM(CASE WHEN m.reason = 'order' THEN m.delta END), 0) AS ordered,
               COALESCE(SUM(CASE WHEN m.reason = 'cancel' THEN m.delta END), 0) AS cancelled
          FROM products p
          LEFT JOIN stock_movements m ON m.product_id = p.id
         GROUP BY p.id
        HAVING stock <> ledger
         ORDER BY p.id
         LIMIT ${limit}`.execute(db);
      return rows.map((r) => ({
        invariant: 'stock_equals_ledger',
        subject: `product ${r.id}`,
        expected: `stock ${n(r.ledger)} (ledger: created ${n(r.created)}, adjusted ${n(r.adjusted)}, ordered ${n(r.ordered)}, cancelled ${n(r.cancelled)})`,
        actual: `stock ${n(r.stock)} (Σ shards)`,
      }));
    },
  },
  {
    name: 'ledger_without_product',
    run: async (db, limit) => {
      const { rows } = await sql<{ product_id: number; movements: unknown }>`
        SELECT m.product_id, COUNT(*) AS movements
          FROM stock_movements m
          LEFT JOIN products p ON p.id = m.product_id
         WHERE p.id IS NULL
         GROUP BY m.product_id
         ORDER BY m.product_id
         LIMIT ${limit}`.execute(db);
      return rows.map((r) => ({
        invariant: 'ledger_without_product',
        subject: `product ${r.product_id}`,
        expected: 'an existing product',
        actual: `${n(r.movements)} movement(s) for a product that does not exist`,
      }));
    },
  },
  {
    // No foreign key holds this since 2026_11_29_0001 (an order writes its lines before it locks
    // their products, docs/decisions/0010-order-lock-last.md): the check does.
    name: 'line_without_product',
    run: async (db, limit) => {
      const { rows } = await sql<{ product_id: number; lines: unknown }>`
        SELECT l.product_id, COUNT(*) AS \`lines\`
          FROM order_lines l
          LEFT JOIN products p ON p.id = l.product_id
         WHERE p.id IS NULL
         GROUP BY l.product_id
         ORDER BY l.product_id
         LIMIT ${limit}`.execute(db);
      return rows.map((r) => ({
        invariant: 'line_without_product',
        subject: `product ${r.product_id}`,
        expected: 'an existing product',
        actual: `${n(r.lines)} order line(s) for a product that does not exist`,
      }));
    },
  },
  {
    // Shard columns are UNSIGNED with a CHECK; this guards against a schema that lost them.
    name: 'negative_stock',
    run: async (db, limit) => {
      const { rows } = await sql<{ product_id: number; shard_no: number; stock: number }>`
        SELECT product_id, shard_no, stock FROM stock_shards WHERE stock < 0
         ORDER BY product_id, shard_no LIMIT ${limit}`.execute(db);
      return rows.map((r) => ({
        invariant: 'negative_stock',
        subject: `product ${r.product_id} shard ${r.shard_no}`,
        expected: 'stock >= 0',
        actual: `stock ${n(r.stock)}`,
      }));
    },
  },
  {
    // Every product keeps its stock in 1–64 shards numbered 0…n−1 (shard 0 always exists: cancels
    // give units back there).
    name: 'shard_count',
    run: async (db, limit) => {
      const { rows } = await sql<{ id: number; shards: unknown; highest: unknown }>`
        SELECT p.id, COUNT(s.shard_no) AS shards, MAX(s.shard_no) AS highest
          FROM products p
          LEFT JOIN stock_shards s ON s.product_id = p.id
         GROUP BY p.id
        HAVING COUNT(s.shard_no) NOT BETWEEN ${MIN_SHARDS} AND ${MAX_SHARDS} OR MAX(s.shard_no) <> COUNT(s.shard_no) - 1
         ORDER BY p.id
         LIMIT ${limit}`.execute(db);
      return rows.map((r) => ({
        invariant: 'shard_count',
        subject: `product ${r.id}`,
        expected: `${MIN_SHARDS}–${MAX_SHARDS} shards numbered 0…n−1`,
        actual: n(r.shards) === 0 ? 'no shards' : `${n(r.shards)} shard(s), highest number ${n(r.highest)}`,
      }));
    },
  },
  {
    // Every shard's `live` mirrors its product's `archived_at IS NULL` (the in_stock=true count reads
    // only stock_shards: docs/decisions/0013-in-stock-index.md). Both tables in primary-key order.
    name: 'shard_live',
    run: async (db, limit) => {
      const { rows } = await sql<{ id: number; live: unknown; wrong: unknown; shards: unknown }>`
        SELECT p.id, MAX(p.archived_at IS NULL) AS live,
               SUM(s.live <> (p.archived_at IS NULL)) AS wrong, COUNT(*) AS shards
          FROM products p
          JOIN stock_shards s ON s.product_id = p.id
         GROUP BY p.id
        HAVING SUM(s.live <> (p.archived_at IS NULL)) > 0
         ORDER BY p.id
         LIMIT ${limit}`.execute(db);
      return rows.map((r) => {
        const live = n(r.live) === 1;
        return {
          invariant: 'shard_live',
          subject: `product ${r.id}`,
          expected: `live ${live ? 1 : 0} on every shard (the product is ${live ? 'live' : 'archived'})`,
          actual: `live ${live ? 0 : 1} on ${n(r.wrong)} of ${n(r.shards)} shard(s)`,
        };
      });
    },
  },
  {
    name: 'line_total',
    run: async (db, limit) => {
      const { rows } = await sql<{
        order_id: string;
        product_id: number;
        quantity: number;
        unit_price_cents: number;
        line_total_cents: number;
      }>`
        SELECT order_id, product_id, quantity, unit_price_cents, line_total_cents
          FROM order_lines
         WHERE line_total_cents <> quantity * unit_price_cents
         ORDER BY order_id, product_id
         LIMIT ${limit}`.execute(db);
      return rows.map((r) => ({
        invariant: 'line_total',
        subject: `order ${r.order_id} product ${r.product_id}`,
        expected: `line_total_cents ${n(r.quantity) * n(r.unit_price_cents)} (${n(r.quantity)} × ${n(r.unit_price_cents)})`,
        actual: `line_total_cents ${n(r.line_total_cents)}`,
      }));
    },
  },
  {
    name: 'order_total',
    run: async (db, limit) => {
      const { rows } = await sql<{ id: string; total_cents: number; lines_total: unknown }>`
        SELECT o.id, MAX(o.total_cents) AS total_cents, SUM(l.line_total_cents) AS lines_total
          FROM orders o
          JOIN order_lines l ON l.order_id = o.id
         GROUP BY o.id
        HAVING MAX(o.total_cents) <> SUM(l.line_total_cents)
         ORDER BY o.id
         LIMIT ${limit}`.execute(db);
      return rows.map((r) => ({
        invariant: 'order_total',
        subject: `order ${r.id}`,
        expected: `total_cents ${n(r.lines_total)} (Σ line totals)`,
        actual: `total_cents ${n(r.total_cents)}`,
      }));
    },
  },
  {
    // Every order (confirmed or cancelled: the only statuses) has at least one line.
    name: 'order_without_lines',
    run: async (db, limit) => {
      const { rows } = await sql<{ id: string; status: string }>`
        SELECT o.id, o.status
          FROM orders o
         WHERE NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id)
         ORDER BY o.id
         LIMIT ${limit}`.execute(db);
      return rows.map((r) => ({
        invariant: 'order_without_lines',
        subject: `order ${r.id}`,
        expected: `a ${r.status} order with at least 1 line`,
        actual: '0 lines',
      }));
    },
  },
  {
    // Each line took exactly its quantity from stock, and gave it back exactly once if (and only
    // if) the order is cancelled.
    name: 'order_ledger',
    run: async (db, limit) => {
      const { rows } = await sql<{
        order_id: string;
        product_id: number;
        status: string;
        quantity: unknown;
        taken: unknown;
        restored: unknown;
      }>`
        SELECT l.order_id, l.product_id, MAX(o.status) AS status, MAX(l.quantity) AS quantity,
               COALESCE(SUM(CASE WHEN m.reason = 'order' THEN m.delta END), 0) AS taken,
               COALESCE(SUM(CASE WHEN m.reason = 'cancel' THEN m.delta END), 0) AS restored
          FROM order_lines l
          JOIN orders o ON o.id = l.order_id
          -- by order: a hot product has far more movements than an order has lines
          LEFT JOIN stock_movements m FORCE INDEX (idx_stock_movements_order)
                 ON m.order_id = l.order_id AND m.product_id = l.product_id
         GROUP BY l.order_id, l.product_id
        HAVING COALESCE(SUM(CASE WHEN m.reason = 'order' THEN m.delta END), 0) <> -MAX(l.quantity)
            OR COALESCE(SUM(CASE WHEN m.reason = 'cancel' THEN m.delta END), 0)
               <> CASE WHEN MAX(o.status) = 'cancelled' THEN MAX(l.quantity) ELSE 0 END
            OR COUNT(CASE WHEN m.reason NOT IN ('order', 'cancel') THEN 1 END) > 0
         ORDER BY l.order_id, l.product_id
         LIMIT ${limit}`.execute(db);
      return rows.map((r) => {
        const q = n(r.quantity);
        return {
          invariant: 'order_ledger',
          subject: `order ${r.order_id} product ${r.product_id}`,
          expected: `ordered ${-q}, cancelled ${r.status === 'cancelled' ? q : 0} (${r.status}, quantity ${q})`,
          actual: `ordered ${n(r.taken)}, cancelled ${n(r.restored)}`,
        };
      });
    },
  },
  {
    // Orders take (delta < 0) and cancels restore (delta > 0), both for a line of an order;
    // created/adjusted movements belong to no order.
    name: 'movement_sign',
    run: async (db, limit) => {
      const { rows } = await sql<{
        id: number;
        product_id: number;
        reason: string;
        delta: unknown;
        order_id: string | null;
      }>`
        SELECT m.id, m.product_id, m.reason, m.delta, m.order_id
          FROM stock_movements m
          LEFT JOIN order_lines l ON l.order_id = m.order_id AND l.product_id = m.product_id
         WHERE (m.reason = 'order' AND (m.delta >= 0 OR l.order_id IS NULL))
            OR (m.reason = 'cancel' AND (m.delta <= 0 OR l.order_id IS NULL))
            OR (m.reason IN ('created', 'adjusted') AND m.order_id IS NOT NULL)
            OR (m.reason = 'created' AND m.delta < 0)
         ORDER BY m.id
         LIMIT ${limit}`.execute(db);
      return rows.map((r) => ({
        invariant: 'movement_sign',
        subject: `movement ${r.id} (product ${r.product_id})`,
        expected:
          r.reason === 'order'
            ? 'delta < 0 for a line of its order'
            : r.reason === 'cancel'
              ? 'delta > 0 for a line of its order'
              : r.reason === 'created'
                ? 'delta >= 0 and no order'
                : 'no order',
        actual: `${r.reason} delta ${n(r.delta)}, order ${r.order_id ?? 'none'}`,
      }));
    },
  },
  {
    name: 'idempotency_key_without_order',
    run: async (db, limit) => {
      const { rows } = await sql<{ idem_key: string; order_id: string }>`
        SELECT k.idem_key, k.order_id
          FROM idempotency_keys k
          LEFT JOIN orders o ON o.id = k.order_id
         WHERE k.order_id IS NOT NULL AND o.id IS NULL
         ORDER BY k.idem_key
         LIMIT ${limit}`.execute(db);
      return rows.map((r) => ({
        invariant: 'idempotency_key_without_order',
        subject: `idempotency key ${JSON.stringify(r.idem_key)}`,
        expected: `order ${r.order_id} to exist`,
        actual: 'no such order',
      }));
    },
  },
  {
    name: 'live_products_counter',
    run: async (db) => {
      const { rows } = await sql<{ counted: unknown; counter: unknown }>`
        SELECT (SELECT COUNT(*) FROM products WHERE archived_at IS NULL) AS counted,
               (SELECT value FROM counters WHERE name = 'live_products') AS counter`.execute(db);
      const r = rows[0];
      if (r === undefined || n(r.counted) === n(r.counter)) return [];
      return [
        {
          invariant: 'live_products_counter',
          subject: 'counter live_products',
          expected: `${n(r.counted)} (live products)`,
          actual: r.counter === null ? 'missing' : String(n(r.counter)),
        },
      ];
    },
  },
  {
    // The price histogram (lib/products/price-counts.ts) holds, at each width, exactly the live
    // products grouped by price_cents DIV width, and no other row: none at 0 or below, none for a
    // bucket without live products, no other width. Per width, the live products grouped (in the
    // order of idx_products_live_price) and the histogram rows are put side by side with UNION ALL
    // and grouped by bucket (MySQL has no FULL OUTER JOIN).
    name: 'price_counts',
    run: async (db, limit) => {
      const found: Violation[] = [];
      for (const w of PRICE_WIDTHS) {
        const { rows } = await sql<{ bucket: unknown; live: unknown; products: unknown; has_row: unknown }>`
          SELECT bucket, SUM(live) AS live, SUM(products) AS products, SUM(has_row) AS has_row FROM (
            SELECT price_cents DIV ${w} AS bucket, COUNT(*) AS live, 0 AS products, 0 AS has_row
              FROM products WHERE archived_at IS NULL GROUP BY price_cents DIV ${w}
            UNION ALL
            SELECT bucket, 0, products, 1 FROM product_price_counts WHERE width_cents = ${w}
          ) u
          GROUP BY bucket
          HAVING SUM(live) <> SUM(products) OR SUM(products) <= 0
          ORDER BY bucket LIMIT ${limit}`.execute(db);
        for (const r of rows)
          found.push({
            invariant: 'price_counts',
            subject: `price_counts width ${w} bucket ${n(r.bucket)}`,
            expected: n(r.live) === 0 ? 'no row (no live product)' : `${n(r.live)} (live products)`,
            actual: n(r.has_row) === 0 ? 'no row' : String(n(r.products)),
          });
      }
      const stray = await sql<{ width_cents: unknown; bucket: unknown; products: unknown }>`
        SELECT width_cents, bucket, products FROM product_price_counts
         WHERE width_cents NOT IN (${sql.join(PRICE_WIDTHS.map((w) => sql`${w}`))})
         ORDER BY width_cents, bucket LIMIT ${limit}`.execute(db);
      for (const r of stray.rows)
        found.push({
          invariant: 'price_counts',
          subject: `price_counts width ${n(r.width_cents)} bucket ${n(r.bucket)}`,
          expected: `no row (widths are ${PRICE_WIDTHS.join(', ')})`,
          actual: String(n(r.products)),
        });
      const ready = await sql<{ value: unknown }>`
        SELECT value FROM counters WHERE name = ${PRICE_COUNTS_READY}`.execute(db);
      if (n(ready.rows[0]?.value) !== 1)
        found.push({
          invariant: 'price_counts',
          subject: `counter ${PRICE_COUNTS_READY}`,
          expected: '1 (the histogram was backfilled)',
          actual: ready.rows[0] === undefined ? 'missing' : String(n(ready.rows[0].value)),
        });
      return found;
    },
  },
  {
    // Each term's count (lib/products/search-index.ts) is its number of product_search_terms rows
    // (its live products: archived ones have no terms), and no count row exists without rows. The
    // terms are grouped in primary-key order first, then joined to the counts by their key.
    name: 'term_counts',
    run: async (db, limit) => {
      const found: Violation[] = [];
      const { rows } = await sql<{ term: string; live: unknown; products: unknown }>`
        SELECT g.term, g.live, c.products FROM (
          SELECT term, COUNT(*) AS live FROM product_search_terms GROUP BY term) g
        LEFT JOIN product_search_term_counts c ON c.term = g.term
         WHERE c.products IS NULL OR c.products <> g.live
         ORDER BY g.term LIMIT ${limit}`.execute(db);
      for (const r of rows)
        found.push({
          invariant: 'term_counts',
          subject: `term ${JSON.stringify(r.term)}`,
          expected: `${n(r.live)} (products with the term)`,
          actual: r.products === null ? 'no count row' : String(n(r.products)),
        });
      const stray = await sql<{ term: string; products: unknown }>`
        SELECT c.term, c.products FROM product_search_term_counts c
         WHERE c.products <= 0 OR NOT EXISTS (SELECT 1 FROM product_search_terms t WHERE t.term = c.term)
         ORDER BY c.term LIMIT ${limit}`.execute(db);
      for (const r of stray.rows)
        found.push({
          invariant: 'term_counts',
          subject: `term ${JSON.stringify(r.term)}`,
          expected: 'no count row (no product has the term)',
          actual: String(n(r.products)),
        });
      const ready = await sql<{ value: unknown }>`
        SELECT value FROM counters WHERE name = ${TERM_COUNTS_READY}`.execute(db);
      if (n(ready.rows[0]?.value) !== 1)
        found.push({
          invariant: 'term_counts',
          subject: `counter ${TERM_COUNTS_READY}`,
          expected: '1 (the term counts were backfilled)',
          actual: ready.rows[0] === undefined ? 'missing' : String(n(ready.rows[0].value)),
        });
      return found;
    },
  },
];

/** Runs every check; never throws on a violation (it is reported), only on a database error. */
export async function checkInvariants(db: Kysely<DB>, options: CheckOptions = {}): Promise<InvariantReport> {
  const started = Date.now();
  const limit = options.limitPerCheck ?? 100;
  const violations: Violation[] = [];
  const truncated: InvariantName[] = [];
  for (const check of CHECKS) {
    const found = await check.run(db, limit + 1);
    if (found.length > limit) truncated.push(check.name);
    violations.push(...found.slice(0, limit));
  }
  const { rows } = await sql<{ products: unknown; orders: unknown; lines: unknown; movements: unknown }>`
    SELECT (SELECT COUNT(*) FROM products) AS products,
           (SELECT COUNT(*) FROM orders) AS orders,
           (SELECT COUNT(*) FROM order_lines) AS \`lines\`,
           (SELECT COUNT(*) FROM stock_movements) AS movements`.execute(db);
  const c = rows[0];
  return {
    ok: violations.length === 0,
    violations,
    truncated,
    counts: { products: n(c?.products), orders: n(c?.orders), orderLines: n(c?.lines), movements: n(c?.movements) },
    elapsedMs: Date.now() - started,
  };
}

export function formatViolation(v: Violation): string {
  return `${v.invariant}: ${v.subject}: expected ${v.expected}, actual ${v.actual}`;
}

/** A mysql2 promise connection (the benchmark's), or anything with its `query`. */
export interface PromiseQueryable {
  query(sql: string, values: unknown[]): Promise<[unknown, unknown]>;
}

const STOCK_AND_LEDGER = `SELECT p.id,
       (SELECT COALESCE(SUM(s.stock), 0) FROM stock_shards s WHERE s.product_id = p.id) AS stock,
       COALESCE(SUM(m.delta), 0) AS ledger
  FROM products p LEFT JOIN stock_movements m ON m.product_id = p.id
 WHERE p.id IN (?) GROUP BY p.id`;

/**
 * The stock (Σ of its shards) of each given product and the sum of its ledger movements, which
 * must be equal (the `stock_equals_ledger` invariant, for a few products): what tests and the
 * benchmark's audit compare after a step. Through Kysely, or a mysql2 connection (inside the
 * caller's snapshot transaction).
 */
export async function stockAndLedger(
  db: Kysely<DB> | PromiseQueryable,
  productIds: readonly number[],
): Promise<Map<number, { stock: number; ledger: number }>> {
  const out = new Map<number, { stock: number; ledger: number }>();
  for (let i = 0; i < productIds.length; i += 5_000) {
    const chunk = productIds.slice(i, i + 5_000);
    let rows: Array<{ id: number; stock: unknown; ledger: unknown }>;
    if (db instanceof Kysely) {
      const [before, after] = STOCK_AND_LEDGER.split('?') as [string, string];
      rows = (
        await sql<{
          id: number;
          stock: unknown;
          ledger: unknown;
        }>`${sql.raw(before)}${sql.join(chunk)}${sql.raw(after)}`.execute(db)
      ).rows;
    } else {
      rows = (await db.query(STOCK_AND_LEDGER, [chunk]))[0] as typeof rows;
    }
    for (const r of rows) out.set(Number(r.id), { stock: Number(r.stock), ledger: Number(r.ledger) });
  }
  return out;
}
