import { randomBytes } from 'node:crypto';
import { type Kysely, Migrator, sql } from 'kysely';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { config } from '../../lib/config';
import { closeDb, createDb, db } from '../../lib/db/client';
import { migrations } from '../../lib/db/migrations';
import type { DB } from '../../lib/db/types';
import { productVersion } from '../../lib/products/present';
import { createProduct, getProduct, listProducts, updateProduct } from '../../lib/products/service';
import { distribute } from '../../lib/stock/shards';
import { checkInvariants, formatViolation } from '../../scripts/lib/invariants';
import { createDatabase, dropDatabase, serverUrlOf, withDatabase } from '../../scripts/lib/mysql-server';
import { ledgerSum, makeProduct, setShardStock, shardsOf, stockOf, uniqueName } from '../support/factories';

/*
 * A product's stock in 1–64 shard rows (docs/decisions/0012-stock-shards.md): what products
 * create/read/patch do with them, and the migration that moved today's stock into shard 0.
 */

let wide: Kysely<DB>;

beforeAll(() => {
  wide = createDb(config().databaseUrl, { poolSize: 12 });
});

afterAll(async () => {
  await wide.destroy();
  await closeDb();
});

const movementsOf = (id: number) =>
  db().selectFrom('stock_movements').select(['delta', 'reason']).where('product_id', '=', id).orderBy('id').execute();

describe('distribute', () => {
  it('splits a total over n shards as evenly as integers allow, keeping the total exactly', () => {
    expect(distribute(10, 4)).toEqual([3, 3, 2, 2]);
    expect(distribute(2, 5)).toEqual([1, 1, 0, 0, 0]);
    expect(distribute(0, 3)).toEqual([0, 0, 0]);
    expect(distribute(7, 1)).toEqual([7]);
    for (const [total, n] of [
      [1_000_000_000, 64],
      [63, 64],
      [65, 64],
    ] as const) {
      const parts = distribute(total, n);
      expect(parts).toHaveLength(n);
      expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
      expect(Math.max(...parts) - Math.min(...parts)).toBeLessThanOrEqual(1);
    }
  });
});

