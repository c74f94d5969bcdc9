import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, db } from '../../lib/db/client';
import type { DB } from '../../lib/db/types';
import { countPriced } from '../../lib/products/price-counts';
import { insertProducts, type NewProduct } from '../../lib/products/repository';
import type { ListProductsQuery } from '../../lib/products/schema';
import { listProductsQuery } from '../../lib/products/schema';
import {
  archiveProduct,
  createProduct,
  EXACT_TOTAL_CAP,
  listProducts,
  updateProduct,
} from '../../lib/products/service';
import { checkInvariants, formatViolation } from '../../scripts/lib/invariants';
import { makeProduct } from '../support/factories';
import { type IsolatedDatabase, useIsolatedDatabase } from '../support/isolated-db';

/*
 * The price histogram (docs/decisions/0015-maintained-search-counts.md): a price-only filter's total is read
 * from product_price_counts, kept by every product write. Its own database, so the histogram and
 * the definition (live products by price) cover the whole catalogue and are compared after every
 * kind of write, with the check-invariants rule too. The ranges live in separate price regions, so
 * the tests do not see each other's products.
 */
let isolated: IsolatedDatabase | undefined;
let wide: Kysely<DB>;
const WRITERS = 8;

beforeAll(async () => {
  isolated = await useIsolatedDatabase('shop_price_counts');
  // Real concurrency needs more connections than the Lambda-sized default pool.
  wide = createDb(isolated.url, { poolSize: WRITERS });
}, 120_000);

afterAll(async () => {
  await wide?.destroy();
  await isolated?.drop();
}, 120_000);

const CAP = EXACT_TOTAL_CAP + 1;

const list = (query: Record<string, string>) => listProducts(db(), listProductsQuery.parse(query) as ListProductsQuery);
const money = (cents: number) => (cents / 100).toFixed(2);

/** The definition: live products priced in [lo, hi] (either end open). */
async function defined(lo?: number, hi?: number): Promise<number> {
  const { rows } = await sql<{ n: unknown }>`
    SELECT COUNT(*) AS n FROM products
     WHERE archived_at IS NULL AND price_cents >= ${lo ?? 0} AND price_cents <= ${hi ?? 9_999_999_999}`.execute(db());
  return Number(rows[0]?.n);
}

async function expectInvariants(): Promise<void> {
  const report = await checkInvariants(db());
  expect(report.violations.map(formatViolation)).toEqual([]);
}

/** The histogram rows of one width in a range of buckets, as [bucket, products]. */
async function rowsOf(width: number, from: number, to: number): Promise<[number, number][]> {
  const rows = await db()
    .selectFrom('product_price_counts')
    .select(['bucket', 'products'])
    .where('width_cents', '=', width)
    .where('bucket', '>=', from)
    .where('bucket', '<=', to)
    .orderBy('bucket')
    .execute();
  return rows.map((r) => [Number(r.bucket), Number(r.products)]);
}

/** `count` live products made in transactions of up to 2,500 (insertProducts, as the seed does). */
async function bulk(count: number, of: (k: number) => Pick<NewProduct, 'name' | 'price_cents' | 'stock'>) {
  const at = new Date();
  for (let done = 0; done < count; ) {
    const n = Math.min(2_500, count - done);
    const rows = Array.from({ length: n }, (_, i) => ({
      description: '',
      archived_at: null,
      created_at: at,
      updated_at: at,
      ...of(done + i),
    }));
    await db()
      .transaction()
      .execute((trx) => insertProducts(trx, rows));
    done += n;
  }
}

