import { z } from 'zod';
import { MAX_ID } from '../http/schemas';
import { ORDER_ID_PATTERN } from './ids';

/**
 * Orders: request and response schemas. The same schemas validate requests and feed the OpenAPI
 * document, so names here are stable exports.
 */

export const MAX_ORDER_LINES = 100;
export const MAX_LINE_QUANTITY = 10_000;

/**
 * An integer in [min, max], as ONE rule with one message per field. Not `.int()`: zod's `.int()`
 * aborts the whole parse on a fraction, which would hide other problems (e.g. a repeated
 * product_id) that the contract wants listed at once. The meta gives OpenAPI the same bounds.
 */
const integerIn = (message: string, min: number, max: number) =>
  z
    .number({ error: message })
    .refine((n) => Number.isInteger(n) && n >= min && n <= max, message)
    .meta({ type: 'integer', minimum: min, maximum: max });

export const orderLineInput = z
  .object({
    product_id: integerIn('product_id must be a positive integer', 1, MAX_ID),
    quantity: integerIn(`quantity must be an integer from 1 to ${MAX_LINE_QUANTITY}`, 1, MAX_LINE_QUANTITY),
  })
  .strict();

const productIdOf = (line: unknown): unknown =>
  typeof line === 'object' && line !== null ? (line as { product_id?: unknown }).product_id : undefined;

/** `POST /orders` body. A product may appear on one line only: each repeat is reported at its path. */
export const placeOrderBody = z
  .object({
    products: z
      .array(orderLineInput, { error: 'products must be an array of order lines' })
      .min(1, 'an order needs at least 1 line')
      .max(MAX_ORDER_LINES, `an order has at most ${MAX_ORDER_LINES} lines`)
      .superRefine(
        (lines, ctx) => {
          const seen = new Set<unknown>();
          lines.forEach((line, i) => {
            const id = productIdOf(line);
            if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) return; // reported by its own check
            if (seen.has(id)) {
              ctx.addIssue({
                code: 'custom',
                path: [i, 'product_id'],
                message: `product_id ${id} appears on more than one line`,
              });
            }
            seen.add(id);
          });
        },
        // Also report repeats when other lines are invalid, so every problem is listed at once.
        { when: (payload) => Array.isArray(payload.value) && payload.value.length <= MAX_ORDER_LINES },
      ),
  })
  .strict();

export type PlaceOrderBody = z.infer<typeof placeOrderBody>;
export type OrderLineInput = z.infer<typeof orderLineInput>;

/** `Idempotency-Key`: 1–255 printable ASCII characters (header names arrive lower-cased). */
export const idempotencyKey = z
  .string()
  .regex(/^[\x20-\x7e]{1,255}$/, 'Idempotency-Key must be 1 to 255 printable ASCII characters');

export const placeOrderHeaders = z.object({ 'idempotency-key': idempotencyKey.optional() });

/** Path parameter of `/orders/{id}`. Any string: an id that cannot exist is simply not found (404). */
export const orderPathParams = z.object({ id: z.string() }).strict();

export const orderStatus = z.enum(['confirmed', 'cancelled']);

export const orderLineView = z
  .object({
    product_id: z.number().int(),
    name: z.string(),
    quantity: z.number().int(),
    /** Unit price at the time of the order. */
    price: z.number(),
    line_total: z.number(),
  })
  .meta({ id: 'OrderLine' });

export const orderView = z
  .object({
    id: z.string().regex(ORDER_ID_PATTERN),
    status: orderStatus,
    products: z.array(orderLineView),
    total_price: z.number(),
    created_at: z.string(),
    cancelled_at: z.string().nullable(),
  })
  .meta({ id: 'Order' });

export type OrderLineView = z.infer<typeof orderLineView>;
export type OrderView = z.infer<typeof orderView>;

export const orderListView = z
  .object({
    orders: z.array(orderView),
    total: z.number().int(),
    current_page: z.number().int(),
    per_page: z.number().int(),
    total_pages: z.number().int(),
  })
  .meta({ id: 'OrderList' });

export type OrderListView = z.infer<typeof orderListView>;
