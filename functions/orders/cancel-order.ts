import { db } from '../../lib/db/client';
import { endpoint } from '../../lib/http/handler';
import { json } from '../../lib/http/response';
import { orderPathParams } from '../../lib/orders/schema';
import { cancelOrder } from '../../lib/orders/service';

/** POST /orders/{id}/cancel (admin): 200 the cancelled order; a second cancel changes nothing. */
export const handler = endpoint({ admin: true, params: orderPathParams }, async ({ params }) =>
  json(200, await cancelOrder(db(), params.id), { 'Cache-Control': 'no-store' }),
);
