/**
 * The references: an order's transaction as bare mysql2 statements (no Kysely, no middy, no zod),
 * for an order without an Idempotency-Key, in two statement orders: NAIVE (the product row and its
 * stock locked from the first statement to COMMIT, placeOrder before lock-last) and LOCK-LAST (the
 * order that placeOrder in lib/orders/service.ts follows: lock last, on stock shards). Their throughput is the floor the
 * database sets; the benchmark checks the handler's statements against them (lock-round-trips.ts).
 */
import { oneQuery, packStatements, type SqlText } from '../../lib/db/compiled';
import { newOrderId } from '../../lib/orders/ids';
import { createPool, type Pool, type PoolConnection, type RowDataPacket } from 'mysql2';
import { pickShards, type Shard } from '../../lib/stock/shards';
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
    // As lib/db/pool.ts: the lock-last order sends its lock, stock UPDATE and COMMIT in one query.
    multipleStatements: true,
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
  archived_at: Date | null;
  updated_at: Date;
}

/** A product row joined with one of its stock shards (docs/decisions/0012-stock-shards.md). */
interface ShardRow extends LockedRow {
  shard_no: number;
  stock: number;
}

export class RawOrderError extends Error {
  override name = 'RawOrderError';
}

/** Products with their shards: stock per product and the shards, from rows of `ShardRow`. */
function byProduct(rows: readonly ShardRow[]): Map<number, LockedRow & { stock: number; shards: Shard[] }> {
  const out = new Map<number, LockedRow & { stock: number; shards: Shard[] }>();
  for (const r of rows) {
    const id = Number(r.id);
    const stock = Number(r.stock ?? 0);
    let p = out.get(id);
    if (!p) {
      p = {
        id,
        name: r.name,
        price_cents: r.price_cents,
        archived_at: r.archived_at,
        updated_at: r.updated_at,
        stock: 0,
        shards: [] as Shard[],
      } as LockedRow & { stock: number; shards: Shard[] };
      out.set(id, p);
    }
    if (r.shard_no !== null) p.shards.push({ product_id: id, shard_no: Number(r.shard_no), stock });
    p.stock += stock;
  }
  return out;
}

const READ_SQL =
  'SELECT p.id, p.name, p.price_cents, p.archived_at, p.updated_at, s.shard_no, s.stock\n      FROM products p LEFT JOIN stock_shards s ON s.product_id = p.id\n     WHERE p.id IN (?)';

/**
 * The naive lock: every product row and its shard 0, exclusively, in one statement (each a point
 * lookup, so nothing beyond them is locked): the one-row design the service had before shards.
 * STRAIGHT_JOIN keeps products as the driving table whatever the optimizer thinks of the id list,
 * so every order locks product, shard, next product, … in one order (two join orders deadlock).
 */
const LOCK_ALL_SQL =
  'SELECT STRAIGHT_JOIN p.id, p.name, p.price_cents, p.archived_at, s.shard_no, s.stock\n      FROM products p FORCE INDEX (PRIMARY) JOIN stock_shards s ON s.product_id = p.id AND s.shard_no = 0\n     WHERE p.id IN (?) ORDER BY p.id FOR UPDATE';

const SHARE_LOCK_SQL =
  'SELECT id, name, price_cents, archived_at, updated_at FROM products FORCE INDEX (PRIMARY)\n    WHERE id IN (?) ORDER BY id LOCK IN SHARE MODE';

/** One shard per line, as the service picks it (every bench line fits one shard: stock is huge). */
function picksFor(
  lines: readonly Line[],
  products: ReturnType<typeof byProduct>,
): Array<{ id: number; shard: number }> {
  const shardsOf = new Map([...products].map(([id, p]) => [id, p.shards]));
  return pickShards(lines, shardsOf, false).map((pick) => {
    if ('all' in pick) throw new RawOrderError(`no shard of ${pick.productId} has enough`);
    return { id: pick.productId, shard: pick.shardNo };
  });
}

