/**
 * The real POST /orders handler as a Placer, in-process. It uses the app's process-wide pool:
 * `useDatabase(url, size)` (bench/lib/handlers.ts) points it at the loopback or the proxied URL,
 * with a pool as large as the raw ones.
 */
import { closeDb } from '../../lib/db/client';
import { invoke, loadHandler } from '../../scripts/lib/lambda';
import { unexpected } from '../lib/handlers';
import type { BenchContext } from '../lib/context';
import type { Placer } from './orders';

export const CREATE_ORDER = 'functions/orders/create-order.ts';

export function handlerPlacer(ctx: BenchContext): Placer {
  const handler = loadHandler(ctx.repoRoot, CREATE_ORDER);
  return {
    name: 'order',
    place: async (lines) => {
      const reply = await invoke(
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
