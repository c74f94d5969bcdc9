/**
 * Order size: time per order for 1-, 10- and 100-line orders through the real handler, one order
 * at a time (concurrency 1), so the figure is the order's own cost (round trips, statements,
 * rows) and not queueing behind other orders. The raw statements for 1 and 100 lines run beside
 * them as the floor.
 */
import { addRow, type BenchContext } from '../lib/context';
import { manyLines, type OrderProducts } from '../lib/workload';
import { loadOrders, type Placer } from './orders';

export const ORDER_SIZES = [1, 10, 100] as const;

export const sizeName = (prefix: string, n: number) => `${prefix}_${n}_line${n === 1 ? '' : 's'}`;

export async function runOrderSizes(
  ctx: BenchContext,
  products: OrderProducts,
  handler: Placer,
  raw: Placer,
): Promise<void> {
  const s = ctx.settings;
  const opts = { concurrency: 1, durationMs: s.durationMs, warmupMs: s.warmupMs };
  for (const n of ORDER_SIZES) {
    for (const placer of [raw, handler]) {
      if (placer === raw && n === 10) continue;
      const name = sizeName(placer.name, n);
      ctx.log(`${name} (concurrency 1, ${s.durationMs / 1000} s)`);
      const summary = await loadOrders(ctx, name, placer, products.spreadIds, () => manyLines(products, n), opts);
      addRow(ctx, name, summary, 'one order at a time');
    }
  }
}
