import type { Kysely, Transaction } from 'kysely';
import { DeferredWrites, type SqlExecutor } from '../db/compiled';
import { withSqlTransaction, withTransaction } from '../db/transaction';
import type { DB, OrderLineRow, OrderRow } from '../db/types';
import {
  AppError,
  IdempotencyKeyInUseError,
  IdempotencyKeyReusedError,
  InsufficientStockError,
  OrderNotFoundError,
  type StockShortfall,
  UnknownProductError,
  ValidationError,
} from '../errors';
import { fromCents } from '../money';
import { DEFAULT_PER_PAGE } from '../paging';
import { recordMovements } from '../stock/ledger';
import { pickShards, planTakes, type ShardTake } from '../stock/shards';
import {
  claimKey,
  completeKey,
  deleteExpiredKey,
  findKey,
  isExpired,
  requestHash,
  type StoredResponse,
} from './idempotency';
import { isOrderId, newOrderId } from './ids';
import {
  countOrders,
  findOrder,
  findOrderLines,
  insertOrder,
  insertOrderLines,
  isShardShortfall,
  listOrderRows,
  lockOrder,
  type LockedProduct,
  lockProducts,
  lockShards,
  lockTakeAndCommit,
  markCancelled,
  type ProductState,
  readProducts,
  restoreToShards,
  rewriteOrderLines,
  type StockChange,
  setOrderTotal,
  takeFromShards,
} from './repository';
import type { OrderLineInput, OrderListView, OrderView } from './schema';

/** The rules for orders: placing (stock taken atomically), reading, listing, cancelling. */

export interface PlaceOrderInput {
  products: readonly OrderLineInput[];
  idempotencyKey?: string | undefined;
}

