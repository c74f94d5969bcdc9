import { z } from 'zod';
import { MAX_PER_PAGE } from '../paging';

/**
 * Shared request schemas. Query and path values arrive as strings, so integers are matched as
 * plain decimal digits (no `1e2`, ` 1`, `0x10`, `1.0`) before range checks.
 */
export const intString = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,16}$/, `${name} must be a whole number`)
    .transform(Number)
    // The regex already guarantees a whole number, so only the range is checked (one error, not two).
    .pipe(z.number().min(min, `${name} must be at least ${min}`).max(max, `${name} must be at most ${max}`));

export const MAX_ID = Number.MAX_SAFE_INTEGER;

export const pagingQuery = z
  .object({
    // Any page a JSON number holds exactly; one past the end is an empty list (the services skip its query).
    page: intString('page', 1, Number.MAX_SAFE_INTEGER).optional(),
    per_page: intString('per_page', 1, MAX_PER_PAGE).optional(),
  })
  .strict();

export const productIdParams = z.object({ id: intString('id', 1, MAX_ID) }).strict();