function lockShardsStatement(picks: ReadonlyArray<{ id: number; shard: number }>): [string, unknown[]] {
  return [
    `SELECT product_id, shard_no, stock FROM stock_shards FORCE INDEX (PRIMARY)\n     WHERE ${picks.map(() => '(product_id = ? AND shard_no = ?)').join(' OR ')}\n     ORDER BY product_id, shard_no FOR UPDATE`,
    picks.flatMap((p) => [p.id, p.shard]),
  ];
}

function takeStockStatement(
  lines: readonly Line[],
  picks: ReadonlyArray<{ id: number; shard: number }>,
): [string, unknown[]] {
  const cases = lines.map(() => 'WHEN product_id = ? AND shard_no = ? THEN ?').join(' ');
  return [
    `UPDATE stock_shards FORCE INDEX (PRIMARY) SET stock = stock - CASE ${cases} END\n       WHERE ${picks.map(() => '(product_id = ? AND shard_no = ?)').join(' OR ')}`,
    [...lines.flatMap((l, i) => [l.productId, picks[i]?.shard, l.quantity]), ...picks.flatMap((p) => [p.id, p.shard])],
  ];
}

/**
 * The three INSERTs of an order (order, lines, ledger), from whichever product read priced it. The
 * naive order sends them one by one (as it always did); lock-last sends them as one query, as
 * placeOrder does (lib/db/compiled.ts DeferredWrites: one query per 14 KB, RDS Proxy's limit).
 */
