import { z } from 'zod';
import { pagingQuery } from '../http/schemas';
import { DEFAULT_PER_PAGE, MAX_PER_PAGE } from '../paging';
import { hasAtMostTwoDecimals, MAX_PRICE } from '../money';
import { type Cursor, decodeCursor } from './cursor';

/**
 * Product schemas: they validate requests and are the source of the OpenAPI document.
 * Lengths count Unicode characters (code points), as MySQL's VARCHAR(n) in utf8mb4 does, so a
 * 255-emoji name fits although it is 510 UTF-16 units long.
 */
export const MAX_NAME_CHARS = 255;
export const MAX_DESCRIPTION_CHARS = 2_000;
export const MAX_STOCK = 1_000_000_000;

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

export const createProductBody = z
  .object({
    name: productName,
    description: productDescription.default(''),
    price: productPrice,
    stock: productStock,
  })
  .strict()
  .meta({ id: 'CreateProduct', description: 'A new product. Unknown fields are rejected.' });

export type CreateProductInput = z.output<typeof createProductBody>;

/** Written out rather than `.partial()`, which would apply description's default on every patch. */
export const updateProductBody = z
  .object({
    name: productName.optional(),
    description: productDescription.optional(),
    price: productPrice.optional(),
    stock: productStock.optional(),
  })
  .strict()
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'send at least one of name, description, price, stock')
  .meta({
    id: 'UpdateProduct',
    description:
      'Any non-empty subset of the product fields, same rules as on create. `stock` sets the absolute count.',
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
  .meta({ description: 'Opaque keyset cursor from a previous `next_cursor`. Not combinable with `page`.' });

export const listProductsQuery = pagingQuery
  .extend({ cursor: cursorParam.optional() })
  .superRefine((q, ctx) => {
    if (q.cursor !== undefined && q.page !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['cursor'], message: 'cursor cannot be combined with page' });
    }
  })
  .meta({ id: 'ListProductsQuery' });

export type ListProductsQuery = z.output<typeof listProductsQuery>;

export const productIdPath = z.number().int().positive().meta({ description: 'Product id', example: 1 });

export const product = z
  .object({
    id: productIdPath,
    name: z.string().meta({ example: 'Mug' }),
    description: z.string().meta({ example: 'A large mug' }),
    price: z.number().meta({ example: 19.99 }),
    stock: z.number().int().min(0).meta({ example: 100 }),
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
    total: z.number().int().min(0).meta({ description: 'Live (not archived) products in the catalogue.' }),
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
