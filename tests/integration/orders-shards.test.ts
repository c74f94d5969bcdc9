import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as cancelOrderHandler } from '../../functions/orders/cancel-order';
import { handler as createOrder } from '../../functions/orders/create-order';
import { handler as updateProductHandler } from '../../functions/products/update-product';
import { db } from '../../lib/db/client';
import { InsufficientStockError } from '../../lib/errors';
import { cancelOrder, placeOrder } from '../../lib/orders/service';
import { checkInvariants, formatViolation } from '../../scripts/lib/invariants';
import { invoke, type Reply } from '../../scripts/lib/lambda';
import { ledgerSum, makeProduct, setShardStock, shardsOf, stockOf } from '../support/factories';
import { type IsolatedDatabase, useIsolatedDatabase } from '../support/isolated-db';
import { recordCommands } from '../../scripts/lib/sent-commands';
import { runLimited } from '../support/run-limited';

/*
 * Orders against products whose stock is split over several shard rows
 * (docs/decisions/0012-stock-shards.md), under real concurrency, near and at sell-out: exactly the
 * stock is sold, an order succeeds whenever the product's total suffices (even when no single
 * shard has enough), every shard stays ≥ 0 and Σ shards = ledger. Its own database, so the
 * invariants can be checked over whole tables; a pool as large as the concurrency.
 */
const CONCURRENCY = 16;
let isolated: IsolatedDatabase | undefined;

beforeAll(async () => {
  isolated = await useIsolatedDatabase('shop_shards', { DB_POOL_SIZE: String(CONCURRENCY) });
}, 120_000);

afterAll(async () => {
  await isolated?.drop();
}, 120_000);

type OrderReply = Reply<{ id?: string; code?: string; errors?: Array<{ product_id: number; available: number }> }>;
const post = (products: Array<{ product_id: number; quantity: number }>): Promise<OrderReply> =>
  invoke(createOrder, { method: 'POST', path: '/orders', json: { products } }) as Promise<OrderReply>;

