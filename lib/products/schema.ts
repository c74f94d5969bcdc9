import { z } from 'zod';
import { pagingQuery } from '../http/schemas';
import { hasAtMostTwoDecimals, MAX_PRICE, toCents } from '../money';
import { DEFAULT_PER_PAGE, MAX_PER_PAGE } from '../paging';
import { type Cursor, decodeCursor, type ListSpec, SORTS, type Sort, specDigest } from './cursor';

/**
 * Product schemas: they validate requests and are the source of the OpenAPI document.
 * Lengths count Unicode characters (code points), as MySQL's VARCHAR(n) in utf8mb4 does, so a
 * 255-emoji name fits although it is 510 UTF-16 units long.
 */
export const MAX_NAME_CHARS = 255;
export const MAX_DESCRIPTION_CHARS = 2_000;
export const MAX_STOCK = 1_000_000_000;
/** A product's stock is kept in 1–64 rows (lib/stock/shards.ts). */
export const MIN_SHARDS = 1;
export const MAX_SHARDS = 64;

const chars = (s: string): number => [...s].length;
// A lone UTF-16 surrogate (possible in JSON as "\ud800") has no UTF-8 form and would be mangled by the database.
const wellFormed = (s: string): boolean => !/\p{Cs}/u.test(s);

export const productName = z
  .string()
  .trim()
  .min(1, 'name must not be empty')
  .refine((s) => chars(s) <= MAX_NAME_CHARS, `name must be at most ${MAX_NAME_CHARS} characters`)
  .refine(wellFormed, 'name must be valid Unicode text')
  .meta({
    description: `Unique among live products. Leading and trailing whitespace is trimmed; 1–${MAX_NAME_CHARS} characters remain.`,
    maxLength: MAX_NAME_CHARS,
    example: 'Mug',
  });

export const productDescription = z
  .string()
  .refine((s) => chars(s) <= MAX_DESCRIPTION_CHARS, `description must be at most ${MAX_DESCRIPTION_CHARS} characters`)
  .refine(wellFormed, 'description must be valid Unicode text')
  .meta({
    description: `Free text, at most ${MAX_DESCRIPTION_CHARS} characters.`,
    maxLength: MAX_DESCRIPTION_CHARS,
    example: 'A large mug',
  });

export const productPrice = z
  // Also the message for a number whose JSON text a double cannot hold exactly (19.999999999999999).
  .number({ error: 'price must be a number with at most 2 decimal places' })
  .positive('price must be greater than 0')
  .max(MAX_PRICE, `price must be at most ${MAX_PRICE}`)
  .refine(hasAtMostTwoDecimals, 'price must have at most 2 decimal places')
  .meta({ description: 'Unit price, an exact decimal with at most 2 places.', multipleOf: 0.01, example: 19.99 });

export const productStock = z
  .number({ error: 'stock must be a whole number' })
  .int('stock must be a whole number')
  .min(0, 'stock must be at least 0')
  .max(MAX_STOCK, `stock must be at most ${MAX_STOCK}`)
  .meta({ description: 'Units in stock.', example: 100 });

export const productStockShards = z
  .number()
  .int('stock_shards must be a whole number')
  .min(MIN_SHARDS, `stock_shards must be at least ${MIN_SHARDS}`)
  .max(MAX_SHARDS, `stock_shards must be at most ${MAX_SHARDS}`)
  .meta({
    description:
      'In how many rows the stock is kept, so that concurrent orders for one product (a flash sale) do not all ' +
      'queue on one row lock. Changes nothing but speed; setting it redistributes the current stock.',
    example: 1,
  });

export const createProductBody = z
  .object({
    name: productName,
    description: productDescription.default(''),
    price: productPrice,
    stock: productStock,
    stock_shards: productStockShards.default(1),
  })
  .strict()
  .meta({ id: 'CreateProduct', description: 'A new product. Unknown fields are rejected.' });

