/**
 * Write scenarios: the raw reference and the real POST /orders handler, side by side on the same
 * database, the same products and the same order mix, in interleaved slices (raw, handler, raw,
 * handler, …) so that a change in the machine's load hits both. After every run, the lost-update
 * audit (see stock-check.ts).
 */
import { addRow, type BenchContext, recordAudit } from '../lib/context';
import { connect, seedProducts } from '../lib/databases';
import { type LoadResult, mergeResults, runLoad, summarise } from '../lib/load';
import { type Line, StockTracker } from '../lib/stock-check';
import { type OrderProducts, type Shape, singleLine } from '../lib/workload';
import { createRawPool, rawPlaceOrder } from './raw';

export const SPREAD_PRODUCTS = 10_000;

export interface Placer {
  name: string;
  place(lines: Line[]): Promise<void>;
  close(): Promise<void>;
}

export async function setupOrderProducts(ctx: BenchContext, spread = SPREAD_PRODUCTS): Promise<OrderProducts> {
  // Stock large enough that no run can exhaust it: every order must succeed for the ratio to mean anything.
  const hot = await seedProducts(ctx.runUrl, { count: 1, stock: 1_000_000_000, prefix: 'Hot product' });
  const set = await seedProducts(ctx.runUrl, { count: spread, stock: 10_000_000, prefix: 'Spread product' });
  const spreadIds = Array.from({ length: spread }, (_, i) => set.firstId + i);
  return { hotId: hot.firstId, spreadIds };
}

export function rawPlacer(databaseUrl: string, poolSize: number): Placer {
  const pool = createRawPool(databaseUrl, poolSize);
  return {
    name: 'raw',
    place: async (lines) => {
      await rawPlaceOrder(pool, lines);
    },
    close: () => pool.end(),
  };
}

export interface LoadEntry {
  /** Row name in the table, e.g. `raw_hot`. */
  name: string;
  placer: Placer;
  nextOrder: () => Line[];
  concurrency: number;
}

/**
 * Runs the entries in interleaved slices (A, B, C, A, B, C, …), `slices` times `sliceMs` each, so
 * that a change in the shared machine's load lands on every entry alike; each entry's slices are
 * merged into one result. Every entry warms up once first (pools, JIT, buffer pool). One lost-update
 * audit covers the whole run: `ids` are every product the entries order from.
 */
export async function interleaved(
  ctx: BenchContext,
  audit: string,
  ids: number[],
  entries: LoadEntry[],
  opts: { slices: number; sliceMs: number; warmupMs: number },
): Promise<Map<string, LoadResult>> {
  const tracker = new StockTracker(ids);
  const c = await connect(ctx.runUrl);
  const results = new Map<string, LoadResult[]>();
  try {
    await tracker.snapshot(c);
    const op = (e: LoadEntry) => async () => {
      const lines = e.nextOrder();
      await e.placer.place(lines);
      tracker.add(lines); // only once the order is acknowledged
    };
    for (const e of entries) await runLoad(op(e), { concurrency: e.concurrency, durationMs: opts.warmupMs });
    for (let i = 0; i < opts.slices; i++) {
      for (const e of entries) {
        const r = await runLoad(op(e), { concurrency: e.concurrency, durationMs: opts.sliceMs });
        results.set(e.name, [...(results.get(e.name) ?? []), r]);
      }
    }
    recordAudit(ctx, audit, await tracker.audit(c));
  } finally {
    await c.end();
  }
  const merged = new Map<string, LoadResult>();
  for (const [name, rs] of results) {
    const m = mergeResults(rs);
    if (m.failed > 0) ctx.log(`  !! ${name}: failures ${JSON.stringify(m.errors)}`);
    merged.set(name, m);
  }
  return merged;
}

/** Raw vs handler, hot and spread, in interleaved slices; rows raw_hot, order_hot, raw_spread, order_spread. */
export async function runOrderPairs(ctx: BenchContext, products: OrderProducts, placers: Placer[]): Promise<void> {
  const s = ctx.settings;
  for (const shape of ['hot', 'spread'] as Shape[]) {
    const entries = placers.map((p) => ({
      name: `${p.name}_${shape}`,
      placer: p,
      nextOrder: () => singleLine(products, shape),
      concurrency: s.concurrency,
    }));
    ctx.log(
      `${entries.map((e) => e.name).join(' vs ')}: concurrency ${s.concurrency}, ${s.slices} interleaved slices of ${s.sliceMs / 1000} s each`,
    );
    const ids = shape === 'hot' ? [products.hotId] : products.spreadIds;
    const results = await interleaved(ctx, `orders_${shape}`, ids, entries, s);
    for (const e of entries) {
      const r = results.get(e.name);
      if (r) addRow(ctx, e.name, summarise(r), `${s.slices} × ${s.sliceMs / 1000} s slices, interleaved`);
    }
  }
}
