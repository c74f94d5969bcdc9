import { randomInt } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { handler as listProducts } from '../../functions/products/list-products';
import { config } from '../../lib/config';
import { closeDb } from '../../lib/db/client';
import { encodeCursor, idCursor } from '../../lib/products/cursor';
import { invoke, type Reply } from '../../scripts/lib/lambda';
import { makeProduct } from '../support/factories';

/*
 * GET /products search, filters and sorting through the real handler and API Gateway v2 events.
 * Products are named with a word of each test's own, which every query includes.
 */

afterAll(async () => {
  await closeDb();
});

const tag = (): string => Array.from({ length: 10 }, () => String.fromCharCode(97 + randomInt(26))).join('');

const list = (query: Record<string, string>, headers: Record<string, string> = {}) =>
  invoke(listProducts, { path: '/products', query, headers });

const listPairs = (queryPairs: Array<[string, string]>) => invoke(listProducts, { path: '/products', queryPairs });

const ids = (res: Reply<any>): number[] => res.body.products.map((p: { id: number }) => p.id);

/** The 400 validation_failed problem, with the distinct paths it lists. */
const problemPaths = (res: Reply<any>): string[] => {
  expect(res.status).toBe(400);
  expect(res.headers['content-type']).toBe('application/problem+json');
  expect(res.body.code).toBe('validation_failed');
  return [...new Set((res.body.errors as { path: string }[]).map((e) => e.path))].sort();
};

