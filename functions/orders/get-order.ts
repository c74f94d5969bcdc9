import { endpoint } from '../../lib/http/handler';
import { json } from '../../lib/http/response';
import { orderPathParams } from '../../lib/orders/schema';
import { getOrder } from '../../lib/orders/service';

/** GET /orders/{id}: 200 the order; 404 order_not_found (also for strings that cannot be order ids). */
export const handler = endpoint({ params: orderPathParams }, async ({ params }) =>
  json(200, await getOrder(params.id), { 'Cache-Control': 'no-store' }),
);
