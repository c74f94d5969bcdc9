import { isConnectionError, isRetryableLockError } from '../db/errors';
import { AppError, BusyError, DatabaseUnavailableError, type ErrorCode, MethodNotAllowedError } from '../errors';
import type { ResponseHeader } from './route';

/** An RFC 9457 problem document as this API sends it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: readonly object[];
  /** How many problems were left out of `errors` (only when there were more than MAX_LISTED_ERRORS). */
  errors_omitted?: number;
  request_id: string;
}

/**
 * At most this many `errors` of a validation_failed are listed, so that one small request (100
 * empty order lines, 1,000 unknown fields) cannot buy a response many times its size. The lists of
 * insufficient_stock and unknown_product stay complete: they have at most one entry per order line
 * (≤ 100), each no bigger than the line it reports.
 */
export const MAX_LISTED_ERRORS = 50;

function errorList(error: AppError): Pick<Problem, 'errors' | 'errors_omitted'> {
  const { errors } = error;
  if (!errors) return {};
  if (error.code !== 'validation_failed' || errors.length <= MAX_LISTED_ERRORS) return { errors };
  return { errors: errors.slice(0, MAX_LISTED_ERRORS), errors_omitted: errors.length - MAX_LISTED_ERRORS };
}

export const PROBLEM_TYPE_BASE = 'https://errors.shop.example/';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** A response header an error sets, from the error's data (undefined: not sent). */
type HeaderValue = (error: AppError) => string | undefined;

export interface HttpErrorEntry {
  status: number;
  title: string;
  /** When a client gets it (the error table in the docs and the OpenAPI document). */
  when: string;
  headers?: Readonly<Partial<Record<ResponseHeader, HeaderValue>>>;
}

const retryAfter: HeaderValue = (e) => (e.retryAfterS === undefined ? undefined : String(e.retryAfterS));
const allow: HeaderValue = (e) => (e instanceof MethodNotAllowedError ? e.allowed.join(', ') : undefined);

/**
 * The one table from a domain error's code to HTTP: status, title, and the headers it sets.
 * Read by the problem+json boundary, the OpenAPI document and the error table in the docs.
 */
// biome-ignore format: one line per code reads as a table
export const HTTP_ERRORS = {
  validation_failed: { status: 400, title: 'Validation failed', when: 'A body, query or path parameter is invalid; `errors` lists every problem, at most 50 (`errors_omitted` counts the rest).' },
  malformed_json: { status: 400, title: 'Malformed JSON', when: 'The request body is empty or is not valid JSON.' },
  unauthorized: { status: 401, title: 'Unauthorized', when: 'Admin endpoint without a valid `Authorization: Bearer <key>`.', headers: { 'WWW-Authenticate': () => 'Bearer realm="shop-api"' } },
  route_not_found: { status: 404, title: 'Route not found', when: 'No endpoint at this path.' },
  product_not_found: { status: 404, title: 'Product not found', when: 'The product does not exist or is archived.' },
  order_not_found: { status: 404, title: 'Order not found', when: 'No order with this id.' },
  method_not_allowed: { status: 405, title: 'Method not allowed', when: 'The path exists but not with this method; `Allow` lists the methods.', headers: { Allow: allow } },
  product_name_taken: { status: 409, title: 'Product name taken', when: 'A live product already has this name.' },
  insufficient_stock: { status: 409, title: 'Insufficient stock', when: 'One or more lines ask for more than is in stock; `errors` lists every short line.' },
  idempotency_key_in_use: { status: 409, title: 'Idempotency key in use', when: 'A request with this Idempotency-Key is still being processed; retry after `Retry-After`.', headers: { 'Retry-After': retryAfter } },
  precondition_failed: { status: 412, title: 'Precondition failed', when: '`If-Match` does not match the current product.' },
  payload_too_large: { status: 413, title: 'Payload too large', when: 'The body is over 64 KiB.' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type', when: 'The body is not `application/json` (any case; a `charset`, if given, must be UTF-8).' },
  unknown_product: { status: 422, title: 'Unknown product', when: 'The order names products that do not exist or are archived; `errors` lists each.' },
  idempotency_key_reused: { status: 422, title: 'Idempotency key reused', when: 'The Idempotency-Key was used before with a different body.' },
  internal_error: { status: 500, title: 'Internal server error', when: 'An unexpected failure; nothing internal is shown.' },
  busy: { status: 503, title: 'Service busy', when: 'Lock contention persisted after retries; retry after `Retry-After`.', headers: { 'Retry-After': retryAfter } },
  database_unavailable: { status: 503, title: 'Database unavailable', when: 'The database could not be reached; retry after `Retry-After`.', headers: { 'Retry-After': retryAfter } },
} as const satisfies Record<ErrorCode, HttpErrorEntry>;

/** The table's entry for a code, typed for reading. */
export function httpErrorOf(code: ErrorCode): HttpErrorEntry {
  return HTTP_ERRORS[code];
}

/**
 * The one mapping from any thrown value to a domain error. Driver failures become 503s; anything
 * unexpected becomes a bare 500 so no SQL, stack or driver message reaches the client.
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isRetryableLockError(err)) return new BusyError(err);
  if (isConnectionError(err)) return new DatabaseUnavailableError(err);
  return new AppError('internal_error', 'An unexpected error occurred', { cause: err });
}

/** The status and headers of an error response, from the table and the error's data. */
export function httpStatusOf(error: AppError): { status: number; headers: Record<string, string> } {
  const entry = httpErrorOf(error.code);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(entry.headers ?? {})) {
    const v = value(error);
    if (v !== undefined) headers[name] = v;
  }
  return { status: entry.status, headers };
}

export function problemOf(error: AppError, requestId: string): Problem {
  const { status, title } = httpErrorOf(error.code);
  return {
    type: PROBLEM_TYPE_BASE + error.code.replaceAll('_', '-'),
    title,
    status,
    detail: error.code === 'internal_error' ? 'An unexpected error occurred' : error.message,
    code: error.code,
    ...errorList(error),
    request_id: requestId,
  };
}