describe('GET /products with search, filters and sort', () => {
  it('combines q, price range, in_stock and sort, and answers the page shape with total_is_exact', async () => {
    const w = tag();
    const a = await makeProduct({ name: `${w} Café mug`, priceCents: 1200, stock: 5 });
    const b = await makeProduct({ name: `${w} cafetière`, priceCents: 2500, stock: 1 });
    await makeProduct({ name: `${w} café sold out`, priceCents: 1500, stock: 0 });
    await makeProduct({ name: `${w} café premium`, priceCents: 9900, stock: 3 });
    await makeProduct({ name: `${w} tea mug`, priceCents: 1300, stock: 3 });
    const res = await list({ q: `${w} cafe`, min_price: '10', max_price: '25', in_stock: 'true', sort: '-price' });
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual([b.id, a.id]);
    expect(res.body).toMatchObject({
      total: 2,
      total_is_exact: true,
      total_pages: 1,
      current_page: 1,
      next_cursor: null,
    });
  });

  it('serves a search with a strong ETag and Cache-Control, and 304 for a matching If-None-Match', async () => {
    const w = tag();
    await makeProduct({ name: `${w} lamp` });
    const first = await list({ q: w, sort: 'name' });
    expect(first.status).toBe(200);
    expect(first.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(first.headers['cache-control']).toBe(`public, max-age=${config().cacheMaxAgeS}`);
    const again = await list({ q: w, sort: 'name' }, { 'if-none-match': first.headers.etag ?? '' });
    expect(again.status).toBe(304);
    expect(again.text).toBeFalsy();
    await makeProduct({ name: `${w} lamp shade` });
    const changed = await list({ q: w, sort: 'name' }, { 'if-none-match': first.headers.etag ?? '' });
    expect(changed.status).toBe(200);
  });

  it('follows next_cursor through a sorted search to the end, and refuses it with other filters', async () => {
    const w = tag();
    const made = [];
    for (const [i, price] of [300, 100, 200, 100].entries())
      made.push(await makeProduct({ name: `${w} x${i}`, priceCents: price }));
    const order = [made[1], made[3], made[2], made[0]].map((p) => p?.id);
    const seen: number[] = [];
    let res = await list({ q: w, sort: 'price', per_page: '1' });
    seen.push(...ids(res));
    while (res.body.next_cursor) {
      const cursor = res.body.next_cursor as string;
      res = await list({ q: w, sort: 'price', per_page: '1', cursor });
      expect(res.status).toBe(200);
      seen.push(...ids(res));
      expect(problemPaths(await list({ q: w, sort: '-price', cursor }))).toEqual(['cursor']);
      expect(problemPaths(await list({ q: `${w} x`, sort: 'price', cursor }))).toEqual(['cursor']);
      expect(problemPaths(await list({ q: w, sort: 'price', in_stock: 'true', cursor }))).toEqual(['cursor']);
    }
    expect(seen).toEqual(order);
  });

  it('matches nothing (200, empty, exact) for a q of punctuation only', async () => {
    const res = await list({ q: '?!' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ products: [], total: 0, total_is_exact: true, next_cursor: null });
  });
});

describe('GET /products bad search input: 400 validation_failed listing every problem', () => {
  it.each<[string, Record<string, string>, string[]]>([
    ['an empty q', { q: '' }, ['q']],
    ['a q of spaces only', { q: '   ' }, ['q']],
    ['a q of 101 characters', { q: 'a'.repeat(101) }, ['q']],
    ['a negative min_price', { min_price: '-1' }, ['min_price']],
    ['a min_price with 3 decimals', { min_price: '1.999' }, ['min_price']],
    ['a min_price in exponent form', { min_price: '1e3' }, ['min_price']],
    ['a max_price that is not a number', { max_price: 'cheap' }, ['max_price']],
    ['a max_price above the largest price', { max_price: '100000000' }, ['max_price']],
    ['an empty max_price', { max_price: '' }, ['max_price']],
    ['min_price above max_price', { min_price: '20', max_price: '10' }, ['min_price']],
    ['in_stock that is not true or false', { in_stock: 'yes' }, ['in_stock']],
    ['in_stock in capitals', { in_stock: 'TRUE' }, ['in_stock']],
    ['an unknown sort', { sort: 'stock' }, ['sort']],
    ['a sort with a + sign', { sort: '+price' }, ['sort']],
    ['a cursor of the plain list with a sort', { sort: 'price', cursor: encodeCursor(idCursor(1, 0)) }, ['cursor']],
    [
      'a cursor of the plain list with a filter',
      { in_stock: 'true', cursor: encodeCursor(idCursor(1, 0)) },
      ['cursor'],
    ],
  ])('%s', async (_label, query, expected) => {
    expect(problemPaths(await list(query))).toEqual(expected);
  });

  it('lists every bad parameter of one request at once', async () => {
    const res = await list({
      q: '',
      min_price: '-1',
      max_price: 'x',
      in_stock: 'maybe',
      sort: 'cheapest',
      per_page: '0',
      colour: 'red',
    });
    expect(problemPaths(res)).toEqual(['colour', 'in_stock', 'max_price', 'min_price', 'per_page', 'q', 'sort']);
  });

  it('checks the rules between parameters even when another parameter is bad', async () => {
    const res = await list({
      in_stock: 'maybe',
      min_price: '20',
      max_price: '10',
      page: '2',
      cursor: encodeCursor(idCursor(1, 0)),
    });
    expect(problemPaths(res)).toEqual(['cursor', 'in_stock', 'min_price']);
    const messages = (res.body.errors as { message: string }[]).map((e) => e.message);
    expect(messages).toContain('min_price must not be greater than max_price');
    expect(messages).toContain('cursor cannot be combined with page');
  });

  it('refuses repeated parameters, which API Gateway would hand over comma-joined', async () => {
    const res = await listPairs([
      ['q', 'mug'],
      ['q', 'cup'],
      ['sort', 'price'],
      ['sort', '-price'],
      ['in_stock', 'true'],
    ]);
    expect(problemPaths(res)).toEqual(['q', 'sort']);
    expect(res.body.errors).toContainEqual({ path: 'q', message: 'q must be given at most once' });
    // One q that contains a comma is one search, not a repeat.
    const w = tag();
    const p = await makeProduct({ name: `${w} mug, blue` });
    const one = await listPairs([['q', `${w} mug,blue`]]);
    expect(one.status).toBe(200);
    expect(ids(one)).toEqual([p.id]);
  });

  it('refuses a repeated page or per_page too', async () => {
    const res = await listPairs([
      ['page', '1'],
      ['page', '2'],
      ['per_page', '5'],
      ['per_page', '5'],
    ]);
    expect(problemPaths(res)).toEqual(['page', 'per_page']);
  });
});
