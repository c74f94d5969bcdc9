import { type Kysely, sql, type Transaction } from 'kysely';
import { repeated, runSql, type SqlExecutor, type SqlText, valueRows } from '../db/compiled';
import { chunkRows, MAX_STATEMENT_BYTES, sqlTextBytes } from '../db/statement-size';
import type { DB, OrderLineRow, OrderRow } from '../db/types';
import type { Shard, ShardPick, ShardTake } from '../stock/shards';

/** Order and stock queries. Each takes the database (or a transaction) first. */
type Conn = Kysely<DB> | Transaction<DB>;

/** A product as an order sees it: what its lines are written from and what is checked under lock. */
export interface ProductState {
  id: number;
  name: string;
  price_cents: number;
  /** Σ of `shards`. */
  stock: number;
  archived_at: Date | null;
  /**
   * Changes with every update of the product (updateProduct makes it strictly later), re-shards
   * included: the same value under the lock as at the unlocked read means the same stock rows.
   */
  updated_at: Date;
  /** Its stock rows, ascending by shard_no (lib/stock/shards.ts). */
  shards: Shard[];
}

/** A product's row as an order checks it under a share lock (its stock is in the shards). */
export type LockedProduct = Omit<ProductState, 'stock' | 'shards'>;

/*
 * The locking statements name the PRIMARY index. On a small table the optimizer may prefer a full
 * scan for `WHERE id IN (…)`, and under REPEATABLE READ a scanning UPDATE or FOR UPDATE locks
 * every row it reads, not only the order's: two orders over disjoint products then deadlock. With
 * the index forced, each key is one point (or prefix) range that locks those rows only.
 * (`FORCE INDEX` in SELECT and single-table UPDATE works on MySQL 8 and MariaDB.)
 */

/** `?, ?, …` for an `IN (…)` of `n` values. */
const inList = (n: number) => repeated(n, '?');

/**
 * Reads the given products and all their shards WITHOUT a lock, in one statement: a consistent
 * read of the transaction's snapshot. An order writes its rows from this read before it locks
 * anything, and picks the shards to lock from it; `lockProducts` and `lockShards` then re-read the
 * rows it must agree with. (A read that locks nothing needs no forced index: a scan here blocks no one.)
 */
export async function readProducts(trx: SqlExecutor, ids: readonly number[]): Promise<ProductState[]> {
  if (ids.length === 0) return [];
  const { rows } = await runSql<
    Omit<ProductState, 'stock' | 'shards'> & { shard_no: number | null; shard_stock: number | null }
  >(
    trx,
    `SELECT p.id, p.name, p.price_cents, p.archived_at, p.updated_at, s.shard_no, s.stock AS shard_stock
      FROM products p LEFT JOIN stock_shards s ON s.product_id = p.id
     WHERE p.id IN (${inList(ids.length)})`,
    ids,
  );
  const byId = new Map<number, ProductState>();
  for (const r of rows) {
    const id = Number(r.id);
    let p = byId.get(id);
    if (!p) {
      p = {
        id,
        name: r.name,
        price_cents: Number(r.price_cents),
        stock: 0,
        archived_at: r.archived_at,
        updated_at: r.updated_at,
        shards: [],
      };
      byId.set(id, p);
    }
    if (r.shard_no !== null && r.shard_stock !== null) {
      const stock = Number(r.shard_stock);
      p.shards.push({ product_id: id, shard_no: Number(r.shard_no), stock });
      p.stock += stock;
    }
  }
  for (const p of byId.values()) p.shards.sort((a, b) => a.shard_no - b.shard_no);
  return [...byId.values()];
}

/**
 * Share-locks the given products (`LOCK IN SHARE MODE`, ascending id) and returns their latest
 * committed rows, to check name, price and archived state under lock. A share lock, because every
 * order for a product takes it: orders do not wait for each other here, while a PATCH or DELETE
 * (which takes the row exclusively) waits for them and they for it. First in the global lock
 * order: products rows, then shards ascending.
 */
export async function lockProducts(trx: SqlExecutor, ids: readonly number[]): Promise<LockedProduct[]> {
  if (ids.length === 0) return [];
  const { rows } = await runSql<LockedProduct>(
    trx,
    `SELECT id, name, price_cents, archived_at, updated_at FROM products FORCE INDEX (PRIMARY)
    WHERE id IN (${inList(ids.length)}) ORDER BY id LOCK IN SHARE MODE`,
    ids,
  );
  return rows.map((r) => ({ ...r, id: Number(r.id), price_cents: Number(r.price_cents) }));
}

/** `(product_id = ? AND shard_no = ?)` for a pick of one shard, `product_id = ?` for all of them. */
function shardSelection(picks: readonly ShardPick[], parameters: unknown[]): string {
  const terms: string[] = [];
  for (const p of picks) {
    if ('all' in p) {
      terms.push('product_id = ?');
      parameters.push(p.productId);
    } else {
      terms.push('(product_id = ? AND shard_no = ?)');
      parameters.push(p.productId, p.shardNo);
    }
  }
  return terms.join(' OR ');
}

