/**
 * The references: an order's transaction as bare mysql2 statements (no Kysely, no middy, no zod),
 * for an order without an Idempotency-Key, in two statement orders: NAIVE (the product row locked
 * from the first statement to COMMIT, placeOrder before issue 10) and LOCK-LAST (the order that
 * placeOrder in lib/orders/service.ts follows since issue 10). Their throughput is the floor the
 * database sets; the benchmark checks the handler's statements against them (lock-round-trips.ts).
 */
import { newOrderId } from '../../lib/orders/ids';
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

const LOCK_SQL =
  'SELECT id, name, price_cents, stock, archived_at FROM products FORCE INDEX (PRIMARY)\n    WHERE id IN (?) ORDER BY id FOR UPDATE';

function takeStockStatement(lines: readonly Line[], now: Date): [string, unknown[]] {
  const cases = lines.map(() => 'WHEN ? THEN stock - ?').join(' ');
  return [
    `UPDATE products FORCE INDEX (PRIMARY) SET stock = CASE id ${cases} END, updated_at = ?\n    WHERE id IN (?)`,
    [...lines.flatMap((l) => [l.productId, l.quantity]), now, lines.map((l) => l.productId)],
  ];
}

/** The three INSERTs of an order (order, lines, ledger), from whichever product read priced it. */
async function insertOrderRows(
  conn: PoolConnection,
  orderId: string,
  lines: readonly Line[],
  byId: Map<number, Pick<LockedRow, 'name' | 'price_cents'>>,
  total: number,
  now: Date,
): Promise<void> {
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
}

function priceLines(lines: readonly Line[], byId: Map<number, LockedRow>, checkStock: boolean): number {
  let total = 0;
  for (const l of lines) {
    const row = byId.get(l.productId);
    if (!row || row.archived_at !== null) throw new RawOrderError(`unknown product ${l.productId}`);
    if (checkStock && row.stock < l.quantity) throw new RawOrderError(`insufficient stock for ${l.productId}`);
    total += row.price_cents * l.quantity;
  }
  return total;
}

async function inTransaction<T>(raw: RawPool, fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
  const conn = await connection(raw.pool);
  try {
    await query(conn, 'begin');
    try {
      const result = await fn(conn);
      await query(conn, 'commit');
      return result;
    } catch (err) {
      await query(conn, 'rollback');
      throw err;
    }
  } finally {
    conn.release();
  }
}

/**
 * NAIVE order (the statement order of placeOrder before issue 10): seven round trips, the product
 * row locked for five of them. begin; one SELECT … FOR UPDATE of every product in ascending id
 * order; one CASE UPDATE of their stock (both with FORCE INDEX (PRIMARY)); the order; its lines
 * (one multi-row INSERT: the service splits it only past 14 KB of values, which the bench's short
 * names never reach); their ledger movements (one multi-row INSERT); commit. Lines keep the
 * client's order, as the service keeps them. Checked against the server's general log.
 */
export async function rawPlaceOrderNaive(raw: RawPool, lines: readonly Line[]): Promise<string> {
  const ids = [...new Set(lines.map((l) => l.productId))].sort((a, b) => a - b);
  return inTransaction(raw, async (conn) => {
    const rows = await query<LockedRow[]>(conn, LOCK_SQL, [ids]);
    const byId = new Map(rows.map((r) => [Number(r.id), r]));
    const total = priceLines(lines, byId, true);
    const now = new Date();
    const orderId = newOrderId(); // the service's generator: its cost is paid by both sides
    await query(conn, ...takeStockStatement(lines, now));
    await insertOrderRows(conn, orderId, lines, byId, total, now);
    return orderId;
  });
}

/**
 * LOCK-LAST order (issue 10): everything that needs no lock first, then the lock for the fewest
 * round trips. begin; the products read WITHOUT a lock (prices, names, archived state); the
 * order, its lines and its ledger movements written from that read; then the same
 * SELECT … FOR UPDATE (ascending ids), checking stock and that price, name and archived state
 * still match; the CASE UPDATE; commit. Three round trips under the lock, COMMIT included.
 * Needs the schema without the order_lines → products foreign key (each line INSERT would take a
 * shared lock on its product that the later FOR UPDATE must upgrade, deadlocking hot orders).
 */
export async function rawPlaceOrderLockLast(raw: RawPool, lines: readonly Line[]): Promise<string> {
  const ids = [...new Set(lines.map((l) => l.productId))].sort((a, b) => a - b);
  return inTransaction(raw, async (conn) => {
    const read = await query<LockedRow[]>(
      conn,
      'SELECT id, name, price_cents, stock, archived_at FROM products WHERE id IN (?)',
      [ids],
    );
    const byId = new Map(read.map((r) => [Number(r.id), r]));
    const total = priceLines(lines, byId, false);
    const now = new Date();
    const orderId = newOrderId(); // the service's generator: its cost is paid by both sides
    await insertOrderRows(conn, orderId, lines, byId, total, now);
    const locked = await query<LockedRow[]>(conn, LOCK_SQL, [ids]);
    for (const row of locked) {
      const seen = byId.get(Number(row.id));
      // The bench never changes prices while it runs; a change here would redo the order in the service.
      if (!seen || seen.price_cents !== row.price_cents || seen.name !== row.name || row.archived_at !== null)
        throw new RawOrderError(`product ${row.id} changed between the read and the lock`);
    }
    priceLines(lines, new Map(locked.map((r) => [Number(r.id), r])), true);
    await query(conn, ...takeStockStatement(lines, now));
    return orderId;
  });
}

/** The statements of today's service, kept under its old name for the smoke test. */
export const rawPlaceOrder = rawPlaceOrderNaive;
