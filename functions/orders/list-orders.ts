import { readDb } from '../../lib/db/client';
import { endpoint } from '../../lib/http/handler';
import { json } from '../../lib/http/response';
import { pagingQuery } from '../../lib/http/schemas';
import { listOrders } from '../../lib/orders/service';

/** GET /orders (admin): a page of orders, newest first. */
export const handler = endpoint({ admin: true, query: pagingQuery }, async ({ query }) =>
  json(200, await listOrders(readDb(), query), { 'Cache-Control': 'no-store' }),
);
