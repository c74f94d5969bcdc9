import type { Kysely, KyselyPlugin } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { handler as listOrdersHandler } from '../../functions/orders/list-orders';
import { handler as listProductsHandler } from '../../functions/products/list-products';
import { closeDb, db } from '../../lib/db/client';
import type { DB } from '../../lib/db/types';
import { listOrders, placeOrder } from '../../lib/orders/service';
import { listProducts } from '../../lib/products/service';
import { invoke } from '../../scripts/lib/lambda';
import { makeProduct } from '../support/factories';

/**
 * Page numbers up to 2^53 − 1 (issue 11 §3): a page past the end is 200 with an empty list, and it
 * costs nothing: the total already says the page is empty, so no OFFSET query runs.
 */
afterAll(async () => {
  await closeDb();
});

const MAX_PAGE = Number.MAX_SAFE_INTEGER; // 9,007,199,254,740,991

/** The database with every statement it sends recorded as SQL text. */
function recorded(database: Kysely<DB>): { database: Kysely<DB>; statements: string[] } {
  const statements: string[] = [];
  const plugin: KyselyPlugin = {
    transformQuery: ({ node, queryId }) => {
      statements.push(database.getExecutor().compileQuery(node, queryId).sql);
      return node;
    },
    transformResult: async ({ result }) => result,
  };
  return { database: database.withPlugin(plugin), statements };
}

const offsetQueries = (statements: string[]) => statements.filter((s) => /\boffset\b/i.test(s));
/** Statements that read a window of rows (page 1 has a LIMIT but no OFFSET). */
const listQueries = (statements: string[]) => statements.filter((s) => /\blimit\b/i.test(s));

describe('GET /products paging', () => {
  it('a page past the end runs no list query; a page inside runs one', async () => {
    await makeProduct();
    const { database, statements } = recorded(db());
    const inside = await listProducts(database, { page: 1, per_page: 1 });
    expect(inside.products).toHaveLength(1);
    expect(listQueries(statements)).toHaveLength(1); // the recorder sees list queries

    for (const page of [MAX_PAGE, inside.total + 1, Math.ceil(inside.total / 100) + 1]) {
      statements.length = 0;
      const past = await listProducts(database, { page, per_page: page === inside.total + 1 ? 1 : 100 });
      expect(past.products).toEqual([]);
      expect(past.current_page).toBe(page);
      expect(past.total).toBeGreaterThan(0);
      expect(listQueries(statements), statements.join('\n')).toEqual([]);
      expect(statements).toHaveLength(1); // the maintained total
    }
  });

  it('page=9007199254740991 is 200 with an empty list; one more is 400', async () => {
    const res = await invoke(listProductsHandler, { path: '/products', query: { page: String(MAX_PAGE) } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ products: [], current_page: MAX_PAGE, next_cursor: null });
    for (const page of ['9007199254740992', '9007199254740993', '99999999999999999', '2147483647']) {
      const r = await invoke(listProductsHandler, { path: '/products', query: { page } });
      expect(r.status, page).toBe(page === '2147483647' ? 200 : 400);
    }
  });
});

describe('GET /orders paging', () => {
  it('a page past the end runs no list query (the count says it is empty); a page inside runs one', async () => {
    const product = await makeProduct({ stock: 10 });
    await placeOrder(db(), { products: [{ product_id: product.id, quantity: 1 }] });
    const { database, statements } = recorded(db());
    const inside = await listOrders(database, { page: 1, per_page: 1 });
    expect(inside.orders).toHaveLength(1);
    expect(offsetQueries(statements)).toHaveLength(1);

    for (const page of [MAX_PAGE, inside.total + 1]) {
      statements.length = 0;
      const past = await listOrders(database, { page, per_page: 1 });
      expect(past.orders).toEqual([]);
      expect(past.current_page).toBe(page);
      expect(offsetQueries(statements), statements.join('\n')).toEqual([]);
      expect(statements).toHaveLength(1); // the count
    }
  });

  it('page=9007199254740991 is 200 with an empty list; one more is 400', async () => {
    const res = await invoke(listOrdersHandler, { path: '/orders', query: { page: String(MAX_PAGE) }, admin: true });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ orders: [], current_page: MAX_PAGE });
    const over = await invoke(listOrdersHandler, { path: '/orders', query: { page: '9007199254740992' }, admin: true });
    expect(over.status).toBe(400);
  });
});