describe('products with stock shards', () => {
  it('creates the stock spread over stock_shards rows; reads give the total and the count', async () => {
    const p = await createProduct(db(), { name: uniqueName(), description: '', price: 5, stock: 10, stock_shards: 4 });
    expect(p).toMatchObject({ stock: 10, stock_shards: 4 });
    expect(await shardsOf(p.id)).toEqual([3, 3, 2, 2]);
    expect(await getProduct(db(), p.id)).toEqual(p);
    expect(await movementsOf(p.id)).toEqual([{ delta: 10, reason: 'created' }]);
  });

  it('defaults to one shard', async () => {
    const p = await createProduct(db(), { name: uniqueName(), description: '', price: 5, stock: 3 });
    expect(p.stock_shards).toBe(1);
    expect(await shardsOf(p.id)).toEqual([3]);
  });

  it('lists each product with the sum and count of its own shards', async () => {
    const word = `shardlist${Date.now()}`;
    const a = await makeProduct({ stock: 9, stockShards: 3, name: uniqueName(word) });
    const b = await makeProduct({ stock: 0, stockShards: 64, name: uniqueName(word) });
    const c = await makeProduct({ stock: 5, name: uniqueName(word) });
    await setShardStock(a.id, 2, 0); // uneven shards still sum up: 3 + 3 + 0
    await sql`UPDATE stock_movements SET delta = 6 WHERE product_id = ${a.id}`.execute(db());
    const page = await listProducts(db(), { per_page: 100, q: word });
    const byId = new Map(page.products.map((p) => [p.id, p]));
    expect(byId.get(a.id)).toMatchObject({ stock: 6, stock_shards: 3 });
    expect(byId.get(b.id)).toMatchObject({ stock: 0, stock_shards: 64 });
    expect(byId.get(c.id)).toMatchObject({ stock: 5, stock_shards: 1 });
    // in_stock reads the shards: b has 64 empty ones.
    const inStock = await listProducts(db(), { per_page: 100, q: word, in_stock: true });
    expect(inStock.products.map((p) => p.id).sort((x, y) => x - y)).toEqual([a.id, c.id]);
    const soldOut = await listProducts(db(), { per_page: 100, q: word, in_stock: false });
    expect(soldOut.products.map((p) => p.id)).toEqual([b.id]);
  });

  it('PATCH stock sets the total and spreads it over the same number of shards', async () => {
    const p = await makeProduct({ stock: 10, stockShards: 4 });
    await setShardStock(p.id, 0, 0); // orders took unevenly: shards 0,3,2,2 → total 7
    await sql`INSERT INTO stock_movements (product_id, delta, reason, created_at) VALUES (${p.id}, -3, 'adjusted', NOW(3))`.execute(
      db(),
    );
    const after = await updateProduct(db(), p.id, { stock: 17 });
    expect(after).toMatchObject({ stock: 17, stock_shards: 4 });
    expect(await shardsOf(p.id)).toEqual([5, 4, 4, 4]);
    expect((await movementsOf(p.id)).at(-1)).toEqual({ delta: 10, reason: 'adjusted' });
    expect(await ledgerSum(p.id)).toBe(17);
  });

  it('PATCH stock_shards changes the count and keeps the total exactly, with no movement', async () => {
    const p = await makeProduct({ stock: 10, stockShards: 4 });
    await setShardStock(p.id, 1, 0);
    await setShardStock(p.id, 3, 5); // 3, 0, 2, 5: still 10
    const fewer = await updateProduct(db(), p.id, { stock_shards: 3 });
    expect(fewer).toMatchObject({ stock: 10, stock_shards: 3 });
    expect(await shardsOf(p.id)).toEqual([4, 3, 3]);
    const more = await updateProduct(db(), p.id, { stock_shards: 64 });
    expect(more).toMatchObject({ stock: 10, stock_shards: 64 });
    const shards = await shardsOf(p.id);
    expect(shards).toHaveLength(64);
    expect(shards.reduce((a, b) => a + b, 0)).toBe(10);
    const back = await updateProduct(db(), p.id, { stock_shards: 1 });
    expect(back).toMatchObject({ stock: 10, stock_shards: 1 });
    expect(await shardsOf(p.id)).toEqual([10]);
    expect(await movementsOf(p.id)).toEqual([{ delta: 10, reason: 'created' }]);
    expect(await getProduct(db(), p.id)).toEqual(back);
  });

  it('PATCH stock and stock_shards together: the new total over the new count', async () => {
    const p = await makeProduct({ stock: 10 });
    const after = await updateProduct(db(), p.id, { stock: 33, stock_shards: 8 });
    expect(after).toMatchObject({ stock: 33, stock_shards: 8 });
    expect(await shardsOf(p.id)).toEqual(distribute(33, 8));
    expect(await ledgerSum(p.id)).toBe(33);
  });

  it('a name-only PATCH leaves the shards as they are', async () => {
    const p = await makeProduct({ stock: 10, stockShards: 4 });
    await setShardStock(p.id, 0, 1);
    await sql`INSERT INTO stock_movements (product_id, delta, reason, created_at) VALUES (${p.id}, -2, 'adjusted', NOW(3))`.execute(
      db(),
    );
    await updateProduct(db(), p.id, { name: uniqueName('Renamed') });
    expect(await shardsOf(p.id)).toEqual([1, 3, 2, 2]);
  });

  it('PATCH stock of a product the migration has not copied yet counts from the legacy column', async () => {
    const p = await makeProduct({ stock: 7 });
    // As before migration 2026_11_29_0003 copied it: no shard rows, the stock on the products row.
    await db().deleteFrom('stock_shards').where('product_id', '=', p.id).execute();
    await sql`UPDATE products SET stock = 7 WHERE id = ${p.id}`.execute(db());
    await updateProduct(db(), p.id, { stock: 10 });
    expect(await shardsOf(p.id)).toEqual([10]);
    expect(await ledgerSum(p.id)).toBe(10);
  });

  it('the version (ETag) covers stock_shards: a version from before a re-shard no longer matches', async () => {
    const p = await makeProduct({ stock: 12, stockShards: 2 });
    const before = productVersion(await getProduct(db(), p.id));
    await updateProduct(db(), p.id, { stock_shards: 3 });
    await expect(updateProduct(db(), p.id, { price: 1 }, [before])).rejects.toMatchObject({
      code: 'precondition_failed',
    });
  });

  it('race: parallel re-shards and stock sets keep Σ shards = ledger, and the shards numbered 0…n−1', async () => {
    const p = await makeProduct({ stock: 50, stockShards: 4 });
    await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        i % 2 === 0
          ? updateProduct(wide, p.id, { stock_shards: 1 + ((i * 13) % 64) })
          : updateProduct(wide, p.id, { stock: i * 7 }),
      ),
    );
    const shards = await shardsOf(p.id);
    expect(await ledgerSum(p.id)).toBe(await stockOf(p.id));
    const rows = await db()
      .selectFrom('stock_shards')
      .select('shard_no')
      .where('product_id', '=', p.id)
      .orderBy('shard_no')
      .execute();
    expect(rows.map((r) => r.shard_no)).toEqual(shards.map((_, i) => i));
  });
});

