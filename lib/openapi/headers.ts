import { z } from 'zod';
import type { ResponseHeader } from '../http/route';

// Registered once under components.headers (the `header.id`) and referenced from each response.
const responseHeader = <T extends z.ZodType>(
  name: string,
  schema: T,
  meta: { description?: string; example?: string },
) => schema.meta({ ...meta, header: { id: name } });

/** What each response header a route declaration or HTTP_ERRORS may name means, for the document. */
export const RESPONSE_HEADERS = {
  'X-Request-Id': responseHeader('X-Request-Id', z.string(), {
    description: 'Unique id of this request; error bodies repeat it as `request_id`.',
  }),
  ETag: responseHeader('ETag', z.string(), { description: 'Strong entity tag of the representation.' }),
  'Cache-Control': responseHeader('Cache-Control', z.string(), { example: 'no-store' }),
  Location: responseHeader('Location', z.string(), { description: 'Path of the created resource.' }),
  'Idempotent-Replayed': responseHeader('Idempotent-Replayed', z.literal('true').optional(), {
    description: 'Present when this is the stored response of an earlier request with the same Idempotency-Key.',
  }),
  'Retry-After': responseHeader('Retry-After', z.string(), {
    description: 'Seconds to wait before retrying.',
    example: '1',
  }),
  'WWW-Authenticate': responseHeader('WWW-Authenticate', z.string(), { example: 'Bearer realm="shop-api"' }),
  Allow: responseHeader('Allow', z.string(), { description: 'Methods served at this path.', example: 'GET, POST' }),
} as const satisfies Record<ResponseHeader, z.ZodType>;
