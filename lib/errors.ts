/**
 * Domain errors are values with a stable `code`. The catalogue below is the one source for the
 * HTTP status and title of each code (used by the problem+json mapper, the OpenAPI document and
 * the README's error table).
 */
// biome-ignore format: one line per code reads as a table
export const ERROR_CATALOG = {
  validation_failed: { status: 400, title: 'Validation failed', when: 'A body, query or path parameter is invalid; `errors` lists every problem.' },
  malformed_json: { status: 400, title: 'Malformed JSON', when: 'The request body is not valid JSON.' },
  unauthorized: { status: 401, title: 'Unauthorized', when: 'Admin endpoint without a valid `Authorization: Bearer <key>`.' },
  route_not_found: { status: 404, title: 'Route not found', when: 'No endpoint at this path.' },
  product_not_found: { status: 404, title: 'Product not found', when: 'The product does not exist or is archived.' },
  order_not_found: { status: 404, title: 'Order not found', when: 'No order with this id.' },
  method_not_allowed: { status: 405, title: 'Method not allowed', when: 'The path exists but not with this method; `Allow` lists the methods.' },
  product_name_taken: { status: 409, title: 'Product name taken', when: 'A live product already has this name.' },
  insufficient_stock: { status: 409, title: 'Insufficient stock', when: 'One or more lines ask for more than is in stock; `errors` lists every short line.' },
  idempotency_key_in_use: { status: 409, title: 'Idempotency key in use', when: 'A request with this Idempotency-Key is still being processed; retry after `Retry-After`.' },
  precondition_failed: { status: 412, title: 'Precondition failed', when: '`If-Match` does not match the current product.' },
  payload_too_large: { status: 413, title: 'Payload too large', when: 'The body is over 64 KiB.' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type', when: 'The body is not `application/json`.' },
  unknown_product: { status: 422, title: 'Unknown product', when: 'The order names products that do not exist or are archived; `errors` lists each.' },
  idempotency_key_reused: { status: 422, title: 'Idempotency key reused', when: 'The Idempotency-Key was used before with a different body.' },
  internal_error: { status: 500, title: 'Internal server error', when: 'An unexpected failure; nothing internal is shown.' },
  busy: { status: 503, title: 'Service busy', when: 'Lock contention persisted after retries; retry after `Retry-After`.' },
  database_unavailable: { status: 503, title: 'Database unavailable', when: 'The database could not be reached; retry after `Retry-After`.' },
} as const satisfies Record<string, { status: number; title: string; when: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export interface FieldError {
  path: string;
  message: string;
}

export interface AppErrorOptions {
  /** Extra problem members listed under `errors`. */
  errors?: readonly object[];
  /** Extra response headers (Retry-After, WWW-Authenticate, Allow …). */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly errors: readonly object[] | undefined;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, detail: string, options: AppErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = ERROR_CATALOG[code].status;
    this.title = ERROR_CATALOG[code].title;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }
}

export class ValidationError extends AppError {
  constructor(errors: FieldError[]) {
    const n = errors.length;
    super('validation_failed', n === 1 ? '1 problem with the request' : `${n} problems with the request`, { errors });
  }
}

export class MalformedJsonError extends AppError {
  constructor() {
    super('malformed_json', 'The request body is not valid JSON');
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
    super('unauthorized', 'A valid admin key is required: Authorization: Bearer <key>', {
      headers: { 'WWW-Authenticate': 'Bearer realm="shop-api"' },
    });
  }
}

export class RouteNotFoundError extends AppError {
  constructor(method: string, path: string) {
    super('route_not_found', `No route for ${method} ${path}`);
  }
}

export class MethodNotAllowedError extends AppError {
  constructor(method: string, path: string, allowed: readonly string[]) {
    super('method_not_allowed', `${method} is not allowed on ${path}`, { headers: { Allow: allowed.join(', ') } });
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
    super('idempotency_key_in_use', 'A request with this Idempotency-Key is still in progress', {
      headers: { 'Retry-After': String(retryAfterS) },
    });
  }
}

export class BusyError extends AppError {
  constructor(cause?: unknown, retryAfterS = 1) {
    super('busy', 'The service is busy; retry shortly', { headers: { 'Retry-After': String(retryAfterS) }, cause });
  }
}

export class DatabaseUnavailableError extends AppError {
  constructor(cause?: unknown, retryAfterS = 2) {
    super('database_unavailable', 'The database is unavailable; retry shortly', {
      headers: { 'Retry-After': String(retryAfterS) },
      cause,
    });
  }
}
