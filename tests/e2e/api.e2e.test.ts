import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEV_ADMIN_API_KEY } from '../../lib/config';
import { type Offline, startOffline } from '../../scripts/lib/offline';
import { devOfflineFlags } from '../../scripts/lib/offline-flags';

/**
 * The contract over real HTTP: serverless-offline with the real serverless.yml and esbuild
 * bundles, the way `npm run dev` serves it (its flags: handlers in process). serverless-offline answers some things itself (it
 * turns a matching-ETag 200 into a 304, fills in a missing Content-Type), so those are also
 * tested at the handler level, where API Gateway's behaviour is what counts.
 */
let api: Offline;
const admin = { authorization: `Bearer ${DEV_ADMIN_API_KEY}` };
const jsonHeaders = { 'content-type': 'application/json' };

beforeAll(async () => {
  api = await startOffline({ databaseUrl: inject('databaseUrl'), flags: devOfflineFlags({}) });
});

afterAll(async () => {
  await api?.stop();
});

async function call(method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${api.baseUrl}${path}`, {
    method,
    headers: { ...(init.body !== undefined ? jsonHeaders : {}), ...init.headers },
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
  });
  const text = await res.text();
  const ct = res.headers.get('content-type') ?? '';
  const body: any = text && ct.includes('json') ? JSON.parse(text) : text;
  return { status: res.status, headers: res.headers, body };
}

async function newProduct(stock = 10, price = 19.99) {
  const res = await call('POST', '/products', {
    headers: admin,
    body: { name: `E2E ${randomUUID()}`, description: 'Over HTTP', price, stock },
  });
  expect(res.status).toBe(201);
  return res.body as { id: number; name: string; stock: number };
}

describe('products over HTTP', () => {
  it('creates a product with Location, reads it back with ETag, and Unicode survives', async () => {
    const name = `Café ☕ 杯子 ${randomUUID()}`;
    const created = await call('POST', '/products', { headers: admin, body: { name, price: 4.35, stock: 3 } });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/products/${created.body.id}`);
    expect(created.headers.get('x-request-id')).toBeTruthy();
    expect(created.body).toMatchObject({ name, price: 4.35, stock: 3, description: '' });

    const got = await call('GET', `/products/${created.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body.name).toBe(name);
    const etag = got.headers.get('etag');
    expect(etag).toMatch(/^"/);
    expect(got.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);

    const again = await call('GET', `/products/${created.body.id}`, { headers: { 'if-none-match': etag ?? '' } });
    expect(again.status).toBe(304);
  });

  it('lists with the Flask field names and pages with next_cursor', async () => {
    await newProduct();
    await newProduct();
    const page = await call('GET', '/products?page=1&per_page=1');
    expect(page.status).toBe(200);
    expect(Object.keys(page.body).sort()).toEqual(
      ['current_page', 'next_cursor', 'per_page', 'products', 'total', 'total_is_exact', 'total_pages'].sort(),
    );
    expect(page.body.products).toHaveLength(1);
    const next = await call('GET', `/products?per_page=1&cursor=${encodeURIComponent(page.body.next_cursor)}`);
    expect(next.status).toBe(200);
    expect(next.body.products[0].id).toBeGreaterThan(page.body.products[0].id);
  });

  it('rejects bad input with problem+json and stable codes', async () => {
    const bad = await call('GET', '/products?page=0');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('application/problem+json');
    expect(bad.body.code).toBe('validation_failed');
    expect(bad.body.request_id).toBe(bad.headers.get('x-request-id'));

    const noKey = await call('POST', '/products', { body: { name: 'x', price: 1, stock: 1 } });
    expect(noKey.status).toBe(401);
    expect(noKey.headers.get('www-authenticate')).toMatch(/^Bearer/);

    const malformed = await call('POST', '/products', { headers: admin, body: '{"name": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('malformed_json');

    const text = await call('POST', '/products', {
      headers: { ...admin, 'content-type': 'text/plain' },
      body: 'name=x',
    });
    expect(text.status).toBe(415);

    const huge = await call('POST', '/products', {
      headers: admin,
      body: { name: 'x', description: 'y'.repeat(70_000), price: 1, stock: 1 },
    });
    expect(huge.status).toBe(413);
  });

  it('empty and non-object bodies are 400s over HTTP (serverless-offline hands the handler body: null), never a 5xx', async () => {
    const product = await newProduct();
    const routes: Array<[string, string, Record<string, string>]> = [
      ['POST', '/orders', {}],
      ['POST', '/products', admin],
      ['PATCH', `/products/${product.id}`, admin],
    ];
    for (const [method, path, headers] of routes) {
      for (const body of ['', undefined]) {
        const res = await call(method, path, { headers: { ...headers, ...jsonHeaders }, body });
        expect(res.status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`).toBe(400);
        expect(res.body.code).toBe('malformed_json');
      }
      for (const body of ['[]', '1', '0', 'true', 'false']) {
        const res = await call(method, path, { headers, body });
        expect(res.status, `${method} ${path} ${body}: ${JSON.stringify(res.body)}`).toBe(400);
        expect(res.body.code).toBe('validation_failed');
      }
      // serverless-offline JSON-parses the body first and hands some results over as they are: `null`
      // arrives as `body: null`, like no body at all, but with its Content-Length of 4, which tells
      // them apart: 400 validation_failed, as on API Gateway. The string `"x"` arrives as the text
      // `x`: 400 malformed_json here, 400 validation_failed on API Gateway (handler-level tests).
      {
        const res = await call(method, path, { headers, body: 'null' });
        expect(res.status, `${method} ${path} null: ${JSON.stringify(res.body)}`).toBe(400);
        expect(res.body.code).toBe('validation_failed');
      }
      {
        const res = await call(method, path, { headers, body: '"x"' });
        expect(res.status, `${method} ${path} "x": ${JSON.stringify(res.body)}`).toBe(400);
        expect(res.body.code).toBe('malformed_json');
      }
    }
  });

  it('matches the media type case-insensitively, with spaces around ";"', async () => {
    for (const contentType of [
      'Application/JSON',
      'application/json ; charset=UTF-8',
      'APPLICATION/JSON;CHARSET=utf-8',
    ]) {
      const res = await call('POST', '/products', {
        headers: { ...admin, 'content-type': contentType },
        body: { name: `E2E ${randomUUID()}`, price: 1, stock: 1 },
      });
      expect(res.status, `${contentType}: ${JSON.stringify(res.body)}`).toBe(201);
    }
    for (const contentType of ['application/jsonx', 'text/json', 'application/json; charset=latin1']) {
      const res = await call('POST', '/products', {
        headers: { ...admin, 'content-type': contentType },
        body: { name: `E2E ${randomUUID()}`, price: 1, stock: 1 },
      });
      expect(res.status, contentType).toBe(415);
    }
  });

  it('PATCH with a stale If-Match is 412; DELETE archives (then 404)', async () => {
    const p = await newProduct();
    const got = await call('GET', `/products/${p.id}`);
    const etag = got.headers.get('etag') ?? '';
    const ok = await call('PATCH', `/products/${p.id}`, {
      headers: { ...admin, 'if-match': etag },
      body: { stock: 7 },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.stock).toBe(7);
    const stale = await call('PATCH', `/products/${p.id}`, {
      headers: { ...admin, 'if-match': etag },
      body: { stock: 1 },
    });
    expect(stale.status).toBe(412);
    expect(stale.body.code).toBe('precondition_failed');

    const del = await call('DELETE', `/products/${p.id}`, { headers: admin });
    expect(del.status).toBe(204);
    const gone = await call('GET', `/products/${p.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe('product_not_found');
  });
});

describe('orders over HTTP', () => {
  it('places an order (201, Location), reads it, and cancels it with stock restored', async () => {
    const a = await newProduct(5, 19.99);
    const b = await newProduct(5, 0.1);
    const placed = await call('POST', '/orders', {
      body: {
        products: [
          { product_id: a.id, quantity: 2 },
          { product_id: b.id, quantity: 3 },
        ],
      },
    });
    expect(placed.status).toBe(201);
    const order = placed.body;
    expect(order.id).toMatch(/^ord_[a-z2-7]{26}$/);
    expect(placed.headers.get('location')).toBe(`/orders/${order.id}`);
    expect(order.status).toBe('confirmed');
    expect(order.total_price).toBe(40.28);
    expect(order.cancelled_at).toBeNull();

    const got = await call('GET', `/orders/${order.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(order);

    expect((await call('GET', `/products/${a.id}`)).body.stock).toBe(3);

    const cancelled = await call('POST', `/orders/${order.id}/cancel`, { headers: admin });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect((await call('GET', `/products/${a.id}`)).body.stock).toBe(5);
    expect((await call('GET', `/products/${b.id}`)).body.stock).toBe(5);

    const list = await call('GET', '/orders?per_page=5', { headers: admin });
    expect(list.status).toBe(200);
    expect(list.body.orders.map((o: { id: string }) => o.id)).toContain(order.id);
  });

  it('409 insufficient_stock lists every short line and changes nothing', async () => {
    const a = await newProduct(1);
    const b = await newProduct(2);
    const res = await call('POST', '/orders', {
      body: {
        products: [
          { product_id: a.id, quantity: 5 },
          { product_id: b.id, quantity: 3 },
        ],
      },
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('insufficient_stock');
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { product_id: a.id, requested: 5, available: 1 },
        { product_id: b.id, requested: 3, available: 2 },
      ]),
    );
    expect((await call('GET', `/products/${a.id}`)).body.stock).toBe(1);
  });

  it('replays an order for a repeated Idempotency-Key', async () => {
    const p = await newProduct(5);
    const key = `e2e-${randomUUID()}`;
    const body = { products: [{ product_id: p.id, quantity: 1 }] };
    const first = await call('POST', '/orders', { headers: { 'idempotency-key': key }, body });
    const second = await call('POST', '/orders', { headers: { 'idempotency-key': key }, body });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect((await call('GET', `/products/${p.id}`)).body.stock).toBe(4);
  });

  it('unknown orders are 404 and admin lists need the key', async () => {
    const missing = await call('GET', '/orders/ord_aaaaaaaaaaaaaaaaaaaaaaaaaa');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('order_not_found');
    const noKey = await call('GET', '/orders');
    expect(noKey.status).toBe(401);
  });
});