const statuses = (replies: readonly Reply[]) => {
  const out: Record<string, number> = {};
  for (const r of replies) {
    const k = r.status >= 400 ? `${r.status} ${(r.body as { code?: string }).code}` : String(r.status);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
};

async function expectBooksBalance(): Promise<void> {
  const report = await checkInvariants(db());
  expect(report.violations.map(formatViolation)).toEqual([]);
}

describe('orders on sharded products under real concurrency', () => {
  it('hot product at sell-out, 16 shards: 200 parallel orders for 60 units → exactly 60 × 201, then 409 with available 0', async () => {
    const p = await makeProduct({ stock: 60, stockShards: 16 });
    const replies = await runLimited(
      Array.from({ length: 200 }, () => () => post([{ product_id: p.id, quantity: 1 }])),
      CONCURRENCY,
    );
    expect(statuses(replies)).toEqual({ '201': 60, '409 insufficient_stock': 140 });
    for (const r of replies.filter((x) => x.status === 409)) {
      expect(r.body.errors).toEqual([{ product_id: p.id, requested: 1, available: 0 }]);
    }
    expect(await shardsOf(p.id)).toEqual(new Array(16).fill(0));
    expect(await ledgerSum(p.id)).toBe(0);
    await expectBooksBalance();
  });

  it('near sell-out: when the requests add up to exactly the stock, every order succeeds as the shards run dry one by one', async () => {
    // 45 units over 16 shards (3 or 2 each); orders of 1–4 units whose sum is exactly 45. Many of
    // them find their picked shard drained, and some need more than any one shard holds.
    const p = await makeProduct({ stock: 45, stockShards: 16 });
    const quantities = [4, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1];
    expect(quantities.reduce((a, b) => a + b, 0)).toBe(45);
    const replies = await runLimited(
      quantities.map((q) => () => post([{ product_id: p.id, quantity: q }])),
      CONCURRENCY,
    );
    expect(statuses(replies)).toEqual({ '201': quantities.length });
    expect(await stockOf(p.id)).toBe(0);
    expect(await ledgerSum(p.id)).toBe(0);
    await expectBooksBalance();
  });

  it('takes from several shards when no single one has enough, and lists every short line with the product total', async () => {
    const a = await makeProduct({ stock: 8, stockShards: 4 }); // 2, 2, 2, 2
    const b = await makeProduct({ stock: 3, stockShards: 3 }); // 1, 1, 1
    const c = await makeProduct({ stock: 10, stockShards: 2 });
    const err = await placeOrder(db(), {
      products: [
        { product_id: c.id, quantity: 1 },
        { product_id: b.id, quantity: 4 },
        { product_id: a.id, quantity: 9 },
      ],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InsufficientStockError);
    expect((err as InsufficientStockError).shortfalls).toEqual([
      { product_id: a.id, requested: 9, available: 8 },
      { product_id: b.id, requested: 4, available: 3 },
    ]);
    const placed = await placeOrder(db(), {
      products: [
        { product_id: a.id, quantity: 5 },
        { product_id: b.id, quantity: 3 },
      ],
    });
    expect(placed.order.products.map((l) => l.quantity)).toEqual([5, 3]);
    expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([3, 0]);
    expect((await shardsOf(a.id)).every((s) => s >= 0)).toBe(true);
    expect([await ledgerSum(a.id), await ledgerSum(b.id)]).toEqual([3, 0]);
  });

  it('a cancel gives each line back to a shard (shard 0) and restores the total exactly', async () => {
    const p = await makeProduct({ stock: 12, stockShards: 4 });
    const placed = await placeOrder(db(), { products: [{ product_id: p.id, quantity: 3 }] });
    expect(await stockOf(p.id)).toBe(9);
    const before = await shardsOf(p.id);
    await cancelOrder(db(), placed.order.id);
    const after = await shardsOf(p.id);
    expect(after[0]).toBe((before[0] ?? 0) + 3);
    expect(after.slice(1)).toEqual(before.slice(1));
    expect([await stockOf(p.id), await ledgerSum(p.id)]).toEqual([12, 12]);
  });

  it('the same number of statements per order whatever the shard count; two more when a line takes from all shards', async () => {
    const one = await makeProduct({ stock: 50, stockShards: 1 });
    const many = await makeProduct({ stock: 50, stockShards: 64 });
    const spread = await makeProduct({ stock: 64, stockShards: 64 }); // 1 unit each: 10 needs 10 shards
    const counts: number[] = [];
    for (const [id, quantity] of [
      [one.id, 1],
      [many.id, 1],
      [spread.id, 10],
    ] as const) {
      const log = await recordCommands(async () => {
        await placeOrder(db(), { products: [{ product_id: id, quantity }] });
      });
      counts.push(log.filter((c) => c.command === 'Query').length);
    }
    // One shard or 64: the lock tail is one query. A line on all shards locks, checks, then takes
    // and commits: the tail's three statements one by one (docs/decisions/0016).
    expect(counts[1]).toBe(counts[0]);
    expect(counts[2]).toBe((counts[0] ?? 0) + 2);
    expect(await stockOf(spread.id)).toBe(54);
  });

  it('mixed workload: multi-line orders over sharded and single-row hot products, cancels and re-shards in parallel', async () => {
    const products = [
      await makeProduct({ stock: 120, stockShards: 16 }),
      await makeProduct({ stock: 80, stockShards: 8 }),
      await makeProduct({ stock: 40, stockShards: 4 }),
      await makeProduct({ stock: 30, stockShards: 1 }),
    ];
    const initial = new Map(products.map((p) => [p.id, p.stock]));
    let seed = 12_345;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const orderIds: string[] = [];
    const placed = new Map<string, Array<{ product_id: number; quantity: number }>>();
    const tasks: Array<() => Promise<unknown>> = [];
    for (let i = 0; i < 400; i++) {
      const kind = i % 20;
      if (kind === 7) {
        tasks.push(async () => {
          const id = orderIds[Math.floor(rand() * orderIds.length)];
          if (id === undefined) return;
          await invoke(cancelOrderHandler, {
            method: 'POST',
            path: `/orders/${id}/cancel`,
            route: '/orders/{id}/cancel',
            pathParameters: { id },
            admin: true,
          });
        });
      } else if (kind === 13) {
        tasks.push(async () => {
          const p = products[Math.floor(rand() * 3)]!;
          const res = await invoke(updateProductHandler, {
            method: 'PATCH',
            path: `/products/${p.id}`,
            route: '/products/{id}',
            pathParameters: { id: String(p.id) },
            admin: true,
            json: { stock_shards: 1 + Math.floor(rand() * 32) },
          });
          expect(res.status).toBe(200);
        });
      } else {
        tasks.push(async () => {
          const chosen = products.filter(() => rand() < 0.5);
          const lines = (chosen.length > 0 ? chosen : [products[0]!]).map((p) => ({
            product_id: p.id,
            quantity: 1 + Math.floor(rand() * 3),
          }));
          const res = await post(lines);
          expect([201, 409]).toContain(res.status);
          if (res.status === 201 && res.body.id) {
            orderIds.push(res.body.id);
            placed.set(res.body.id, lines);
          }
        });
      }
    }
    await runLimited(tasks, CONCURRENCY);

    const cancelled = new Set(
      (
        await db()
          .selectFrom('orders')
          .select('id')
          .where('status', '=', 'cancelled')
          .where('id', 'in', [...placed.keys(), 'none'])
          .execute()
      ).map((o) => o.id),
    );
    for (const p of products) {
      let expected = initial.get(p.id) ?? 0;
      for (const [id, lines] of placed) {
        const line = lines.find((l) => l.product_id === p.id);
        if (line && !cancelled.has(id)) expected -= line.quantity;
      }
      expect(await stockOf(p.id), `product ${p.id}: initial − sold + cancelled`).toBe(expected);
      expect((await shardsOf(p.id)).every((s) => s >= 0)).toBe(true);
    }
    // The hot products sold out along the way (orders of 1–3 units, far more asked than stocked).
    expect(placed.size).toBeGreaterThan(50);
    await expectBooksBalance();
  });

  it('an uneven split still sells its last units: one shard holds everything, 15 are empty', async () => {
    const p = await makeProduct({ stock: 16, stockShards: 16 });
    for (let s = 1; s < 16; s++) await setShardStock(p.id, s, 0);
    await setShardStock(p.id, 0, 16);
    const replies = await runLimited(
      Array.from({ length: 24 }, () => () => post([{ product_id: p.id, quantity: 1 }])),
      CONCURRENCY,
    );
    expect(statuses(replies)).toEqual({ '201': 16, '409 insufficient_stock': 8 });
    expect(await stockOf(p.id)).toBe(0);
  });
});
