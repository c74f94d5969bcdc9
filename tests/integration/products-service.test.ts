import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { config } from '../../lib/config';
import { closeDb, createDb, db } from '../../lib/db/client';
import type { DB } from '../../lib/db/types';
import { AppError } from '../../lib/errors';
import { decodeCursor, encodeCursor, idCursor } from '../../lib/products/cursor';
import { productVersion } from '../../lib/products/present';
import { archiveProduct, createProduct, getProduct, listProducts, updateProduct } from '../../lib/products/service';
import { ledgerSum, liveCounter, makeProduct, shardsOf, stockOf, tableCounts, uniqueName } from '../support/factories';

let wide: Kysely<DB>;

beforeAll(() => {
  // Races need more connections than the Lambda-sized default pool of 2.
  wide = createDb(config().databaseUrl, { poolSize: 12 });
});

afterAll(async () => {
  await wide.destroy();
  await closeDb();
});

const liveCount = async (): Promise<number> => {
  const r = await db()
    .selectFrom('products')
    .select(sql<number>`COUNT(*)`.as('n'))
    .where('archived_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(r.n);
};

const rowOf = (id: number) => db().selectFrom('products').selectAll().where('id', '=', id).executeTakeFirst();

const movementsOf = (id: number) =>
  db()
    .selectFrom('stock_movements')
    .select(['delta', 'reason', 'order_id'])
    .where('product_id', '=', id)
    .orderBy('id')
    .execute();

/** Everything a rejected request must leave alone. */
const snapshot = async (productId?: number) => ({
  counts: await tableCounts(),
  counter: await liveCounter(),
  row: productId === undefined ? undefined : await rowOf(productId),
  shards: productId === undefined ? undefined : await shardsOf(productId),
});

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
  throw new Error('expected a rejection');
};

describe('createProduct', () => {
  it('stores the product with its created movement and counts it live, in one go', async () => {
    const before = { counter: await liveCounter(), t: Date.now() };
    const name = uniqueName('Mug');
    const p = await createProduct(db(), { name, description: 'Big', price: 19.99, stock: 7 });
    expect(p).toMatchObject({ name, description: 'Big', price: 19.99, stock: 7, stock_shards: 1 });
    expect(Number.isInteger(p.id) && p.id > 0).toBe(true);
    expect(p.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(p.updated_at).toBe(p.created_at);
    expect(Date.parse(p.created_at)).toBeGreaterThanOrEqual(before.t);
    expect(Date.parse(p.created_at)).toBeLessThanOrEqual(Date.now());

    const row = await rowOf(p.id);
    expect(row).toMatchObject({ price_cents: 1999, archived_at: null, live_name: name });
    expect(await shardsOf(p.id)).toEqual([7]);
    expect(await movementsOf(p.id)).toEqual([{ delta: 7, reason: 'created', order_id: null }]);
    expect(await liveCounter()).toBe(before.counter + 1);
    // What create returns is exactly what a later read returns (same ETag for If-Match).
    expect(await getProduct(db(), p.id)).toEqual(p);
  });

  it('round-trips a Unicode name and exact prices', async () => {
    const name = `Café ☕ 杯子 ${uniqueName('')}`;
    const p = await createProduct(db(), { name, description: 'Ünïcødé 🍵', price: 0.1, stock: 0 });
    const back = await getProduct(db(), p.id);
    expect(back.name).toBe(name);
    expect(back.description).toBe('Ünïcødé 🍵');
    expect(back.price).toBe(0.1);
    const max = await createProduct(db(), {
      name: uniqueName(),
      description: '',
      price: 99_999_999.99,
      stock: 1_000_000_000,
    });
    expect(await getProduct(db(), max.id)).toMatchObject({ price: 99_999_999.99, stock: 1_000_000_000 });
  });

  it('writes no movement for a product created with no stock (the ledger sums to 0)', async () => {
    const p = await createProduct(db(), { name: uniqueName(), description: '', price: 1, stock: 0 });
    expect(await movementsOf(p.id)).toEqual([]);
    expect(await ledgerSum(p.id)).toBe(0);
  });

  it('refuses a second live product of one name with product_name_taken and changes nothing', async () => {
    const existing = await makeProduct();
    const before = await snapshot(existing.id);
    expect(await codeOf(createProduct(db(), { name: existing.name, description: '', price: 1, stock: 5 }))).toBe(
      'product_name_taken',
    );
    expect(await snapshot(existing.id)).toEqual(before);
  });

  it('treats names byte-exactly: other case or accents are other products', async () => {
    const tag = uniqueName('');
    // Same letters but for case, accents (precomposed é, decomposed e + U+0301) or both.
    const names = ['Café', 'cafe', 'CAFÉ', 'Cafe', 'Cafe\u0301', 'CAFE'].map((n) => `${n}${tag}`);
    const made = [];
    for (const name of names) made.push(await createProduct(db(), { name, description: '', price: 1, stock: 1 }));
    expect(made.map((p) => p.name)).toEqual(names);
    expect(new Set(made.map((p) => p.id)).size).toBe(names.length);
  });

  it('lets an archived product’s name be used again', async () => {
    const old = await makeProduct({ archived: true });
    const p = await createProduct(db(), { name: old.name, description: '', price: 2, stock: 1 });
    expect(p.name).toBe(old.name);
  });

  it('race: parallel creates of one name yield exactly one product', async () => {
    const name = uniqueName('Race');
    const counterBefore = await liveCounter();
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () => createProduct(wide, { name, description: '', price: 3, stock: 4 })),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const taken = results.filter(
      (r) => r.status === 'rejected' && r.reason instanceof AppError && r.reason.code === 'product_name_taken',
    );
    expect(ok).toHaveLength(1);
    expect(taken).toHaveLength(11);
    const rows = await db().selectFrom('products').select('id').where('name', '=', name).execute();
    expect(rows).toHaveLength(1);
    const id = Number(rows[0]?.id);
    expect(await movementsOf(id)).toHaveLength(1);
    expect(await liveCounter()).toBe(counterBefore + 1);
  });
});