/**
 * Locks the picked shard rows with ONE `SELECT … FOR UPDATE`: the range reads of the PRIMARY key
 * run in ascending (product_id, shard_no) order, so concurrent orders lock shared rows in the
 * same order and cannot deadlock. Returns their latest committed stock.
 */
export async function lockShards(trx: SqlExecutor, picks: readonly ShardPick[]): Promise<Shard[]> {
  if (picks.length === 0) return [];
  const { sql, parameters } = lockShardsStatement(picks);
  const { rows } = await runSql<Shard>(trx, sql, parameters);
  return toShards(rows);
}

function lockShardsStatement(picks: readonly ShardPick[]): SqlText {
  const parameters: unknown[] = [];
  const sql = `SELECT product_id, shard_no, stock FROM stock_shards FORCE INDEX (PRIMARY)
     WHERE ${shardSelection(picks, parameters)}
     ORDER BY product_id, shard_no FOR UPDATE`;
  return { sql, parameters };
}

const toShards = (rows: readonly Shard[]): Shard[] =>
  rows.map((r) => ({ product_id: Number(r.product_id), shard_no: Number(r.shard_no), stock: Number(r.stock) }));

/** Shard rows one stock UPDATE names at most: ~100 bytes each keeps the statement under 16 KB. */
export const TAKES_PER_STATEMENT = 120;

/**
 * Takes the planned units from shards the transaction has locked, in ONE statement for up to
 * TAKES_PER_STATEMENT shard rows (an order whose every line fits one shard: up to 120 lines, more
 * than an order may have): `UPDATE stock_shards SET stock = stock - CASE WHEN (key) THEN q … END
 * WHERE (key) OR …`. The amounts come from the locked rows (latest committed values), never from
 * a read inside the statement. The columns are UNSIGNED with a CHECK, so a decrement below zero
 * fails in the database even if a bug skipped the check under lock. Returns the rows matched.
 */
export async function takeFromShards(trx: SqlExecutor, takes: readonly ShardTake[]): Promise<number> {
  let matched = 0;
  for (let from = 0; from < takes.length; from += TAKES_PER_STATEMENT) {
    const { sql, parameters } = takeStatement(takes.slice(from, from + TAKES_PER_STATEMENT));
    const res = await runSql(trx, sql, parameters);
    matched += Number(res.numAffectedRows ?? 0);
  }
  return matched;
}

function takeStatement(chunk: readonly ShardTake[]): SqlText {
  const parameters: unknown[] = [];
  for (const t of chunk) parameters.push(t.productId, t.shardNo, t.quantity);
  const cases = repeated(chunk.length, 'WHEN product_id = ? AND shard_no = ? THEN ?', ' ');
  const where = shardSelection(
    chunk.map((t) => ({ productId: t.productId, shardNo: t.shardNo })),
    parameters,
  );
  return {
    sql: `UPDATE stock_shards FORCE INDEX (PRIMARY) SET stock = stock - CASE ${cases} END
       WHERE ${where}`,
    parameters,
  };
}

/**
 * The lock tail of an order in ONE round trip, when the transaction can send several statements
 * at once (a session transaction: `commitWith`) and every line takes its whole quantity from one
 * picked shard: `SELECT … FOR UPDATE` of the picked shards (ascending keys, as lockShards), the
 * stock UPDATE (as takeFromShards) and COMMIT, in one query. The server runs them back to back, so
 * the shard locks are held for no round trip at all, only for the server's own work.
 *
 * Safe without seeing the locked rows first: the UPDATE cannot take more than a shard holds (the
 * column is UNSIGNED: `stock - q` below zero is error 1690, and the statement changes nothing),
 * and the server stops at a failed statement, so COMMIT never runs after one; the caller's
 * transaction is then still open, its locks held. The rows must exist: the caller has checked
 * under the products share lock that no re-shard happened since it read them (`updated_at`).
 *
 * Returns true once committed. Returns false, sending nothing, when it cannot be used (no
 * commitWith, more than TAKES_PER_STATEMENT takes, or the query would pass RDS Proxy's 16 KB
 * pinning limit): the caller then locks, checks and takes in three round trips. Throws the
 * driver's error when a statement failed (isShardShortfall tells a shortfall).
 */
export async function lockTakeAndCommit(trx: SqlExecutor, takes: readonly ShardTake[]): Promise<boolean> {
  if (!trx.commitWith || takes.length === 0 || takes.length > TAKES_PER_STATEMENT) return false;
  const lock = lockShardsStatement(takes.map((t) => ({ productId: t.productId, shardNo: t.shardNo })));
  const take = takeStatement(takes);
  if (sqlTextBytes(lock) + sqlTextBytes(take) + 16 > MAX_STATEMENT_BYTES) return false;
  const [, updated] = await trx.commitWith([lock, take]);
  const matched = Number(updated?.numAffectedRows ?? 0);
  // Cannot differ (the rows exist and each matched once); were it ever so, it is already committed.
  if (matched !== takes.length)
    throw new Error(`one-trip stock update matched ${matched} of ${takes.length} shard rows, committed`);
  return true;
}