/** stock_shards may be left out by callers other than the handler (default 1, as in the body). */
export type CreateProductInput = Omit<z.output<typeof createProductBody>, 'stock_shards'> & {
  stock_shards?: number | undefined;
};

/** Written out rather than `.partial()`, which would apply description's default on every patch. */
export const updateProductBody = z
  .object({
    name: productName.optional(),
    description: productDescription.optional(),
    price: productPrice.optional(),
    stock: productStock.optional(),
    stock_shards: productStockShards.optional(),
  })
  .strict()
  .refine(
    (b) => Object.values(b).some((v) => v !== undefined),
    'send at least one of name, description, price, stock, stock_shards',
  )
  .meta({
    id: 'UpdateProduct',
    description:
      'Any non-empty subset of the product fields, same rules as on create. `stock` sets the absolute count; ' +
      '`stock_shards` changes the number of rows it is kept in and keeps the total.',
    minProperties: 1,
  });

export type UpdateProductInput = z.output<typeof updateProductBody>;

const cursorParam = z
  .string()
  .transform((text, ctx): Cursor => {
    const cursor = decodeCursor(text);
    if (cursor === undefined) {
      ctx.issues.push({ code: 'custom', message: 'cursor is not a valid cursor from next_cursor', input: text });
      return z.NEVER;
    }
    return cursor;
  })
  .meta({
    description:
      'Opaque keyset cursor from a previous `next_cursor`. Not combinable with `page`; only valid with the same ' +
      '`q`, `min_price`, `max_price`, `in_stock` and `sort` it was issued for.',
  });

export const MAX_QUERY_CHARS = 100;

const searchParam = z
  .string()
  .trim()
  .refine(
    (s) => chars(s) >= 1 && chars(s) <= MAX_QUERY_CHARS,
    `q must be 1–${MAX_QUERY_CHARS} characters after trimming`,
  )
  .refine(wellFormed, 'q must be valid Unicode text')
  .meta({
    description:
      `Search the product names: 1–${MAX_QUERY_CHARS} characters. Every word must start a word of the name, ignoring ` +
      'case and Latin accents (`cafe` finds `Café ☕`); text in scripts written without spaces (`杯子`) matches ' +
      'anywhere in the name. Text without any letter, digit or symbol matches nothing.',
    example: 'cafe',
  });

/** A price in a query string: digits with up to 2 decimals, 0 – MAX_PRICE; parsed to cents. */
const priceParam = (name: string) =>
  z
    .string()
    .regex(/^\d{1,8}(\.\d{1,2})?$/, `${name} must be a price: digits with at most 2 decimals, e.g. 19.99`)
    .transform((text) => {
      const [whole = '0', fraction = ''] = text.split('.');
      return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
    })
    .pipe(z.number().max(toCents(MAX_PRICE), `${name} must be at most ${MAX_PRICE}`))
    .meta({
      description: `Inclusive ${name === 'min_price' ? 'lower' : 'upper'} bound on the price (≥ 0, at most 2 decimals).`,
      example: name === 'min_price' ? '10' : '25.50',
    });

const inStockParam = z
  .enum(['true', 'false'], { error: 'in_stock must be true or false' })
  .transform((v) => v === 'true')
  .meta({ description: '`true`: only products with stock > 0; `false`: only those with stock 0.', example: 'true' });

const sortParam = z.enum(SORTS, { error: `sort must be one of ${SORTS.join(', ')}` }).meta({
  description: 'Order of the list (`-` = descending); ties are broken by id ascending. Default `id`.',
  example: '-price',
});

