import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { encodeCursor, idCursor } from '../../lib/products/cursor';
import { createProductBody, listProductsQuery, product, updateProductBody } from '../../lib/products/schema';

const valid = { name: 'Mug', description: 'A large mug', price: 19.99, stock: 100 };

const problems = (schema: z.ZodType, value: unknown): string[] => {
  const r = schema.safeParse(value);
  if (r.success) return [];
  // One entry per field: a value may break two rules of one field (too big and too precise).
  const paths = r.error.issues.map((i) =>
    i.code === 'unrecognized_keys' ? `${i.keys.join(',')}:unknown` : i.path.join('.'),
  );
  return [...new Set(paths)];
};

describe('create product body', () => {
  it('accepts a full product and keeps the values', () => {
    expect(createProductBody.parse(valid)).toEqual({ ...valid, stock_shards: 1 });
    expect(createProductBody.parse({ ...valid, stock_shards: 64 })).toEqual({ ...valid, stock_shards: 64 });
  });

  it('defaults description to an empty string and stock_shards to 1', () => {
    expect(createProductBody.parse({ name: 'Mug', price: 1, stock: 0 })).toEqual({
      name: 'Mug',
      description: '',
      price: 1,
      stock: 0,
      stock_shards: 1,
    });
  });

  it('takes stock_shards as a whole number 1–64, on create and on update', () => {
    for (const bad of [0, 65, 1.5, -1, '4', null]) {
      expect(problems(createProductBody, { ...valid, stock_shards: bad })).toEqual(['stock_shards']);
      expect(problems(updateProductBody, { stock_shards: bad })).toEqual(['stock_shards']);
    }
    expect(updateProductBody.parse({ stock_shards: 16 })).toEqual({ stock_shards: 16 });
  });

  it('trims the name and then requires 1–255 characters', () => {
    expect(createProductBody.parse({ ...valid, name: '  Mug \n' }).name).toBe('Mug');
    expect(problems(createProductBody, { ...valid, name: '   ' })).toEqual(['name']);
    expect(problems(createProductBody, { ...valid, name: '' })).toEqual(['name']);
    expect(problems(createProductBody, { ...valid, name: 'x'.repeat(255) })).toEqual([]);
    expect(problems(createProductBody, { ...valid, name: ` ${'x'.repeat(255)} ` })).toEqual([]);
    expect(problems(createProductBody, { ...valid, name: 'x'.repeat(256) })).toEqual(['name']);
  });

  it('counts characters, not UTF-16 units: 255 emoji fit, 256 do not', () => {
    expect(problems(createProductBody, { ...valid, name: '☕'.repeat(255) })).toEqual([]);
    expect(problems(createProductBody, { ...valid, name: '🍵'.repeat(255) })).toEqual([]);
    expect(problems(createProductBody, { ...valid, name: '🍵'.repeat(256) })).toEqual(['name']);
  });

  it('keeps Unicode names unchanged', () => {
    expect(createProductBody.parse({ ...valid, name: 'Café ☕ 杯子' }).name).toBe('Café ☕ 杯子');
  });

  it('rejects text with a lone surrogate, which has no UTF-8 form', () => {
    expect(problems(createProductBody, { ...valid, name: 'bad \ud800' })).toEqual(['name']);
    expect(problems(createProductBody, { ...valid, description: '\udc00' })).toEqual(['description']);
  });

  it('limits description to 2000 characters', () => {
    expect(problems(createProductBody, { ...valid, description: 'd'.repeat(2000) })).toEqual([]);
    expect(problems(createProductBody, { ...valid, description: 'd'.repeat(2001) })).toEqual(['description']);
  });

  it('requires name, price and stock', () => {
    expect(problems(createProductBody, {}).sort()).toEqual(['name', 'price', 'stock']);
  });

  it.each([0, -1, 0.001, 19.999, 100_000_000, 99_999_999.991, 1e-7])('rejects price %s', (price) => {
    expect(problems(createProductBody, { ...valid, price })).toEqual(['price']);
  });

  it.each([0.01, 0.1, 19.99, 1, 99_999_999.99])('accepts price %s', (price) => {
    expect(createProductBody.parse({ ...valid, price }).price).toBe(price);
  });

  it.each(['19.99', null, true])('rejects a price that is not a number (%s)', (price) => {
    expect(problems(createProductBody, { ...valid, price })).toEqual(['price']);
  });

  it.each([-1, 1.5, 1_000_000_001, '5', null])('rejects stock %s', (stock) => {
    expect(problems(createProductBody, { ...valid, stock })).toEqual(['stock']);
  });

  it.each([0, 1, 1_000_000_000])('accepts stock %s', (stock) => {
    expect(createProductBody.parse({ ...valid, stock }).stock).toBe(stock);
  });

  it('rejects unknown fields, each by name, so no one can set id or timestamps', () => {
    expect(problems(createProductBody, { ...valid, id: 5, created_at: 'x' })).toEqual(['id,created_at:unknown']);
  });

  it('reports every problem at once', () => {
    expect(problems(createProductBody, { name: '', price: -1, stock: 1.5, extra: 1 }).sort()).toEqual(
      ['extra:unknown', 'name', 'price', 'stock'].sort(),
    );
  });
});