describe('system routes over HTTP', () => {
  it('GET /health answers 200 with the database ok and a request id', async () => {
    const res = await fetch(`${api.baseUrl}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', database: 'ok' });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('an unknown path is a 404 route_not_found problem', async () => {
    const res = await fetch(`${api.baseUrl}/no/such/thing`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = (await res.json()) as { code: string; request_id: string };
    expect(body.code).toBe('route_not_found');
    expect(body.request_id).toBe(res.headers.get('x-request-id'));
  });

  it('a known path with the wrong method is a 405 with Allow', async () => {
    const res = await fetch(`${api.baseUrl}/health`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
    expect(((await res.json()) as { code: string }).code).toBe('method_not_allowed');
  });

  it('every response carries a distinct X-Request-Id', async () => {
    const ids = await Promise.all(
      [1, 2, 3].map(async () => (await fetch(`${api.baseUrl}/health`)).headers.get('x-request-id')),
    );
    expect(new Set(ids).size).toBe(3);
  });
});

/** The curl tour of docs/api.md, run verbatim (only the base URL swapped). */
function docsTour(): string {
  const page = readFileSync(join(__dirname, '..', '..', 'docs', 'api.md'), 'utf8');
  const m = /<!-- tour:start -->\s*```bash\n([\s\S]*?)```\s*<!-- tour:end -->/.exec(page);
  if (!m?.[1]) throw new Error('docs/api.md has no tour block between <!-- tour:start --> and <!-- tour:end -->');
  return m[1];
}

describe('docs/api.md curl tour', () => {
  it('runs as written and every request gets the status the page says', async () => {
    const script = docsTour();
    expect(script).toContain('B=http://localhost:5002\n');
    const { stdout } = await promisify(execFile)(
      'bash',
      ['-c', script.replace('B=http://localhost:5002\n', `B=${api.baseUrl}\n`)],
      {
        maxBuffer: 10 * 1024 * 1024,
      },
    );
    // Bodies end without a newline, so a status line may follow a body on the same line.
    const statuses = [...stdout.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    expect(statuses).toEqual([
      200, 304, 200, 200, 200, 200, 412, 200, 409, 201, 201, 200, 200, 204, 404, 401, 400, 404,
    ]);
    expect(stdout).toMatch(/^idempotent-replayed: true/im);
    expect(stdout).toContain('"code":"insufficient_stock"');
    expect(stdout).toContain('Café ☕ 杯子');
  });
});
