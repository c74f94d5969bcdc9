import { dbFor } from '../../lib/db/client';
import { endpoint } from '../../lib/http/handler';
import { json } from '../../lib/http/response';
import { createOrderRoute } from '../../lib/orders/routes';
import { placeOrder } from '../../lib/orders/service';

/** 201 + Location; a repeated Idempotency-Key replays the stored 201. */
export const handler = endpoint(createOrderRoute, async ({ body, headers, scope }) => {
  const placed = await placeOrder(dbFor(scope), {
    products: body.products,
    idempotencyKey: headers['idempotency-key'],
  });
  return json(201, placed.order, {
    Location: `/orders/${placed.order.id}`,
    'Cache-Control': 'no-store',
    ...(placed.replayed ? { 'Idempotent-Replayed': 'true' } : {}),
  });
});
