/**
 * Order size: time per order for 1-, 10- and 100-line orders through the real handler, one order
 * at a time (concurrency 1), so the figure is the order's own cost (round trips, statements,
 * rows) and not queueing behind other orders. The raw statements (naive and lock-last) run beside
 * them as the floor. All nine run in interleaved slices.
 */
import { addRow, type BenchContext } from '../lib/context';
import { summarise } from '../lib/load';
import { manyLines, type OrderProducts } from '../lib/workload';
import { interleaved, type LoadEntry, type PlacerSet } from './orders';

export const ORDER_SIZES = [1, 10, 100] as const;

export const sizeName = (prefix: string, n: number) => `${prefix}_${n}_line${n === 1 ? '' : 's'}`;

export async function runOrderSizes(ctx: BenchContext, products: OrderProducts, set: PlacerSet): Promise<void> {
  const s = ctx.settings;
  const suffix = set.network.suffix;
  const entries: LoadEntry[] = [];
  for (const n of ORDER_SIZES) {
    for (const placer of set.placers) {
      entries.push({
        name: `${sizeName(placer.name, n)}${suffix}`,
        placer,
        nextOrder: () => manyLines(products, n),
        concurrency: 1,
      });
    }
  }
  ctx.log(
    `order size (${set.network.label}): ${entries.map((e) => e.name).join(', ')}: one at a time, ${s.slices} interleaved slices of ${s.sliceMs / 1000} s`,
  );
  const results = await interleaved(ctx, `order_size${suffix}`, products.spreadIds, entries, s);
  for (const e of entries) {
    const r = results.get(e.name);
    if (r) addRow(ctx, e.name, summarise(r), `${set.network.label}, one order at a time, interleaved`);
  }
}
