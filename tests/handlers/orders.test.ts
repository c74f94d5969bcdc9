import { afterAll, describe, expect, it } from 'vitest';
import { handler as cancelOrder } from '../../functions/orders/cancel-order';
import { handler as createOrder } from '../../functions/orders/create-order';
import { handler as getOrder } from '../../functions/orders/get-order';
import { handler as listOrders } from '../../functions/orders/list-orders';
import { closeDb } from '../../lib/db/client';
import { ledgerSum, makeProduct, stockOf, tableCounts } from '../support/factories';
import { invoke } from '../../scripts/lib/lambda';

afterAll(async () => {
  await closeDb();
});

const post = (json: unknown, headers: Record<string, string> = {}) =>
  invoke(createOrder, { method: 'POST', path: '/orders', json, headers });
const get = (id: string) => invoke(getOrder, { path: `/orders/${id}`, route: '/orders/{id}', pathParameters: { id } });
const cancel = (id: string, admin = true) =>
  invoke(cancelOrder, {
    method: 'POST',
    path: `/orders/${id}/cancel`,
    route: '/orders/{id}/cancel',
    pathParameters: { id },
    admin,
  });

describe('POST /orders', () => {
  it('creates the order: 201, Location, unit prices and totals in exact decimals, stock taken', async () => {
    const mug = await makeProduct({ name: `Café ☕ 杯子 ${Date.now()}`, priceCents: 1999, stock: 10 });
    const tea = await makeProduct({ priceCents: 10, stock: 5 });
    const res = await post({
      products: [
        { product_id: mug.id, quantity: 3 },
        { product_id: tea.id, quantity: 1 },
      ],
    });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toContain('application/json');
    expect(res.headers['x-request-id']).toBeTruthy();
    expect(res.body.id).toMatch(/^ord_[a-z2-7]{26}$/);
    expect(res.headers.location).toBe(`/orders/${res.body.id}`);
    expect(res.body).toMatchObject({
      status: 'confirmed',
      products: [
        { product_id: mug.id, name: mug.name, quantity: 3, price: 19.99, line_total: 59.97 },
        { product_id: tea.id, name: tea.name, quantity: 1, price: 0.1, line_total: 0.1 },
      ],
      total_price: 60.07,
      cancelled_at: null,
    });
    expect(res.text).toContain('"total_price":60.07');
    expect(new Date(res.body.created_at).toISOString()).toBe(res.body.created_at);
    expect(await stockOf(mug.id)).toBe(7);
    expect(await stockOf(tea.id)).toBe(4);
    expect(await ledgerSum(mug.id)).toBe(7);
  });

  it('rejects every short line at once with 409 insufficient_stock and changes nothing', async () => {
    const a = await makeProduct({ stock: 2 });
    const b = await makeProduct({ stock: 0 });
    const c = await makeProduct({ stock: 50 });
    const before = await tableCounts();
    const res = await post({
      products: [
        { product_id: c.id, quantity: 1 },
        { product_id: b.id, quantity: 1 },
        { product_id: a.id, quantity: 5 },
      ],
    });
    expect(res.status).toBe(409);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.body.code).toBe('insufficient_stock');
    expect(res.body.errors).toEqual([
      { product_id: a.id, requested: 5, available: 2 },
      { product_id: b.id, requested: 1, available: 0 },
    ]);
    expect(await tableCounts()).toEqual(before);
    expect([await stockOf(a.id), await stockOf(b.id), await stockOf(c.id)]).toEqual([2, 0, 50]);
  });

  it('rejects every unknown or archived product with 422 unknown_product and changes nothing', async () => {
    const live = await makeProduct({ stock: 5 });
    const archived = await makeProduct({ stock: 5, archived: true });
    const missing = 2 ** 40;
    const before = await tableCounts();
    const res = await post({
      products: [
        { product_id: missing, quantity: 1 },
        { product_id: live.id, quantity: 1 },
        { product_id: archived.id, quantity: 1 },
      ],
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('unknown_product');
    expect(res.body.errors).toEqual([{ product_id: archived.id }, { product_id: missing }]);
    expect(await tableCounts()).toEqual(before);
    expect(await stockOf(live.id)).toBe(5);
  });

  it('reports unknown products (422) rather than short lines when an order has both', async () => {
    const short = await makeProduct({ stock: 0 });
    const res = await post({
      products: [
        { product_id: short.id, quantity: 1 },
        { product_id: 2 ** 41, quantity: 1 },
      ],
    });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ product_id: 2 ** 41 }]);
  });

  it('lists every validation problem at once, including each repeated product_id, and writes nothing', async () => {
    const before = await tableCounts();
    const res = await post({
      products: [
        { product_id: 1, quantity: 0 },
        { product_id: 1, quantity: 2 },
        { product_id: -3, quantity: 1.5 },
        { product_id: 4, quantity: 10_001, stock: 1 },
        { product_id: 4, quantity: 1 },
      ],
      id: 'ord_x',
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    const paths = (res.body.errors as Array<{ path: string }>).map((e) => e.path).sort();
    expect(paths).toEqual(
      [
        'id',
        'products.0.quantity',
        'products.1.product_id',
        'products.2.product_id',
        'products.2.quantity',
        'products.3.quantity',
        'products.3.stock',
        'products.4.product_id',
      ].sort(),
    );
    expect(await tableCounts()).toEqual(before);
  });

  it.each([
    ['an empty order', { products: [] }, 'products'],
    ['no products field', {}, 'products'],
    [
      '101 lines',
      { products: Array.from({ length: 101 }, (_, i) => ({ product_id: i + 1, quantity: 1 })) },
      'products',
    ],
    ['a string quantity', { products: [{ product_id: 1, quantity: '2' }] }, 'products.0.quantity'],
    ['a negative quantity', { products: [{ product_id: 1, quantity: -2 }] }, 'products.0.quantity'],
    ['a missing product_id', { products: [{ quantity: 2 }] }, 'products.0.product_id'],
    [
      'a product_id beyond the safe integers',
      { products: [{ product_id: 2 ** 60, quantity: 1 }] },
      'products.0.product_id',
    ],
    ['a body that is an array', [{ product_id: 1, quantity: 1 }], ''],
  ])('rejects %s with 400 validation_failed naming the path', async (_name, json, path) => {
    const res = await post(json);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect((res.body.errors as Array<{ path: string }>).map((e) => e.path)).toContain(path);
  });

  it('gives 415 without a JSON content type and 400 malformed_json for a broken body', async () => {
    const noType = await invoke(createOrder, {
      method: 'POST',
      path: '/orders',
      rawBody: '{"products":[{"product_id":1,"quantity":1}]}',
      headers: { 'content-type': 'text/plain' },
    });
    expect(noType.status).toBe(415);
    const broken = await invoke(createOrder, {
      method: 'POST',
      path: '/orders',
      rawBody: '{"products":[',
      headers: { 'content-type': 'application/json' },
    });
    expect(broken.status).toBe(400);
    expect(broken.body.code).toBe('malformed_json');
  });

  it('accepts a 100-line order and takes every line', async () => {
    const products = await Promise.all(Array.from({ length: 100 }, () => makeProduct({ stock: 3, priceCents: 101 })));
    const res = await post({ products: products.map((p) => ({ product_id: p.id, quantity: 2 })) });
    expect(res.status).toBe(201);
    expect(res.body.products).toHaveLength(100);
    expect(res.body.total_price).toBe(202);
    for (const p of products.slice(0, 5)) expect(await stockOf(p.id)).toBe(1);
  });
});

