import { randomUUID } from 'node:crypto';
import { type Kysely, type KyselyPlugin, sql } from 'kysely';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { db } from '../../lib/db/client';
import { overrideProcessEnv } from '../../scripts/lib/process-db';
import { isConnectionError } from '../../lib/db/errors';
import { withTransaction } from '../../lib/db/transaction';
import type { DB } from '../../lib/db/types';
import { BusyError, InsufficientStockError, UnknownProductError } from '../../lib/errors';
import { purgeExpiredKeys } from '../../lib/orders/idempotency';
import { cancelOrder, getOrder, listOrders, placeOrder } from '../../lib/orders/service';
import { productVersion } from '../../lib/products/present';
import { archiveProduct, getProduct } from '../../lib/products/service';
import { ledgerSum, makeProduct, stockOf, tableCounts } from '../support/factories';

// A 1 s lock wait keeps the lock-timeout cases short; a few connections for the two-session races.
let restoreEnv: () => Promise<void>;
beforeAll(async () => {
  restoreEnv = await overrideProcessEnv({ DB_LOCK_WAIT_TIMEOUT_S: '1', DB_POOL_SIZE: '4' });
});
afterAll(() => restoreEnv());

/** The database with a counter of every statement Kysely sends (BEGIN/COMMIT are not counted). */
function counted(): { database: Kysely<DB>; statements: () => number } {
  let n = 0;
  const plugin: KyselyPlugin = {
    transformQuery: (args) => args.node,
    transformResult: async (args) => {
      n += 1;
      return args.result;
    },
  };
  return { database: db().withPlugin(plugin), statements: () => n };
}

const movementsOf = (orderId: string) =>
  db()
    .selectFrom('stock_movements')
    .select(['product_id', 'delta', 'reason'])
    .where('order_id', '=', orderId)
    .orderBy('id')
    .execute();

