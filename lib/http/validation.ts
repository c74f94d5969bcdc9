import type { z } from 'zod';
import { type FieldError, ValidationError } from '../errors';

/** Turns zod issues into the contract's `errors` entries, one per problem (unknown keys each). */
export function fieldErrors(error: z.ZodError, prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const base = [prefix, ...issue.path.map(String)].filter((p) => p !== '');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: [...base, key].join('.'), message: 'Unknown field' });
    } else {
      out.push({ path: base.join('.'), message: issue.message });
    }
  }
  return out;
}

/**
 * Parses each input with its schema and throws one ValidationError listing every problem, those
 * found before the schemas ran (`found`, e.g. a repeated query parameter) first.
 */
export function parseAll<T extends Record<string, { schema: z.ZodType | undefined; value: unknown; prefix?: string }>>(
  inputs: T,
  found: readonly FieldError[] = [],
): { [K in keyof T]: T[K]['schema'] extends z.ZodType<infer O> ? O : undefined } {
  const errors: FieldError[] = [...found];
  const out: Record<string, unknown> = {};
  for (const [name, { schema, value, prefix }] of Object.entries(inputs)) {
    if (!schema) {
      out[name] = undefined;
      continue;
    }
    const r = schema.safeParse(value);
    if (r.success) out[name] = r.data;
    else errors.push(...fieldErrors(r.error, prefix ?? ''));
  }
  if (errors.length > 0) throw new ValidationError(errors);
  return out as { [K in keyof T]: T[K]['schema'] extends z.ZodType<infer O> ? O : undefined };
}
