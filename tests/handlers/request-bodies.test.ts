import { afterAll, describe, expect, it } from 'vitest';
import { handler as createOrder } from '../../functions/orders/create-order';
import { handler as createProduct } from '../../functions/products/create-product';
import { handler as updateProduct } from '../../functions/products/update-product';
import { closeDb } from '../../lib/db/client';
import { type EventOptions, invoke } from '../../scripts/lib/lambda';
import { makeProduct, tableCounts } from '../support/factories';

/**
 * Every handler that takes a body, with the body shapes the gateways really send: serverless-offline
 * hands over `body: null` for an empty body, API Gateway leaves `body` out, binary bodies arrive
 * base64-encoded. An empty body is 400 malformed_json, valid JSON that is not an object is 400
 * validation_failed, and nothing is written.
 */
afterAll(async () => {
  await closeDb();
});

const b64 = (s: string) => Buffer.from(s).toString('base64');

const targets = async (): Promise<
  Array<[string, (o: Partial<EventOptions>) => Promise<{ status: number; body: any; text?: string | undefined }>]>
> => {
  const product = await makeProduct();
  const id = String(product.id);
  return [
    ['POST /orders', (o) => invoke(createOrder, { method: 'POST', path: '/orders', ...o })],
    ['POST /products', (o) => invoke(createProduct, { method: 'POST', path: '/products', admin: true, ...o })],
    [
      'PATCH /products/{id}',
      (o) =>
        invoke(updateProduct, {
          method: 'PATCH',
          path: `/products/${id}`,
          route: '/products/{id}',
          pathParameters: { id },
          admin: true,
          ...o,
        }),
    ],
  ];
};

const json = { 'content-type': 'application/json' };

describe('bodies as the gateways send them, on every handler that takes one', () => {
  it('an empty body in every shape is 400 malformed_json, never a 5xx, and writes nothing', async () => {
    const shapes: Array<[string, Partial<EventOptions>]> = [
      ['body: null (serverless-offline)', { rawBody: null, headers: json }],
      ['body: null, no Content-Type', { rawBody: null }],
      ['no body member (API Gateway)', { headers: json }],
      ['body: ""', { rawBody: '', headers: json }],
      ['body: "" base64', { rawBody: '', isBase64Encoded: true, headers: json }],
      ['body: null base64', { rawBody: null, isBase64Encoded: true, headers: json }],
    ];
    for (const [route, send] of await targets()) {
      const before = await tableCounts();
      for (const [name, shape] of shapes) {
        const res = await send(shape);
        expect(res.status, `${route} ${name}: ${res.text}`).toBe(400);
        expect(res.body.code, `${route} ${name}`).toBe('malformed_json');
      }
      expect(await tableCounts()).toEqual(before);
    }
  });

  it('the JSON null that serverless-offline hands over as body: null (Content-Length 4) is 400 validation_failed, as on API Gateway', async () => {
    for (const [route, send] of await targets()) {
      const before = await tableCounts();
      const res = await send({ rawBody: null, headers: { ...json, 'content-length': '4' } });
      expect(res.status, `${route}: ${res.text}`).toBe(400);
      expect(res.body.code, route).toBe('validation_failed');
      // An empty body stays an empty body, whatever its declared length of 0.
      const empty = await send({ rawBody: null, headers: { ...json, 'content-length': '0' } });
      expect(empty.body.code, route).toBe('malformed_json');
      expect(await tableCounts()).toEqual(before);
    }
  });

  it('valid JSON that is not an object is 400 validation_failed, as text and as base64', async () => {
    for (const [route, send] of await targets()) {
      const before = await tableCounts();
      for (const text of ['null', '[]', '"x"', '1', 'true', '0', '[{"product_id":1,"quantity":1}]']) {
        for (const shape of [
          { rawBody: text, headers: json },
          { rawBody: b64(text), isBase64Encoded: true, headers: json },
        ]) {
          const res = await send(shape);
          expect(res.status, `${route} ${text}: ${res.text}`).toBe(400);
          expect(res.body.code, `${route} ${text}`).toBe('validation_failed');
        }
      }
      expect(await tableCounts()).toEqual(before);
    }
  });
});

/**
 * Prices are judged by the number's JSON text, not by the double it becomes: `19.999999999999999`
 * is a double equal to 20, but it is written with 15 decimals, so it is a 400, not a silent 20.00.
 */
describe('numbers are judged by their JSON text', () => {
  const createWith = (priceText: string, extra = '') =>
    invoke(createProduct, {
      method: 'POST',
      path: '/products',
      admin: true,
      rawBody: `{"name":${JSON.stringify(`Price ${priceText} ${Math.random()}`)},"price":${priceText},"stock":1${extra}}`,
      headers: json,
    });

  it.each([
    ['19.999999999999999', 'more decimals than a double keeps'],
    ['19.9900000000000001', 'a 0.0000000000000001 tail'],
    ['0.001', '3 decimals'],
    ['19.999', '3 decimals'],
    ['1e400', 'beyond any double'],
    ['1e-400', 'below the smallest double'],
    ['99999999.999999999', 'rounds to the maximum'],
  ])('price %s (%s) is 400 validation_failed at price, and nothing is written', async (text) => {
    const before = await tableCounts();
    const res = await createWith(text);
    expect(res.status, res.text).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.errors).toEqual([{ path: 'price', message: expect.stringMatching(/decimal/) }]);
    expect(await tableCounts()).toEqual(before);
  });

  it.each([
    ['19.990', 19.99],
    ['19.99', 19.99],
    ['1e1', 10],
    ['1E+1', 10],
    ['1999e-2', 19.99],
    ['0.1999e2', 19.99],
    ['19.99000000000000000000', 19.99],
    ['99999999.99', 99999999.99],
    ['0.01', 0.01],
  ])('price %s is stored as %d', async (text, price) => {
    const res = await createWith(text);
    expect(res.status, res.text).toBe(201);
    expect(res.body.price).toBe(price);
  });

  it('a stock or a quantity whose text is not exactly a whole number is a 400 (1e-400 is not 0, 1.0000000000000001 is not 1)', async () => {
    const stock = await invoke(createProduct, {
      method: 'POST',
      path: '/products',
      admin: true,
      rawBody: `{"name":"Stock ${Math.random()}","price":1,"stock":1e-400}`,
      headers: json,
    });
    expect(stock.status, stock.text).toBe(400);
    expect(stock.body.errors.map((e: { path: string }) => e.path)).toEqual(['stock']);
    const product = await makeProduct({ stock: 5 });
    const before = await tableCounts();
    const order = await invoke(createOrder, {
      method: 'POST',
      path: '/orders',
      rawBody: `{"products":[{"product_id":${product.id},"quantity":1.0000000000000001}]}`,
      headers: json,
    });
    expect(order.status, order.text).toBe(400);
    expect(order.body.errors.map((e: { path: string }) => e.path)).toEqual(['products.0.quantity']);
    expect(await tableCounts()).toEqual(before);
  });
});
