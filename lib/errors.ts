/**
 * Domain errors are values with a stable `code` and the data that explains them; they know
 * nothing of HTTP. The HTTP layer maps each code to a status, title and headers in one table
 * (HTTP_ERRORS in lib/http/problem.ts), which the problem+json mapper, the OpenAPI document and
 * the error table in the docs all read.
 */
export const ERROR_CODES = [
  'validation_failed',
  'malformed_json',
  'unauthorized',
  'route_not_found',
  'product_not_found',
  'order_not_found',
  'method_not_allowed',
  'product_name_taken',
  'insufficient_stock',
  'idempotency_key_in_use',
  'precondition_failed',
  'payload_too_large',
  'unsupported_media_type',
  'unknown_product',
  'idempotency_key_reused',
  'internal_error',
  'busy',
  'database_unavailable',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface FieldError {
  path: string;
  message: string;
}

export interface AppErrorOptions {
  /** Every individual problem (field errors, short lines, unknown ids); problem+json lists them under `errors`. */
  errors?: readonly object[];
  /** Seconds after which a retry may succeed (busy, database unavailable, a key still in use). */
  retryAfterS?: number;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly errors: readonly object[] | undefined;
  readonly retryAfterS: number | undefined;

  constructor(code: ErrorCode, detail: string, options: AppErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.errors = options.errors;
    this.retryAfterS = options.retryAfterS;
  }
}

export class ValidationError extends AppError {
  constructor(errors: FieldError[]) {
    const n = errors.length;
    super('validation_failed', n === 1 ? '1 problem with the request' : `${n} problems with the request`, { errors });
  }
}

export class MalformedJsonError extends AppError {
  constructor(detail = 'The request body is not valid JSON') {
    super('malformed_json', detail);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor() {
    super('unsupported_media_type', 'Send the body as Content-Type: application/json');
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limitBytes: number) {
    super('payload_too_large', `The body must be at most ${limitBytes} bytes`);
  }
}

export class UnauthorizedError extends AppError {
  constructor() {
    super('unauthorized', 'A valid admin key is required: Authorization: Bearer <key>');
  }
}

export class RouteNotFoundError extends AppError {
  constructor(method: string, path: string) {
    super('route_not_found', `No route for ${method} ${path}`);
  }
}

export class MethodNotAllowedError extends AppError {
  constructor(
    method: string,
    path: string,
    /** The methods the path does serve. */
    readonly allowed: readonly string[],
  ) {
    super('method_not_allowed', `${method} is not allowed on ${path}`);
  }
}

export class ProductNotFoundError extends AppError {
  constructor(id: number) {
    super('product_not_found', `Product ${id} does not exist`);
  }
}

export class OrderNotFoundError extends AppError {
  constructor(id: string) {
    super('order_not_found', `Order ${id} does not exist`);
  }
}

export class ProductNameTakenError extends AppError {
  constructor(name: string) {
    super('product_name_taken', `A product named "${name}" already exists`);
  }
}

export class PreconditionFailedError extends AppError {
  constructor() {
    super('precondition_failed', 'The product has changed since the given ETag; fetch it again');
  }
}

export interface StockShortfall {
  product_id: number;
  requested: number;
  available: number;
}

export class InsufficientStockError extends AppError {
  constructor(readonly shortfalls: StockShortfall[]) {
    const n = shortfalls.length;
    const detail = n === 1 ? '1 product does not have enough stock' : `${n} products do not have enough stock`;
    super('insufficient_stock', detail, { errors: shortfalls });
  }
}

export class UnknownProductError extends AppError {
  constructor(readonly productIds: number[]) {
    super('unknown_product', `Unknown or archived product id(s): ${productIds.join(', ')}`, {
      errors: productIds.map((product_id) => ({ product_id })),
    });
  }
}

export class IdempotencyKeyReusedError extends AppError {
  constructor() {
    super('idempotency_key_reused', 'This Idempotency-Key was already used with a different request body');
  }
}

export class IdempotencyKeyInUseError extends AppError {
  constructor(retryAfterS = 1) {
    super('idempotency_key_in_use', 'A request with this Idempotency-Key is still in progress', { retryAfterS });
  }
}

export class BusyError extends AppError {
  constructor(cause?: unknown, retryAfterS = 1) {
    super('busy', 'The service is busy; retry shortly', { retryAfterS, cause });
  }
}

export class DatabaseUnavailableError extends AppError {
  constructor(cause?: unknown, retryAfterS = 2) {
    super('database_unavailable', 'The database is unavailable; retry shortly', { retryAfterS, cause });
  }
}