/** The error of a stock UPDATE that would take a shard below zero (UNSIGNED range, or the CHECK). */
export function isShardShortfall(err: unknown): boolean {
  const errno = (err as { errno?: unknown } | null)?.errno;
  // 1690 ER_DATA_OUT_OF_RANGE; 3819 MySQL's and 4025 MariaDB's CHECK constraint violated.
  return errno === 1690 || errno === 3819 || errno === 4025;
}

export interface StockChange {
  productId: number;
  /** Units to give back; always positive. */
  quantity: number;
}

/**
 * Gives every line's quantity back to shard 0 of its product (which always exists), in ONE
 * statement that takes its row locks itself, ascending by product: `UPDATE stock_shards SET stock =
 * stock + CASE product_id … END WHERE shard_no = 0 AND product_id IN (…)`. Returns the rows changed.
 */
export async function restoreToShards(trx: Transaction<DB>, changes: readonly StockChange[]): Promise<number> {
  if (changes.length === 0) return 0;
  const parameters: unknown[] = [];
  for (const c of changes) parameters.push(c.productId, c.quantity);
  for (const c of changes) parameters.push(c.productId);
  const res = await runSql(
    trx,
    `UPDATE stock_shards FORCE INDEX (PRIMARY) SET stock = stock + CASE product_id ${repeated(changes.length, 'WHEN ? THEN ?', ' ')} END
     WHERE shard_no = 0 AND product_id IN (${inList(changes.length)})`,
    parameters,
  );
  return Number(res.numAffectedRows ?? 0);
}

export async function insertOrder(trx: SqlExecutor, order: Omit<OrderRow, 'seq'>): Promise<void> {
  await runSql(
    trx,
    'insert into `orders` (`id`, `status`, `total_cents`, `created_at`, `cancelled_at`) values (?, ?, ?, ?, ?)',
    [order.id, order.status, order.total_cents, order.created_at, order.cancelled_at],
  );
}

const ORDER_LINE_COLUMNS =
  '`order_id`, `product_id`, `line_no`, `name`, `quantity`, `unit_price_cents`, `line_total_cents`';

/**
 * All lines of an order in multi-row INSERTs: one for a usual order, more only when long product
 * names would push a statement past RDS Proxy's 16 KB pinning limit (lib/db/statement-size.ts).
 */
export async function insertOrderLines(trx: SqlExecutor, lines: readonly OrderLineRow[]): Promise<void> {
  for (const chunk of chunkRows(lines)) {
    const parameters: unknown[] = [];
    for (const l of chunk) {
      parameters.push(l.order_id, l.product_id, l.line_no, l.name, l.quantity, l.unit_price_cents, l.line_total_cents);
    }
    await runSql(
      trx,
      `insert into \`order_lines\` (${ORDER_LINE_COLUMNS}) values ${valueRows(chunk.length, 7)}`,
      parameters,
    );
  }
}

/**
 * Rewrites lines already written in this transaction (an order whose products changed between its
 * unlocked read and its lock): deletes them by primary key and inserts them again. Each line is
 * one exact primary-key match, so only those rows are locked (no gap lock on other orders' lines).
 */
export async function rewriteOrderLines(
  trx: SqlExecutor,
  orderId: string,
  lines: readonly OrderLineRow[],
): Promise<void> {
  if (lines.length === 0) return;
  await runSql(
    trx,
    `delete from \`order_lines\` where \`order_id\` = ? and \`product_id\` in (${inList(lines.length)})`,
    [orderId, ...lines.map((l) => l.product_id)],
  );
  await insertOrderLines(trx, lines);
}

export async function setOrderTotal(trx: SqlExecutor, orderId: string, totalCents: number): Promise<void> {
  await runSql(trx, 'update `orders` set `total_cents` = ? where `id` = ?', [totalCents, orderId]);
}

export async function findOrder(conn: Conn, id: string): Promise<OrderRow | undefined> {
  return conn.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The order row locked for the rest of the transaction (latest committed version). */
export async function lockOrder(trx: Transaction<DB>, id: string): Promise<OrderRow | undefined> {
  return trx.selectFrom('orders').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function markCancelled(trx: Transaction<DB>, id: string, at: Date): Promise<void> {
  await trx.updateTable('orders').set({ status: 'cancelled', cancelled_at: at }).where('id', '=', id).execute();
}

/** Lines of one or many orders in one query, in line order. */
export async function findOrderLines(conn: Conn, orderIds: readonly string[]): Promise<OrderLineRow[]> {
  if (orderIds.length === 0) return [];
  return conn
    .selectFrom('order_lines')
    .selectAll()
    .where('order_id', 'in', [...orderIds])
    .orderBy('order_id')
    .orderBy('line_no')
    .execute();
}

/** A page of orders, newest first. */
export async function listOrderRows(conn: Conn, limit: number, offset: number): Promise<OrderRow[]> {
  return conn.selectFrom('orders').selectAll().orderBy('seq', 'desc').limit(limit).offset(offset).execute();
}

export async function countOrders(conn: Conn): Promise<number> {
  const row = await conn.selectFrom('orders').select(sql<number>`COUNT(*)`.as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}
