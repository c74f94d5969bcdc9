import { db, readDb } from '../../lib/db/client';
import { endpoint } from '../../lib/http/handler';
import { json } from '../../lib/http/response';
import { orderPathParams } from '../../lib/orders/schema';
import { getOrder } from '../../lib/orders/service';

/** GET /orders/{id}: 200 the order; 404 order_not_found (also for strings that cannot be order ids). */
export const handler = endpoint({ params: orderPathParams }, async ({ params }) =>
  // The replica first; the writer when the replica has not caught up with a just-placed order.
  json(200, await getOrder(readDb(), params.id, db()), { 'Cache-Control': 'no-store' }),
);
