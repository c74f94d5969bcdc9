import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as cancelOrder } from '../../functions/orders/cancel-order';
import { handler as createOrder } from '../../functions/orders/create-order';
import { db } from '../../lib/db/client';
import { checkInvariants, formatViolation } from '../../scripts/lib/invariants';
import { invoke, type Reply } from '../../scripts/lib/lambda';
import { ledgerSum, makeProduct } from '../support/factories';
import { type IsolatedDatabase, useIsolatedDatabase } from '../support/isolated-db';

/*
 * 64 concurrent clients, a few thousand requests through the real handlers in this process, over a
 * handful of hot products with little stock (some in one row, some split over 4–64 shard rows): new orders (with and without Idempotency-Key), replays
 * of keys (also sent twice at once), a key reused with another body, orders naming an unknown
 * product, and admin cancels of random earlier orders (also of already cancelled ones). Then the
 * books must balance to the unit, from the responses alone and from the database.
 *
 * Its own database (invariants are checked over whole tables) and a larger pool than a Lambda's.
 */

const CLIENTS = 64;
const REQUESTS = Number(process.env.STRESS_REQUESTS ?? 3_000);
const HOT_PRODUCTS = 6;
const INITIAL_STOCK = [15, 25, 40, 60, 80, 120];
/** Stock rows per hot product: single-row and sharded hot products side by side. */
const SHARDS = [1, 4, 16, 1, 8, 64];
const POOL_SIZE = 48; // + the server's other clients stays well under max_connections (151)
const SEED = Number(process.env.STRESS_SEED ?? Date.now() % 2 ** 31);

