/**
 * Order size: time per order for 1-, 10- and 100-line orders through the real handler, one order
 * at a time (concurrency 1), so the figure is the order's own cost (round trips, statements,
 * rows) and not queueing behind other orders. The raw statements for 1 and 100 lines run beside
 * them as the floor. All five run in interleaved slices.
 */
import { addRow, type BenchContext } from '../lib/context';
import { summarise } from '../lib/load';
import { manyLines, type OrderProducts } from '../lib/workload';
import { interleaved, type LoadEntry, type Placer } from './orders';

export const ORDER_SIZES = [1, 10, 100] as const;

export const sizeName = (prefix: string, n: number) => `${prefix}_${n}_line${n === 1 ? '' : 's'}`;

export async function runOrderSizes(
  ctx: BenchContext,
  products: OrderProducts,
  handler: Placer,
  raw: Placer,
): Promise<void> {
  const s = ctx.settings;
  const entries: LoadEntry[] = [];
  for (const n of ORDER_SIZES) {
    for (const placer of [raw, handler]) {
      if (placer === raw && n === 10) continue;
      entries.push({ name: sizeName(placer.name, n), placer, nextOrder: () => manyLines(products, n), concurrency: 1 });
    }
  }
  ctx.log(
    `order size: ${entries.map((e) => e.name).join(', ')}: one at a time, ${s.slices} interleaved slices of ${s.sliceMs / 1000} s`,
  );
  const results = await interleaved(ctx, 'order_size', products.spreadIds, entries, s);
  for (const e of entries) {
    const r = results.get(e.name);
    if (r) addRow(ctx, e.name, summarise(r), 'one order at a time, interleaved');
  }
}
