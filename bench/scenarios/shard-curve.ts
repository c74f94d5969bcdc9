/**
 * Capacity per shard count for DEPLOY.md ("Preparing a product for a sale"): orders/s on ONE hot
 * product whose stock is split over 1, 4, 16 and 64 rows (docs/decisions/0012-stock-shards.md),
 * through the latency proxy at --latency-ms, the handler and the lock-last raw statements side by
 * side, each point audited like every other order load.
 */
import type { BenchContext } from '../lib/context';
import { seedProducts } from '../lib/databases';
import { summarise } from '../lib/load';
import { interleaved, type Network, type Placer } from './orders';

export const SHARD_COUNTS = [1, 4, 16, 64] as const;

export interface ShardPoint {
  shards: number;
  /** orders/s on the hot product by placer name (`order`, `raw`). */
  ops_per_s: Record<string, number>;
}

export async function runShardCurve(
  ctx: BenchContext,
  network: Network,
  makePlacers: (network: Network) => Promise<Placer[]>,
): Promise<ShardPoint[]> {
  const s = ctx.settings;
  const points: ShardPoint[] = [];
  const all = await makePlacers(network);
  const placers = all.filter((p) => p.name !== 'raw_naive');
  try {
    for (const shards of SHARD_COUNTS) {
      const product = await seedProducts(ctx.runUrl, {
        count: 1,
        stock: 1_000_000_000,
        shards,
        prefix: `Sale product in ${shards} shards`,
      });
      ctx.log(`shard curve, ${shards} shard(s), ${network.label}: ${placers.map((p) => p.name).join(', ')}`);
      const entries = placers.map((p) => ({
        name: p.name,
        placer: p,
        nextOrder: () => [{ productId: product.firstId, quantity: 1 }],
        concurrency: s.concurrency,
      }));
      const results = await interleaved(ctx, `shard_curve_${shards}`, [product.firstId], entries, {
        ...s,
        slices: Math.min(s.slices, 2),
      });
      const ops: Record<string, number> = {};
      for (const [name, r] of results) ops[name] = summarise(r).ops_per_s;
      points.push({ shards, ops_per_s: ops });
      ctx.log(
        `  ${shards} shard(s): ${Object.entries(ops)
          .map(([n, v]) => `${n} ${v}/s`)
          .join(', ')}`,
      );
    }
  } finally {
    for (const p of all) if (p.name !== 'order') await p.close();
  }
  return points;
}
