import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../errors';
import { httpErrorOf, PROBLEM_TYPE_BASE } from '../http/problem';

/**
 * The RFC 9457 problem document every error response carries, described from the error codes and
 * HTTP_ERRORS (the table the problem+json mapper uses), so a new code shows up here without anyone
 * editing this file.
 */

const fieldError = z
  .object({
    path: z.string().meta({ description: 'Dotted path of the invalid value', example: 'products.0.quantity' }),
    message: z.string().meta({ example: 'quantity must be an integer from 1 to 10000' }),
  })
  .meta({ id: 'FieldError', description: 'One problem with the request (validation_failed).' });

const stockShortfall = z
  .object({
    product_id: z.number().int().meta({ example: 7 }),
    requested: z.number().int().meta({ example: 5 }),
    available: z.number().int().meta({ example: 2 }),
  })
  .meta({ id: 'StockShortfall', description: 'A line that asks for more than is in stock (insufficient_stock).' });

const unknownProduct = z
  .object({ product_id: z.number().int().meta({ example: 42 }) })
  .meta({ id: 'UnknownProductRef', description: 'A product id that does not exist or is archived (unknown_product).' });

export const problem = z
  .object({
    type: z
      .url()
      .meta({ description: 'A URI naming the kind of problem', example: `${PROBLEM_TYPE_BASE}insufficient-stock` }),
    title: z.string().meta({ example: 'Insufficient stock' }),
    status: z.number().int().meta({ example: 409 }),
    detail: z.string().meta({ example: '1 product does not have enough stock' }),
    code: z.enum(ERROR_CODES).meta({ description: 'Stable snake_case identifier to switch on.' }),
    errors: z
      .array(z.union([fieldError, stockShortfall, unknownProduct]))
      .optional()
      .meta({
        description:
          'Every individual problem, for the codes that list them; for validation_failed at most 50 (see `errors_omitted`).',
      }),
    errors_omitted: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: 'How many more problems there were beyond the 50 listed in `errors`.', example: 150 }),
    request_id: z.string().meta({ description: 'Same as the X-Request-Id response header.' }),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json).' });

const EXAMPLE_ERRORS: Partial<Record<ErrorCode, readonly object[]>> = {
  validation_failed: [{ path: 'products.0.quantity', message: 'quantity must be an integer from 1 to 10000' }],
  insufficient_stock: [{ product_id: 7, requested: 5, available: 2 }],
  unknown_product: [{ product_id: 42 }],
};

/** A realistic problem body for `code`, for the document's examples. */
export function problemExample(code: ErrorCode): z.output<typeof problem> {
  const entry = httpErrorOf(code);
  const errors = EXAMPLE_ERRORS[code];
  return {
    type: PROBLEM_TYPE_BASE + code.replaceAll('_', '-'),
    title: entry.title,
    status: entry.status,
    detail: entry.when.replaceAll('`', ''),
    code,
    ...(errors ? { errors: [...errors] } : {}),
    request_id: 'c0ffee00-0000-4000-8000-000000000000',
  } as z.output<typeof problem>;
}
