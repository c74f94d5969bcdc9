import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { handler as cancelOrderHandler } from '../../functions/orders/cancel-order';
import { handler as createOrder } from '../../functions/orders/create-order';
import { resetConfigForTests } from '../../lib/config';
import { closeDb, createDb, db } from '../../lib/db/client';
import { migrateToLatest } from '../../lib/db/migrate';
import { placeOrder } from '../../lib/orders/service';
import { recordMovements } from '../../lib/stock/ledger';
import { createDatabase, dropDatabase, serverUrlOf, withDatabase } from '../../scripts/lib/mysql-server';
import { invoke, type Reply } from '../../scripts/lib/lambda';
import { ledgerSum, makeProduct, stockOf } from '../support/factories';
import { runLimited } from '../support/run-limited';

/*
 * Real races against the real database: many requests in flight at once through the real handlers,
 * then the invariants checked. The pool must be as large as the concurrency, or the pool queue
 * (not the database) would serialise the requests.
 */
const CONCURRENCY = 32;
const savedPool = process.env.DB_POOL_SIZE;
beforeAll(() => {
  process.env.DB_POOL_SIZE = String(CONCURRENCY);
  resetConfigForTests();
});
afterAll(async () => {
  await closeDb();
  if (savedPool === undefined) delete process.env.DB_POOL_SIZE;
  else process.env.DB_POOL_SIZE = savedPool;
  resetConfigForTests();
});

