import { describe, expect, it } from 'vitest';
import { fieldErrors } from '../../lib/http/validation';
import { requestHash } from '../../lib/orders/idempotency';
import { isOrderId, newOrderId } from '../../lib/orders/ids';
import { idempotencyKey, orderView, placeOrderBody, placeOrderHeaders } from '../../lib/orders/schema';

const paths = (value: unknown): string[] => {
  const r = placeOrderBody.safeParse(value);
  return r.success ? [] : fieldErrors(r.error).map((e) => e.path);
};

const line = (product_id: unknown, quantity: unknown) => ({ product_id, quantity });

describe('POST /orders body', () => {
  it('accepts 1 to 100 lines of positive ids and quantities 1–10,000 and keeps them as sent', () => {
    const body = { products: [line(7, 1), line(3, 10_000)] };
    expect(placeOrderBody.parse(body)).toEqual(body);
    const hundred = { products: Array.from({ length: 100 }, (_, i) => line(i + 1, 1)) };
    expect(paths(hundred)).toEqual([]);
  });

  it.each([
    ['no lines', { products: [] }, ['products']],
    ['101 lines', { products: Array.from({ length: 101 }, (_, i) => line(i + 1, 1)) }, ['products']],
    ['products not an array', { products: { 0: line(1, 1) } }, ['products']],
    ['a missing products field', {}, ['products']],
    ['null', null, ['']],
    ['quantity 0', { products: [line(1, 0)] }, ['products.0.quantity']],
    ['quantity -0', { products: [line(1, -0)] }, ['products.0.quantity']],
    ['a negative quantity', { products: [line(1, -2)] }, ['products.0.quantity']],
    ['quantity 10,001', { products: [line(1, 10_001)] }, ['products.0.quantity']],
    ['a fractional quantity', { products: [line(1, 1.5)] }, ['products.0.quantity']],
    ['a string quantity', { products: [line(1, '2')] }, ['products.0.quantity']],
    ['an infinite quantity', { products: [line(1, Number.POSITIVE_INFINITY)] }, ['products.0.quantity']],
    ['NaN as product_id', { products: [line(Number.NaN, 1)] }, ['products.0.product_id']],
    ['product_id 0', { products: [line(0, 1)] }, ['products.0.product_id']],
    ['product_id beyond 2^53', { products: [line(2 ** 53, 1)] }, ['products.0.product_id']],
    ['a null line', { products: [null] }, ['products.0']],
  ])('rejects %s at its path', (_name, body, expected) => {
    expect(paths(body)).toEqual(expected);
  });

  it('rejects unknown fields on the body and on a line, each by name', () => {
    expect(paths({ products: [{ product_id: 1, quantity: 1, price: 0 }], status: 'x', __proto__x: 1 }).sort()).toEqual(
      ['__proto__x', 'products.0.price', 'status'].sort(),
    );
  });

  it('reports every repeat of a product_id at the repeated line, even beside other problems', () => {
    const body = { products: [line(5, 1), line(6, 1), line(5, 2), line(7, 0.5), line(6, 1), line(5, 3)] };
    expect(paths(body).sort()).toEqual(
      ['products.2.product_id', 'products.3.quantity', 'products.4.product_id', 'products.5.product_id'].sort(),
    );
  });

  it('describes integers as integers for the OpenAPI document', async () => {
    const { z } = await import('zod');
    const schema = z.toJSONSchema(placeOrderBody) as unknown as {
      properties: { products: { items: { properties: Record<string, { type: string }> } } };
    };
    expect(schema.properties.products.items.properties.product_id?.type).toBe('integer');
    expect(schema.properties.products.items.properties.quantity).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: 10_000,
    });
  });
});

describe('Idempotency-Key header', () => {
  it.each([
    ['a', true],
    ['k'.repeat(255), true],
    ['order 2026-11-25 #1 ~!@', true],
    ['', false],
    ['k'.repeat(256), false],
    ['tab\there', false],
    ['newline\n', false],
    ['café', false],
    ['\u007f', false],
  ])('%j valid: %s', (key, ok) => {
    expect(idempotencyKey.safeParse(key).success).toBe(ok);
  });

  it('is optional and ignores other headers', () => {
    expect(placeOrderHeaders.parse({ host: 'x', 'content-type': 'application/json' })).toEqual({});
    expect(placeOrderHeaders.parse({ 'idempotency-key': 'abc' })).toEqual({ 'idempotency-key': 'abc' });
  });
});

describe('request hash', () => {
  it('is the same for the same lines in any order and differs for any other quantity or product', () => {
    const a = requestHash([line(1, 2), line(9, 1)] as never);
    expect(requestHash([line(9, 1), line(1, 2)] as never)).toBe(a);
    expect(requestHash([line(1, 3), line(9, 1)] as never)).not.toBe(a);
    expect(requestHash([line(1, 2), line(8, 1)] as never)).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('order ids', () => {
  it('are ord_ + 26 base32 characters, recognised by isOrderId, and never repeat', () => {
    const ids = Array.from({ length: 5000 }, () => newOrderId());
    for (const id of ids) {
      expect(id).toMatch(/^ord_[a-z2-7]{26}$/);
      expect(isOrderId(id)).toBe(true);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('use all 32 symbols in every position (130 random bits, no fixed or biased characters)', () => {
    const seen = Array.from({ length: 26 }, () => new Set<string>());
    for (let i = 0; i < 4000; i++) {
      for (const [pos, ch] of [...newOrderId().slice(4)].entries()) seen[pos]?.add(ch);
    }
    // The last character carries 5 of the 130 bits, like every other position.
    for (const s of seen) expect(s.size).toBe(32);
  });
});

describe('order view schema', () => {
  it('accepts the documented order shape', () => {
    const order = {
      id: newOrderId(),
      status: 'confirmed',
      products: [{ product_id: 1, name: 'Mug', quantity: 2, price: 19.99, line_total: 39.98 }],
      total_price: 39.98,
      created_at: '2026-11-24T10:00:00.000Z',
      cancelled_at: null,
    };
    expect(orderView.parse(order)).toEqual(order);
  });
});