/** Small seeded PRNG (mulberry32), so a failing run can be replayed with STRESS_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type Line = { product_id: number; quantity: number };
type OrderBody = { products: Line[] };
type OrderReply = Reply<{ id?: string; code?: string; products?: Line[] }>;

interface Sent {
  kind: 'order' | 'replay' | 'reuse' | 'cancel';
  status: number;
  code: string | undefined;
  retryAfter: string | undefined;
  replayed: boolean;
  orderId: string | undefined;
  body: OrderBody | undefined;
  key: string | undefined;
}

let isolated: IsolatedDatabase | undefined;
const products: number[] = [];
const initial = new Map<number, number>();
let unknownProductId = 0;

beforeAll(async () => {
  isolated = await useIsolatedDatabase('shop_stress', { DB_POOL_SIZE: String(POOL_SIZE) });
  for (const [i, stock] of INITIAL_STOCK.slice(0, HOT_PRODUCTS).entries()) {
    const p = await makeProduct({ stock, stockShards: SHARDS[i] ?? 1, priceCents: 100 + stock * 7 });
    products.push(p.id);
    initial.set(p.id, stock);
  }
  unknownProductId = Math.max(...products) + 1_000;
}, 120_000);

afterAll(async () => {
  await isolated?.drop();
}, 120_000);

describe('orders under stress', () => {
  it(`${CLIENTS} clients × a few thousand orders, replays and cancels over hot products: no oversell, every unit accounted for, replays create nothing`, async () => {
    const rand = prng(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const sent: Sent[] = [];
    /** Keys whose first 201 is known, with the body it was for and the order it made. */
    const completedKeys: Array<{ key: string; body: OrderBody; orderId: string }> = [];
    /** Every order id seen in a 201. */
    const placedIds: string[] = [];
    const cancelledSoFar = new Set<string>();
    let issued = 0;
    let keySeq = 0;

    const randomBody = (): OrderBody => {
      const n = 1 + Math.floor(rand() * 5);
      const ids = [...products].sort(() => rand() - 0.5).slice(0, n);
      const lines = ids.map((product_id) => ({ product_id, quantity: 1 + Math.floor(rand() * 3) }));
      if (rand() < 0.03) lines.push({ product_id: unknownProductId, quantity: 1 });
      return { products: lines };
    };

    const record = (kind: Sent['kind'], res: OrderReply, body?: OrderBody, key?: string): void => {
      const s: Sent = {
        kind,
        status: res.status,
        code: typeof res.body === 'object' && res.body !== null ? res.body.code : undefined,
        retryAfter: res.headers['retry-after'],
        replayed: res.headers['idempotent-replayed'] === 'true',
        orderId: res.status === 201 ? res.body.id : undefined,
        body,
        key,
      };
      sent.push(s);
      if (s.status === 201 && s.orderId) {
        placedIds.push(s.orderId);
        if (key !== undefined && !s.replayed && body) completedKeys.push({ key, body, orderId: s.orderId });
      }
    };

    const order = (body: OrderBody, key?: string): Promise<OrderReply> =>
      invoke(createOrder, {
        method: 'POST',
        path: '/orders',
        json: body,
        ...(key !== undefined ? { headers: { 'Idempotency-Key': key } } : {}),
      });

    const client = async (c: number): Promise<void> => {
      while (issued < REQUESTS) {
        issued += 1;
        const r = rand();
        if (r < 0.12 && placedIds.length > 0) {
          // Mostly orders not cancelled yet (that gives stock back); sometimes a second cancel.
          const open = placedIds.filter((x) => !cancelledSoFar.has(x));
          const id = open.length > 0 && rand() < 0.8 ? pick(open) : pick(placedIds);
          const res = await invoke(cancelOrder, {
            method: 'POST',
            path: `/orders/${id}/cancel`,
            route: '/orders/{id}/cancel',
            pathParameters: { id },
            admin: true,
          });
          record('cancel', res);
          if (res.status === 200) {
            sent[sent.length - 1]!.orderId = id;
            cancelledSoFar.add(id);
          }
        } else if (r < 0.22 && completedKeys.length > 0) {
          const k = pick(completedKeys);
          record('replay', await order(k.body, k.key), k.body, k.key);
        } else if (r < 0.25 && completedKeys.length > 0) {
          const k = pick(completedKeys);
          const other = { products: k.body.products.map((l) => ({ ...l, quantity: l.quantity + 1 })) };
          record('reuse', await order(other, k.key), other, k.key);
        } else if (r < 0.3) {
          // The same new key sent twice at once: one order at most.
          const key = `stress-${SEED}-${c}-${keySeq++}`;
          const body = randomBody();
          const [a, b] = await Promise.all([order(body, key), order(body, key)]);
          record('order', a, body, key);
          record('order', b, body, key);
          issued += 1;
        } else {
          const key = rand() < 0.6 ? `stress-${SEED}-${c}-${keySeq++}` : undefined;
          const body = randomBody();
          record('order', await order(body, key), body, key);
        }
      }
    };

    const started = performance.now();
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    const elapsedS = (performance.now() - started) / 1000;

    // ---- Every response is one the contract allows for this request.
    for (const s of sent) {
      const allowed =
        s.kind === 'cancel'
          ? s.status === 200 || (s.status === 503 && s.retryAfter !== undefined)
          : s.status === 201 ||
            s.status === 409 ||
            s.status === 422 ||
            (s.status === 503 && s.retryAfter !== undefined);
      expect(allowed, `${s.kind} got ${s.status} ${s.code ?? ''}`).toBe(true);
      if (s.status === 409) expect(['insufficient_stock', 'idempotency_key_in_use']).toContain(s.code);
      if (s.status === 409 && s.code === 'idempotency_key_in_use') expect(s.retryAfter).toBeDefined();
      if (s.status === 422) expect(['unknown_product', 'idempotency_key_reused']).toContain(s.code);
      if (s.status === 503) expect(['busy', 'database_unavailable']).toContain(s.code);
    }
    // A key reused with another body after its 201 is always refused (422, or 503 when an overloaded
    // database runs out the request's budget); a replay of it never orders again.
    for (const s of sent.filter((x) => x.kind === 'reuse')) {
      expect([422, 503], `reuse got ${s.status} ${s.code ?? ''}`).toContain(s.status);
      if (s.status === 422) expect(s.code).toBe('idempotency_key_reused');
    }
    const firstOrderOfKey = new Map<string, string>();
    for (const s of sent) {
      if (s.status !== 201 || s.key === undefined || s.orderId === undefined) continue;
      const first = firstOrderOfKey.get(s.key);
      if (first === undefined) firstOrderOfKey.set(s.key, s.orderId);
      else expect(s.orderId, `key ${s.key} answered with two different orders`).toBe(first);
    }
    for (const s of sent.filter((x) => x.kind === 'replay')) {
      expect([201, 503]).toContain(s.status);
      if (s.status === 201) expect(s.replayed).toBe(true);
    }

    // ---- The run did what it is named for. A run where every request got 503 would pass every
    // check below (nothing sold, nothing to balance) and prove nothing: most requests must have
    // been answered, stock must have run out (409), and orders must have been placed, replayed
    // and cancelled.
    const unanswered = sent.filter((s) => s.status === 503).length;
    expect(unanswered / sent.length, `${unanswered} of ${sent.length} requests got 503`).toBeLessThanOrEqual(0.2);
    const tallyOf = (f: (s: Sent) => boolean) => sent.filter(f).length;
    expect(
      tallyOf((s) => s.kind === 'order' && s.status === 201 && !s.replayed),
      'new orders',
    ).toBeGreaterThan(0);
    expect(
      tallyOf((s) => s.code === 'insufficient_stock'),
      'orders refused for lack of stock',
    ).toBeGreaterThan(0);
    expect(
      tallyOf((s) => s.kind === 'replay' && s.status === 201),
      'replayed orders',
    ).toBeGreaterThan(0);
    expect(
      tallyOf((s) => s.kind === 'cancel' && s.status === 200),
      'cancels',
    ).toBeGreaterThan(0);

    // ---- What the responses say happened.
    const ordersById = new Map<string, OrderBody>();
    for (const s of sent) if (s.status === 201 && s.orderId && s.body) ordersById.set(s.orderId, s.body);
    const cancelledIds = new Set(sent.filter((s) => s.kind === 'cancel' && s.status === 200).map((s) => s.orderId!));
    const expectedStock = new Map(initial);
    for (const [id, body] of ordersById) {
      for (const l of body.products) {
        const restored = cancelledIds.has(id) ? l.quantity : 0;
        expectedStock.set(l.product_id, expectedStock.get(l.product_id)! - l.quantity + restored);
      }
    }

    // ---- What the database says.
    const rows = await db()
      .selectFrom('stock_shards')
      .select(['product_id as id', sql<number>`CAST(SUM(stock) AS SIGNED)`.as('stock')])
      .where('product_id', 'in', products)
      .groupBy('product_id')
      .execute();
    expect(rows).toHaveLength(products.length);
    for (const row of rows) {
      expect(row.stock, `product ${row.id}`).toBeGreaterThanOrEqual(0);
      expect(row.stock, `product ${row.id}: initial − ordered + cancelled`).toBe(expectedStock.get(row.id));
      expect(await ledgerSum(row.id), `product ${row.id}: ledger`).toBe(row.stock);
    }
    const dbOrders = await db().selectFrom('orders').select(['id', 'status']).execute();
    expect(dbOrders.length, 'orders in the database = distinct order ids answered 201').toBe(ordersById.size);
    const dbCancelled = new Set(dbOrders.filter((o) => o.status === 'cancelled').map((o) => o.id));
    expect(dbCancelled).toEqual(cancelledIds);
    const lines = await db().selectFrom('order_lines').select(['order_id', 'product_id', 'quantity']).execute();
    const linesOf = new Map<string, Line[]>();
    for (const l of lines)
      linesOf.set(l.order_id, [...(linesOf.get(l.order_id) ?? []), { product_id: l.product_id, quantity: l.quantity }]);
    const byProduct = (ls: Line[]) => [...ls].sort((a, b) => a.product_id - b.product_id);
    for (const [id, body] of ordersById) {
      expect(byProduct(linesOf.get(id) ?? []), `lines of ${id}`).toEqual(byProduct(body.products));
    }
    const { n: keys } = await db()
      .selectFrom('idempotency_keys')
      .select(sql<number>`COUNT(*)`.as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(keys), 'stored keys = keys with a 201').toBe(firstOrderOfKey.size);

    const report = await checkInvariants(db());
    expect(report.violations.map(formatViolation)).toEqual([]);

    // ---- Tallies for the run log.
    const count = (f: (s: Sent) => boolean) => sent.filter(f).length;
    const orders = sent.filter((s) => s.kind !== 'cancel');
    const byCode = (status: number) => {
      const codes = new Map<string, number>();
      for (const s of orders.filter((x) => x.status === status))
        codes.set(s.code ?? '-', (codes.get(s.code ?? '-') ?? 0) + 1);
      return [...codes].map(([k, v]) => `${k} ${v}`).join(', ');
    };
    console.log(
      `[stress] seed ${SEED}: ${sent.length} requests by ${CLIENTS} clients in ${elapsedS.toFixed(1)} s ` +
        `(${Math.round(sent.length / elapsedS)}/s). Orders: ${orders.length} requests → ` +
        `201 ${count((s) => s.kind !== 'cancel' && s.status === 201)} (${count((s) => s.replayed)} replays), ` +
        `409 ${count((s) => s.kind !== 'cancel' && s.status === 409)} (${byCode(409)}), ` +
        `422 ${count((s) => s.kind !== 'cancel' && s.status === 422)} (${byCode(422)}), ` +
        `503 ${count((s) => s.kind !== 'cancel' && s.status === 503)}${count((s) => s.kind !== 'cancel' && s.status === 503) ? ` (${byCode(503)})` : ''}. ` +
        `Cancels: ${count((s) => s.kind === 'cancel')} → 200 ${count((s) => s.kind === 'cancel' && s.status === 200)}, ` +
        `503 ${count((s) => s.kind === 'cancel' && s.status === 503)}${count((s) => s.kind === 'cancel' && s.status === 503) ? ` (${[...new Set(sent.filter((s) => s.kind === 'cancel' && s.status === 503).map((s) => s.code))].join(', ')})` : ''}; ${cancelledIds.size} orders cancelled. ` +
        `Distinct orders ${ordersById.size}; final stock ${rows.map((r) => `${r.id}:${r.stock}/${initial.get(r.id)}`).join(' ')}`,
    );
  }, 180_000);
});
