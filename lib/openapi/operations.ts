import { z } from 'zod';
import type { ErrorCode } from '../errors';
import { pagingQuery, productIdParams } from '../http/schemas';
import { orderListView, orderPathParams, orderView, placeOrderBody, placeOrderHeaders } from '../orders/schema';
import { docsAssetParams } from './docs-page';
import { createProductBody, listProductsQuery, product, productList, updateProductBody } from '../products/schema';

/**
 * What the OpenAPI document says about each route of lib/http/routes.ts, keyed by function name.
 * Request schemas are the very objects the handlers pass to `endpoint()` (a test checks the
 * identity), so the document cannot drift from what is validated.
 */
export type ResponseHeader = keyof typeof RESPONSE_HEADERS;

export interface SuccessResponse {
  status: number;
  description: string;
  /** JSON body schema; omit for no body. */
  schema?: z.ZodType;
  /** Media types of a non-JSON body (the docs page and its assets). */
  contentTypes?: readonly string[];
  headers?: readonly ResponseHeader[];
}

export interface OperationDoc {
  summary: string;
  description?: string;
  tag: 'Products' | 'Orders' | 'Operations';
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
  /** The handler's own header schema (names lower-cased, as handlers see them). */
  headers?: z.ZodObject;
  /** Headers the handler reads without a schema (conditional requests). */
  otherHeaders?: z.ZodObject;
  /** A request body that the handler accepts. */
  bodyExample?: unknown;
  /** Query values as sent on the wire. */
  queryExample?: Record<string, string>;
  responses: readonly SuccessResponse[];
  /** Domain errors of this operation, on top of those that follow from its inputs (see document.ts). */
  errors: readonly ErrorCode[];
  /** False for routes that never touch the database (no 503 database_unavailable). */
  usesDatabase?: boolean;
}

// Registered once under components.headers (the `header.id`) and referenced from each response.
const responseHeader = <T extends z.ZodType>(
  name: string,
  schema: T,
  meta: { description?: string; example?: string },
) => schema.meta({ ...meta, header: { id: name } });

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
} as const;

const ifNoneMatch = z.object({
  'If-None-Match': z.string().optional().meta({
    description: 'An ETag from an earlier response: 304 Not Modified, without a body, while it still matches.',
  }),
});

const ifMatch = z.object({
  'If-Match': z.string().optional().meta({
    description: 'Update only if the product still has this ETag; otherwise 412 precondition_failed.',
  }),
});

export const healthResponse = z
  .object({
    status: z.enum(['ok', 'degraded']),
    database: z.enum(['ok', 'unreachable']),
  })
  .meta({ id: 'Health' });

const openApiResponse = z
  .object({ openapi: z.string().meta({ example: '3.1.0' }) })
  .loose()
  .meta({ description: 'This document.' });

const NOT_MODIFIED = { status: 304, description: 'Not modified: `If-None-Match` matches the current ETag.' } as const;

