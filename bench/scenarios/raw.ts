/**
 * The reference: an order's transaction as bare mysql2 statements (no Kysely, no middy, no zod),
 * the same statements, in the same order, with the same round trips as placeOrder in
 * lib/orders/service.ts (and lib/orders/repository.ts) sends for an order without an
 * Idempotency-Key. Its throughput is the floor the database sets.
 */
import { randomBytes } from 'node:crypto';
import { createPool, type Pool, type PoolConnection, type RowDataPacket } from 'mysql2';
import type { Line } from '../lib/stock-check';

/**
 * mysql2's callback API, as Kysely's MySQL driver uses it (mysql2/promise would add a stack
 * capture per query that the service does not pay). Same connection settings as lib/db/client.ts.
 */
export interface RawPool {
  pool: Pool;
  end(): Promise<void>;
}

export function createRawPool(databaseUrl: string, size: number): RawPool {
  const pool = createPool({
    uri: databaseUrl,
    connectionLimit: size,
    maxIdle: size,
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: true,
  });
  return { pool, end: () => new Promise((resolve, reject) => pool.end((err) => (err ? reject(err) : resolve()))) };
}

function query<T = unknown>(conn: PoolConnection, sql: string, params: unknown[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    conn.query(sql, params, (err, rows) => (err ? reject(err) : resolve(rows as T)));
  });
}

function connection(pool: Pool): Promise<PoolConnection> {
  return new Promise((resolve, reject) => {
    pool.getConnection((err, conn) => (err ? reject(err) : resolve(conn)));
  });
}

const B32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** `ord_` + 26 base32 characters (130 random bits), the service's order id format. */
export function rawOrderId(): string {
  const bytes = randomBytes(26);
  let s = 'ord_';
  for (const b of bytes) s += B32[b & 31];
  return s;
}

interface LockedRow extends RowDataPacket {
  id: number;
  name: string;
  price_cents: number;
  stock: number;
  archived_at: Date | null;
}

export class RawOrderError extends Error {
  override name = 'RawOrderError';
}

/**
 * Places one order; resolves once it is committed. Seven round trips, as placeOrder without an
 * Idempotency-Key: begin; one SELECT … FOR UPDATE of every product in ascending id order; one CASE
 * UPDATE of their stock (both with FORCE INDEX (PRIMARY), as the service sends them); the order; its
 * lines (one multi-row INSERT: the service splits it only past 14 KB of values, which the bench's
 * short names never reach); their ledger movements (one multi-row INSERT); commit. Lines keep the
 * client's order, as the service keeps them. Checked against the server's general log.
 */
export async function rawPlaceOrder(raw: RawPool, lines: readonly Line[]): Promise<string> {
  const ids = [...new Set(lines.map((l) => l.productId))].sort((a, b) => a - b);
  const conn = await connection(raw.pool);
  try {
    await query(conn, 'begin');
    try {
      const rows = await query<LockedRow[]>(
        conn,
        'SELECT id, name, price_cents, stock, archived_at FROM products FORCE INDEX (PRIMARY)\n    WHERE id IN (?) ORDER BY id FOR UPDATE',
        [ids],
      );
      const byId = new Map(rows.map((r) => [Number(r.id), r]));
      let total = 0;
      for (const l of lines) {
        const row = byId.get(l.productId);
        if (!row || row.archived_at !== null) throw new RawOrderError(`unknown product ${l.productId}`);
        if (row.stock < l.quantity) throw new RawOrderError(`insufficient stock for ${l.productId}`);
        total += row.price_cents * l.quantity;
      }
      const now = new Date();
      const orderId = rawOrderId();
      const cases = lines.map(() => 'WHEN ? THEN stock - ?').join(' ');
      await query(
        conn,
        `UPDATE products FORCE INDEX (PRIMARY) SET stock = CASE id ${cases} END, updated_at = ?\n    WHERE id IN (?)`,
        [...lines.flatMap((l) => [l.productId, l.quantity]), now, lines.map((l) => l.productId)],
      );
      await query(
        conn,
        'insert into `orders` (`id`, `status`, `total_cents`, `created_at`, `cancelled_at`) values (?, ?, ?, ?, ?)',
        [orderId, 'confirmed', total, now, null],
      );
      await query(
        conn,
        `insert into \`order_lines\` (\`order_id\`, \`product_id\`, \`line_no\`, \`name\`, \`quantity\`, \`unit_price_cents\`, \`line_total_cents\`) values ${lines.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        lines.flatMap((l, i) => {
          const row = byId.get(l.productId) as LockedRow;
          return [orderId, l.productId, i + 1, row.name, l.quantity, row.price_cents, row.price_cents * l.quantity];
        }),
      );
      await query(
        conn,
        `insert into \`stock_movements\` (\`product_id\`, \`delta\`, \`reason\`, \`order_id\`, \`created_at\`) values ${lines.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
        lines.flatMap((l) => [l.productId, -l.quantity, 'order', orderId, now]),
      );
      await query(conn, 'commit');
      return orderId;
    } catch (err) {
      await query(conn, 'rollback');
      throw err;
    }
  } finally {
    conn.release();
  }
}