describe('placeOrder', () => {
  it('writes the order, its lines (name and unit price snapshots) and one ledger movement per line', async () => {
    const a = await makeProduct({ priceCents: 333, stock: 10 });
    const b = await makeProduct({ priceCents: 5, stock: 10 });
    const placed = await placeOrder(db(), {
      products: [
        { product_id: b.id, quantity: 3 },
        { product_id: a.id, quantity: 2 },
      ],
    });
    expect(placed.replayed).toBe(false);
    const id = placed.order.id;
    const order = await db().selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(order).toMatchObject({ status: 'confirmed', total_cents: 3 * 5 + 2 * 333, cancelled_at: null });
    const lines = await db()
      .selectFrom('order_lines')
      .selectAll()
      .where('order_id', '=', id)
      .orderBy('line_no')
      .execute();
    expect(lines).toEqual([
      {
        order_id: id,
        product_id: b.id,
        line_no: 1,
        name: b.name,
        quantity: 3,
        unit_price_cents: 5,
        line_total_cents: 15,
      },
      {
        order_id: id,
        product_id: a.id,
        line_no: 2,
        name: a.name,
        quantity: 2,
        unit_price_cents: 333,
        line_total_cents: 666,
      },
    ]);
    expect(await movementsOf(id)).toEqual(
      expect.arrayContaining([
        { product_id: a.id, delta: -2, reason: 'order' },
        { product_id: b.id, delta: -3, reason: 'order' },
      ]),
    );
    expect([await stockOf(a.id), await ledgerSum(a.id), await stockOf(b.id), await ledgerSum(b.id)]).toEqual([
      8, 8, 7, 7,
    ]);

    // Later price and name changes do not rewrite the order.
    await db()
      .updateTable('products')
      .set({ price_cents: 99_999, name: `renamed ${randomUUID()}` })
      .where('id', '=', a.id)
      .execute();
    expect(await getOrder(db(), id)).toEqual(placed.order);
  });

  it('writes nothing to the products row (no row every order of a product updates); the version still moves with stock', async () => {
    const p = await makeProduct({ stock: 5, stockShards: 2 });
    const before = await getProduct(db(), p.id);
    const row = () => db().selectFrom('products').selectAll().where('id', '=', p.id).executeTakeFirstOrThrow();
    const rowBefore = await row();
    await placeOrder(db(), { products: [{ product_id: p.id, quantity: 1 }] });
    expect(await row()).toEqual(rowBefore);
    const after = await getProduct(db(), p.id);
    expect(after.stock).toBe(4);
    expect(after.updated_at).toBe(before.updated_at);
    expect(productVersion(after)).not.toBe(productVersion(before));
  });

  it('places a 100-line order in a handful of statements, not one per line', async () => {
    const products = await Promise.all(Array.from({ length: 100 }, () => makeProduct({ stock: 5 })));
    const lines = products.map((p, i) => ({ product_id: p.id, quantity: (i % 5) + 1 }));
    const plain = counted();
    await placeOrder(plain.database, { products: lines });
    // SELECT products and shards (no lock), INSERT order, INSERT lines, INSERT movements,
    // SELECT products LOCK IN SHARE MODE, SELECT shards FOR UPDATE, UPDATE … CASE.
    expect(plain.statements()).toBe(7);
    const withKey = counted();
    const products2 = await Promise.all(Array.from({ length: 100 }, () => makeProduct({ stock: 5 })));
    await placeOrder(withKey.database, {
      products: products2.map((p) => ({ product_id: p.id, quantity: 1 })),
      idempotencyKey: randomUUID(),
    });
    // + SELECT key (outside), INSERT key placeholder, UPDATE key with the response.
    expect(withKey.statements()).toBe(10);
    for (const [i, p] of products.entries()) expect(await stockOf(p.id)).toBe(5 - ((i % 5) + 1));
  });

  it('rejects unknown/archived ids before looking at stock, listing each, and changes nothing', async () => {
    const archived = await makeProduct({ archived: true, stock: 9 });
    const empty = await makeProduct({ stock: 0 });
    const before = await tableCounts();
    const err = await placeOrder(db(), {
      products: [
        { product_id: empty.id, quantity: 1 },
        { product_id: archived.id, quantity: 1 },
        { product_id: 2 ** 45, quantity: 1 },
      ],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownProductError);
    expect((err as UnknownProductError).productIds).toEqual([archived.id, 2 ** 45]);
    expect(await tableCounts()).toEqual(before);
    expect(await stockOf(archived.id)).toBe(9);
  });

  it('lists every short line (requested and available) and changes nothing', async () => {
    const a = await makeProduct({ stock: 4 });
    const b = await makeProduct({ stock: 1 });
    const c = await makeProduct({ stock: 100 });
    const before = await tableCounts();
    const err = await placeOrder(db(), {
      products: [
        { product_id: c.id, quantity: 100 },
        { product_id: b.id, quantity: 2 },
        { product_id: a.id, quantity: 5 },
      ],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InsufficientStockError);
    expect((err as InsufficientStockError).shortfalls).toEqual([
      { product_id: a.id, requested: 5, available: 4 },
      { product_id: b.id, requested: 2, available: 1 },
    ]);
    expect(await tableCounts()).toEqual(before);
    expect([await stockOf(a.id), await stockOf(b.id), await stockOf(c.id)]).toEqual([4, 1, 100]);
  });

  it('takes the last unit exactly (stock may reach 0, never below)', async () => {
    const p = await makeProduct({ stock: 3 });
    await placeOrder(db(), { products: [{ product_id: p.id, quantity: 3 }] });
    expect(await stockOf(p.id)).toBe(0);
    await expect(placeOrder(db(), { products: [{ product_id: p.id, quantity: 1 }] })).rejects.toBeInstanceOf(
      InsufficientStockError,
    );
  });

  it('the database itself refuses a decrement below zero (defence in depth)', async () => {
    const p = await makeProduct({ stock: 2 });
    await expect(
      sql`UPDATE stock_shards SET stock = stock - 3 WHERE product_id = ${p.id} AND shard_no = 0`.execute(db()),
    ).rejects.toThrow();
    expect(await stockOf(p.id)).toBe(2);
  });
});

describe('cancelOrder', () => {
  it('restores every line, writes positive cancel movements, and sets status and cancelled_at', async () => {
    const a = await makeProduct({ stock: 10 });
    const b = await makeProduct({ stock: 10 });
    const placed = await placeOrder(db(), {
      products: [
        { product_id: a.id, quantity: 4 },
        { product_id: b.id, quantity: 6 },
      ],
    });
    const cancelled = await cancelOrder(db(), placed.order.id);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.cancelled_at).not.toBeNull();
    expect(await getOrder(db(), placed.order.id)).toEqual(cancelled);
    expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([10, 10]);
    expect([await ledgerSum(a.id), await ledgerSum(b.id)]).toEqual([10, 10]);
    expect(await movementsOf(placed.order.id)).toEqual(
      expect.arrayContaining([
        { product_id: a.id, delta: 4, reason: 'cancel' },
        { product_id: b.id, delta: 6, reason: 'cancel' },
      ]),
    );
  });

  it('gives archived products their units back too, keeping stock equal to the ledger', async () => {
    const p = await makeProduct({ stock: 5 });
    const placed = await placeOrder(db(), { products: [{ product_id: p.id, quantity: 2 }] });
    await archiveProduct(db(), p.id);
    await cancelOrder(db(), placed.order.id);
    expect(await stockOf(p.id)).toBe(5);
    expect(await ledgerSum(p.id)).toBe(5);
  });

  it('a second cancel changes nothing', async () => {
    const p = await makeProduct({ stock: 5 });
    const placed = await placeOrder(db(), { products: [{ product_id: p.id, quantity: 2 }] });
    const first = await cancelOrder(db(), placed.order.id);
    const before = await tableCounts();
    expect(await cancelOrder(db(), placed.order.id)).toEqual(first);
    expect(await tableCounts()).toEqual(before);
    expect(await stockOf(p.id)).toBe(5);
  });
});

describe('listOrders', () => {
  it('pages newest first with exact totals', async () => {
    const p = await makeProduct({ stock: 50 });
    const mine = [];
    for (let i = 0; i < 4; i++)
      mine.push((await placeOrder(db(), { products: [{ product_id: p.id, quantity: 1 }] })).order.id);
    const page = await listOrders(db(), { page: 1, per_page: 3 });
    const total = Number(
      (await db().selectFrom('orders').select(sql<number>`COUNT(*)`.as('n')).executeTakeFirstOrThrow()).n,
    );
    expect(page).toMatchObject({ total, current_page: 1, per_page: 3, total_pages: Math.ceil(total / 3) });
    expect(page.orders.map((o) => o.id)).toEqual([mine[3], mine[2], mine[1]]);
  });
});

describe('withTransaction', () => {
  it('rolls everything back when the function throws', async () => {
    const name = `rolled back ${randomUUID()}`;
    await expect(
      withTransaction(db(), async (trx) => {
        await trx
          .insertInto('products')
          .values({
            name,
            description: '',
            price_cents: 1,
            archived_at: null,
            created_at: new Date(),
            updated_at: new Date(),
          })
          .execute();
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await db().selectFrom('products').select('id').where('name', '=', name).execute()).toEqual([]);
  });

  it('re-runs the whole transaction after a real deadlock and then succeeds', async () => {
    const a = await makeProduct({ stock: 1 });
    const b = await makeProduct({ stock: 1 });
    let firstLocks = 0;
    let release: () => void = () => undefined;
    const bothLocked = new Promise<void>((r) => {
      release = r;
    });
    let retries = 0;
    const run = (first: number, second: number) =>
      withTransaction(
        db(),
        async (trx, attempt) => {
          await trx.selectFrom('products').select('id').where('id', '=', first).forUpdate().execute();
          if (attempt === 0) {
            firstLocks += 1;
            if (firstLocks === 2) release();
            await bothLocked;
          }
          await trx.selectFrom('products').select('id').where('id', '=', second).forUpdate().execute();
          await trx
            .updateTable('products')
            .set({ description: `by ${first}` })
            .where('id', 'in', [first, second])
            .execute();
          return attempt;
        },
        { onRetry: () => retries++ },
      );
    const attempts = await Promise.all([run(a.id, b.id), run(b.id, a.id)]);
    expect(retries).toBeGreaterThanOrEqual(1);
    expect(Math.max(...attempts)).toBeGreaterThanOrEqual(1);
  });

  it('gives 503 busy (BusyError with Retry-After) when a lock stays held past every retry', async () => {
    const p = await makeProduct({ stock: 1 });
    const holder = await createConnection({ uri: inject('databaseUrl') });
    let attempts = 0;
    try {
      await holder.beginTransaction();
      await holder.query('SELECT id FROM products WHERE id = ? FOR UPDATE', [p.id]);
      const err = await withTransaction(
        db(),
        async (trx) => {
          attempts += 1;
          await trx.updateTable('products').set({ description: 'changed' }).where('id', '=', p.id).execute();
        },
        { maxRetries: 2 },
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BusyError);
      expect((err as BusyError).retryAfterS).toBeGreaterThan(0);
      expect(attempts).toBe(3);
    } finally {
      await holder.rollback();
      await holder.end();
    }
    expect(await stockOf(p.id)).toBe(1);
  });

  it('does not retry a lost connection: the error propagates, nothing is written, and the pool recovers', async () => {
    const name = `killed ${randomUUID()}`;
    const killer = await createConnection({ uri: inject('databaseUrl') });
    let attempts = 0;
    try {
      const err = await withTransaction(db(), async (trx) => {
        attempts += 1;
        const now = new Date();
        await trx
          .insertInto('products')
          .values({
            name,
            description: '',
            price_cents: 1,
            archived_at: null,
            created_at: now,
            updated_at: now,
          })
          .execute();
        const { rows } = await sql<{ id: number }>`SELECT CONNECTION_ID() AS id`.execute(trx);
        await killer.query(`KILL ${Number(rows[0]?.id)}`);
        await sql`SELECT 1`.execute(trx);
      }).catch((e: unknown) => e);
      expect(isConnectionError(err)).toBe(true);
      expect(attempts).toBe(1);
    } finally {
      await killer.end();
    }
    expect(await db().selectFrom('products').select('id').where('name', '=', name).execute()).toEqual([]);
    // The next transactions get healthy connections.
    for (let i = 0; i < 6; i++)
      expect(await withTransaction(db(), async (trx) => (await sql`SELECT 1`.execute(trx)).rows.length)).toBe(1);
  });
});

describe('a request budget that runs out in the middle of a transaction', () => {
  it('commits nothing of it, not even through the next transaction on the same connection', async () => {
    const { bindScope, createDb } = await import('../../lib/db/client');
    const { newRequestScope } = await import('../../lib/request-scope');
    // One connection, so the next transaction surely gets the one the budget ran out on.
    const single = createDb(inject('databaseUrl'), { poolSize: 1 });
    const name = `budget ${randomUUID()}`;
    let inserted = false;
    try {
      const budgetMs = 1_500;
      const err = await withTransaction(bindScope(single, newRequestScope(Date.now() + budgetMs)), async (trx) => {
        const now = new Date();
        await trx
          .insertInto('products')
          .values({
            name,
            description: '',
            price_cents: 1,
            archived_at: null,
            created_at: now,
            updated_at: now,
          })
          .execute();
        inserted = true;
        await new Promise((r) => setTimeout(r, budgetMs + 200));
        await sql`SELECT 1`.execute(trx); // refused at once: the budget is spent
      }).catch((e: unknown) => e);
      expect(inserted).toBe(true);
      expect(isConnectionError(err)).toBe(true);
      await withTransaction(single, async (trx) => {
        await sql`SELECT 1`.execute(trx);
      });
    } finally {
      await single.destroy();
    }
    expect(await db().selectFrom('products').select('id').where('name', '=', name).execute()).toEqual([]);
  });
});

describe('purgeExpiredKeys', () => {
  it('deletes only expired keys, in bounded batches, and reports when it stopped early', async () => {
    const now = new Date();
    const mark = randomUUID();
    const row = (i: number, expiresAt: Date) => ({
      idem_key: `purge-${mark}-${i}`,
      request_hash: 'h'.repeat(64),
      status_code: 201,
      response_body: '{}',
      location: null,
      order_id: null,
      created_at: new Date(expiresAt.getTime() - 86_400_000),
      expires_at: expiresAt,
    });
    // Clear any expired leftovers of earlier tests so the tallies below are exact.
    await purgeExpiredKeys(db(), now);
    await db()
      .insertInto('idempotency_keys')
      .values([
        ...Array.from({ length: 25 }, (_, i) => row(i, new Date(now.getTime() - 1000 - i))),
        ...Array.from({ length: 3 }, (_, i) => row(100 + i, new Date(now.getTime() + 3_600_000))),
      ])
      .execute();
    expect(await purgeExpiredKeys(db(), now, { batchSize: 10, maxBatches: 2 })).toEqual({
      deleted: 20,
      batches: 2,
      truncated: true,
    });
    expect(await purgeExpiredKeys(db(), now, { batchSize: 10, maxBatches: 2 })).toEqual({
      deleted: 5,
      batches: 1,
      truncated: false,
    });
    const left = await db()
      .selectFrom('idempotency_keys')
      .select('idem_key')
      .where('idem_key', 'like', `purge-${mark}-%`)
      .execute();
    expect(left).toHaveLength(3);
  });
});

describe('getOrder with a lagging replica', () => {
  it('finds an order the replica does not have yet on the writer, instead of answering 404', async () => {
    const { createDatabase, dropDatabase, serverUrlOf, withDatabase } = await import('../../scripts/lib/mysql-server');
    const { migrateToLatest } = await import('../../lib/db/migrate');
    const { createDb } = await import('../../lib/db/client');
    const server = serverUrlOf(inject('databaseUrl'));
    const name = `shop_lagging_replica_${Date.now()}`;
    await createDatabase(server, name);
    await migrateToLatest(withDatabase(server, name));
    // An empty, migrated database stands in for a replica that has not caught up.
    const replica = createDb(withDatabase(server, name), { poolSize: 1 });
    try {
      const p = await makeProduct({ stock: 3 });
      const placed = await placeOrder(db(), { products: [{ product_id: p.id, quantity: 1 }] });
      const got = await getOrder(replica, placed.order.id, db());
      expect(got).toEqual(placed.order);
      await expect(getOrder(replica, 'ord_aaaaaaaaaaaaaaaaaaaaaaaaaa', db())).rejects.toMatchObject({
        code: 'order_not_found',
      });
    } finally {
      await replica.destroy();
      await dropDatabase(server, name);
    }
  });
});