describe('getProduct', () => {
  it('returns a live product with price from cents', async () => {
    const row = await makeProduct({ priceCents: 1999, stock: 3 });
    expect(await getProduct(db(), row.id)).toEqual({
      id: row.id,
      name: row.name,
      description: row.description,
      price: 19.99,
      stock: 3,
      stock_shards: 1,
      created_at: row.created_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
    });
  });

  it('answers product_not_found for a missing or an archived product', async () => {
    const archived = await makeProduct({ archived: true });
    expect(await codeOf(getProduct(db(), archived.id))).toBe('product_not_found');
    expect(await codeOf(getProduct(db(), 2 ** 52))).toBe('product_not_found');
  });
});

describe('listProducts', () => {
  it('walks live products by ascending id with cursors, skipping archived ones, to a null next_cursor', async () => {
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await makeProduct({ archived: i === 2 }));
    const first = made[0]?.id ?? 0;
    const live = made.filter((_, i) => i !== 2).map((p) => p.id);

    const start = encodeCursor(idCursor(first - 1, 0));
    const p1 = await listProducts(db(), { per_page: 2, cursor: decodeCursor(start) });
    expect(p1.products.map((p) => p.id)).toEqual(live.slice(0, 2));
    expect(p1.current_page).toBe(1);
    expect(p1.next_cursor).not.toBeNull();

    const p2 = await listProducts(db(), { per_page: 2, cursor: decodeCursor(p1.next_cursor ?? '') });
    expect(p2.products.map((p) => p.id)).toEqual(live.slice(2, 4));
    expect(p2.current_page).toBe(2);
    // Exactly per_page rows were left: there is no next page.
    expect(p2.next_cursor).toBeNull();
  });

  it('reports the maintained live count as total, equal to a real count', async () => {
    await makeProduct();
    await makeProduct({ archived: true });
    const page = await listProducts(db(), { per_page: 7 });
    const live = await liveCount();
    expect(page.total).toBe(live);
    expect(page.total_pages).toBe(Math.ceil(live / 7));
    expect(page.per_page).toBe(7);
    expect(page.current_page).toBe(1);
  });

  it('defaults to page 1 of 10', async () => {
    for (let i = 0; i < 11; i++) await makeProduct();
    const page = await listProducts(db(), {});
    expect(page.current_page).toBe(1);
    expect(page.per_page).toBe(10);
    expect(page.products).toHaveLength(10);
    expect(page.next_cursor).not.toBeNull();
  });

  it('gives the same rows by page as by cursor, and a page’s next_cursor continues after it', async () => {
    for (let i = 0; i < 9; i++) await makeProduct();
    const byPage2 = await listProducts(db(), { page: 2, per_page: 3 });
    const byPage3 = await listProducts(db(), { page: 3, per_page: 3 });
    const byCursor = await listProducts(db(), { per_page: 3, cursor: decodeCursor(byPage2.next_cursor ?? '') });
    expect(byCursor.products).toEqual(byPage3.products);
    expect(byCursor.current_page).toBe(3);
    expect(byCursor.next_cursor).toBe(byPage3.next_cursor);
    const ids = [...byPage2.products, ...byPage3.products].map((p) => p.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('returns an empty page, not an error, past the end', async () => {
    await makeProduct();
    const { total_pages } = await listProducts(db(), { per_page: 100 });
    const past = await listProducts(db(), { page: total_pages + 1, per_page: 100 });
    expect(past.products).toEqual([]);
    expect(past.next_cursor).toBeNull();
    expect(past.current_page).toBe(total_pages + 1);
    const beyond = await listProducts(db(), { cursor: idCursor(Number.MAX_SAFE_INTEGER, 0) });
    expect(beyond.products).toEqual([]);
    expect(beyond.next_cursor).toBeNull();
  });
});

describe('updateProduct', () => {
  it('changes only the fields sent, bumps updated_at and records a stock change as an adjusted movement', async () => {
    const row = await makeProduct({ stock: 10, priceCents: 500 });
    const before = await getProduct(db(), row.id);
    await new Promise((r) => setTimeout(r, 5));
    const p = await updateProduct(db(), row.id, { price: 12.34, stock: 4 });
    expect(p).toMatchObject({ id: row.id, name: row.name, description: row.description, price: 12.34, stock: 4 });
    expect(p.created_at).toBe(before.created_at);
    expect(Date.parse(p.updated_at)).toBeGreaterThan(Date.parse(before.updated_at));
    expect(await getProduct(db(), row.id)).toEqual(p);
    expect(await movementsOf(row.id)).toEqual([
      { delta: 10, reason: 'created', order_id: null },
      { delta: -6, reason: 'adjusted', order_id: null },
    ]);
    expect(await ledgerSum(row.id)).toBe(await stockOf(row.id));
  });

  it('writes no movement when stock is not changed', async () => {
    const row = await makeProduct({ stock: 10 });
    await updateProduct(db(), row.id, { stock: 10, description: 'new' });
    expect(await movementsOf(row.id)).toHaveLength(1);
  });

  it('allows renaming to its own name and to an archived product’s name', async () => {
    const row = await makeProduct();
    await expect(updateProduct(db(), row.id, { name: row.name })).resolves.toMatchObject({ name: row.name });
    const archived = await makeProduct({ archived: true });
    await expect(updateProduct(db(), row.id, { name: archived.name })).resolves.toMatchObject({ name: archived.name });
  });

  it('refuses a name another live product has (409) and changes nothing', async () => {
    const a = await makeProduct();
    const b = await makeProduct({ stock: 3 });
    const before = await snapshot(b.id);
    expect(await codeOf(updateProduct(db(), b.id, { name: a.name, stock: 9 }))).toBe('product_name_taken');
    expect(await snapshot(b.id)).toEqual(before);
  });

  it('applies when the expected versions hold the current one, or with *', async () => {
    const row = await makeProduct();
    const version = productVersion(await getProduct(db(), row.id));
    const p = await updateProduct(db(), row.id, { stock: 1 }, [version]);
    expect(p.stock).toBe(1);
    await expect(updateProduct(db(), row.id, { stock: 2 }, '*')).resolves.toMatchObject({ stock: 2 });
    await expect(
      updateProduct(db(), row.id, { stock: 3 }, ['nope', productVersion(await getProduct(db(), row.id))]),
    ).resolves.toMatchObject({
      stock: 3,
    });
  });

  it('answers precondition_failed for a stale version (or none) and writes nothing', async () => {
    const row = await makeProduct({ stock: 5 });
    const stale = productVersion(await getProduct(db(), row.id));
    await updateProduct(db(), row.id, { description: 'changed since' });
    const before = await snapshot(row.id);
    expect(await codeOf(updateProduct(db(), row.id, { stock: 1 }, [stale]))).toBe('precondition_failed');
    // A weak If-Match tag leaves no version to expect: nothing matches.
    expect(await codeOf(updateProduct(db(), row.id, { stock: 1 }, []))).toBe('precondition_failed');
    expect(await snapshot(row.id)).toEqual(before);
  });

  it('answers product_not_found for missing and archived products, even expecting any version (*)', async () => {
    const archived = await makeProduct({ archived: true });
    const before = await snapshot(archived.id);
    expect(await codeOf(updateProduct(db(), archived.id, { stock: 1 }, '*'))).toBe('product_not_found');
    expect(await codeOf(updateProduct(db(), 2 ** 52, { stock: 1 }))).toBe('product_not_found');
    expect(await snapshot(archived.id)).toEqual(before);
  });

  it('race: parallel updates expecting one version let exactly one through', async () => {
    const row = await makeProduct({ stock: 100 });
    const version = productVersion(await getProduct(db(), row.id));
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => updateProduct(wide, row.id, { stock: 200 + i }, [version])),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter(
      (r) => r.status === 'rejected' && r.reason instanceof AppError && r.reason.code === 'precondition_failed',
    );
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(9);
    expect(await movementsOf(row.id)).toHaveLength(2);
    expect(await ledgerSum(row.id)).toBe(await stockOf(row.id));
  });

  it('race: parallel stock sets without If-Match keep the ledger equal to stock', async () => {
    const row = await makeProduct({ stock: 50 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => updateProduct(wide, row.id, { stock: i * 7 })));
    expect(await ledgerSum(row.id)).toBe(await stockOf(row.id));
  });
});

describe('archiveProduct', () => {
  it('archives a live product: gone from reads and from the live count, still in the table', async () => {
    const row = await makeProduct();
    const counter = await liveCounter();
    await archiveProduct(db(), row.id);
    expect(await liveCounter()).toBe(counter - 1);
    expect(await codeOf(getProduct(db(), row.id))).toBe('product_not_found');
    const stored = await rowOf(row.id);
    expect(stored?.archived_at).toBeInstanceOf(Date);
    expect(stored?.live_name).toBeNull();
    expect(stored?.updated_at.getTime()).toBe(stored?.archived_at?.getTime());
  });

  it('answers product_not_found for an archived or missing product and changes nothing', async () => {
    const row = await makeProduct({ archived: true });
    const before = await snapshot(row.id);
    expect(await codeOf(archiveProduct(db(), row.id))).toBe('product_not_found');
    expect(await codeOf(archiveProduct(db(), 2 ** 52))).toBe('product_not_found');
    expect(await snapshot(row.id)).toEqual(before);
  });

  it('race: parallel archives of one product archive it once and count it once', async () => {
    const row = await makeProduct();
    const counter = await liveCounter();
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => archiveProduct(wide, row.id)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await liveCounter()).toBe(counter - 1);
  });

  it('race: creates and archives in parallel keep the counter equal to the live count', async () => {
    const victims = await Promise.all(Array.from({ length: 8 }, () => makeProduct()));
    expect(await liveCounter()).toBe(await liveCount());
    await Promise.all([
      ...victims.map((v) => archiveProduct(wide, v.id)),
      ...Array.from({ length: 16 }, () =>
        createProduct(wide, { name: uniqueName(), description: '', price: 1, stock: 1 }),
      ),
    ]);
    expect(await liveCounter()).toBe(await liveCount());
  });
});
