import { z } from 'zod';
import type { ErrorCode } from '../errors';

/**
 * The shape of a route declaration: everything about one HTTP route, written once. The middy
 * chain (`endpoint(route, fn)`), the OpenAPI document, the 405/`Allow` table and the `functions:`
 * section of serverless.yml (deploy/functions.js) are all made from it. Declarations live next to
 * their domain: lib/products/routes.ts, lib/orders/routes.ts, lib/system/routes.ts; lib/routes.ts
 * lists them.
 */

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** Response headers the document can describe (lib/openapi/headers.ts says what each means). */
export type ResponseHeader =
  | 'X-Request-Id'
  | 'ETag'
  | 'Cache-Control'
  | 'Location'
  | 'Idempotent-Replayed'
  | 'Retry-After'
  | 'WWW-Authenticate'
  | 'Allow';

export interface SuccessResponse {
  status: number;
  description: string;
  /** JSON body schema; omit for no body. */
  schema?: z.ZodType;
  /** Media types of a non-JSON body (the docs page and its assets). */
  contentTypes?: readonly string[];
  headers?: readonly ResponseHeader[];
}

/** The Lambda settings of a function (the same on every stage; reserved concurrency is per stage, in serverless.yml params). */
export interface LambdaSettings {
  /** Path of the handler module from the repository root, without extension; its export is `handler`. */
  handler: string;
  memorySize: number;
  /** Seconds; HTTP functions stay under API Gateway's 30 s. */
  timeout: number;
}

export interface RouteDeclaration<B = unknown, Q = unknown, P = unknown> {
  method: Method;
  /** API Gateway route path, `{name}` for a path parameter. */
  path: string;
  /** The Lambda function's name (also the OpenAPI operationId). */
  functionName: string;
  lambda: LambdaSettings;
  /** Admin routes check the Bearer key before anything else about the request. */
  admin: boolean;
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  params?: z.ZodType<P>;
  /** Validated request headers (names lower-cased, as handlers see them). */
  headers?: z.ZodObject;
  /** Headers the handler reads without a schema (conditional requests): documented only. */
  otherHeaders?: z.ZodObject;
  tag: 'Products' | 'Orders' | 'Operations';
  summary: string;
  description?: string;
  /** A request body that the handler accepts (the document's example). */
  bodyExample?: unknown;
  /** Query values as sent on the wire (the document's example). */
  queryExample?: Record<string, string>;
  responses: readonly SuccessResponse[];
  /** Domain errors of this route, on top of those that follow from its inputs (lib/openapi/document.ts). */
  errors: readonly ErrorCode[];
  /** False for routes that never touch the database (no 503 database_unavailable). */
  usesDatabase?: boolean;
  /** Its answers are counted as OrdersPlaced (a 201 that is not a replay) and OrdersRejected (any 4xx/5xx). */
  orderMetrics?: boolean;
}

/** A Lambda function that is not an HTTP route: the catch-all, a schedule, or invoked by hand. */
export interface FunctionDeclaration {
  functionName: string;
  lambda: LambdaSettings;
  trigger: { catchAll: true } | { schedule: string } | { invoke: true };
}

/** Declares a route; the identity, there so that B, Q and P are inferred from the schemas. */
export const route = <B = undefined, Q = undefined, P = undefined>(
  declaration: RouteDeclaration<B, Q, P>,
): RouteDeclaration<B, Q, P> => declaration;

/** Documents If-None-Match on a cacheable GET (cacheableJson answers 304 while it matches). */
export const ifNoneMatchHeader = z.object({
  'If-None-Match': z.string().optional().meta({
    description: 'An ETag from an earlier response: 304 Not Modified, without a body, while it still matches.',
  }),
});

export const NOT_MODIFIED = {
  status: 304,
  description: 'Not modified: `If-None-Match` matches the current ETag.',
} as const satisfies SuccessResponse;
