import { afterAll, describe, expect, it } from 'vitest';
import { handler as createOrder } from '../../functions/orders/create-order';
import { handler as createProduct } from '../../functions/products/create-product';
import { closeDb } from '../../lib/db/client';
import { invoke } from '../../scripts/lib/lambda';
import { makeProduct, tableCounts } from '../support/factories';

/**
 * One small request must not buy a huge error response (issue 11 §4): `errors` lists at most 50
 * problems and `errors_omitted` counts the rest. The bound checked here is max(8 KiB, 2 × request).
 */
afterAll(async () => {
  await closeDb();
});

const bound = (requestBytes: number) => Math.max(8 * 1024, 2 * requestBytes);

async function send(handler: Parameters<typeof invoke>[0], path: string, body: string, admin = false) {
  const res = await invoke(handler, {
    method: 'POST',
    path,
    rawBody: body,
    headers: { 'content-type': 'application/json' },
    admin,
  });
  return { res, requestBytes: Buffer.byteLength(body), responseBytes: Buffer.byteLength(res.text ?? '') };
}

describe('error responses stay small', () => {
  it('100 empty order lines (0.3 KB): 50 errors listed, the other 150 counted in errors_omitted', async () => {
    const body = `{"products":[${Array.from({ length: 100 }, () => '{}').join(',\n')}]}`;
    const { res, requestBytes, responseBytes } = await send(createOrder, '/orders', body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.errors).toHaveLength(50);
    expect(res.body.errors_omitted).toBe(150); // product_id and quantity missing on each line
    expect(res.body.detail).toBe('200 problems with the request');
    expect(res.body.errors[0]).toEqual({ path: 'products.0.product_id', message: expect.any(String) });
    expect(responseBytes, `${responseBytes} B for ${requestBytes} B`).toBeLessThanOrEqual(bound(requestBytes));
  });

  it('18 KB of lines with wrong types and unknown fields: 50 errors, the rest counted, the response bounded', async () => {
    // 100 lines (the most an order has, so every line is checked), each with 2 wrong types and 6 unknown fields.
    const extras = Array.from({ length: 6 }, (_, j) => `"extra_field_${j}":"value ${j}"`).join(',');
    const lines = Array.from({ length: 100 }, (_, i) => `{"product_id":"p${i}","quantity":[${i}],${extras}}`);
    const body = `{"products":[${lines.join(',')}],"coupon":"X","note":null}`;
    const { res, requestBytes, responseBytes } = await send(createOrder, '/orders', body);
    expect(requestBytes).toBeGreaterThan(18_000);
    expect(res.status).toBe(400);
    expect(res.body.errors).toHaveLength(50);
    expect(res.body.errors_omitted).toBe(100 * 8 + 2 - 50);
    expect(res.body.detail).toBe(`${50 + res.body.errors_omitted} problems with the request`);
    expect(responseBytes, `${responseBytes} B for ${requestBytes} B`).toBeLessThanOrEqual(bound(requestBytes));
  });

  it('1,000 unknown fields on a product: 50 listed', async () => {
    const fields = Array.from({ length: 1_000 }, (_, i) => `"f${i}":${i}`).join(',');
    const body = `{"name":"Size test","price":1,"stock":1,${fields}}`;
    const { res, requestBytes, responseBytes } = await send(createProduct, '/products', body, true);
    expect(res.status).toBe(400);
    expect(res.body.errors).toHaveLength(50);
    expect(res.body.errors_omitted).toBe(950);
    expect(responseBytes).toBeLessThanOrEqual(bound(requestBytes));
  });

  it('50 problems or fewer: every one listed and no errors_omitted', async () => {
    const body = `{"products":[${Array.from({ length: 25 }, () => '{}').join(',')}]}`;
    const { res } = await send(createOrder, '/orders', body);
    expect(res.body.errors).toHaveLength(50);
    expect(res.body).not.toHaveProperty('errors_omitted');
  });

  it('409 insufficient_stock keeps listing every short line (at most 100, one per line sent), within the bound', async () => {
    const products = await Promise.all(Array.from({ length: 100 }, () => makeProduct({ stock: 0 })));
    const body = JSON.stringify({ products: products.map((p) => ({ product_id: p.id, quantity: 10_000 })) });
    const before = await tableCounts();
    const { res, requestBytes, responseBytes } = await send(createOrder, '/orders', body);
    expect(res.status).toBe(409);
    expect(res.body.errors).toHaveLength(100);
    expect(res.body).not.toHaveProperty('errors_omitted');
    expect(responseBytes).toBeLessThanOrEqual(bound(requestBytes));
    expect(await tableCounts()).toEqual(before);
  });
});