describe('migration 2026_11_29_0003_stock_shards on a live database', () => {
  const BEFORE = '2026_11_29_0003_stock_shards';
  const serverUrl = serverUrlOf(inject('databaseUrl'));
  const made: string[] = [];

  afterAll(async () => {
    for (const name of made) await dropDatabase(serverUrl, name);
  });

  it('moves every product’s stock into shard 0, waiting for an order that holds its row', async () => {
    const name = `shop_shardmig_${Date.now()}_${randomBytes(3).toString('hex')}`;
    await createDatabase(serverUrl, name);
    made.push(name);
    const url = withDatabase(serverUrl, name);
    const target = createDb(url, { poolSize: 2, lockWaitTimeoutS: 30 });
    const migrator = new Migrator({ db: target, provider: { getMigrations: async () => migrations } });
    const previous = Object.keys(migrations)
      .filter((m) => m < BEFORE)
      .sort()
      .at(-1);
    const legacy = await createConnection({ uri: url });
    try {
      if (previous === undefined) throw new Error('no migration before the shards');
      expect((await migrator.migrateTo(previous)).error).toBeUndefined();
      // Today's schema: the stock on the products row, the ledger beside it.
      const stocks = [5, 0, 1_000];
      for (const [i, stock] of stocks.entries()) {
        await legacy.query(
          `INSERT INTO products (name, description, price_cents, stock, created_at, updated_at)
           VALUES (?, '', 100, ?, NOW(3), NOW(3))`,
          [`Legacy ${i}`, stock],
        );
        await legacy.query(
          `INSERT INTO stock_movements (product_id, delta, reason, created_at) VALUES (LAST_INSERT_ID(), ?, 'created', NOW(3))`,
          [stock],
        );
      }
      await legacy.query(`UPDATE counters SET value = 3 WHERE name = 'live_products'`);
      // An order of the previous code is in flight on product 3: row updated, not committed yet.
      await legacy.beginTransaction();
      await legacy.query('UPDATE products SET stock = stock - 7 WHERE id = 3');
      await legacy.query(
        `INSERT INTO stock_movements (product_id, delta, reason, order_id, created_at) VALUES (3, -7, 'adjusted', NULL, NOW(3))`,
      );
      const migrating = migrator.migrateToLatest();
      // The copy must wait for that order's row lock (a copy from a snapshot would lose the 7).
      // Seen from PROCESSLIST: MariaDB's INNODB_TRX does not always show such a wait as LOCK WAIT.
      // The copy (or, when the server takes it first, CREATE TABLE's metadata lock on products)
      // is still running half a second after it was first seen: it waits for this transaction.
      const blocked = async (): Promise<boolean> => {
        const [rows] = await legacy.query(
          `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST
            WHERE DB = ? AND ID <> CONNECTION_ID()
              AND (INFO LIKE 'INSERT INTO stock_shards%' OR STATE LIKE 'Waiting for table metadata lock%')`,
          [name],
        );
        return Number((rows as Array<{ n: unknown }>)[0]?.n) > 0;
      };
      for (let i = 0; i < 600 && !(await blocked()); i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 500));
      expect(await blocked(), 'the migration waits for the in-flight order').toBe(true);
      await legacy.commit();
      const result = await migrating;
      expect(result.error).toBeUndefined();

      const shards = await target.selectFrom('stock_shards').selectAll().orderBy('product_id').execute();
      expect(shards.map((s) => [Number(s.product_id), s.shard_no, s.stock])).toEqual([
        [1, 0, 5],
        [2, 0, 0],
        [3, 0, 993],
      ]);
      const report = await checkInvariants(target);
      expect(report.violations.map(formatViolation)).toEqual([]);
      // New products need no value for the legacy column.
      await sql`INSERT INTO products (name, description, price_cents, created_at, updated_at)
                VALUES ('New', '', 1, NOW(3), NOW(3))`.execute(target);
    } finally {
      await legacy.end();
      await target.destroy();
    }
  });
});
