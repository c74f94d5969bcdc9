import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../db/types';

/**
 * A product's stock in 1–64 rows of stock_shards, numbered 0…n−1 (docs/decisions/0012-stock-shards.md).
 * The stock is their sum, `stock_shards` their count. Every writer takes its locks in one global
 * order: the products row first, then shard rows ascending by (product_id, shard_no).
 * Each row also carries `live`, its product's `archived_at IS NULL` (docs/decisions/0013-in-stock-index.md):
 * whoever writes shard rows or archives a product writes it in the same transaction.
 */

export interface ShardTotal {
  stock: number;
  stock_shards: number;
}

export interface Shard {
  product_id: number;
  shard_no: number;
  stock: number;
}

/** A shard row to insert: `live` is whether its product is live (not archived). */
export type NewShard = Shard & { live: boolean };

/** `total` split over `n` shards as evenly as integers allow (the first total mod n get one more). */
export function distribute(total: number, n: number): number[] {
  const base = Math.floor(total / n);
  const extra = total - base * n;
  return Array.from({ length: n }, (_, i) => base + (i < extra ? 1 : 0));
}

/**
 * Σ stock and shard count of each product in ONE aggregate query (the PRIMARY key's prefix), for a
 * page of products or one. Products without shard rows are absent from the map.
 */
