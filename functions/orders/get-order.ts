import { dbFor, readDbFor } from '../../lib/db/client';
import { endpoint } from '../../lib/http/handler';
import { json } from '../../lib/http/response';
import { getOrderRoute } from '../../lib/orders/routes';
import { getOrder } from '../../lib/orders/service';

/** 200 the order; 404 order_not_found (also for strings that cannot be order ids). */
export const handler = endpoint(getOrderRoute, async ({ params, scope }) =>
  // The replica first; the writer when the replica has not caught up with a just-placed order.
  json(200, await getOrder(readDbFor(scope), params.id, dbFor(scope)), { 'Cache-Control': 'no-store' }),
);
