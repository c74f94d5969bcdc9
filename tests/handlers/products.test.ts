import { afterAll, describe, expect, it } from 'vitest';
import { handler as createProduct } from '../../functions/products/create-product';
import { handler as deleteProduct } from '../../functions/products/delete-product';
import { handler as getProduct } from '../../functions/products/get-product';
import { handler as listProducts } from '../../functions/products/list-products';
import { handler as updateProduct } from '../../functions/products/update-product';
import { config } from '../../lib/config';
import { closeDb, db } from '../../lib/db/client';
import { encodeCursor, idCursor } from '../../lib/products/cursor';
import { type EventOptions, invoke, type Reply } from '../../scripts/lib/lambda';
import { liveCounter, makeProduct, tableCounts, uniqueName } from '../support/factories';

afterAll(async () => {
  await closeDb();
});

const PROBLEM = 'application/problem+json';
const STRONG_ETAG = /^"[A-Za-z0-9_-]+"$/;

const list = (query: Record<string, string> = {}, headers: Record<string, string> = {}) =>
  invoke(listProducts, { path: '/products', query, headers });

const get = (id: number | string, headers: Record<string, string> = {}) =>
  invoke(getProduct, { path: `/products/${id}`, route: '/products/{id}', pathParameters: { id: String(id) }, headers });

const create = (json: unknown, o: Partial<EventOptions> = {}) =>
  invoke(createProduct, { method: 'POST', path: '/products', admin: true, json, ...o });

const patch = (id: number | string, json: unknown, o: Partial<EventOptions> = {}) =>
  invoke(updateProduct, {
    method: 'PATCH',
    path: `/products/${id}`,
    route: '/products/{id}',
    pathParameters: { id: String(id) },
    admin: true,
    json,
    ...o,
  });

const remove = (id: number | string, o: Partial<EventOptions> = {}) =>
  invoke(deleteProduct, {
    method: 'DELETE',
    path: `/products/${id}`,
    route: '/products/{id}',
    pathParameters: { id: String(id) },
    admin: true,
    ...o,
  });

const rowOf = (id: number) => db().selectFrom('products').selectAll().where('id', '=', id).executeTakeFirst();

const snapshot = async (id?: number) => ({
  counts: await tableCounts(),
  counter: await liveCounter(),
  row: id === undefined ? undefined : await rowOf(id),
});

/** A problem+json reply with the given status and code, whose request_id is the X-Request-Id. */
const expectProblem = (res: Reply<any>, status: number, code: string) => {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toBe(PROBLEM);
  expect(res.body).toMatchObject({ status, code, type: `https://errors.shop.example/${code.replaceAll('_', '-')}` });
  expect(res.headers['x-request-id']).toBeTruthy();
  expect(res.body.request_id).toBe(res.headers['x-request-id']);
};

/** The fields named in `errors` (a field breaking two rules appears twice there, once here). */
const paths = (res: Reply<any>): string[] =>
  [...new Set((res.body.errors as { path: string }[]).map((e) => e.path))].sort();

const validBody = () => ({ name: uniqueName('Mug'), description: 'A mug', price: 19.99, stock: 10 });

