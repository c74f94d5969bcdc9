import { type Kysely, sql, type Transaction } from 'kysely';
import { chunkRows } from '../db/statement-size';
import type { DB, OrderLineRow, OrderRow } from '../db/types';

/** Order and stock queries. Each takes the database (or a transaction) first. */
type Conn = Kysely<DB> | Transaction<DB>;

/** A product as an order sees it: what its lines are written from and what is checked under lock. */
export interface ProductState {
  id: number;
  name: string;
  price_cents: number;
  stock: number;
  archived_at: Date | null;
}

/*
 * The two locking statements on products name the PRIMARY index. On a small table the optimizer
 * prefers a full scan for `WHERE id IN (…)`, and under REPEATABLE READ a scanning UPDATE or
 * FOR UPDATE locks every row it reads, not only the order's: two orders over disjoint products
 * then deadlock. With the index forced, each id is one point lookup that locks that row only.
 * (`FORCE INDEX` in SELECT and single-table UPDATE works on MySQL 8 and MariaDB.)
 */

const idList = (ids: readonly number[]) =>
  sql.join(
    ids.map((id) => sql`${id}`),
    sql`, `,
  );

/**
 * Reads the given products WITHOUT a lock: a consistent read of the transaction's snapshot (the
 * latest committed rows when it is the transaction's first read). An order writes its rows from
 * this read before it locks anything; `lockProducts` then re-reads the rows it must agree with.
 * (A read that locks nothing needs no forced index: a scan here blocks no one.)
 */
export async function readProducts(trx: Transaction<DB>, ids: readonly number[]): Promise<ProductState[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql<ProductState>`
    SELECT id, name, price_cents, stock, archived_at FROM products WHERE id IN (${idList(ids)})`.execute(trx);
  return rows;
}

/**
 * Locks the given products with one `SELECT … FOR UPDATE`, in ascending id order, so that two
 * transactions locking overlapping sets always take the locks in the same order (no deadlock).
 * Returns the latest committed rows (a locking read does not use the snapshot).
 */
export async function lockProducts(trx: Transaction<DB>, ids: readonly number[]): Promise<ProductState[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql<ProductState>`
    SELECT id, name, price_cents, stock, archived_at FROM products FORCE INDEX (PRIMARY)
    WHERE id IN (${idList(ids)}) ORDER BY id FOR UPDATE`.execute(trx);
  return rows;
}

export interface StockChange {
  productId: number;
  /** Units to take (`take`) or give back (`restore`); always positive. */
  quantity: number;
}

/**
 * Applies every line's stock change in ONE statement:
 * `UPDATE products SET stock = CASE id WHEN ? THEN stock - ? … END, updated_at = ? WHERE id IN (…)`.
 * The column is UNSIGNED with a CHECK, so a decrement below zero fails in the database itself
 * even if a bug ever skipped the check under lock. Returns the number of rows changed.
 *
 * Without a preceding `lockProducts` (cancel) this statement takes the row locks itself: a range
 * read of the forced PRIMARY index visits, and locks, the ids in ascending order, the same order
 * `lockProducts` uses.
 */
export async function changeStock(
  trx: Transaction<DB>,
  direction: 'take' | 'restore',
  changes: readonly StockChange[],
  at: Date,
): Promise<number> {
  if (changes.length === 0) return 0;
  const op = direction === 'take' ? sql`-` : sql`+`;
  const cases = sql.join(
    changes.map((c) => sql`WHEN ${c.productId} THEN stock ${op} ${c.quantity}`),
    sql` `,
  );
  const res = await sql`
    UPDATE products FORCE INDEX (PRIMARY) SET stock = CASE id ${cases} END, updated_at = ${at}
    WHERE id IN (${idList(changes.map((c) => c.productId))})`.execute(trx);
  return Number(res.numAffectedRows ?? 0);
}

export async function insertOrder(trx: Transaction<DB>, order: Omit<OrderRow, 'seq'>): Promise<void> {
  await trx.insertInto('orders').values(order).execute();
}

/**
 * All lines of an order in multi-row INSERTs: one for a usual order, more only when long product
 * names would push a statement past RDS Proxy's 16 KB pinning limit (lib/db/statement-size.ts).
 */
export async function insertOrderLines(trx: Transaction<DB>, lines: readonly OrderLineRow[]): Promise<void> {
  for (const chunk of chunkRows(lines)) {
    await trx.insertInto('order_lines').values(chunk).execute();
  }
}

/**
 * Rewrites lines already written in this transaction (an order whose products changed between its
 * unlocked read and its lock): deletes them by primary key and inserts them again. Each line is
 * one exact primary-key match, so only those rows are locked (no gap lock on other orders' lines).
 */
export async function rewriteOrderLines(
  trx: Transaction<DB>,
  orderId: string,
  lines: readonly OrderLineRow[],
): Promise<void> {
  if (lines.length === 0) return;
  await trx
    .deleteFrom('order_lines')
    .where('order_id', '=', orderId)
    .where(
      'product_id',
      'in',
      lines.map((l) => l.product_id),
    )
    .execute();
  await insertOrderLines(trx, lines);
}

export async function setOrderTotal(trx: Transaction<DB>, orderId: string, totalCents: number): Promise<void> {
  await trx.updateTable('orders').set({ total_cents: totalCents }).where('id', '=', orderId).execute();
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
