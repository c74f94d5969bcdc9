import { randomInt } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { closeDb, db } from '../../lib/db/client';
import { decodeCursor } from '../../lib/products/cursor';
import { movePriceCounts } from '../../lib/products/price-counts';
import { countMatching } from '../../lib/products/repository';
import { searchPlanOf } from '../../lib/products/search';
import {
  archiveProduct,
  createProduct,
  EXACT_TOTAL_CAP,
  listProducts,
  updateProduct,
} from '../../lib/products/service';
import type { ListProductsQuery } from '../../lib/products/schema';
import { listProductsQuery } from '../../lib/products/schema';
import { makeProduct } from '../support/factories';

/*
 * Search, filters and sorting through the service, on the run's shared database. Every test names
 * its products with a word of its own (`tag()`) and searches for it, so other files' products never
 * get in the way of exact assertions.
 */

afterAll(async () => {
  await closeDb();
});

/** A random lower-case word no other test uses. */
const tag = (): string => Array.from({ length: 10 }, () => String.fromCharCode(97 + randomInt(26))).join('');

/** The service with a query given as on the wire (validated by the real schema). */
const list = (query: Record<string, string>) => listProducts(db(), listProductsQuery.parse(query) as ListProductsQuery);
const names = (page: { products: { name: string }[] }) => page.products.map((p) => p.name);
const ids = (page: { products: { id: number }[] }) => page.products.map((p) => p.id);

/** Every page from page 1 following next_cursor. */
async function walk(query: Record<string, string>): Promise<number[]> {
  const out: number[] = [];
  let page = await list(query);
  out.push(...ids(page));
  while (page.next_cursor !== null) {
    page = await list({ ...query, cursor: page.next_cursor });
    out.push(...ids(page));
  }
  return out;
}

describe('q', () => {
  it('matches every word at the start of a name word, ignoring case and Latin accents', async () => {
    const w = tag();
    const cafe = await makeProduct({ name: `Café ☕ ${w}` });
    const cafeteria = await makeProduct({ name: `${w.toUpperCase()} cafeteria chair` });
    await makeProduct({ name: `${w} decaf beans` }); // "caf" inside a word: not a word start
    await makeProduct({ name: `${w}x cafe` }); // the tag itself only as a prefix of another word: matches
    const archived = await makeProduct({ name: `${w} café archived`, archived: true });

    const page = await list({ q: `${w} CAFE` });
    expect(names(page)).toEqual([cafe.name, cafeteria.name, `${w}x cafe`]);
    expect(page).toMatchObject({ total: 3, total_is_exact: true });
    expect(ids(await list({ q: `  café ${w}  ` }))).toEqual([cafe.id, cafeteria.id, expect.any(Number)]);
    expect(names(await list({ q: `${w} cafet` }))).toEqual([cafeteria.name]);
    expect(ids(await list({ q: `${w} café` }))).not.toContain(archived.id);
    expect(names(await list({ q: `${w} afe` }))).toEqual([]);
  });

  it('folds letters without a decomposition and compatibility forms (ß, ø, ł, ﬁ, full-width)', async () => {
    const w = tag();
    const p = await makeProduct({ name: `${w} Straße Ørsted Łódź ﬁlter ＭＵＧ` });
    for (const q of ['strasse', 'orsted', 'lodz', 'filter', 'mug', 'STRAẞE']) {
      expect(ids(await list({ q: `${w} ${q}` })), q).toEqual([p.id]);
    }
  });

  it('finds text in scripts without spaces anywhere in the name, but only as a whole sequence', async () => {
    const w = tag();
    const mug = await makeProduct({ name: `${w} 马克杯子 blue` });
    const cup = await makeProduct({ name: `${w} 杯子` });
    await makeProduct({ name: `${w} 杯 子` }); // the two characters apart
    expect(ids(await list({ q: `${w} 杯子` }))).toEqual([mug.id, cup.id]);
    expect(ids(await list({ q: `${w} 克杯子` }))).toEqual([mug.id]); // three characters: pairs, then confirmed
    expect(ids(await list({ q: `${w} 克子` }))).toEqual([]);
    expect(ids(await list({ q: `${w} 马` }))).toEqual([mug.id]);
    expect(ids(await list({ q: `杯子 ${w} BLU` }))).toEqual([mug.id]);
  });

  it('matches a word longer than the indexed prefix by its whole length', async () => {
    const w = tag();
    const long = await makeProduct({ name: `${w} Extraordinarily comfortable` });
    await makeProduct({ name: `${w} Extraordinarinessy` }); // same 12-letter prefix, other word
    expect(ids(await list({ q: `${w} extraordinarily` }))).toEqual([long.id]);
    expect(ids(await list({ q: `${w} extraordinar` }))).toHaveLength(2);
  });

  it('matches pictographs as words of their own', async () => {
    const w = tag();
    const tea = await makeProduct({ name: `${w} Tea🍵set` });
    expect(ids(await list({ q: `${w} 🍵` }))).toEqual([tea.id]);
    expect(ids(await list({ q: `${w} set` }))).toEqual([tea.id]);
    expect(ids(await list({ q: `${w} ☕` }))).toEqual([]);
  });

  it('matches nothing for a q without letters, digits or symbols (an exact, empty result)', async () => {
    await makeProduct();
    const page = await list({ q: '- / ,' });
    expect(page).toMatchObject({ products: [], total: 0, total_is_exact: true, total_pages: 0, next_cursor: null });
  });

  it('keeps the index in step with renames and archives, in the same transaction as the write', async () => {
    const w = tag();
    const p = await createProduct(db(), { name: `${w} Oak table`, description: '', price: 10, stock: 1 });
    expect(ids(await list({ q: `${w} oak` }))).toEqual([p.id]);
    await updateProduct(db(), p.id, { name: `${w} Pine table` });
    expect(ids(await list({ q: `${w} oak` }))).toEqual([]);
    expect(ids(await list({ q: `${w} pine tab` }))).toEqual([p.id]);
    await updateProduct(db(), p.id, { price: 12 }); // no rename: terms untouched
    expect(ids(await list({ q: `${w} pine`, sort: 'name' }))).toEqual([p.id]);
    await archiveProduct(db(), p.id);
    expect(ids(await list({ q: `${w}` }))).toEqual([]);
    const { rows } = await sql<{
      n: number;
    }>`SELECT COUNT(*) AS n FROM product_search_terms WHERE product_id = ${p.id}`.execute(db());
    expect(Number(rows[0]?.n)).toBe(0);
  });
});

