import { pagingQuery } from '../http/schemas';
import { type FunctionDeclaration, route } from '../http/route';
import { orderListView, orderPathParams, orderView, placeOrderBody, placeOrderHeaders } from './schema';

/** The order routes, one declaration each (lib/http/route.ts says what a declaration holds). */

export const createOrderRoute = route({
  method: 'POST',
  path: '/orders',
  functionName: 'createOrder',
  lambda: { handler: 'functions/orders/create-order', memorySize: 1024, timeout: 15 },
  admin: false,
  body: placeOrderBody,
  headers: placeOrderHeaders,
  tag: 'Orders',
  summary: 'Place an order',
  description:
    'Takes the stock of every line in one transaction: all lines or none. With an `Idempotency-Key`, a repeat of ' +
    'the same request returns the stored 201 (with `Idempotent-Replayed: true`) and creates nothing.',
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
  orderMetrics: true,
});

export const listOrdersRoute = route({
  method: 'GET',
  path: '/orders',
  functionName: 'listOrders',
  lambda: { handler: 'functions/orders/list-orders', memorySize: 512, timeout: 10 },
  admin: true,
  query: pagingQuery,
  tag: 'Orders',
  summary: 'List orders',
  description: 'Newest first, page by page.',
  queryExample: { page: '1', per_page: '10' },
  responses: [{ status: 200, description: 'A page of orders.', schema: orderListView, headers: ['Cache-Control'] }],
  errors: [],
});

export const getOrderRoute = route({
  method: 'GET',
  path: '/orders/{id}',
  functionName: 'getOrder',
  lambda: { handler: 'functions/orders/get-order', memorySize: 512, timeout: 6 },
  admin: false,
  params: orderPathParams,
  tag: 'Orders',
  summary: 'Get an order',
  responses: [{ status: 200, description: 'The order.', schema: orderView, headers: ['Cache-Control'] }],
  errors: ['order_not_found'],
});

export const cancelOrderRoute = route({
  method: 'POST',
  path: '/orders/{id}/cancel',
  functionName: 'cancelOrder',
  lambda: { handler: 'functions/orders/cancel-order', memorySize: 1024, timeout: 15 },
  admin: true,
  params: orderPathParams,
  tag: 'Orders',
  summary: 'Cancel an order',
  description:
    'Marks the order cancelled and puts every line back into stock, in one transaction. Cancelling a cancelled ' +
    'order returns it unchanged and restores nothing twice.',
  responses: [{ status: 200, description: 'The cancelled order.', schema: orderView, headers: ['Cache-Control'] }],
  errors: ['order_not_found', 'busy'],
});

export const ORDER_ROUTES = [createOrderRoute, listOrdersRoute, getOrderRoute, cancelOrderRoute] as const;

/**
 * Scheduled every hour: deletes Idempotency-Keys whose 24 h have passed, in bounded batches, so
 * keys are kept at least 24 h and at most about 25 h.
 */
export const purgeIdempotencyKeysFunction: FunctionDeclaration = {
  functionName: 'purgeIdempotencyKeys',
  lambda: { handler: 'functions/orders/purge-idempotency-keys', memorySize: 512, timeout: 60 },
  trigger: { schedule: 'rate(1 hour)' },
};
