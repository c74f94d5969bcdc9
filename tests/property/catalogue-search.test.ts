import { fc, test } from '@fast-check/vitest';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { handler as listProductsHandler } from '../../functions/products/list-products';
import { db } from '../../lib/db/client';
import { SORTS, type Sort } from '../../lib/products/cursor';
import { nameKeyOf, nameMatches } from '../../lib/products/search';
import { archiveProduct, createProduct, updateProduct } from '../../lib/products/service';
import { invoke } from '../../scripts/lib/lambda';
import { makeProduct } from '../support/factories';
import { type IsolatedDatabase, useIsolatedDatabase } from '../support/isolated-db';

/*
 * GET /products against an in-memory model: random catalogues (names with shared prefixes, accents,
 * CJK and emoji; few distinct prices, stocks and creation times, so sort ties are common) and random
 * queries (q, price range, in_stock, sort, per_page). The handler's answer, followed cursor by
 * cursor, must be exactly the model's filtered and sorted list, with the model's total. A second
 * property interleaves writes between pages (creates, archives, re-prices, renames, restocks): every
 * product that matched and did not change meanwhile must come exactly once, in order; after the
 * writes, the totals of the query, of its price range alone and of its q alone are the model's
 * (the last two come from maintained counts).
 * Runs in a database of its own, emptied before each case, so the model is the whole catalogue.
 */

const RUNS = Number(process.env.SEARCH_MODEL_RUNS ?? 40);
/** A cursor walk longer than this many pages is going round in circles. */
const MAX_PAGES = 60;

let isolated: IsolatedDatabase;
beforeAll(async () => {
  isolated = await useIsolatedDatabase('shop_test_search_model');
});
afterAll(async () => {
  await isolated.drop();
});

interface MProduct {
  id: number;
  name: string;
  priceCents: number;
  stock: number;
  createdAt: number;
  archived: boolean;
}

const WORDS = [
  'Café',
  'cafe',
  'Cafetière',
  'decaf',
  'Mug',
  'mugs',
  'TEA',
  'tea',
  'Straße',
  'strasse',
  '杯子',
  '马克杯',
  '☕',
  'Éclair',
];
const PRICES = [100, 250, 999, 1000];
const TIMES = [Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 2), Date.UTC(2026, 0, 3)];
const QUERIES = ['caf', 'cafe', 'CAFÉ', 'mug', 'tea caf', '杯', '杯子', '克杯', '☕', 'strasse', 'eclair', 'zzz', 'a'];

const productSpec = fc.record({
  words: fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 3 }),
  priceCents: fc.constantFrom(...PRICES),
  stock: fc.constantFrom(0, 5),
  createdAt: fc.constantFrom(...TIMES),
});

const querySpec = fc.record({
  q: fc.option(fc.constantFrom(...QUERIES), { nil: undefined }),
  min: fc.option(fc.constantFrom(...PRICES), { nil: undefined }),
  max: fc.option(fc.constantFrom(...PRICES), { nil: undefined }),
  inStock: fc.option(fc.boolean(), { nil: undefined }),
  sort: fc.constantFrom(...SORTS),
  perPage: fc.integer({ min: 1, max: 4 }),
});
type QuerySpec = typeof querySpec extends fc.Arbitrary<infer T> ? T : never;

let serial = 0;
/** A unique name from words (live names must be unique): a number word at the end. */
const nameOf = (words: string[]) => `${words.join(' ')} #${++serial}`;

async function emptyCatalogue(): Promise<void> {
  await sql`DELETE FROM product_search_terms`.execute(db());
  await sql`DELETE FROM stock_movements`.execute(db());
  await sql`DELETE FROM stock_shards`.execute(db());
  await sql`DELETE FROM products`.execute(db());
  await sql`DELETE FROM product_price_counts`.execute(db());
  await sql`DELETE FROM product_search_term_counts`.execute(db());
  await sql`UPDATE counters SET value = 0 WHERE name = 'live_products'`.execute(db());
}

async function seedCatalogue(specs: (typeof productSpec extends fc.Arbitrary<infer T> ? T : never)[]) {
  const model: MProduct[] = [];
  for (const s of specs) {
    const name = nameOf(s.words);
    const row = await makeProduct({ name, priceCents: s.priceCents, stock: s.stock, createdAt: new Date(s.createdAt) });
    model.push({ id: row.id, name, priceCents: s.priceCents, stock: s.stock, createdAt: s.createdAt, archived: false });
  }
  return model;
}

const wire = (q: QuerySpec): Record<string, string> => {
  const out: Record<string, string> = { sort: q.sort, per_page: String(q.perPage) };
  if (q.q !== undefined) out.q = q.q;
  if (q.min !== undefined) out.min_price = (q.min / 100).toFixed(2);
  if (q.max !== undefined) out.max_price = (q.max / 100).toFixed(2);
  if (q.inStock !== undefined) out.in_stock = String(q.inStock);
  return out;
};

const matches = (p: MProduct, q: QuerySpec): boolean =>
  !p.archived &&
  (q.q === undefined || nameMatches(p.name, q.q)) &&
  (q.min === undefined || p.priceCents >= q.min) &&
  (q.max === undefined || p.priceCents <= q.max) &&
  (q.inStock === undefined || (q.inStock ? p.stock > 0 : p.stock === 0));

/** The model's order: the sort's key (name by name_key in code point order), then id ascending. */
function compare(sort: Sort): (a: MProduct, b: MProduct) => number {
  const desc = sort.startsWith('-');
  const field = desc ? sort.slice(1) : sort;
  const key = (p: MProduct): number | Buffer =>
    field === 'price'
      ? p.priceCents
      : field === 'created_at'
        ? p.createdAt
        : field === 'name'
          ? Buffer.from(nameKeyOf(p.name))
          : 0;
  return (a, b) => {
    const ka = key(a);
    const kb = key(b);
    const c = typeof ka === 'number' ? ka - (kb as number) : Buffer.compare(ka, kb as Buffer);
    return (desc ? -c : c) || a.id - b.id;
  };
}