async function insertOrderRows(
  conn: PoolConnection,
  orderId: string,
  lines: readonly Line[],
  byId: Map<number, Pick<LockedRow, 'name' | 'price_cents'>>,
  total: number,
  now: Date,
  together = false,
): Promise<void> {
  const statements: SqlText[] = [
    {
      sql: 'insert into `orders` (`id`, `status`, `total_cents`, `created_at`, `cancelled_at`) values (?, ?, ?, ?, ?)',
      parameters: [orderId, 'confirmed', total, now, null],
    },
    {
      sql: `insert into \`order_lines\` (\`order_id\`, \`product_id\`, \`line_no\`, \`name\`, \`quantity\`, \`unit_price_cents\`, \`line_total_cents\`) values ${lines.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      parameters: lines.flatMap((l, i) => {
        const row = byId.get(l.productId) as LockedRow;
        return [orderId, l.productId, i + 1, row.name, l.quantity, row.price_cents, row.price_cents * l.quantity];
      }),
    },
    {
      sql: `insert into \`stock_movements\` (\`product_id\`, \`delta\`, \`reason\`, \`order_id\`, \`created_at\`) values ${lines.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
      parameters: lines.flatMap((l) => [l.productId, -l.quantity, 'order', orderId, now]),
    },
  ];
  const groups = together ? packStatements(statements) : statements.map((st) => [st]);
  for (const group of groups) {
    const { sql, parameters } = oneQuery(group);
    await query(conn, sql, [...parameters]);
  }
}

function priceLines(
  lines: readonly Line[],
  byId: Map<number, LockedRow & { stock?: number }>,
  checkStock: boolean,
): number {
  let total = 0;
  for (const l of lines) {
    const row = byId.get(l.productId);
    if (!row || row.archived_at !== null) throw new RawOrderError(`unknown product ${l.productId}`);
    if (checkStock && (row.stock ?? 0) < l.quantity) throw new RawOrderError(`insufficient stock for ${l.productId}`);
    total += row.price_cents * l.quantity;
  }
  return total;
}

/**
 * begin, fn, commit (rollback on failure). `fn` may end the transaction itself by sending its last
 * statements with the COMMIT in one query: it then returns `{ committed: true }`.
 */
async function inTransaction<T>(
  raw: RawPool,
  fn: (conn: PoolConnection) => Promise<T | { committed: true; value: T }>,
): Promise<T> {
  const conn = await connection(raw.pool);
  try {
    await query(conn, 'begin');
    try {
      const result = await fn(conn);
      if (typeof result === 'object' && result !== null && 'committed' in result) return result.value;
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
 * NAIVE order (the statement order of placeOrder before lock-last): seven round trips, the product
 * row locked for five of them. begin; one SELECT … FOR UPDATE of every product and its shard 0 in
 * ascending id order; one CASE UPDATE of those shards (both with FORCE INDEX (PRIMARY));
 * the order; its lines (one multi-row INSERT: the service splits it only past 14 KB of values,
 * which the bench's short names never reach); their ledger movements (one multi-row INSERT);
 * commit. Lines keep the client's order, as the service keeps them.
 */
export async function rawPlaceOrderNaive(raw: RawPool, lines: readonly Line[]): Promise<string> {
  const ids = [...new Set(lines.map((l) => l.productId))].sort((a, b) => a - b);
  return inTransaction(raw, async (conn) => {
    const products = byProduct(await query<ShardRow[]>(conn, LOCK_ALL_SQL, [ids]));
    const total = priceLines(lines, products, true);
    const now = new Date();
    const orderId = newOrderId(); // the service's generator: its cost is paid by both sides
    await query(
      conn,
      ...takeStockStatement(
        lines,
        lines.map((l) => ({ id: l.productId, shard: 0 })),
      ),
    );
    await insertOrderRows(conn, orderId, lines, products, total, now);
    return orderId;
  });
}

/**
 * LOCK-LAST order with stock shards, the statements placeOrder sends for an
 * order without an Idempotency-Key: everything that needs no lock first, then the locks for the
 * fewest round trips. begin; the products and all their shards read WITHOUT a lock (prices, names,
 * archived state, updated_at, a shard with enough per line, picked at random); the order, its lines
 * and its ledger movements written from that read, in one query; the products share-locked (ascending ids) and
 * checked against the read; then ONE query: the picked shards locked with SELECT … FOR UPDATE
 * (ascending keys), the CASE UPDATE (which fails, and stops the query before its COMMIT, if a shard
 * has less than its line), COMMIT. No round trip under the shard locks (docs/decisions/0016).
 * Needs the schema without the order_lines → products foreign key.
 */
export async function rawPlaceOrderLockLast(raw: RawPool, lines: readonly Line[]): Promise<string> {
  const ids = [...new Set(lines.map((l) => l.productId))].sort((a, b) => a - b);
  return inTransaction(raw, async (conn) => {
    const products = byProduct(await query<ShardRow[]>(conn, READ_SQL, [ids]));
    const total = priceLines(lines, products, true);
    const picks = picksFor(lines, products);
    const now = new Date();
    const orderId = newOrderId(); // the service's generator: its cost is paid by both sides
    await insertOrderRows(conn, orderId, lines, products, total, now, true);
    const locked = await query<LockedRow[]>(conn, SHARE_LOCK_SQL, [ids]);
    for (const row of locked) {
      const seen = products.get(Number(row.id));
      // The bench never changes prices while it runs; a change here would redo the order in the service.
      if (
        !seen ||
        seen.price_cents !== row.price_cents ||
        seen.name !== row.name ||
        row.archived_at !== null ||
        seen.updated_at.getTime() !== row.updated_at.getTime()
      )
        throw new RawOrderError(`product ${row.id} changed between the read and the lock`);
    }
    const [lockSql, lockParams] = lockShardsStatement(picks);
    const [takeSql, takeParams] = takeStockStatement(lines, picks);
    // A shard short of its line fails the UPDATE (UNSIGNED) and the query stops before COMMIT.
    const tail = oneQuery([
      { sql: lockSql, parameters: lockParams },
      { sql: takeSql, parameters: takeParams },
      { sql: 'commit', parameters: [] },
    ]);
    await query(conn, tail.sql, [...tail.parameters]);
    return { committed: true as const, value: orderId };
  });
}

/** The statements of today's service, kept under its old name for the smoke test. */
export const rawPlaceOrder = rawPlaceOrderNaive;