describe('GET /products', () => {
  it('answers the Flask-compatible page shape with a strong ETag, Cache-Control and X-Request-Id', async () => {
    await makeProduct();
    const res = await list();
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(res.body).sort()).toEqual([
      'current_page',
      'next_cursor',
      'per_page',
      'products',
      'total',
      'total_is_exact',
      'total_pages',
    ]);
    expect(res.body).toMatchObject({ current_page: 1, per_page: 10, total_is_exact: true });
    expect(res.headers.etag).toMatch(STRONG_ETAG);
    expect(res.headers['cache-control']).toBe(`public, max-age=${config().cacheMaxAgeS}`);
    expect(res.headers['x-request-id']).toBeTruthy();
  });

  it('answers 304 without a body to a matching If-None-Match (also a weak or listed tag)', async () => {
    const first = await list({ per_page: '5' });
    const etag = first.headers.etag ?? '';
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`]) {
      const res = await list({ per_page: '5' }, { 'if-none-match': inm });
      expect(res.status).toBe(304);
      expect(res.text).toBeUndefined();
      expect(res.headers.etag).toBe(etag);
      expect(res.headers['cache-control']).toBe(`public, max-age=${config().cacheMaxAgeS}`);
      expect(res.headers['x-request-id']).toBeTruthy();
    }
  });

  it('answers 200 with a new ETag once the catalogue changed', async () => {
    const before = await list({ per_page: '5' });
    await makeProduct(); // total changes
    const after = await list({ per_page: '5' }, { 'if-none-match': before.headers.etag ?? '' });
    expect(after.status).toBe(200);
    expect(after.headers.etag).not.toBe(before.headers.etag);
  });

  it('pages by cursor: next_cursor leads to the following live products in id order', async () => {
    const a = await makeProduct();
    const b = await makeProduct({ archived: true });
    const c = await makeProduct();
    const d = await makeProduct();
    const start = encodeCursor(idCursor(a.id - 1, 0));
    const p1 = await list({ cursor: start, per_page: '2' });
    expect(p1.status).toBe(200);
    expect(p1.body.products.map((p: { id: number }) => p.id)).toEqual([a.id, c.id]);
    expect(p1.body.products.map((p: { id: number }) => p.id)).not.toContain(b.id);
    const p2 = await list({ cursor: p1.body.next_cursor, per_page: '2' });
    expect(p2.body.products.map((p: { id: number }) => p.id)).toEqual([d.id]);
    expect(p2.body.next_cursor).toBeNull();
    expect(p2.body.current_page).toBe(2);
  });

  it('answers an empty products array past the last page', async () => {
    const res = await list({ page: '1000000000', per_page: '100' });
    expect(res.status).toBe(200);
    expect(res.body.products).toEqual([]);
    expect(res.body.next_cursor).toBeNull();
    expect(res.body.current_page).toBe(1_000_000_000);
  });

  it.each([
    [{ page: '0' }, ['page']],
    [{ per_page: '1000' }, ['per_page']],
    [{ page: 'abc' }, ['page']],
    [{ page: '0', per_page: '0' }, ['page', 'per_page']],
    [{ cursor: 'garbage' }, ['cursor']],
    [{ cursor: encodeCursor(idCursor(1, 0)), page: '2' }, ['cursor']],
    [{ color: 'red' }, ['color']],
    [{ sort: 'price_desc' }, ['sort']],
  ])('answers 400 validation_failed for %j, listing %j', async (query, expected) => {
    const res = await list(query);
    expectProblem(res, 400, 'validation_failed');
    expect(paths(res)).toEqual(expected);
  });
});

describe('POST /products', () => {
  it('creates: 201, the product, Location and an ETag that GET agrees with', async () => {
    const body = validBody();
    const counter = await liveCounter();
    const res = await create({ ...body, name: `  ${body.name}  ` });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toMatchObject(body);
    expect(res.headers.location).toBe(`/products/${res.body.id}`);
    expect(res.headers['x-request-id']).toBeTruthy();
    expect(await liveCounter()).toBe(counter + 1);
    const back = await get(res.body.id);
    expect(back.body).toEqual(res.body);
    expect(back.headers.etag).toBe(res.headers.etag);
  });

  it('stores a Unicode name and a 2-decimal price unchanged', async () => {
    const name = `Café ☕ 杯子 ${uniqueName('')}`;
    const res = await create({ name, price: 19.99, stock: 1 });
    expect(res.status).toBe(201);
    const back = await get(res.body.id);
    expect(back.text).toContain('"price":19.99,');
    expect(back.body).toMatchObject({ name, description: '', price: 19.99 });
  });

  it('answers 409 product_name_taken for a live name and changes nothing', async () => {
    const existing = await makeProduct();
    const before = await snapshot();
    const res = await create({ ...validBody(), name: existing.name });
    expectProblem(res, 409, 'product_name_taken');
    expect(await snapshot()).toEqual(before);
  });

  it('race: parallel POSTs of one name give exactly one 201 and 409 for the rest', async () => {
    const body = validBody();
    const replies = await Promise.all(Array.from({ length: 8 }, () => create(body)));
    expect(replies.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    const rows = await db().selectFrom('products').select('id').where('name', '=', body.name).execute();
    expect(rows).toHaveLength(1);
  });

  it('answers 400 listing every problem, unknown fields included, and writes nothing', async () => {
    const before = await snapshot();
    const res = await create({ name: ' ', price: 1.005, stock: -1, id: 9, stock_level: 3 });
    expectProblem(res, 400, 'validation_failed');
    expect(paths(res)).toEqual(['id', 'name', 'price', 'stock', 'stock_level']);
    for (const e of res.body.errors) expect(typeof e.message).toBe('string');
    expect(await snapshot()).toEqual(before);
  });

  it('answers 400 when required fields are missing', async () => {
    const res = await create({});
    expectProblem(res, 400, 'validation_failed');
    expect(paths(res)).toEqual(['name', 'price', 'stock']);
  });

  it('answers 415 to a non-JSON body, 400 malformed_json to broken JSON, 413 over 64 KiB', async () => {
    const before = await snapshot();
    expectProblem(
      await create(undefined, { rawBody: 'name=x', headers: { 'content-type': 'text/plain' } }),
      415,
      'unsupported_media_type',
    );
    expectProblem(
      await create(undefined, { rawBody: '{"name": "x",', headers: { 'content-type': 'application/json' } }),
      400,
      'malformed_json',
    );
    const big = JSON.stringify({ ...validBody(), description: 'x'.repeat(70_000) });
    expectProblem(
      await create(undefined, { rawBody: big, headers: { 'content-type': 'application/json' } }),
      413,
      'payload_too_large',
    );
    expect(await snapshot()).toEqual(before);
  });

  it('answers 401 with WWW-Authenticate before looking at the body (missing or wrong key)', async () => {
    const before = await snapshot();
    const cases: Partial<EventOptions>[] = [
      { admin: false },
      { admin: false, headers: { authorization: 'Bearer wrong-key' } },
      { admin: false, headers: { authorization: 'Basic ZGV2OmtleQ==' } },
      { admin: false, rawBody: 'not json', headers: { 'content-type': 'text/plain' } },
      { admin: false, rawBody: '{broken', headers: { 'content-type': 'application/json' } },
    ];
    for (const o of cases) {
      const res = await create(o.rawBody === undefined ? { ...validBody(), bogus: 1 } : undefined, o);
      expectProblem(res, 401, 'unauthorized');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe('GET /products/{id}', () => {
  it('answers the product with ETag and Cache-Control, and 304 to a matching If-None-Match', async () => {
    const row = await makeProduct({ priceCents: 1999, stock: 4 });
    const res = await get(row.id);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: row.id,
      name: row.name,
      description: '',
      price: 19.99,
      stock: 4,
      stock_shards: 1,
      created_at: row.created_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
    });
    expect(res.headers.etag).toMatch(STRONG_ETAG);
    expect(res.headers['cache-control']).toBe(`public, max-age=${config().cacheMaxAgeS}`);
    const again = await get(row.id, { 'if-none-match': res.headers.etag ?? '' });
    expect(again.status).toBe(304);
    expect(again.text).toBeUndefined();
    expect(again.headers['x-request-id']).toBeTruthy();
  });

  it('answers 404 product_not_found for a missing or archived product', async () => {
    const archived = await makeProduct({ archived: true });
    expectProblem(await get(archived.id), 404, 'product_not_found');
    expectProblem(await get(9_007_199_254_740_991), 404, 'product_not_found');
  });

  it.each(['abc', '0', '-1', '1.5', '1e3', '9007199254740992'])('answers 400 for id %s', async (id) => {
    const res = await get(id);
    expectProblem(res, 400, 'validation_failed');
    expect(paths(res)).toEqual(['id']);
  });
});

describe('PATCH /products/{id}', () => {
  it('updates the fields sent and answers the product with its new ETag', async () => {
    const row = await makeProduct({ stock: 10 });
    const res = await patch(row.id, { price: 5.5, stock: 3 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: row.id,
      name: row.name,
      price: 5.5,
      stock: 3,
      created_at: row.created_at.toISOString(),
    });
    const back = await get(row.id);
    expect(back.body).toEqual(res.body);
    expect(res.headers.etag).toBe(back.headers.etag);
  });

  it('applies with the current ETag in If-Match', async () => {
    const row = await makeProduct();
    const { headers } = await get(row.id);
    const res = await patch(row.id, { description: 'fresh' }, { headers: { 'if-match': headers.etag ?? '' } });
    expect(res.status).toBe(200);
    expect(res.body.description).toBe('fresh');
  });

  it('answers 412 precondition_failed to a stale If-Match and writes nothing', async () => {
    const row = await makeProduct({ stock: 10 });
    const stale = (await get(row.id)).headers.etag ?? '';
    expect((await patch(row.id, { description: 'someone else' })).status).toBe(200);
    const before = await snapshot(row.id);
    const res = await patch(row.id, { stock: 99 }, { headers: { 'if-match': stale } });
    expectProblem(res, 412, 'precondition_failed');
    expect(await snapshot(row.id)).toEqual(before);
  });

  it('answers 409 for a name another live product has, and writes nothing', async () => {
    const a = await makeProduct();
    const b = await makeProduct();
    const before = await snapshot(b.id);
    expectProblem(await patch(b.id, { name: a.name }), 409, 'product_name_taken');
    expect(await snapshot(b.id)).toEqual(before);
  });

  it('answers 400 for an empty patch, unknown fields, and a bad id with a bad body (both listed)', async () => {
    const row = await makeProduct();
    const before = await snapshot(row.id);
    expectProblem(await patch(row.id, {}), 400, 'validation_failed');
    const unknown = await patch(row.id, { stock: 1, id: 5 });
    expectProblem(unknown, 400, 'validation_failed');
    expect(paths(unknown)).toEqual(['id']);
    const both = await patch('x', { price: 0 });
    expect(paths(both)).toEqual(['id', 'price']);
    expect(await snapshot(row.id)).toEqual(before);
  });

  it('answers 404 for an archived product', async () => {
    const row = await makeProduct({ archived: true });
    expectProblem(await patch(row.id, { stock: 1 }), 404, 'product_not_found');
  });

  it('answers 401 before 400 or 415 without a valid key', async () => {
    const row = await makeProduct();
    const before = await snapshot(row.id);
    const noKey = await patch(row.id, {}, { admin: false });
    expectProblem(noKey, 401, 'unauthorized');
    expect(noKey.headers['www-authenticate']).toMatch(/^Bearer/);
    expectProblem(
      await patch('x', undefined, { admin: false, rawBody: 'x', headers: { 'content-type': 'text/plain' } }),
      401,
      'unauthorized',
    );
    expect(await snapshot(row.id)).toEqual(before);
  });
});

describe('DELETE /products/{id}', () => {
  it('archives: 204 without a body, then GET is 404 and a second DELETE is 404', async () => {
    const row = await makeProduct();
    const counter = await liveCounter();
    const res = await remove(row.id);
    expect(res.status).toBe(204);
    expect(res.text).toBeUndefined();
    expect(res.headers['x-request-id']).toBeTruthy();
    expect(await liveCounter()).toBe(counter - 1);
    expectProblem(await get(row.id), 404, 'product_not_found');
    const before = await snapshot(row.id);
    expectProblem(await remove(row.id), 404, 'product_not_found');
    expect(await snapshot(row.id)).toEqual(before);
  });

  it('answers 400 for a bad id and 401 without a key, changing nothing', async () => {
    const row = await makeProduct();
    const before = await snapshot(row.id);
    expectProblem(await remove('0'), 400, 'validation_failed');
    const res = await remove(row.id, { admin: false });
    expectProblem(res, 401, 'unauthorized');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(await snapshot(row.id)).toEqual(before);
  });
});