describe('filters', () => {
  it('min_price and max_price are inclusive bounds; in_stock splits on stock 0', async () => {
    const w = tag();
    const a = await makeProduct({ name: `${w} a`, priceCents: 999, stock: 0 });
    const b = await makeProduct({ name: `${w} b`, priceCents: 1000, stock: 3 });
    const c = await makeProduct({ name: `${w} c`, priceCents: 1550, stock: 0 });
    const d = await makeProduct({ name: `${w} d`, priceCents: 1551, stock: 1 });
    expect(ids(await list({ q: w, min_price: '10' }))).toEqual([b.id, c.id, d.id]);
    expect(ids(await list({ q: w, max_price: '15.50' }))).toEqual([a.id, b.id, c.id]);
    expect(ids(await list({ q: w, min_price: '10.00', max_price: '15.5' }))).toEqual([b.id, c.id]);
    expect(ids(await list({ q: w, min_price: '15.5', max_price: '15.5' }))).toEqual([c.id]);
    expect(ids(await list({ q: w, in_stock: 'true' }))).toEqual([b.id, d.id]);
    expect(ids(await list({ q: w, in_stock: 'false' }))).toEqual([a.id, c.id]);
    expect(ids(await list({ q: w, in_stock: 'false', min_price: '10' }))).toEqual([c.id]);
    expect(ids(await list({ q: w, min_price: '0', max_price: '0' }))).toEqual([]);
  });

  it('filters without q count exactly below the cap (over the whole catalogue)', async () => {
    const price = 9_000_000_000 + randomInt(1_000_000); // a price no other test uses
    await makeProduct({ priceCents: price });
    await makeProduct({ priceCents: price, stock: 0 });
    await makeProduct({ priceCents: price, archived: true });
    const exact = (price / 100).toFixed(2);
    const page = await list({ min_price: exact, max_price: exact });
    expect(page).toMatchObject({ total: 2, total_is_exact: true, total_pages: 1 });
    const stocked = await list({ min_price: exact, max_price: exact, in_stock: 'true' });
    expect(stocked).toMatchObject({ total: 1, total_is_exact: true });
  });
});

describe('sort', () => {
  it('orders by each sort with ties broken by id ascending, and every cursor walk gives the same order', async () => {
    const w = tag();
    const t0 = new Date('2026-01-01T00:00:00.000Z');
    const t1 = new Date('2026-01-02T00:00:00.000Z');
    const rows = [
      await makeProduct({ name: `${w} banana`, priceCents: 500, createdAt: t1 }),
      await makeProduct({ name: `${w} Apple`, priceCents: 300, createdAt: t0 }),
      await makeProduct({ name: `${w} apple`, priceCents: 500, createdAt: t0 }),
      await makeProduct({ name: `${w} Éclair`, priceCents: 300, createdAt: t1 }),
      await makeProduct({ name: `${w} cherry`, priceCents: 700, createdAt: t0 }),
    ];
    const [banana, Apple, apple, eclair, cherry] = rows.map((r) => r.id) as [number, number, number, number, number];
    const expected: Record<string, number[]> = {
      id: [banana, Apple, apple, eclair, cherry],
      price: [Apple, eclair, banana, apple, cherry],
      '-price': [cherry, banana, apple, Apple, eclair],
      // Case and accents do not split the alphabet: Apple = apple (id breaks the tie), Éclair after cherry.
      name: [Apple, apple, banana, cherry, eclair],
      '-name': [eclair, cherry, banana, Apple, apple],
      created_at: [Apple, apple, cherry, banana, eclair],
      '-created_at': [banana, eclair, Apple, apple, cherry],
    };
    for (const [sort, order] of Object.entries(expected)) {
      expect(ids(await list({ q: w, sort })), sort).toEqual(order);
      for (const perPage of ['1', '2', '3']) {
        expect(await walk({ q: w, sort, per_page: perPage }), `${sort} by ${perPage}`).toEqual(order);
      }
      // Offset pages agree with the cursor walk.
      const byPage = [
        ...ids(await list({ q: w, sort, per_page: '2', page: '1' })),
        ...ids(await list({ q: w, sort, per_page: '2', page: '2' })),
        ...ids(await list({ q: w, sort, per_page: '2', page: '3' })),
      ];
      expect(byPage, `${sort} by page`).toEqual(order);
    }
  });

  it('sorts the whole catalogue (no q) by price with a keyset that survives re-pricing of the page edge', async () => {
    const w = tag();
    const cheap = 1 + randomInt(50); // cents: below any other test's default prices
    const a = await makeProduct({ name: `${w} a`, priceCents: cheap });
    const b = await makeProduct({ name: `${w} b`, priceCents: cheap });
    const c = await makeProduct({ name: `${w} c`, priceCents: cheap + 1 });
    const p1 = await list({ q: w, sort: 'price', per_page: '1' });
    expect(ids(p1)).toEqual([a.id]);
    // The product at the cursor's edge changes price: the walk still continues from where it was.
    await updateProduct(db(), a.id, { price: 999 });
    const rest = await list({ q: w, sort: 'price', per_page: '5', cursor: p1.next_cursor ?? '' });
    expect(ids(rest)).toEqual([b.id, c.id, a.id]);
  });
});

