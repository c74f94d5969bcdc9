import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB, OrderLineRow, OrderRow } from '../db/types';

/** Order and stock queries. Each takes the database (or a transaction) first. */
type Conn = Kysely<DB> | Transaction<DB>;

export interface LockedProduct {
  id: number;
  name: string;
  price_cents: number;
  stock: number;
  archived_at: Date | null;
}

/**
 * Locks the given products with one `SELECT … FOR UPDATE`, in ascending id order, so that two
 * transactions locking overlapping sets always take the locks in the same order (no deadlock).
 */
export async function lockProducts(trx: Transaction<DB>, ids: readonly number[]): Promise<LockedProduct[]> {
  if (ids.length === 0) return [];
  return trx
    .selectFrom('products')
    .select(['id', 'name', 'price_cents', 'stock', 'archived_at'])
    .where('id', 'in', [...ids])
    .orderBy('id')
    .forUpdate()
    .execute();
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
  const res = await trx
    .updateTable('products')
    .set({ stock: sql<number>`CASE id ${cases} END`, updated_at: at })
    .where(
      'id',
      'in',
      changes.map((c) => c.productId),
    )
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

export async function insertOrder(trx: Transaction<DB>, order: Omit<OrderRow, 'seq'>): Promise<void> {
  await trx.insertInto('orders').values(order).execute();
}

/** All lines of an order in one multi-row INSERT. */
export async function insertOrderLines(trx: Transaction<DB>, lines: readonly OrderLineRow[]): Promise<void> {
  if (lines.length === 0) return;
  await trx
    .insertInto('order_lines')
    .values([...lines])
    .execute();
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
