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