export const OPERATIONS: Record<string, OperationDoc> = {
  listProducts: {
    tag: 'Products',
    summary: 'List products',
    description:
      'Live products by ascending id, page by page (`page`, `per_page`) or, for deep catalogues, by keyset `cursor`. ' +
      'A page past the end is an empty list.',
    query: listProductsQuery,
    otherHeaders: ifNoneMatch,
    queryExample: { page: '1', per_page: '10' },
    responses: [
      { status: 200, description: 'A page of products.', schema: productList, headers: ['ETag', 'Cache-Control'] },
      { ...NOT_MODIFIED, headers: ['ETag', 'Cache-Control'] },
    ],
    errors: [],
  },
  createProduct: {
    tag: 'Products',
    summary: 'Create a product',
    body: createProductBody,
    bodyExample: { name: 'Mug', description: 'A large mug', price: 19.99, stock: 100 },
    responses: [{ status: 201, description: 'The new product.', schema: product, headers: ['Location', 'ETag'] }],
    errors: ['product_name_taken'],
  },
  getProduct: {
    tag: 'Products',
    summary: 'Get a product',
    params: productIdParams,
    otherHeaders: ifNoneMatch,
    responses: [
      { status: 200, description: 'The product.', schema: product, headers: ['ETag', 'Cache-Control'] },
      { ...NOT_MODIFIED, headers: ['ETag', 'Cache-Control'] },
    ],
    errors: ['product_not_found'],
  },
  updateProduct: {
    tag: 'Products',
    summary: 'Update a product',
    description: 'Any non-empty subset of the fields; with `If-Match`, only if nobody changed the product since.',
    body: updateProductBody,
    params: productIdParams,
    otherHeaders: ifMatch,
    bodyExample: { price: 17.5, stock: 80 },
    responses: [{ status: 200, description: 'The updated product.', schema: product, headers: ['ETag'] }],
    errors: ['product_not_found', 'product_name_taken', 'precondition_failed'],
  },
  deleteProduct: {
    tag: 'Products',
    summary: 'Archive a product',
    description: 'The product stays on past orders; afterwards GET gives 404 and new orders for it get 422.',
    params: productIdParams,
    responses: [{ status: 204, description: 'Archived.' }],
    errors: ['product_not_found'],
  },
  createOrder: {
    tag: 'Orders',
    summary: 'Place an order',
    description:
      'Takes the stock of every line in one transaction: all lines or none. With an `Idempotency-Key`, a repeat of ' +
      'the same request returns the stored 201 (with `Idempotent-Replayed: true`) and creates nothing.',
    body: placeOrderBody,
    headers: placeOrderHeaders,
    bodyExample: { products: [{ product_id: 1, quantity: 2 }] },
    responses: [
      {
        status: 201,
        description: 'The order, confirmed.',
        schema: orderView,
        headers: ['Location', 'Cache-Control', 'Idempotent-Replayed'],
      },
    ],
    errors: ['insufficient_stock', 'idempotency_key_in_use', 'unknown_product', 'idempotency_key_reused', 'busy'],
  },
  listOrders: {
    tag: 'Orders',
    summary: 'List orders',
    description: 'Newest first, page by page.',
    query: pagingQuery,
    queryExample: { page: '1', per_page: '10' },
    responses: [{ status: 200, description: 'A page of orders.', schema: orderListView, headers: ['Cache-Control'] }],
    errors: [],
  },
  getOrder: {
    tag: 'Orders',
    summary: 'Get an order',
    params: orderPathParams,
    responses: [{ status: 200, description: 'The order.', schema: orderView, headers: ['Cache-Control'] }],
    errors: ['order_not_found'],
  },
  cancelOrder: {
    tag: 'Orders',
    summary: 'Cancel an order',
    description:
      'Marks the order cancelled and puts every line back into stock, in one transaction. Cancelling a cancelled ' +
      'order returns it unchanged and restores nothing twice.',
    params: orderPathParams,
    responses: [{ status: 200, description: 'The cancelled order.', schema: orderView, headers: ['Cache-Control'] }],
    errors: ['order_not_found', 'busy'],
  },
  health: {
    tag: 'Operations',
    summary: 'Health check',
    description: 'Answers 503 with `"database": "unreachable"` when the database does not answer in time.',
    responses: [
      { status: 200, description: 'The service and its database are up.', schema: healthResponse },
      { status: 503, description: 'The database does not answer.', schema: healthResponse },
    ],
    errors: [],
    usesDatabase: false,
  },
  openapi: {
    tag: 'Operations',
    summary: 'This OpenAPI document',
    responses: [{ status: 200, description: 'OpenAPI 3.1 document.', schema: openApiResponse, headers: ['ETag'] }],
    errors: [],
    usesDatabase: false,
  },
  docs: {
    tag: 'Operations',
    summary: 'API reference page',
    description: 'An HTML page rendering this document; every script, style and font is served by this service.',
    responses: [{ status: 200, description: 'HTML page.', contentTypes: ['text/html; charset=utf-8'] }],
    errors: [],
    usesDatabase: false,
  },
  docsAsset: {
    tag: 'Operations',
    summary: 'A script or stylesheet of the reference page',
    params: docsAssetParams,
    otherHeaders: ifNoneMatch,
    responses: [
      {
        status: 200,
        description: 'The file (gzip-encoded when the client accepts it).',
        contentTypes: ['text/javascript; charset=utf-8', 'text/css; charset=utf-8'],
        headers: ['ETag', 'Cache-Control'],
      },
      { ...NOT_MODIFIED, headers: ['ETag', 'Cache-Control'] },
    ],
    errors: ['route_not_found'],
    usesDatabase: false,
  },
};