describe('paging and totals', () => {
  it('records the sort and filters in the cursor', async () => {
    const w = tag();
    await makeProduct({ name: `${w} one` });
    await makeProduct({ name: `${w} two` });
    const page = await list({ q: w, per_page: '1', sort: '-price', in_stock: 'true' });
    const cursor = decodeCursor(page.next_cursor ?? '');
    expect(cursor?.sort).toBe('-price');
    const same = listProductsQuery.safeParse({
      q: ` ${w} `,
      sort: '-price',
      in_stock: 'true',
      cursor: page.next_cursor,
    });
    expect(same.success).toBe(true);
    for (const other of [
      { q: `${w} one`, sort: '-price', in_stock: 'true' },
      { q: w, sort: 'price', in_stock: 'true' },
      { q: w, in_stock: 'true' },
      { q: w, sort: '-price' },
      { q: w, sort: '-price', in_stock: 'false' },
      { q: w, sort: '-price', in_stock: 'true', min_price: '0' },
      { q: w, sort: '-price', in_stock: 'true', max_price: '100' },
    ]) {
      const r = listProductsQuery.safeParse({ ...other, cursor: page.next_cursor });
      expect(r.success, JSON.stringify(other)).toBe(false);
    }
  });

  it('counts a search with more matches than the cap as the cap, flagged inexact, without counting further', async () => {
    const w = tag();
    const n = EXACT_TOTAL_CAP + 5;
    // Bulk rows straight in SQL (10,005 products one by one would be slow): the live products, their
    // name_key and the one search term the test looks up.
    const digits = sql.raw(
      '(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)',
    );
    await db()
      .transaction()
      .execute(async (trx) => {
        await sql`
          INSERT INTO products (name, name_key, description, price_cents, stock, archived_at, created_at, updated_at)
          SELECT CONCAT(${w}, ' bulk ', s.n), CONCAT(${w}, ' bulk ', s.n), '', 100, 0, NULL, NOW(3), NOW(3)
          FROM (SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d AS n
                FROM ${digits} a CROSS JOIN ${digits} b CROSS JOIN ${digits} c CROSS JOIN ${digits} e CROSS JOIN ${digits} f) s
          WHERE s.n < ${n}`.execute(trx);
        await sql`
          INSERT INTO product_search_terms (term, product_id)
          SELECT ${w}, id FROM products WHERE name LIKE ${`${w} bulk %`}`.execute(trx);
        await sql`UPDATE counters SET value = value + ${n} WHERE name = 'live_products'`.execute(trx);
        await movePriceCounts(trx, [{ priceCents: 100, delta: n }]);
        await sql`INSERT INTO product_search_term_counts (term, products) VALUES (${w}, ${n})`.execute(trx);
      });
    const page = await list({ q: w, per_page: '3' });
    expect(page).toMatchObject({
      total: EXACT_TOTAL_CAP,
      total_is_exact: false,
      total_pages: Math.ceil(EXACT_TOTAL_CAP / 3),
    });
    expect(page.products).toHaveLength(3);
    // Sorted by price: the sort index is walked (many matches), still the first 3 by price then id.
    const byPrice = await list({ q: w, sort: '-price', per_page: '3' });
    expect(byPrice.total_is_exact).toBe(false);
    expect(ids(byPrice)).toEqual(ids(page));
    expect(await countMatching(db(), { search: searchPlanOf(w) }, 7)).toBe(7);
    expect(await countMatching(db(), { search: searchPlanOf(w), inStock: true }, 7)).toBe(0);
    // The unfiltered list stays exact (the maintained counter).
    expect((await list({})).total_is_exact).toBe(true);
  });
});