describe('GET /orders/{id}', () => {
  it('returns the order as it was created', async () => {
    const p = await makeProduct({ stock: 5, priceCents: 250 });
    const created = await post({ products: [{ product_id: p.id, quantity: 2 }] });
    const res = await get(created.body.id);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(created.body);
  });

  it('gives 404 order_not_found for an unknown id and for a string that cannot be an order id', async () => {
    for (const id of ['ord_aaaaaaaaaaaaaaaaaaaaaaaaaa', 'nope', 'ord_UPPERCASE']) {
      const res = await get(id);
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('order_not_found');
      expect(res.headers['content-type']).toBe('application/problem+json');
    }
  });
});

describe('POST /orders/{id}/cancel', () => {
  it('needs the admin key: 401 with WWW-Authenticate, nothing restored', async () => {
    const p = await makeProduct({ stock: 5 });
    const created = await post({ products: [{ product_id: p.id, quantity: 2 }] });
    const res = await cancel(created.body.id, false);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(await stockOf(p.id)).toBe(3);
  });

  it('cancels once: stock comes back, a second cancel returns the order unchanged and restores nothing', async () => {
    const a = await makeProduct({ stock: 5 });
    const b = await makeProduct({ stock: 5 });
    const created = await post({
      products: [
        { product_id: b.id, quantity: 2 },
        { product_id: a.id, quantity: 1 },
      ],
    });
    const first = await cancel(created.body.id);
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('cancelled');
    expect(first.body.cancelled_at).toEqual(expect.any(String));
    expect(first.body.products).toEqual(created.body.products);
    expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([5, 5]);
    const second = await cancel(created.body.id);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect([await stockOf(a.id), await stockOf(b.id)]).toEqual([5, 5]);
    expect([await ledgerSum(a.id), await ledgerSum(b.id)]).toEqual([5, 5]);
    expect((await get(created.body.id)).body).toEqual(first.body);
  });

  it('gives 404 order_not_found for an unknown order', async () => {
    const res = await cancel('ord_bbbbbbbbbbbbbbbbbbbbbbbbbb');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('order_not_found');
  });
});