const tally = (replies: Reply[]) => {
  const out: Record<string, number> = {};
  for (const r of replies) {
    const k = r.status >= 400 ? `${r.status} ${(r.body as { code?: string }).code}` : String(r.status);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
};

const post = (json: unknown, headers: Record<string, string> = {}) =>
  invoke(createOrder, { method: 'POST', path: '/orders', json, headers });

const shuffle = <T>(xs: T[]): T[] => {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
};

describe('orders under real concurrency', () => {
  it('sells exactly the stock: 200 parallel orders for 50 units → 50 × 201, 150 × 409, stock 0 = ledger', async () => {
    const p = await makeProduct({ stock: 50 });
    const started = Date.now();
    const replies = await runLimited(
      Array.from({ length: 200 }, () => () => post({ products: [{ product_id: p.id, quantity: 1 }] })),
      CONCURRENCY,
    );
    const t = tally(replies);
    console.log(`single hot product: ${JSON.stringify(t)} in ${Date.now() - started} ms`);
    expect(t).toEqual({ '201': 50, '409 insufficient_stock': 150 });
    expect(await stockOf(p.id)).toBe(0);
    expect(await ledgerSum(p.id)).toBe(0);
    const sold = await db()
      .selectFrom('order_lines')
      .select(sql<number>`COALESCE(SUM(quantity), 0)`.as('n'))
      .where('product_id', '=', p.id)
      .executeTakeFirstOrThrow();
    expect(Number(sold.n)).toBe(50);
    expect(new Set(replies.filter((r) => r.status === 201).map((r) => r.body.id)).size).toBe(50);
  });

  it('multi-line orders over shared products in shuffled line order: no 5xx but 503 busy, stock accounts exactly', async () => {
    const products = await Promise.all(Array.from({ length: 6 }, () => makeProduct({ stock: 60 })));
    const initial = new Map(products.map((p) => [p.id, 60]));
    const orders = Array.from({ length: 400 }, () => {
      const n = 1 + Math.floor(Math.random() * 4);
      return shuffle(products)
        .slice(0, n)
        .map((p) => ({ product_id: p.id, quantity: 1 + Math.floor(Math.random() * 3) }));
    });
    const started = Date.now();
    const replies = await runLimited(
      orders.map((lines) => () => post({ products: lines })),
      CONCURRENCY,
    );
    const t = tally(replies);
    console.log(`shuffled multi-line: ${JSON.stringify(t)} in ${Date.now() - started} ms`);
    for (const r of replies) {
      expect([201, 409, 503]).toContain(r.status);
      if (r.status === 503) {
        expect(r.body.code).toBe('busy');
        expect(r.headers['retry-after']).toMatch(/^\d+$/);
      }
    }
    expect(t['201'] ?? 0).toBeGreaterThan(0);
    const ordered = new Map<number, number>();
    replies.forEach((r, i) => {
      if (r.status !== 201) return;
      for (const l of orders[i] ?? []) ordered.set(l.product_id, (ordered.get(l.product_id) ?? 0) + l.quantity);
      expect(r.body.products).toHaveLength(orders[i]?.length ?? -1);
    });
    for (const p of products) {
      const expected = (initial.get(p.id) ?? 0) - (ordered.get(p.id) ?? 0);
      expect(expected).toBeGreaterThanOrEqual(0);
      expect(await stockOf(p.id)).toBe(expected);
      expect(await ledgerSum(p.id)).toBe(expected);
    }
    // Every 201 exists with all its lines, and nothing else was created for these products.
    const created = replies.filter((r) => r.status === 201).map((r) => r.body.id as string);
    const stored = await db()
      .selectFrom('order_lines')
      .select(['order_id'])
      .distinct()
      .where(
        'product_id',
        'in',
        products.map((p) => p.id),
      )
      .execute();
    expect(new Set(stored.map((s) => s.order_id))).toEqual(new Set(created));
  });

  it('concurrent cancels of one order restore its stock exactly once', async () => {
    const a = await makeProduct({ stock: 10 });
    const b = await makeProduct({ stock: 10 });
    const placed = await post({
      products: [
        { product_id: b.id, quantity: 4 },
        { product_id: a.id, quantity: 3 },
      ],
    });
    expect(placed.status).toBe(201);
    const id = placed.body.id as string;
    const replies = await Promise.all(
      Array.from({ length: 16 }, () =>
        invoke(cancelOrderHandler, {
          method: 'POST',
          path: `/orders/${id}/cancel`,
          route: '/orders/{id}/cancel',
          pathParameters: { id },
          admin: true,
        }),
      ),
    );
    console.log(`concurrent cancels: ${JSON.stringify(tally(replies))}`);
    expect(replies.every((r) => r.status === 200 && r.body.status === 'cancelled')).toBe(true);
    expect(new Set(replies.map((r) => r.body.cancelled_at)).size).toBe(1);
    expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([10, 10]);
    expect([await ledgerSum(a.id), await ledgerSum(b.id)]).toEqual([10, 10]);
    const restores = await db()
      .selectFrom('stock_movements')
      .select(['product_id', 'delta'])
      .where('order_id', '=', id)
      .where('reason', '=', 'cancel')
      .execute();
    expect(restores).toHaveLength(2);
  });

  it('orders and cancels racing over the same products keep stock = initial − sold + restored = ledger', async () => {
    const products = await Promise.all(Array.from({ length: 3 }, () => makeProduct({ stock: 30 })));
    const first = await runLimited(
      Array.from(
        { length: 20 },
        () => () => post({ products: [{ product_id: (products[0] as { id: number }).id, quantity: 1 }] }),
      ),
      CONCURRENCY,
    );
    const toCancel = first.filter((r) => r.status === 201).map((r) => r.body.id as string);
    const tasks: Array<() => Promise<Reply>> = [
      ...toCancel.map(
        (id) => () =>
          invoke(cancelOrderHandler, {
            method: 'POST',
            path: `/orders/${id}/cancel`,
            route: '/orders/{id}/cancel',
            pathParameters: { id },
            admin: true,
          }),
      ),
      ...Array.from(
        { length: 80 },
        () => () => post({ products: shuffle(products).map((p) => ({ product_id: p.id, quantity: 1 })) }),
      ),
    ];
    const replies = await runLimited(shuffle(tasks), CONCURRENCY);
    console.log(`orders + cancels: ${JSON.stringify(tally(replies))}`);
    for (const r of replies) expect([200, 201, 409, 503]).toContain(r.status);
    for (const p of products) {
      const { rows } = await sql<{ sold: number | null; restored: number | null }>`
        SELECT SUM(CASE WHEN reason = 'order' THEN -delta END) AS sold, SUM(CASE WHEN reason = 'cancel' THEN delta END) AS restored
        FROM stock_movements WHERE product_id = ${p.id}`.execute(db());
      const sold = Number(rows[0]?.sold ?? 0);
      const restored = Number(rows[0]?.restored ?? 0);
      const stock = await stockOf(p.id);
      expect(stock).toBe(30 - sold + restored);
      expect(await ledgerSum(p.id)).toBe(stock);
      const lines = await db()
        .selectFrom('order_lines')
        .innerJoin('orders', 'orders.id', 'order_lines.order_id')
        .select(sql<number>`COALESCE(SUM(order_lines.quantity), 0)`.as('n'))
        .where('order_lines.product_id', '=', p.id)
        .where('orders.status', '=', 'confirmed')
        .executeTakeFirstOrThrow();
      expect(Number(lines.n)).toBe(30 - stock);
    }
  });

  it('32 concurrent requests with one Idempotency-Key create exactly one order', async () => {
    const p = await makeProduct({ stock: 100 });
    const key = `race-${randomUUID()}`;
    const body = { products: [{ product_id: p.id, quantity: 2 }] };
    const replies = await Promise.all(
      Array.from({ length: CONCURRENCY }, () => post(body, { 'Idempotency-Key': key })),
    );
    console.log(`one key, ${CONCURRENCY} requests: ${JSON.stringify(tally(replies))}`);
    for (const r of replies) expect([201, 409]).toContain(r.status);
    const ids = new Set(replies.filter((r) => r.status === 201).map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(replies.filter((r) => r.status === 201 && r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
    expect(await stockOf(p.id)).toBe(98);
    expect(await ledgerSum(p.id)).toBe(98);
    const count = await db()
      .selectFrom('order_lines')
      .select(sql<number>`COUNT(*)`.as('n'))
      .where('product_id', '=', p.id)
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
  });

  it('an order locks only its own products, even in a tiny catalogue where the optimizer would scan', async () => {
    // A fresh database with 6 products: here `WHERE id IN (…)` is planned as a full scan unless
    // the index is forced, and a scanning UPDATE would wait on (and deadlock over) other rows.
    const serverUrl = serverUrlOf(inject('databaseUrl'));
    const name = `shop_test_tiny_${Date.now()}_${randomUUID().slice(0, 8)}`;
    await createDatabase(serverUrl, name);
    const url = withDatabase(serverUrl, name);
    const tiny = createDb(url, { poolSize: 2, lockWaitTimeoutS: 1 });
    const holder = await createConnection({ uri: url });
    try {
      await migrateToLatest(url);
      const now = new Date();
      await tiny.transaction().execute(async (trx) => {
        for (let i = 1; i <= 6; i++) {
          await trx
            .insertInto('products')
            .values({
              name: `P${i}`,
              description: '',
              price_cents: 100,
              archived_at: null,
              created_at: now,
              updated_at: now,
            })
            .execute();
          await trx.insertInto('stock_shards').values({ product_id: i, shard_no: 0, stock: 10 }).execute();
        }
        await recordMovements(
          trx,
          [1, 2, 3, 4, 5, 6].map((productId) => ({ productId, delta: 10, reason: 'created' as const })),
          now,
        );
      });
      // Another transaction holds product 1 (e.g. a slow order) and keeps it.
      await holder.beginTransaction();
      await holder.query('SELECT id FROM products WHERE id = 1 FOR UPDATE');
      const placed = await placeOrder(tiny, {
        products: [
          { product_id: 6, quantity: 1 },
          { product_id: 3, quantity: 2 },
          { product_id: 5, quantity: 1 },
          { product_id: 2, quantity: 1 },
        ],
      });
      expect(placed.replayed).toBe(false);
      const stock = await tiny
        .selectFrom('stock_shards')
        .select(['product_id', 'stock'])
        .orderBy('product_id')
        .execute();
      expect(stock.map((r) => r.stock)).toEqual([10, 9, 8, 10, 9, 9]);
    } finally {
      await holder.rollback().catch(() => undefined);
      await holder.end();
      await tiny.destroy();
      await dropDatabase(serverUrl, name);
    }
  });
});