export async function shardTotals(db: Kysely<DB>, productIds: readonly number[]): Promise<Map<number, ShardTotal>> {
  if (productIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('stock_shards')
    .select(['product_id', sql<string>`SUM(stock)`.as('stock'), sql<string>`COUNT(*)`.as('shards')])
    .where('product_id', 'in', [...productIds])
    .groupBy('product_id')
    .execute();
  return new Map(rows.map((r) => [Number(r.product_id), { stock: Number(r.stock), stock_shards: Number(r.shards) }]));
}

/** The product's shards, locked ascending (callers hold the products row lock first). */
export async function lockProductShards(trx: Transaction<DB>, productId: number): Promise<Shard[]> {
  const { rows } = await sql<Shard>`
    SELECT product_id, shard_no, stock FROM stock_shards
     WHERE product_id = ${productId} ORDER BY shard_no FOR UPDATE`.execute(trx);
  return rows.map((r) => ({ product_id: Number(r.product_id), shard_no: Number(r.shard_no), stock: Number(r.stock) }));
}

/**
 * Makes the product's shards exactly `amounts` (shard i holds amounts[i]): the old rows are
 * deleted and the new ones inserted in one multi-row INSERT. The caller holds the products row
 * lock of the LIVE product (only live products' stock is changed) and has locked the existing
 * shards, so nobody else is changing them.
 */
export async function replaceShards(
  trx: Transaction<DB>,
  productId: number,
  amounts: readonly number[],
  hadShards: boolean,
): Promise<void> {
  if (hadShards) await trx.deleteFrom('stock_shards').where('product_id', '=', productId).execute();
  await insertShards(
    trx,
    amounts.map((stock, shardNo) => ({ product_id: productId, shard_no: shardNo, stock, live: true })),
  );
}

/** Inserts shard rows (of products that have none yet), in multi-row INSERTs of at most 5,000 rows. */
export async function insertShards(trx: Transaction<DB> | Kysely<DB>, shards: readonly NewShard[]): Promise<void> {
  for (let from = 0; from < shards.length; from += 5_000) {
    await trx
      .insertInto('stock_shards')
      .values(shards.slice(from, from + 5_000).map((s) => ({ ...s, live: s.live ? 1 : 0 })))
      .execute();
  }
}

/**
 * Marks the product's shards archived (`live` = 0), in the transaction that archives it and after
 * its products row is locked: the UPDATE locks its shard rows ascending, the global lock order.
 */
export async function markShardsArchived(trx: Transaction<DB> | Kysely<DB>, productId: number): Promise<void> {
  await trx.updateTable('stock_shards').set({ live: 0 }).where('product_id', '=', productId).execute();
}

/*
 * Orders (docs/decisions/0012-stock-shards.md). Before any lock an order reads all shards of its
 * products (one statement, no lock) and picks, per line, ONE shard that had enough, at random
 * among those, so concurrent orders for a hot product spread over its rows. A line that no single
 * shard can serve (near sell-out) asks for ALL the product's shards instead. The picked rows are
 * then locked with one `SELECT … FOR UPDATE` in ascending (product_id, shard_no) order. Under the
 * lock, a picked shard that another order drained meanwhile means a second attempt in a new
 * transaction with every line on all its shards (never more locks taken after some are held, so
 * never a lock-order inversion); a line on all shards sees the true total: enough, or short.
 */

/** Which rows a line locks: one shard, or every shard of its product. */
export type ShardPick = { productId: number; shardNo: number } | { productId: number; all: true };

export interface StockLine {
  productId: number;
  quantity: number;
}

/** Units to take from one shard. */
export interface ShardTake {
  productId: number;
  shardNo: number;
  quantity: number;
}

/**
 * One pick per line from the shards read without a lock. `everywhere` (the second attempt) puts
 * every line on all shards of its product.
 */
export function pickShards(
  lines: readonly StockLine[],
  shardsOf: ReadonlyMap<number, readonly Shard[]>,
  everywhere: boolean,
  random: () => number = Math.random,
): ShardPick[] {
  return lines.map((l) => {
    const fits = everywhere ? [] : (shardsOf.get(l.productId) ?? []).filter((s) => s.stock >= l.quantity);
    const one = fits[Math.floor(random() * fits.length)];
    return one ? { productId: l.productId, shardNo: one.shard_no } : { productId: l.productId, all: true };
  });
}

export type TakePlan =
  | { kind: 'take'; takes: ShardTake[] }
  /** Lines on all their shards whose product's total is short (the total is exact: all locked). */
  | { kind: 'short'; short: Array<{ productId: number; quantity: number; available: number }> }
  /** A picked shard no longer had enough: try again with every line on all shards. */
  | { kind: 'moved' };

/**
 * Checks the locked shards (their latest committed stock) against the lines and says what to take
 * from which. A line on one shard takes from it if it still has enough; a line on all shards takes
 * from the fullest first (fewest rows touched) if their exact total is enough. When a picked shard
 * fell short, nothing is decided (`moved`): its product's total is unknown, and every short line
 * must be reported at once.
 */
export function planTakes(
  lines: readonly StockLine[],
  picks: readonly ShardPick[],
  locked: readonly Shard[],
): TakePlan {
  const shardsOf = new Map<number, Shard[]>();
  for (const s of locked) {
    const list = shardsOf.get(s.product_id);
    if (list) list.push(s);
    else shardsOf.set(s.product_id, [s]);
  }
  const takes: ShardTake[] = [];
  const short: Array<{ productId: number; quantity: number; available: number }> = [];
  for (const [i, l] of lines.entries()) {
    const pick = picks[i];
    const shards = shardsOf.get(l.productId) ?? [];
    if (pick !== undefined && !('all' in pick)) {
      const shard = shards.find((s) => s.shard_no === pick.shardNo);
      if (shard === undefined || shard.stock < l.quantity) return { kind: 'moved' };
      takes.push({ productId: l.productId, shardNo: pick.shardNo, quantity: l.quantity });
      continue;
    }
    const available = shards.reduce((sum, s) => sum + s.stock, 0);
    if (available < l.quantity) {
      short.push({ productId: l.productId, quantity: l.quantity, available });
      continue;
    }
    let left = l.quantity;
    for (const s of [...shards].sort((a, b) => b.stock - a.stock || a.shard_no - b.shard_no)) {
      if (left === 0) break;
      const take = Math.min(left, s.stock);
      if (take > 0) takes.push({ productId: l.productId, shardNo: s.shard_no, quantity: take });
      left -= take;
    }
  }
  return short.length > 0 ? { kind: 'short', short } : { kind: 'take', takes };
}