describe('GET /orders', () => {
  it('needs the admin key', async () => {
    const res = await invoke(listOrders, { path: '/orders' });
    expect(res.status).toBe(401);
  });

  it('pages newest first with the seed field names and every order’s lines', async () => {
    const p = await makeProduct({ stock: 10 });
    const ids: string[] = [];
    for (let i = 1; i <= 3; i++) ids.push((await post({ products: [{ product_id: p.id, quantity: i }] })).body.id);
    const res = await invoke(listOrders, { path: '/orders', query: { page: '1', per_page: '2' }, admin: true });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['current_page', 'orders', 'per_page', 'total', 'total_pages']);
    expect(res.body.current_page).toBe(1);
    expect(res.body.per_page).toBe(2);
    expect(res.body.total).toBeGreaterThanOrEqual(3);
    expect(res.body.total_pages).toBe(Math.ceil(res.body.total / 2));
    // Nothing else writes orders while this file runs, so the newest two are ours.
    expect(res.body.orders.map((o: { id: string }) => o.id)).toEqual([ids[2], ids[1]]);
    expect(res.body.orders[0].products).toEqual([expect.objectContaining({ product_id: p.id, quantity: 3 })]);
    const page2 = await invoke(listOrders, { path: '/orders', query: { page: '2', per_page: '2' }, admin: true });
    expect(page2.body.orders[0].id).toBe(ids[0]);
  });

  it('returns an empty page past the end and 400 for bad paging', async () => {
    const past = await invoke(listOrders, { path: '/orders', query: { page: '1000000' }, admin: true });
    expect(past.status).toBe(200);
    expect(past.body.orders).toEqual([]);
    const bad: Array<Record<string, string>> = [{ page: '0' }, { per_page: '101' }, { page: 'abc' }, { sort: 'x' }];
    for (const query of bad) {
      const res = await invoke(listOrders, { path: '/orders', query, admin: true });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
    }
  });
});