export const listProductsQuery = pagingQuery
  .extend({
    q: searchParam.optional(),
    min_price: priceParam('min_price').optional(),
    max_price: priceParam('max_price').optional(),
    in_stock: inStockParam.optional(),
    sort: sortParam.optional(),
    cursor: cursorParam.optional(),
  })
  // Runs even when a field failed (`when`), so one 400 lists every problem; each rule looks only at
  // fields that parsed, since a failed one still holds its raw text here.
  .superRefine(
    (parsed, ctx) => {
      if (typeof parsed !== 'object' || parsed === null) return;
      const q = parsed as Record<string, unknown>;
      if (q.cursor !== undefined && q.page !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['cursor'], message: 'cursor cannot be combined with page' });
      }
      if (typeof q.min_price === 'number' && typeof q.max_price === 'number' && q.min_price > q.max_price) {
        ctx.addIssue({ code: 'custom', path: ['min_price'], message: 'min_price must not be greater than max_price' });
      }
      const filtersParsed =
        (q.q === undefined || typeof q.q === 'string') &&
        (q.min_price === undefined || typeof q.min_price === 'number') &&
        (q.max_price === undefined || typeof q.max_price === 'number') &&
        (q.in_stock === undefined || typeof q.in_stock === 'boolean') &&
        (q.sort === undefined || (SORTS as readonly unknown[]).includes(q.sort));
      const cursor = q.cursor as Cursor | string | undefined;
      if (typeof cursor === 'object' && filtersParsed && cursor.filters !== specDigest(listSpecOf(parsed))) {
        ctx.addIssue({
          code: 'custom',
          path: ['cursor'],
          message: 'cursor was issued for another q, min_price, max_price, in_stock or sort; send the same ones',
        });
      }
    },
    { when: () => true },
  )
  .meta({ id: 'ListProductsQuery' });

export type ListProductsQuery = z.output<typeof listProductsQuery>;

/** The sort and filters of a validated list query. */
export function listSpecOf(q: {
  q?: string | undefined;
  min_price?: number | undefined;
  max_price?: number | undefined;
  in_stock?: boolean | undefined;
  sort?: Sort | undefined;
}): ListSpec {
  return { sort: q.sort ?? 'id', q: q.q, minPriceCents: q.min_price, maxPriceCents: q.max_price, inStock: q.in_stock };
}

export const productIdPath = z.number().int().positive().meta({ description: 'Product id', example: 1 });

export const product = z
  .object({
    id: productIdPath,
    name: z.string().meta({ example: 'Mug' }),
    description: z.string().meta({ example: 'A large mug' }),
    price: z.number().meta({ example: 19.99 }),
    stock: z.number().int().min(0).meta({ description: 'Total units in stock.', example: 100 }),
    stock_shards: z.number().int().min(MIN_SHARDS).max(MAX_SHARDS).meta({
      description: 'In how many rows the stock is kept (1–64); a speed setting for flash sales.',
      example: 1,
    }),
    created_at: z.iso
      .datetime()
      .meta({ description: 'RFC 3339 UTC, millisecond precision', example: '2026-11-24T10:00:00.000Z' }),
    updated_at: z.iso
      .datetime()
      .meta({ description: 'RFC 3339 UTC, millisecond precision', example: '2026-11-24T10:00:00.000Z' }),
  })
  .strict()
  .meta({ id: 'Product' });

export type Product = z.output<typeof product>;

export const productList = z
  .object({
    products: z.array(product),
    total: z
      .number()
      .int()
      .min(0)
      .meta({
        description:
          'Live (not archived) products that match. Exact without filters; with filters exact up to 10,000, ' +
          'past that 10,000 with `total_is_exact: false`.',
      }),
    total_is_exact: z.boolean().meta({ description: 'False when `total` is the 10,000 cap of a filtered count.' }),
    current_page: z.number().int().min(1).meta({
      description:
        'The page requested; for a cursor request, the page this window falls on (its position ÷ per_page + 1).',
    }),
    per_page: z.number().int().min(1).max(MAX_PER_PAGE).meta({ default: DEFAULT_PER_PAGE }),
    total_pages: z.number().int().min(0),
    next_cursor: z
      .string()
      .nullable()
      .meta({ description: 'Pass as `cursor` for the rows after this page; null when there are none.' }),
  })
  .strict()
  .meta({ id: 'ProductList' });

export type ProductList = z.output<typeof productList>;