async function page(query: Record<string, string>) {
  const res = await invoke(listProductsHandler, { path: '/products', query });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { products: { id: number }[]; total: number; total_is_exact: boolean; next_cursor: string | null };
}

const validQuery = (q: QuerySpec) => q.min === undefined || q.max === undefined || q.min <= q.max;

describe('GET /products against a model', () => {
  test.prop([fc.array(productSpec, { maxLength: 24 }), querySpec], { numRuns: RUNS })(
    'filters, sorts, counts and cursor-pages exactly as the model',
    async (specs, q) => {
      fc.pre(validQuery(q));
      await emptyCatalogue();
      const model = await seedCatalogue(specs);
      const expected = model
        .filter((p) => matches(p, q))
        .sort(compare(q.sort))
        .map((p) => p.id);

      const seen: number[] = [];
      let body = await page(wire(q));
      expect(body.total).toBe(expected.length);
      expect(body.total_is_exact).toBe(true);
      seen.push(...body.products.map((p) => p.id));
      while (body.next_cursor !== null) {
        expect(seen.length, 'the cursor walk does not end').toBeLessThan(MAX_PAGES * q.perPage);
        body = await page({ ...wire(q), cursor: body.next_cursor });
        seen.push(...body.products.map((p) => p.id));
      }
      expect(seen).toEqual(expected);

      // Offset pages tell the same story.
      const byPage: number[] = [];
      for (let n = 1; n <= Math.ceil(expected.length / q.perPage); n++) {
        byPage.push(...(await page({ ...wire(q), page: String(n) })).products.map((p) => p.id));
      }
      expect(byPage).toEqual(expected);
    },
  );

  const write = fc.oneof(
    fc.record({ kind: fc.constant('create' as const), spec: productSpec }),
    fc.record({ kind: fc.constant('archive' as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant('reprice' as const), pick: fc.nat(), priceCents: fc.constantFrom(...PRICES) }),
    fc.record({
      kind: fc.constant('rename' as const),
      pick: fc.nat(),
      words: fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 2 }),
    }),
    fc.record({ kind: fc.constant('restock' as const), pick: fc.nat(), stock: fc.constantFrom(0, 5) }),
  );

  test.prop([fc.array(productSpec, { minLength: 1, maxLength: 16 }), querySpec, fc.array(write, { maxLength: 12 })], {
    numRuns: RUNS,
  })('with writes between pages: every unchanged match exactly once, in order', async (specs, q, writes) => {
    fc.pre(validQuery(q));
    await emptyCatalogue();
    const model = await seedCatalogue(specs);
    const before = model.filter((p) => matches(p, q)).sort(compare(q.sort));
    const changed = new Set<number>();
    const pending = [...writes];

    /** Applies one write to the catalogue and the model. */
    const apply = async (w: (typeof writes)[number] | undefined): Promise<void> => {
      const live = model.filter((p) => !p.archived);
      const target = w && 'pick' in w && live.length > 0 ? live[w.pick % live.length] : undefined;
      if (w?.kind === 'create') {
        const name = nameOf(w.spec.words);
        const p = await createProduct(db(), {
          name,
          description: '',
          price: w.spec.priceCents / 100,
          stock: w.spec.stock,
        });
        model.push({
          id: p.id,
          name,
          priceCents: w.spec.priceCents,
          stock: w.spec.stock,
          createdAt: Date.parse(p.created_at),
          archived: false,
        });
      } else if (target && w?.kind === 'archive') {
        await archiveProduct(db(), target.id);
        target.archived = true;
        changed.add(target.id);
      } else if (target && w?.kind === 'reprice') {
        await updateProduct(db(), target.id, { price: w.priceCents / 100 });
        target.priceCents = w.priceCents;
        changed.add(target.id);
      } else if (target && w?.kind === 'rename') {
        const name = nameOf(w.words);
        await updateProduct(db(), target.id, { name });
        target.name = name;
        changed.add(target.id);
      } else if (target && w?.kind === 'restock') {
        await updateProduct(db(), target.id, { stock: w.stock });
        target.stock = w.stock;
        changed.add(target.id);
      }
    };

    const seen: number[] = [];
    let body = await page(wire(q));
    seen.push(...body.products.map((p) => p.id));
    while (body.next_cursor !== null) {
      expect(seen.length, 'the cursor walk does not end').toBeLessThan(MAX_PAGES * q.perPage);
      await apply(pending.shift());
      body = await page({ ...wire(q), cursor: body.next_cursor });
      seen.push(...body.products.map((p) => p.id));
    }
    // A product that changed may move past the cursor and come again; one that did not, never.
    const stable = before.filter((p) => !changed.has(p.id)).map((p) => p.id);
    const stableSeen = seen.filter((id) => stable.includes(id));
    expect(stableSeen).toEqual(stable);

    // The rest of the writes, then the totals: of the query, of its price range alone and of its
    // q alone. Price-only and one-term totals come from maintained counts (the price histogram,
    // per-term counts), which every create, archive, re-price and rename above moved.
    for (const w of pending) await apply(w);
    const variants = [
      q,
      { ...q, q: undefined, inStock: undefined },
      { ...q, min: undefined, max: undefined, inStock: undefined },
    ];
    for (const v of variants) {
      const totals = await page(wire(v));
      expect(totals, JSON.stringify(wire(v))).toMatchObject({
        total: model.filter((p) => matches(p, v)).length,
        total_is_exact: true,
      });
    }
  });
});
