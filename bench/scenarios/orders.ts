/**
 * Write scenarios: the raw reference and the real POST /orders handler, side by side on the same
 * database, the same products and the same order mix, in alternating rounds (raw, handler, raw,
 * handler, …) so that a change in the machine's load hits both. After every run, the lost-update
 * audit (see stock-check.ts).
 */
import { addRow, type BenchContext, recordAudit } from '../lib/context';
import { connect, seedProducts, withConnection } from '../lib/databases';
import { medianRound, runLoad, type Summary, summarise } from '../lib/load';
import { type Line, StockTracker } from '../lib/stock-check';
import { manyLines, type OrderProducts, type Shape, singleLine } from '../lib/workload';
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

/**
 * Runs one load with `placer`, auditing stock afterwards. Returns the summary; the audit goes
 * into ctx.audits.
 */
export async function loadOrders(
  ctx: BenchContext,
  scenario: string,
  placer: Placer,
  ids: number[],
  nextOrder: () => Line[],
  opts: { concurrency: number; durationMs: number; warmupMs: number },
): Promise<Summary> {
  const tracker = new StockTracker(ids);
  const c = await connect(ctx.runUrl);
  try {
    await tracker.snapshot(c);
    const result = await runLoad(async () => {
      const lines = nextOrder();
      await placer.place(lines);
      tracker.add(lines); // only once the order is acknowledged
    }, opts);
    recordAudit(ctx, scenario, await tracker.audit(c));
    if (result.failed > 0) ctx.log(`  !! ${scenario}: failures ${JSON.stringify(result.errors)}`);
    return summarise(result);
  } finally {
    await c.end();
  }
}

/** Raw vs handler, hot and spread, alternating rounds; records rows raw_hot, order_hot, raw_spread, order_spread. */
export async function runOrderPairs(ctx: BenchContext, products: OrderProducts, placers: Placer[]): Promise<void> {
  const s = ctx.settings;
  const byName = new Map<string, Summary[]>();
  const hotIds = [products.hotId];
  for (let round = 1; round <= s.rounds; round++) {
    for (const shape of ['hot', 'spread'] as Shape[]) {
      for (const placer of placers) {
        const scenario = `${placer.name}_${shape}`;
        ctx.log(`${scenario} (round ${round}/${s.rounds}, concurrency ${s.concurrency}, ${s.durationMs / 1000} s)`);
        const summary = await loadOrders(
          ctx,
          scenario,
          placer,
          shape === 'hot' ? hotIds : products.spreadIds,
          () => singleLine(products, shape),
          {
            concurrency: s.concurrency,
            durationMs: s.durationMs,
            warmupMs: s.warmupMs,
          },
        );
        byName.set(scenario, [...(byName.get(scenario) ?? []), summary]);
      }
    }
  }
  for (const [name, rounds] of byName) {
    const note =
      rounds.length > 1
        ? `median of ${rounds.length} rounds: ${rounds.map((r) => r.ops_per_s.toFixed(0)).join(', ')}/s`
        : '';
    addRow(ctx, name, medianRound(rounds), note);
  }
}

export async function countOrders(databaseUrl: string): Promise<number> {
  return withConnection(databaseUrl, async (c) => {
    const [rows] = await c.query('SELECT COUNT(*) AS n FROM orders');
    return Number((rows as Array<{ n: number }>)[0]?.n ?? 0);
  });
}

export { manyLines };
