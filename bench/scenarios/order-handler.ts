/**
 * The real POST /orders handler as a Placer, in-process, bundled as it is deployed
 * (bench/lib/bundle.ts: serverless.yml's esbuild settings) and invoked with API Gateway v2 events
 * built by scripts/lib/lambda.ts. The bundle has its own pool: `pointAt(url, size)` points it at
 * the loopback or the proxied URL, as large as the raw pools.
 */
import type { Handler } from '../../scripts/lib/lambda';
import { invoke } from '../../scripts/lib/lambda';
import { loadBundle } from '../lib/bundle';
import type { BenchContext } from '../lib/context';
import { unexpected } from '../lib/handlers';
import type { Placer } from './orders';

export const CREATE_ORDER = 'functions/orders/create-order.ts';

interface OrderHandlerBundle {
  handler: Handler;
  pointProcessAt(url: string, env?: Record<string, string | undefined>): Promise<() => Promise<void>>;
}

export interface HandlerPlacer extends Placer {
  /** Points the bundle's pool at `databaseUrl` with `poolSize` connections (writer only). */
  pointAt(databaseUrl: string, poolSize: number): Promise<void>;
}

/** `POST /orders` of `lines` through `handler`, in-process; anything but 201 throws. */
export function orderThrough(handler: Handler): Placer['place'] {
  return async (lines) => {
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
  };
}

export async function handlerPlacer(ctx: BenchContext): Promise<HandlerPlacer> {
  const bundle = await loadBundle<OrderHandlerBundle>(ctx.repoRoot, 'bench/lib/order-handler-entry.ts', 'create-order');
  let restore: (() => Promise<void>) | undefined;
  return {
    name: 'order',
    place: orderThrough(bundle.handler),
    pointAt: async (databaseUrl, poolSize) => {
      const back = await bundle.pointProcessAt(databaseUrl, {
        DB_POOL_SIZE: String(poolSize),
        DATABASE_READ_URL: undefined,
      });
      restore ??= back; // the first one puts back what was there before the benchmark
    },
    // Closes the bundle's pool and puts the environment back as it was.
    close: async () => {
      await restore?.();
      restore = undefined;
    },
  };
}
