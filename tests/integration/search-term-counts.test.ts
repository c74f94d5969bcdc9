import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, db } from '../../lib/db/client';
import type { DB } from '../../lib/db/types';
import { ProductNotFoundError } from '../../lib/errors';
import { insertProducts } from '../../lib/products/repository';
import type { ListProductsQuery } from '../../lib/products/schema';
import { listProductsQuery } from '../../lib/products/schema';
import { countTerm } from '../../lib/products/search-index';
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
 * Per-term counts (docs/decisions/0015-maintained-search-counts.md): a `q` of one term and no other
 * filter takes its total from product_search_term_counts, kept by every write of a name. Its own
 * database, so each count can be compared with the term's rows and the check-invariants rule after
 * every kind of write. Each test uses words of its own.
 */
let isolated: IsolatedDatabase | undefined;
let wide: Kysely<DB>;

beforeAll(async () => {
  isolated = await useIsolatedDatabase('shop_term_counts');
  wide = createDb(isolated.url, { poolSize: 8 });
}, 120_000);

afterAll(async () => {
  await wide?.destroy();
  await isolated?.drop();
}, 120_000);

const CAP = EXACT_TOTAL_CAP + 1;
const list = (query: Record<string, string>) => listProducts(db(), listProductsQuery.parse(query) as ListProductsQuery);

/** The count row of each term (undefined: none). */
async function countsOf(terms: string[]): Promise<Record<string, number | undefined>> {
  const rows = await db()
    .selectFrom('product_search_term_counts')
    .select(['term', 'products'])
    .where('term', 'in', terms)
    .execute();
  const got = new Map(rows.map((r) => [r.term, Number(r.products)]));
  return Object.fromEntries(terms.map((t) => [t, got.get(t)]));
}

async function expectInvariants(): Promise<void> {
  const report = await checkInvariants(db());
  expect(report.violations.map(formatViolation)).toEqual([]);
}

