import { type Kysely, sql } from 'kysely';
import { db } from '../../lib/db/client';
import type { DB } from '../../lib/db/types';

/**
 * A fingerprint of every row of every table, in one round trip: equal before and after a request
 * means the request changed nothing. For the fuzz tests, on a database of their own.
 */
export async function fingerprint(database: Kysely<DB> = db()): Promise<string> {
  const { rows } = await sql<Record<string, unknown>>`
    SELECT
      (SELECT CONCAT(COUNT(*), ':', COALESCE(SUM(stock), 0), ':', COALESCE(BIT_XOR(CRC32(CONCAT_WS('|', id, name, description, price_cents, stock, COALESCE(archived_at, '-'), updated_at))), 0)) FROM products) AS products,
      (SELECT CONCAT(COUNT(*), ':', COALESCE(BIT_XOR(CRC32(CONCAT_WS('|', id, status, total_cents, COALESCE(cancelled_at, '-')))), 0)) FROM orders) AS orders,
      (SELECT CONCAT(COUNT(*), ':', COALESCE(BIT_XOR(CRC32(CONCAT_WS('|', order_id, product_id, quantity, line_total_cents))), 0)) FROM order_lines) AS order_lines,
      (SELECT CONCAT(COUNT(*), ':', COALESCE(BIT_XOR(CRC32(CONCAT_WS('|', idem_key, request_hash, status_code))), 0)) FROM idempotency_keys) AS idempotency_keys,
      (SELECT CONCAT(COUNT(*), ':', COALESCE(SUM(delta), 0)) FROM stock_movements) AS stock_movements,
      (SELECT GROUP_CONCAT(CONCAT(name, '=', value) ORDER BY name) FROM counters) AS counters`.execute(database);
  return JSON.stringify(rows[0]);
}
