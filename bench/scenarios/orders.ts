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
import { loadBundle } from '../lib/bundle';
import * as sourceRaw from './raw';

export const SPREAD_PRODUCTS = 10_000;

export interface Placer {
  /** Row prefix: `raw_naive`, `raw` (lock-last, the service's statement order) or `order` (handler). */
  name: string;
  place(lines: Line[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Where the code under test reaches the database: `loopback` (the server as it is) or through the
 * latency proxy (bench/lib/latency-proxy.ts). Rows measured through the proxy get `suffix`.
 */
export interface Network {
  label: string;
  /** '' on loopback, '_latency' through the proxy. */
  suffix: string;
  url: string;
  oneWayMs: number;
}

/** The three rows of every order scenario, for one network. */
export interface PlacerSet {
  network: Network;
  placers: Placer[];
}

/**
 * The order scenarios that run concurrently (hot, spread). A later scenario (e.g. a sharded hot
 * product) is added by pushing an entry here: its products come from `products.extra[name]`
 * (set up in setupOrderProducts), and it runs with every placer, on loopback and at the latency,
 * and is audited like the others.
 */
export interface OrderShape {
  name: string;
  /** Products the audit covers. */
  ids(products: OrderProducts): number[];
  next(products: OrderProducts): Line[];
}

/** Stock rows of the sharded hot product: one order per row at a time. */
export const HOT_SHARDS = 16;

const shardedHotId = (p: OrderProducts): number => {
  const id = p.extra?.hot_sharded?.[0];
  if (id === undefined) throw new Error('no sharded hot product (setupOrderProducts makes it)');
  return id;
};

export const ORDER_SHAPES: OrderShape[] = [
  ...(['hot', 'spread'] as Shape[]).map((shape) => ({
    name: shape,
    ids: (p: OrderProducts) => (shape === 'hot' ? [p.hotId] : p.spreadIds),
    next: (p: OrderProducts) => singleLine(p, shape),
  })),
  // One hot product whose stock is split over HOT_SHARDS rows (docs/decisions/0012-stock-shards.md):
  // beside `hot` (one row), the same single-line orders.
  {
    name: 'hot_sharded',
    ids: (p) => [shardedHotId(p)],
    next: (p) => [{ productId: shardedHotId(p), quantity: 1 }],
  },
];

export async function setupOrderProducts(ctx: BenchContext, spread = SPREAD_PRODUCTS): Promise<OrderProducts> {
  // Stock large enough that no run can exhaust it: every order must succeed for the ratio to mean anything.
  const hot = await seedProducts(ctx.runUrl, { count: 1, stock: 1_000_000_000, prefix: 'Hot product' });
  const sharded = await seedProducts(ctx.runUrl, {
    count: 1,
    stock: 1_000_000_000,
    shards: HOT_SHARDS,
    prefix: 'Sharded hot product',
  });
  const set = await seedProducts(ctx.runUrl, { count: spread, stock: 10_000_000, prefix: 'Spread product' });
  const spreadIds = Array.from({ length: spread }, (_, i) => set.firstId + i);
  return { hotId: hot.firstId, spreadIds, extra: { hot_sharded: [sharded.firstId] } };
}

/** Raw mysql2 placers: `naive` (today's statement order) or `lock-last` (the new one). */
/**
 * The lock-last transaction writes the order lines BEFORE it locks their products. With the
 * foreign key order_lines.product_id → products, each line INSERT takes a shared lock on its
 * product row, which the later FOR UPDATE must upgrade while every concurrent order holds the same
 * shared lock: hot orders deadlock (measured: 30 orders/s and thousands of retries through a 1 ms proxy). The
 * migrations drop that key; on a schema from before them the benchmark drops it in its own run
 * database, so that `raw` (lock-last) measures the design and not the trap. Returns what it found.
 */
export async function ensureLockLastSchema(databaseUrl: string, log: (line: string) => void): Promise<string> {
  const c = await connect(databaseUrl);
  try {
    const [rows] = (await c.query(
      `SELECT CONSTRAINT_NAME AS name FROM information_schema.REFERENTIAL_CONSTRAINTS
       WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'order_lines' AND REFERENCED_TABLE_NAME = 'products'`,
    )) as unknown as [Array<{ name: string }>];
    if (rows.length === 0) return 'absent (migrations)';
    for (const r of rows) await c.query(`ALTER TABLE order_lines DROP FOREIGN KEY \`${r.name}\``);
    const note = `dropped by the benchmark in its run database (${rows.map((r) => r.name).join(', ')}): the migrations still have it`;
    log(`order_lines → products foreign key ${note}`);
    return note;
  } finally {
    await c.end();
  }
}

/** The raw transactions (raw.ts): the sources as tsx loads them, or a bundle of them. */
export type RawModule = Pick<typeof sourceRaw, 'createRawPool' | 'rawPlaceOrderLockLast' | 'rawPlaceOrderNaive'>;

/**
 * raw.ts bundled like the handler (bench/lib/bundle.ts), so that both sides of every ratio run as
 * esbuild bundles and neither pays for tsx's per-file compilation.
 */
export function bundledRaw(repoRoot: string): Promise<RawModule> {
  return loadBundle<RawModule>(repoRoot, 'bench/scenarios/raw.ts', 'raw');
}

/**
 * Both raw placers over ONE pool: interleaved slices never run them at the same time, and the
 * database server is shared, so the benchmark holds `poolSize` raw connections, not twice that.
 * Closing either closes the pool (closing it twice is harmless).
 */
export function rawPlacers(
  databaseUrl: string,
  poolSize: number,
  raw: RawModule = sourceRaw,
): { naive: Placer; lockLast: Placer } {
  const { createRawPool, rawPlaceOrderLockLast, rawPlaceOrderNaive } = raw;
  const pool = createRawPool(databaseUrl, poolSize);
  let ended: Promise<void> | undefined;
  const close = () => {
    ended ??= pool.end();
    return ended;
  };
  return {
    naive: { name: 'raw_naive', place: async (lines) => void (await rawPlaceOrderNaive(pool, lines)), close },
    lockLast: { name: 'raw', place: async (lines) => void (await rawPlaceOrderLockLast(pool, lines)), close },
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

/**
 * Naive raw, lock-last raw and the handler, for every order shape (hot, spread, …), in interleaved
 * slices; rows `<placer>_<shape><network suffix>`, e.g. raw_naive_hot, raw_hot, order_hot_latency.
 */
export async function runOrderPairs(ctx: BenchContext, products: OrderProducts, set: PlacerSet): Promise<void> {
  const s = ctx.settings;
  for (const shape of ORDER_SHAPES) {
    const entries = set.placers.map((p) => ({
      name: `${p.name}_${shape.name}${set.network.suffix}`,
      placer: p,
      nextOrder: () => shape.next(products),
      concurrency: s.concurrency,
    }));
    ctx.log(
      `${entries.map((e) => e.name).join(' vs ')} (${set.network.label}): concurrency ${s.concurrency}, ${s.slices} interleaved slices of ${s.sliceMs / 1000} s each`,
    );
    const results = await interleaved(
      ctx,
      `orders_${shape.name}${set.network.suffix}`,
      shape.ids(products),
      entries,
      s,
    );
    for (const e of entries) {
      const r = results.get(e.name);
      if (r)
        addRow(
          ctx,
          e.name,
          summarise(r),
          `${set.network.label}, ${s.slices} × ${s.sliceMs / 1000} s slices, interleaved`,
        );
    }
  }
}