describe('update product body', () => {
  it('accepts any non-empty subset without inventing defaults', () => {
    expect(updateProductBody.parse({ price: 5 })).toEqual({ price: 5 });
    expect(updateProductBody.parse({ stock: 0 })).toEqual({ stock: 0 });
    expect(updateProductBody.parse({ description: '' })).toEqual({ description: '' });
    expect(updateProductBody.parse({ name: ' Mug ' })).toEqual({ name: 'Mug' });
  });

  it('rejects an empty patch', () => {
    expect(updateProductBody.safeParse({}).success).toBe(false);
  });

  it('applies the same rules as create', () => {
    expect(
      problems(updateProductBody, { name: ' ', price: 1.234, stock: -1, description: 'd'.repeat(2001) }).sort(),
    ).toEqual(['description', 'name', 'price', 'stock']);
  });

  it('rejects null for a field and unknown fields', () => {
    expect(problems(updateProductBody, { name: null })).toEqual(['name']);
    expect(problems(updateProductBody, { id: 3, price: 2 })).toEqual(['id:unknown']);
  });
});

describe('list products query', () => {
  it('takes page and per_page as decimal strings, both optional', () => {
    expect(listProductsQuery.parse({})).toEqual({});
    expect(listProductsQuery.parse({ page: '3', per_page: '100' })).toEqual({ page: 3, per_page: 100 });
  });

  it.each([
    [{ page: '0' }, 'page'],
    [{ page: 'abc' }, 'page'],
    [{ page: '1.5' }, 'page'],
    [{ page: '-1' }, 'page'],
    [{ per_page: '0' }, 'per_page'],
    [{ per_page: '101' }, 'per_page'],
    [{ per_page: '1000' }, 'per_page'],
    [{ cursor: 'not-a-cursor' }, 'cursor'],
    [{ cursor: '' }, 'cursor'],
  ])('rejects %j', (query, path) => {
    expect(problems(listProductsQuery, query)).toEqual([path]);
  });

  it('decodes a cursor into its position', () => {
    const cursor = encodeCursor(idCursor(42, 20));
    expect(listProductsQuery.parse({ cursor, per_page: '20' })).toEqual({
      cursor: idCursor(42, 20),
      per_page: 20,
    });
  });

  it('rejects cursor together with page', () => {
    expect(problems(listProductsQuery, { cursor: encodeCursor(idCursor(1, 1)), page: '2' })).toEqual(['cursor']);
  });

  it('rejects unknown query parameters', () => {
    expect(problems(listProductsQuery, { color: 'red' })).toEqual(['color:unknown']);
  });
});

describe('product response schema', () => {
  it('describes what the service returns', () => {
    const p = {
      id: 1,
      name: 'Mug',
      description: '',
      price: 19.99,
      stock: 0,
      stock_shards: 1,
      created_at: '2026-11-24T10:00:00.000Z',
      updated_at: '2026-11-24T10:00:00.000Z',
    };
    expect(product.parse(p)).toEqual(p);
  });

  it('converts to JSON Schema (the OpenAPI source) with limits and descriptions', () => {
    type ObjectSchema = {
      properties: Record<string, Record<string, unknown>>;
      required: string[];
      additionalProperties: boolean;
    };
    const out = z.toJSONSchema(createProductBody, { io: 'input' }) as { $defs: Record<string, ObjectSchema> };
    const doc = out.$defs.CreateProduct as ObjectSchema;
    expect(doc.additionalProperties).toBe(false);
    expect(doc.required.sort()).toEqual(['name', 'price', 'stock']);
    expect(doc.properties.name).toMatchObject({ type: 'string', minLength: 1, maxLength: 255 });
    expect(doc.properties.price).toMatchObject({ type: 'number', exclusiveMinimum: 0, maximum: 99_999_999.99 });
    expect(doc.properties.stock).toMatchObject({ type: 'integer', minimum: 0, maximum: 1_000_000_000 });
    expect(doc.properties.description).toMatchObject({ type: 'string', maxLength: 2000, default: '' });
  });
});
