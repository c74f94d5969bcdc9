import { dbFor } from '../../lib/db/client';
import { endpoint } from '../../lib/http/handler';
import { json } from '../../lib/http/response';
import { cancelOrderRoute } from '../../lib/orders/routes';
import { cancelOrder } from '../../lib/orders/service';

/** 200 the cancelled order; a second cancel changes nothing. */
export const handler = endpoint(cancelOrderRoute, async ({ params, scope }) =>
  json(200, await cancelOrder(dbFor(scope), params.id), { 'Cache-Control': 'no-store' }),
);
