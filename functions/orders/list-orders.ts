import { readDbFor } from '../../lib/db/client';
import { endpoint } from '../../lib/http/handler';
import { json } from '../../lib/http/response';
import { listOrdersRoute } from '../../lib/orders/routes';
import { listOrders } from '../../lib/orders/service';

/** A page of orders, newest first. */
export const handler = endpoint(listOrdersRoute, async ({ query, scope }) =>
  json(200, await listOrders(readDbFor(scope), query), { 'Cache-Control': 'no-store' }),
);