export interface PlacedOrder {
  order: OrderView;
  /** True when this is the stored result of an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

export function toOrderView(order: OrderRow, lines: readonly OrderLineRow[]): OrderView {
  return {
    id: order.id,
    status: order.status,
    products: [...lines]
      .sort((a, b) => a.line_no - b.line_no)
      .map((l) => ({
        product_id: l.product_id,
        name: l.name,
        quantity: l.quantity,
        price: fromCents(l.unit_price_cents),
        line_total: fromCents(l.line_total_cents),
      })),
    total_price: fromCents(order.total_cents),
    created_at: order.created_at.toISOString(),
    cancelled_at: order.cancelled_at ? order.cancelled_at.toISOString() : null,
  };
}

function replayOf(stored: StoredResponse, hash: string): PlacedOrder {
  if (stored.request_hash !== hash) throw new IdempotencyKeyReusedError();
  // Only completed rows are ever committed; a placeholder seen here would be a bug, not a replay.
  if (stored.status_code === 0 || stored.location === null) throw new IdempotencyKeyInUseError();
  return { order: JSON.parse(stored.response_body) as OrderView, replayed: true };
}

/**
 * Places an order in ONE transaction, taking the locks last (docs/architecture.md lists the
 * statements in order): claim the Idempotency-Key, read the products and their stock shards
 * without a lock, write the order, its lines, its ledger movements and the stored response from
 * that read; then share-lock the products rows to check them, lock one picked shard per line
 * (`SELECT … FOR UPDATE`, ascending (product_id, shard_no)), take the stock in one statement and
 * commit. Usually those three go out as ONE query, so one round trip holds the shard locks
 * (lockTakeAndCommit, docs/decisions/0016-lock-tail-one-round-trip.md); otherwise three: the
 * FOR UPDATE, the stock UPDATE and the COMMIT. A picked shard drained meanwhile re-runs the order
 * once on all shards (docs/decisions/0012-stock-shards.md).
 * Any rejection or failure rolls it all back; deadlocks and lock-wait timeouts re-run it
 * (withTransaction).
 */
export async function placeOrder(database: Kysely<DB>, input: PlaceOrderInput): Promise<PlacedOrder> {
  const key = input.idempotencyKey;
  if (key === undefined) {
    return withShardRetry((allShards) =>
      withSqlTransaction(database, (trx) => createOrder(trx, input.products, undefined, allShards)),
    );
  }
  const hash = requestHash(input.products);
  // Fast path: a completed key replays without opening a transaction.
  let stored = await findKey(database, key);
  // Bounded: a second pass is needed only when the key expired or was purged in between.
  for (let pass = 0; pass < 3; pass++) {
    if (stored && !isExpired(stored, new Date())) return replayOf(stored, hash);
    const expiredSeen = stored !== undefined;
    const placed = await withShardRetry((allShards) =>
      withSqlTransaction(database, async (trx) => {
        const now = new Date();
        if (expiredSeen) await deleteExpiredKey(trx, key, now);
        // Waits here while another request holding this key is in flight.
        if (!(await claimKey(trx, key, hash, now))) return undefined;
        return createOrder(trx, input.products, { key, now }, allShards);
      }),
    );
    if (placed) return placed;
    stored = await findKey(database, key);
  }
  throw new IdempotencyKeyInUseError();
}

/**
 * Rejects an order that names an unknown or archived product (422, every such id, before any
 * stock problem: waiting for stock cannot fix it), then one that asks for more than a product has
 * (409, every short line). The same rules on the unlocked read and again under the lock.
 */
export function checkProducts(lines: readonly OrderLineInput[], products: ReadonlyMap<number, ProductState>): void {
  checkKnown(lines, products);
  const byId = [...lines].sort((a, b) => a.product_id - b.product_id);
  const short: StockShortfall[] = [];
  for (const l of byId) {
    const available = products.get(l.product_id)?.stock ?? 0;
    if (l.quantity > available) short.push({ product_id: l.product_id, requested: l.quantity, available });
  }
  if (short.length > 0) throw new InsufficientStockError(short);
}

/** 422 for every unknown or archived product of the order. */
function checkKnown(lines: readonly OrderLineInput[], products: ReadonlyMap<number, LockedProduct>): void {
  const ids = [...new Set(lines.map((l) => l.product_id))].sort((a, b) => a - b);
  const unknown = ids.filter((id) => {
    const p = products.get(id);
    return p === undefined || p.archived_at !== null;
  });
  if (unknown.length > 0) throw new UnknownProductError(unknown);
}

/**
 * A line's picked shard was drained by another order between the unlocked read and the lock: the
 * attempt is rolled back and run once more with every line on all shards of its product.
 */
class ShardsMovedError extends Error {}

/** One attempt with a shard picked per line; if a picked shard ran dry meanwhile, one more on all shards. */
async function withShardRetry<T>(attempt: (allShards: boolean) => Promise<T>): Promise<T> {
  try {
    return await attempt(false);
  } catch (err) {
    if (err instanceof ShardsMovedError) return attempt(true);
    throw err;
  }
}

interface DraftOrder {
  lines: OrderLineRow[];
  totalCents: number;
  view: OrderView;
}

/** The order's rows and its 201 body, with names and prices from `products` (checked before). */
function draftOrder(
  orderId: string,
  lines: readonly OrderLineInput[],
  products: ReadonlyMap<number, LockedProduct>,
  now: Date,
): DraftOrder {
  const lineRows: OrderLineRow[] = lines.map((l, i) => {
    const p = products.get(l.product_id);
    if (!p) throw new AppError('internal_error', 'an order line without its product');
    return {
      order_id: orderId,
      product_id: l.product_id,
      line_no: i + 1,
      name: p.name,
      quantity: l.quantity,
      unit_price_cents: p.price_cents,
      line_total_cents: p.price_cents * l.quantity,
    };
  });
  const totalCents = lineRows.reduce((sum, l) => sum + l.line_total_cents, 0);
  if (!Number.isSafeInteger(totalCents)) {
    throw new ValidationError([{ path: 'products', message: 'The order total is too large' }]);
  }
  const order: OrderRow = {
    id: orderId,
    seq: 0,
    status: 'confirmed',
    total_cents: totalCents,
    created_at: now,
    cancelled_at: null,
  };
  return { lines: lineRows, totalCents, view: toOrderView(order, lineRows) };
}

const byProductId = <P extends LockedProduct>(rows: readonly P[]) => new Map(rows.map((p) => [p.id, p]));

async function createOrder(
  trx: SqlExecutor,
  lines: readonly OrderLineInput[],
  idem: { key: string; now: Date } | undefined,
  allShards: boolean,
): Promise<PlacedOrder> {
  const now = idem?.now ?? new Date();
  const ids = [...new Set(lines.map((l) => l.product_id))].sort((a, b) => a - b);
  const orderId = newOrderId();
  // The stored row keeps the columns of the first response (a replay is that 201 again).
  const location = `/orders/${orderId}`;
  const storeResponse = (to: SqlExecutor, view: OrderView) =>
    idem ? completeKey(to, idem.key, { statusCode: 201, body: JSON.stringify(view), location, orderId }) : undefined;

  // Before any lock: read, check (a request that the read already rejects writes nothing), write:
  // the order, its lines, its ledger movements and the stored response go out together, one query
  // per 14 KB (DeferredWrites: one round trip for a usual order).
  const seen = byProductId(await readProducts(trx, ids));
  checkProducts(lines, seen);
  let draft = draftOrder(orderId, lines, seen, now);
  const writes = new DeferredWrites(trx);
  await insertOrder(writes, {
    id: orderId,
    status: 'confirmed',
    total_cents: draft.totalCents,
    created_at: now,
    cancelled_at: null,
  });
  await insertOrderLines(writes, draft.lines);
  const changes = lines.map((l) => ({ productId: l.product_id, quantity: l.quantity }));
  await recordMovements(
    writes,
    changes.map((c) => ({ productId: c.productId, delta: -c.quantity, reason: 'order' as const, orderId })),
    now,
  );
  await storeResponse(writes, draft.view);
  await writes.flush();

  // Under the share lock on the products rows: the same checks on their latest state, a redo if
  // a name or price changed since the read (rare: extra statements only then).
  const locked = byProductId(await lockProducts(trx, ids));
  checkKnown(lines, locked);
  // The order is drafted again (lines, total, body) only when a product's name or price moved;
  // then the lines of those products are rewritten.
  const moved = ids.some((id) => {
    const was = seen.get(id);
    const held = locked.get(id);
    return !was || !held || was.name !== held.name || was.price_cents !== held.price_cents;
  });
  if (moved) {
    const redo = draftOrder(orderId, lines, locked, now);
    const changed = redo.lines.filter((l, i) => {
      const was = draft.lines[i];
      return was === undefined || l.name !== was.name || l.unit_price_cents !== was.unit_price_cents;
    });
    await rewriteOrderLines(trx, orderId, changed);
    if (redo.totalCents !== draft.totalCents) await setOrderTotal(trx, orderId, redo.totalCents);
    await storeResponse(trx, redo.view);
    draft = redo;
  }

  // Under the shard locks (the rows concurrent orders compete for).
  const wanted = [...lines]
    .sort((a, b) => a.product_id - b.product_id)
    .map((l) => ({ productId: l.product_id, quantity: l.quantity }));
  const shardsOf = new Map([...seen.values()].map((p) => [p.id, p.shards]));
  const picks = pickShards(wanted, shardsOf, allShards);

  // Usually ONE round trip: lock the picked shards, take every line's quantity from its shard and
  // COMMIT in one query (lockTakeAndCommit). Possible when each line sits on one picked shard and
  // the shards are still those the unlocked read saw (no product updated since: a re-shard
  // replaces the rows). A shard that no longer has enough fails the UPDATE, and with it the COMMIT.
  const single = picks.every((p) => !('all' in p));
  const sameShards = ids.every((id) => seen.get(id)?.updated_at.getTime() === locked.get(id)?.updated_at.getTime());
  if (single && sameShards) {
    const takes = wanted.map((w, i) => ({ ...w, shardNo: (picks[i] as { shardNo: number }).shardNo }));
    try {
      if (await lockTakeAndCommit(trx, takes)) return { order: draft.view, replayed: false };
    } catch (err) {
      if (!isShardShortfall(err)) throw err;
      // Still in the transaction, holding the shard locks: see which picked shard fell short.
      if (planTakes(wanted, picks, await lockShards(trx, picks)).kind === 'moved') throw new ShardsMovedError();
      throw err;
    }
  }

  // Otherwise three round trips: lock the picked shards, check, take the stock in one statement,
  // COMMIT (by withSqlTransaction).
  const plan = planTakes(wanted, picks, await lockShards(trx, picks));
  if (plan.kind === 'moved') throw new ShardsMovedError();
  if (plan.kind === 'short') {
    throw new InsufficientStockError(
      plan.short.map((s) => ({ product_id: s.productId, requested: s.quantity, available: s.available })),
    );
  }
  await takeStock(trx, plan.takes);
  return { order: draft.view, replayed: false };
}

/** Takes the planned units in one statement; the caller holds the shard locks. */
async function takeStock(trx: SqlExecutor, takes: readonly ShardTake[]): Promise<void> {
  const matched = await takeFromShards(trx, takes);
  if (matched !== takes.length)
    throw new AppError('internal_error', `stock update matched ${matched} of ${takes.length} shard rows`);
}

/**
 * One order with its lines; ids that cannot be order ids are simply not found. `database` may be a
 * replica: a replica may not have an order its client just placed, so a miss there is asked again
 * of `writer` (when given and different) before saying 404.
 */
export async function getOrder(database: Kysely<DB>, id: string, writer?: Kysely<DB>): Promise<OrderView> {
  if (!isOrderId(id)) throw new OrderNotFoundError(id.slice(0, 40));
  let source = database;
  let order = await findOrder(source, id);
  if (!order && writer !== undefined && source !== writer) {
    source = writer;
    order = await findOrder(source, id);
  }
  if (!order) throw new OrderNotFoundError(id);
  return toOrderView(order, await findOrderLines(source, [id]));
}

export interface ListOrdersInput {
  page?: number | undefined;
  per_page?: number | undefined;
}

/** A page of orders, newest first, with all their lines fetched in one query. */
export async function listOrders(database: Kysely<DB>, input: ListOrdersInput): Promise<OrderListView> {
  const page = input.page ?? 1;
  const perPage = input.per_page ?? DEFAULT_PER_PAGE;
  const offset = (page - 1) * perPage;
  let total: number;
  let rows: OrderRow[];
  if (offset === 0) {
    [total, rows] = await Promise.all([countOrders(database), listOrderRows(database, perPage, 0)]);
  } else {
    // The count first, so a page past the end runs no OFFSET scan.
    total = await countOrders(database);
    rows = offset >= total ? [] : await listOrderRows(database, perPage, offset);
  }
  const lines = await findOrderLines(
    database,
    rows.map((r) => r.id),
  );
  const byOrder = new Map<string, OrderLineRow[]>();
  for (const l of lines) {
    const list = byOrder.get(l.order_id);
    if (list) list.push(l);
    else byOrder.set(l.order_id, [l]);
  }
  return {
    orders: rows.map((r) => toOrderView(r, byOrder.get(r.id) ?? [])),
    total,
    current_page: page,
    per_page: perPage,
    total_pages: Math.ceil(total / perPage),
  };
}

/**
 * Cancels an order in one transaction, stock locks last: lock the order row (a concurrent cancel
 * waits here and then sees `cancelled`), read its lines, write the 'cancel' movements and mark the
 * order; then give every line's quantity back to shard 0 of its product with one CASE UPDATE,
 * which locks those rows itself in ascending product order (nothing needs checking under that
 * lock), and commit. Two round trips hold the shard locks: that UPDATE and the COMMIT. Archived
 * products get their units back too, so that stock keeps equalling the ledger. Cancelling a
 * cancelled order changes nothing.
 */
export async function cancelOrder(database: Kysely<DB>, id: string): Promise<OrderView> {
  if (!isOrderId(id)) throw new OrderNotFoundError(id.slice(0, 40));
  return withTransaction(database, async (trx) => {
    const order = await lockOrder(trx, id);
    if (!order) throw new OrderNotFoundError(id);
    const lines = await findOrderLines(trx, [id]);
    if (order.status === 'cancelled') return toOrderView(order, lines);

    const now = new Date();
    const changes = [...lines]
      .sort((a, b) => a.product_id - b.product_id)
      .map((l) => ({ productId: l.product_id, quantity: l.quantity }));
    await recordMovements(
      trx,
      changes.map((c) => ({ productId: c.productId, delta: c.quantity, reason: 'cancel' as const, orderId: id })),
      now,
    );
    await markCancelled(trx, id, now);
    await restoreStock(trx, changes);
    return toOrderView({ ...order, status: 'cancelled', cancelled_at: now }, lines);
  });
}

/** Gives every line's quantity back to a shard in one statement, which takes the shard locks itself. */
async function restoreStock(trx: Transaction<DB>, changes: readonly StockChange[]): Promise<void> {
  const updated = await restoreToShards(trx, changes);
  if (updated !== changes.length)
    throw new AppError('internal_error', `stock restore changed ${updated} of ${changes.length} rows`);
}