describe('per-term counts', () => {
  it('follow creates, renames and archives, one term at a time, leaving no row at 0', async () => {
    const a = await createProduct(db(), { name: 'Wombat wool', description: '', price: 3, stock: 1 });
    const b = await makeProduct({ name: 'Wombat walnut' });
    await makeProduct({ name: 'Wombat archived', archived: true });
    expect(await countsOf(['w', 'wo', 'wombat', 'wool', 'walnut', 'wa', 'archived'])).toEqual({
      w: 2, // a term counts products, not words: "Wombat wool" has `w` once
      wo: 2,
      wombat: 2,
      wool: 1,
      walnut: 1,
      wa: 1,
      archived: undefined,
    });
    expect(await list({ q: 'wombat' })).toMatchObject({ total: 2, total_is_exact: true });
    expect(await list({ q: 'WOOL' })).toMatchObject({ total: 1, total_is_exact: true });
    await expectInvariants();

    // A rename moves only the terms that change.
    await updateProduct(db(), a.id, { name: 'Wombat wallaby' });
    expect(await countsOf(['wool', 'woo', 'wa', 'wal', 'wall', 'wombat'])).toEqual({
      wool: undefined,
      woo: undefined,
      wa: 2,
      wal: 2,
      wall: 1,
      wombat: 2,
    });
    expect(await list({ q: 'wal' })).toMatchObject({ total: 2, total_is_exact: true });
    await expectInvariants();

    await archiveProduct(db(), b.id);
    expect(await countsOf(['wombat', 'walnut', 'wal', 'w'])).toEqual({
      wombat: 1,
      walnut: undefined,
      wal: 1,
      w: 1,
    });
    expect(await list({ q: 'walnut' })).toMatchObject({ total: 0, total_is_exact: true, products: [] });
    const zero = await db()
      .selectFrom('product_search_term_counts')
      .select('term')
      .where('products', '<=', 0)
      .execute();
    expect(zero).toEqual([]);
    await expectInvariants();
  });

  it('give the cap past 10,000 products, exact at 10,000; several words or other filters are counted', async () => {
    const at = new Date();
    for (let done = 0; done < CAP; done += 2_500) {
      const rows = Array.from({ length: Math.min(2_500, CAP - done) }, (_, i) => {
        const k = done + i;
        return {
          name: `Quokka ${k}${k % 1_000 === 0 ? ' quirky' : ''}`,
          description: '',
          price_cents: k < 5_000 ? 500 : 900,
          stock: k % 2,
          archived_at: null,
          created_at: at,
          updated_at: at,
        };
      });
      await db()
        .transaction()
        .execute((trx) => insertProducts(trx, rows));
    }
    expect(await list({ q: 'quokka', per_page: '3' })).toMatchObject({
      total: EXACT_TOTAL_CAP,
      total_is_exact: false,
      total_pages: Math.ceil(EXACT_TOTAL_CAP / 3),
    });
    expect(await list({ q: 'QUOK' })).toMatchObject({ total: EXACT_TOTAL_CAP, total_is_exact: false });
    expect(await countTerm(db(), 'quokka', CAP)).toBe(CAP);
    expect(await countTerm(db(), 'quokka', 5)).toBe(5);
    expect(await countTerm(db(), 'nosuchterm', CAP)).toBe(0);
    // Two words, or a word with a price or in_stock: counted from the terms and rows, exact.
    expect(await list({ q: 'quokka quirky' })).toMatchObject({ total: 11, total_is_exact: true });
    expect(await list({ q: 'quokka', max_price: '5' })).toMatchObject({ total: 5_000, total_is_exact: true });
    expect(await list({ q: 'quokka', in_stock: 'true', min_price: '9' })).toMatchObject({
      total: 2_500,
      total_is_exact: true,
    });
    expect(await list({ q: 'quirky' })).toMatchObject({ total: 11, total_is_exact: true });

    // One archived: exactly 10,000 now.
    const first = await db()
      .selectFrom('products')
      .select('id')
      .where('name', '=', 'Quokka 0 quirky')
      .executeTakeFirst();
    await archiveProduct(db(), Number(first?.id));
    expect(await list({ q: 'quokka' })).toMatchObject({ total: EXACT_TOTAL_CAP, total_is_exact: true });
    expect(await list({ q: 'quirky' })).toMatchObject({ total: 10, total_is_exact: true });
    await expectInvariants();
  }, 120_000);

  it('stay exact under concurrent creates, renames and archives sharing prefixes (several connections)', async () => {
    const words = ['Kettle', 'Kestrel', 'Kelp', 'Kiwi', 'Koala'];
    const made = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        createProduct(wide, { name: `${words[i % 5]} race ${i}`, description: '', price: 1, stock: 1 }),
      ),
    );
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      const target = made[i % made.length]?.id as number;
      const name = `${words[(i * 3) % 5]} ${words[(i * 7 + 1) % 5]} race r${i}`;
      if (i % 10 === 9) ops.push(archiveProduct(wide, target).catch((err: unknown) => err));
      else if (i % 3 === 0)
        ops.push(createProduct(wide, { name: `${words[i % 5]} race new ${i}`, description: '', price: 1, stock: 1 }));
      else ops.push(updateProduct(wide, target, { name }).catch((err: unknown) => err));
    }
    const results = await Promise.all(ops);
    // An archive may beat a later rename of the same product to it (404): nothing else fails.
    expect(results.filter((r) => r instanceof Error && !(r instanceof ProductNotFoundError))).toEqual([]);
    const { rows } = await sql<{ n: unknown }>`
      SELECT COUNT(*) AS n FROM product_search_terms WHERE term = 'k'`.execute(db());
    expect(Number(rows[0]?.n)).toBeGreaterThan(20);
    expect(await list({ q: 'k' })).toMatchObject({ total: Number(rows[0]?.n), total_is_exact: true });
    await expectInvariants();
  }, 60_000);
});