describe('price histogram', () => {
  it('follows creates, re-prices and archives, leaving no row at 0', async () => {
    // Region 1.00–9.99.
    const a = await createProduct(db(), { name: 'Hist a', description: '', price: 1, stock: 1 });
    const b = await createProduct(db(), { name: 'Hist b', description: '', price: 1, stock: 0 });
    const c = await makeProduct({ priceCents: 199 });
    const d = await makeProduct({ priceCents: 200 });
    await makeProduct({ priceCents: 150, archived: true });
    expect(await rowsOf(1, 100, 999)).toEqual([
      [100, 2],
      [199, 1],
      [200, 1],
    ]);
    expect(await rowsOf(100, 1, 9)).toEqual([
      [1, 3],
      [2, 1],
    ]);
    expect(await list({ min_price: '1', max_price: '1.99' })).toMatchObject({ total: 3, total_is_exact: true });
    expect(await list({ min_price: '1.5', max_price: '2' })).toMatchObject({ total: 2, total_is_exact: true });
    await expectInvariants();

    // Re-priced into another unit, within a unit, and to the same price.
    await updateProduct(db(), a.id, { price: 2.5 });
    await updateProduct(db(), d.id, { price: 2.99 });
    await updateProduct(db(), c.id, { price: 1.99, name: 'Hist c renamed' });
    expect(await rowsOf(1, 100, 999)).toEqual([
      [100, 1],
      [199, 1],
      [250, 1],
      [299, 1],
    ]);
    expect(await rowsOf(100, 1, 9)).toEqual([
      [1, 2],
      [2, 2],
    ]);
    await expectInvariants();

    // Archiving the last product of a price and of a unit deletes their rows.
    await archiveProduct(db(), b.id);
    await archiveProduct(db(), c.id);
    expect(await rowsOf(1, 100, 999)).toEqual([
      [250, 1],
      [299, 1],
    ]);
    expect(await rowsOf(100, 1, 9)).toEqual([[2, 2]]);
    expect(await list({ min_price: '1', max_price: '1.99' })).toMatchObject({ total: 0, total_is_exact: true });
    expect(await list({ min_price: '1', max_price: '9.99' })).toMatchObject({ total: 2, total_is_exact: true });
    const zero = await db().selectFrom('product_price_counts').select('bucket').where('products', '<=', 0).execute();
    expect(zero).toEqual([]);
    await expectInvariants();
  });

  it('reads any range exactly up to the cap: the ends by the cent, the middle by whole units', async () => {
    // Region 10.00–59.99: products at unit edges, inside units and several at one price.
    const prices = [1000, 1000, 1001, 1099, 1100, 1199, 1250, 1250, 1250, 1300, 2000, 2099, 2100, 3456, 5999];
    for (const priceCents of prices) await makeProduct({ priceCents });
    await makeProduct({ priceCents: 1150, archived: true });
    const bounds = [0, 999, 1000, 1001, 1050, 1099, 1100, 1101, 1199, 1200, 1250, 2000, 2099, 2100, 2101, 5999, 6000];
    for (const lo of [undefined, ...bounds]) {
      for (const hi of [...bounds, undefined]) {
        if (lo !== undefined && hi !== undefined && lo > hi) continue;
        const expected = await defined(lo, hi);
        for (const cap of [1, 4, 9, CAP]) {
          expect(await countPriced(db(), lo, hi, cap), `[${lo}, ${hi}] cap ${cap}`).toBe(Math.min(expected, cap));
        }
      }
    }
    expect(await list({ min_price: '10', max_price: '12.50' })).toMatchObject({ total: 9, total_is_exact: true });
    expect(await list({ min_price: '10.01', max_price: '20.99' })).toMatchObject({ total: 10, total_is_exact: true });
  });

  it('stops at the cap for a range wider than it, exact at the cap, and leaves combined filters to the products', async () => {
    // Region 1,000,000.01 and up: one product in each of 10,001 whole units, so the units part
    // alone reaches the cap; every 1,000th out of stock, every 500th named with a word of its own.
    const base = 100_000_000;
    await bulk(CAP, (k) => ({
      name: `Wide ${k}${k % 500 === 0 ? ' quokka' : ''}`,
      price_cents: base + k * 100 + 1,
      stock: k % 1_000 === 0 ? 0 : 3,
    }));
    const from = money(base);
    const over = await list({ min_price: from, per_page: '5', sort: 'price' });
    expect(over).toMatchObject({ total: EXACT_TOTAL_CAP, total_is_exact: false });
    expect(over.products.map((p) => p.price)).toEqual([
      1_000_000.01, 1_000_001.01, 1_000_002.01, 1_000_003.01, 1_000_004.01,
    ]);
    // 10,000 of them: exact, though 10,000 unit rows are read.
    const upTo = money(base + (EXACT_TOTAL_CAP - 1) * 100 + 1);
    expect(await list({ min_price: from, max_price: upTo })).toMatchObject({
      total: EXACT_TOTAL_CAP,
      total_is_exact: true,
    });
    expect(await countPriced(db(), base, undefined, CAP)).toBe(CAP);
    expect(await countPriced(db(), base, undefined, 50)).toBe(50);

    // Price with in_stock, and price with q: counted from the products, exact below the cap.
    expect(await list({ min_price: from, in_stock: 'false' })).toMatchObject({ total: 11, total_is_exact: true });
    expect(await list({ min_price: from, in_stock: 'true' })).toMatchObject({ total: CAP - 11, total_is_exact: true });
    expect(await list({ min_price: from, max_price: money(base + 4_999 * 100 + 1), in_stock: 'true' })).toMatchObject({
      total: 4_995,
      total_is_exact: true,
    });
    expect(await list({ min_price: from, q: 'quokka' })).toMatchObject({ total: 21, total_is_exact: true });
    expect(await list({ min_price: money(base + 5_000 * 100), q: 'quokka' })).toMatchObject({
      total: 11,
      total_is_exact: true,
    });

    // One archived: the whole region is exactly the cap now.
    const [first] = await db()
      .selectFrom('products')
      .select('id')
      .where('price_cents', '=', base + 1)
      .execute();
    await archiveProduct(db(), Number(first?.id));
    expect(await list({ min_price: from })).toMatchObject({ total: EXACT_TOTAL_CAP, total_is_exact: true });
    await expectInvariants();
  }, 120_000);

  it('counts from the products and terms while a backfill has not finished (no ready row)', async () => {
    // Region 80.00–89.99 and a word of its own; then the ready rows go and a histogram row and a
    // term count are wrong, as they may be in a range the backfill has not reached.
    await makeProduct({ name: 'Numbat one', priceCents: 8_000 });
    await makeProduct({ name: 'Numbat two', priceCents: 8_050 });
    const ready = await db().selectFrom('counters').selectAll().where('name', 'like', '%_counts_ready').execute();
    expect(ready.map((r) => r.name).sort()).toEqual(['price_counts_ready', 'term_counts_ready']);
    await db().deleteFrom('counters').where('name', 'like', '%_counts_ready').execute();
    await db().updateTable('product_price_counts').set({ products: 99 }).where('bucket', '=', 8_000).execute();
    await db().updateTable('product_search_term_counts').set({ products: 99 }).where('term', '=', 'numbat').execute();
    try {
      expect(await countPriced(db(), 8_000, 8_999, CAP)).toBeUndefined();
      expect(await list({ min_price: '80', max_price: '89.99' })).toMatchObject({ total: 2, total_is_exact: true });
      expect(await list({ q: 'numbat' })).toMatchObject({ total: 2, total_is_exact: true });
    } finally {
      await db().insertInto('counters').values(ready).execute();
      await db().updateTable('product_price_counts').set({ products: 1 }).where('bucket', '=', 8_000).execute();
      await db()
        .updateTable('product_price_counts')
        .set({ products: 2 })
        .where('width_cents', '=', 100)
        .where('bucket', '=', 80)
        .execute();
      await db().updateTable('product_search_term_counts').set({ products: 2 }).where('term', '=', 'numbat').execute();
    }
    await expectInvariants();
  });

  it('stays exact under concurrent creates, re-prices and archives on shared prices (several connections)', async () => {
    // Region 70.00–79.99: few prices, so the writers meet on the same histogram rows.
    const prices = [7000, 7001, 7099, 7100, 7500];
    const made = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        createProduct(wide, {
          name: `Race ${i}`,
          description: '',
          price: (prices[i % prices.length] as number) / 100,
          stock: 1,
        }),
      ),
    );
    const ids = made.map((p) => p.id);
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      const id = ids[i % ids.length] as number;
      const price = (prices[(i * 7) % prices.length] as number) / 100;
      if (i % 10 === 9) ops.push(archiveProduct(wide, id).catch((err: unknown) => err));
      else if (i % 3 === 0) ops.push(createProduct(wide, { name: `Race new ${i}`, description: '', price, stock: 1 }));
      else ops.push(updateProduct(wide, id, { price }).catch((err: unknown) => err));
    }
    const results = await Promise.all(ops);
    // An archive may beat a later re-price of the same product to it (404): nothing else fails.
    const failures = results.filter((r) => r instanceof Error && r.name !== 'ProductNotFoundError');
    expect(failures).toEqual([]);
    const expected = await defined(7000, 7999);
    expect(expected).toBeGreaterThan(20);
    expect(await list({ min_price: '70', max_price: '79.99' })).toMatchObject({
      total: expected,
      total_is_exact: true,
    });
    await expectInvariants();
  }, 60_000);
});
