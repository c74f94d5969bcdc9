import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../../lib/db/client';
import { cancelOrder, placeOrder } from '../../lib/orders/service';
import { countMatching } from '../../lib/products/repository';
import type { ListProductsQuery } from '../../lib/products/schema';
import { listProductsQuery } from '../../lib/products/schema';
import { archiveProduct, createProduct, listProducts, updateProduct } from '../../lib/products/service';
import { checkInvariants, formatViolation } from '../../scripts/lib/invariants';
import { makeProduct } from '../support/factories';
import { type IsolatedDatabase, useIsolatedDatabase } from '../support/isolated-db';

/*
 * `in_stock=true` alone is counted from the (sellable, product_id) index of stock_shards
 * (docs/decisions/0013-in-stock-index.md). Its own database, so the count over the whole catalogue
 * is exact and can be compared with the definition after every kind of write: archived products
 * with stock, sold-out products, several shards of which some are dry, archives, PATCH stock to 0
 * and back, PATCH stock_shards, orders that drain a shard and cancels that refill it.
 */
let isolated: IsolatedDatabase | undefined;

beforeAll(async () => {
  isolated = await useIsolatedDatabase('shop_in_stock');
}, 120_000);

afterAll(async () => {
  await isolated?.drop();
}, 120_000);

const CAP = 10_001;

/** The definition, straight from the products: live, and the sum of its shards above 0. */
async function definition(): Promise<number[]> {
  const { rows } = await sql<{ id: number }>`
    SELECT p.id FROM products p
     WHERE p.archived_at IS NULL
       AND (SELECT COALESCE(SUM(s.stock), 0) FROM stock_shards s WHERE s.product_id = p.id) > 0
     ORDER BY p.id`.execute(db());
  return rows.map((r) => Number(r.id));
}

const list = (query: Record<string, string>) => listProducts(db(), listProductsQuery.parse(query) as ListProductsQuery);

/** The count, the list's total and every page of the list all agree with the definition. */
async function expectInStock(expected: number[]): Promise<void> {
  expect(await definition()).toEqual(expected);
  expect(await countMatching(db(), { inStock: true }, CAP)).toBe(expected.length);
  const page = await list({ in_stock: 'true', per_page: '100' });
  expect(page).toMatchObject({ total: expected.length, total_is_exact: true });
  expect(page.products.map((p) => p.id)).toEqual(expected);
  const report = await checkInvariants(db());
  expect(report.violations.map(formatViolation)).toEqual([]);
}

describe('in_stock=true count from the sellable index', () => {
  it('counts each live product with stock once, whatever its shards, and follows every write', async () => {
    await expectInStock([]);
    const one = await makeProduct({ stock: 5 });
    const soldOut = await makeProduct({ stock: 0 });
    const soldOutSharded = await makeProduct({ stock: 0, stockShards: 4 });
    // 3 units over 8 shards: shards 3–7 are dry, 0–2 hold one each (counted once, not three times).
    const someDry = await makeProduct({ stock: 3, stockShards: 8 });
    const full = await makeProduct({ stock: 64, stockShards: 64 });
    await makeProduct({ stock: 7, archived: true });
    await makeProduct({ stock: 9, stockShards: 3, archived: true });
    const created = await createProduct(db(), {
      name: 'Made through the service',
      description: '',
      price: 2,
      stock: 1,
    });
    await expectInStock([one.id, someDry.id, full.id, created.id]);

    // Archive: the product and its 64 stocked shards leave the count.
    await archiveProduct(db(), full.id);
    await expectInStock([one.id, someDry.id, created.id]);

    // PATCH stock to 0 and back, and a sold-out product restocked.
    await updateProduct(db(), one.id, { stock: 0 });
    await expectInStock([someDry.id, created.id]);
    await updateProduct(db(), one.id, { stock: 2 });
    await updateProduct(db(), soldOutSharded.id, { stock: 1 });
    await expectInStock([one.id, soldOutSharded.id, someDry.id, created.id]);

    // PATCH stock_shards: the same 3 units over 2 rows, then over 16 (13 dry).
    await updateProduct(db(), someDry.id, { stock_shards: 2 });
    await expectInStock([one.id, soldOutSharded.id, someDry.id, created.id]);
    await updateProduct(db(), someDry.id, { stock_shards: 16 });
    await expectInStock([one.id, soldOutSharded.id, someDry.id, created.id]);

    // An order that sells the last units (its UPDATE moves the generated column), then its cancel.
    const order = await placeOrder(db(), { products: [{ product_id: someDry.id, quantity: 3 }] });
    await expectInStock([one.id, soldOutSharded.id, created.id]);
    await cancelOrder(db(), order.order.id);
    await expectInStock([one.id, soldOutSharded.id, someDry.id, created.id]);

    // An archived product that still holds stock gets a cancel back: still not counted.
    const doomed = await makeProduct({ stock: 4 });
    const late = await placeOrder(db(), { products: [{ product_id: doomed.id, quantity: 1 }] });
    await archiveProduct(db(), doomed.id);
    await cancelOrder(db(), late.order.id);
    await expectInStock([one.id, soldOutSharded.id, someDry.id, created.id]);

    // Still nothing for the sold-out product; the cap stops the count.
    expect((await definition()).includes(soldOut.id)).toBe(false);
    // At and around the cap: 4 in stock (the probe for the cap-th product, then the exact count).
    for (const [cap, counted] of [
      [2, 2],
      [3, 3],
      [4, 4],
      [5, 4],
      [1, 1],
    ] as const)
      expect(await countMatching(db(), { inStock: true }, cap), `cap ${cap}`).toBe(counted);
    // in_stock=false is the complement among live products.
    const out = await list({ in_stock: 'false', per_page: '100' });
    expect(out.products.map((p) => p.id)).toEqual([soldOut.id]);
    expect(out.total).toBe(1);
  });

  it('the count and its probe read one range of idx_stock_shards_sellable and no products row', async () => {
    for (const statement of [
      sql`SELECT COUNT(*) FROM (SELECT product_id FROM stock_shards FORCE INDEX (idx_stock_shards_sellable)
        WHERE sellable = 1 GROUP BY product_id LIMIT 10001) c`,
      sql`SELECT product_id FROM stock_shards FORCE INDEX (idx_stock_shards_sellable)
        WHERE sellable = 1 GROUP BY product_id LIMIT 1 OFFSET 10000`,
    ]) {
      const { rows } = await sql<Record<string, unknown>>`EXPLAIN ${statement}`.execute(db());
      const tables = rows.map((r) => String(r.table));
      expect(tables).not.toContain('p');
      expect(tables).not.toContain('products');
      const shards = rows.find((r) => r.table === 'stock_shards');
      expect(shards?.key).toBe('idx_stock_shards_sellable');
      expect(String(shards?.Extra)).toContain('Using index');
      expect(String(shards?.Extra)).not.toContain('Using temporary');
      expect(String(shards?.Extra)).not.toContain('filesort');
    }
  });
});
