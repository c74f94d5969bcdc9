/** The real POST /orders handler as a Placer, in-process, with a pool as large as the raw one. */
import { closeDb } from '../../lib/db/client';
import { call, loadHandler, unexpected, useDatabase } from '../lib/handlers';
import type { BenchContext } from '../lib/context';
import type { Placer } from './orders';

export const CREATE_ORDER = 'functions/orders/create-order.ts';

export async function handlerPlacer(ctx: BenchContext, poolSize: number): Promise<Placer> {
  // Fair comparison: the handler gets the same number of connections as the raw scenario's pool
  // (in Lambda it would be 1–2 per instance, with one request per instance at a time).
  await useDatabase(ctx.runUrl, poolSize);
  const handler = loadHandler(ctx.repoRoot, CREATE_ORDER);
  return {
    name: 'order',
    place: async (lines) => {
      const reply = await call(
        handler,
        {
          method: 'POST',
          path: '/orders',
          json: { products: lines.map((l) => ({ product_id: l.productId, quantity: l.quantity })) },
        },
        'createOrder',
      );
      if (reply.status !== 201) throw unexpected(reply, 201);
    },
    close: () => closeDb(),
  };
}
