/**
 * The hot-product capacity curve for DEPLOY.md: orders/s on ONE product at 0, 0.5, 1 and 2 ms one
 * way through the latency proxy, handler and both raw orders side by side, and the
 * straight line it follows: time per hot order = a + b × round trip, i.e. orders/s ≈ 1000 / (a + b ×
 * RTT ms), where b is the number of round trips the product row stays locked and a the time under
 * the lock that does not depend on the network (commit flush, CPU, lock hand-over).
 */
import type { BenchContext } from '../lib/context';
import { startLatencyProxy } from '../lib/latency-proxy';
import { summarise } from '../lib/load';
import type { OrderProducts } from '../lib/workload';
import { interleaved, type Network, type Placer } from './orders';

export const CURVE_ONE_WAY_MS = [0, 0.5, 1, 2] as const;

export interface CurvePoint {
  one_way_ms: number;
  /** orders/s on the hot product by placer name (`order`, `raw`, `raw_naive`). */
  ops_per_s: Record<string, number>;
}

export interface CurveFit {
  /** ms per hot order at zero round-trip time. */
  a_ms: number;
  /** ms per hot order per ms of round trip: the round trips under the lock. */
  b: number;
}

export interface HotCurve {
  points: CurvePoint[];
  fit: Record<string, CurveFit | null>;
}

/** Least squares of 1000/ops (ms per order) against the round trip (2 × one way). */
export function fitCurve(points: Array<{ rttMs: number; opsPerS: number }>): CurveFit | null {
  const ps = points.filter((p) => p.opsPerS > 0);
  if (ps.length < 2) return null;
  const xs = ps.map((p) => p.rttMs);
  const ys = ps.map((p) => 1000 / p.opsPerS);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const sxx = xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  if (sxx === 0) return null;
  const b = xs.reduce((s, x, i) => s + (x - mx) * ((ys[i] as number) - my), 0) / sxx;
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return { a_ms: round(my - b * mx), b: round(b) };
}

/**
 * `makePlacers(network)` gives the placers for a network (and points the handler's pool at it);
 * each point runs them in interleaved slices, audited like every other order load.
 */
export async function runHotCurve(
  ctx: BenchContext,
  products: OrderProducts,
  makePlacers: (network: Network) => Promise<Placer[]>,
): Promise<HotCurve> {
  const s = ctx.settings;
  const points: CurvePoint[] = [];
  for (const oneWayMs of CURVE_ONE_WAY_MS) {
    // Every point goes through the proxy, 0 ms included (it then forwards at once), so its own
    // cost (two more hops per chunk, a worker thread) is the same at every point and lands in `a`.
    const proxy = await startLatencyProxy(ctx.runUrl, oneWayMs);
    try {
      const network: Network = {
        label: `${oneWayMs} ms one way (proxy)`,
        suffix: '',
        url: proxy.url(ctx.runUrl),
        oneWayMs,
      };
      const placers = await makePlacers(network);
      try {
        ctx.log(`hot curve at ${network.label}: ${placers.map((p) => p.name).join(', ')}`);
        const entries = placers.map((p) => ({
          name: p.name,
          placer: p,
          nextOrder: () => [{ productId: products.hotId, quantity: 1 }],
          concurrency: s.concurrency,
        }));
        // Four points × three placers: two slices each in the quick run keep it to about a minute.
        const slices = s.quick ? Math.min(2, s.slices) : s.slices;
        const results = await interleaved(ctx, `hot_curve_${oneWayMs}ms`, [products.hotId], entries, { ...s, slices });
        const ops: Record<string, number> = {};
        for (const [name, r] of results) ops[name] = Math.round(summarise(r).ops_per_s * 10) / 10;
        ctx.log(
          `  ${Object.entries(ops)
            .map(([n, v]) => `${n} ${v}/s`)
            .join(', ')}`,
        );
        points.push({ one_way_ms: oneWayMs, ops_per_s: ops });
      } finally {
        for (const p of placers) if (p.name !== 'order') await p.close();
      }
    } finally {
      await proxy.close();
    }
  }
  const names = [...new Set(points.flatMap((p) => Object.keys(p.ops_per_s)))];
  const fit = Object.fromEntries(
    names.map((n) => [n, fitCurve(points.map((p) => ({ rttMs: 2 * p.one_way_ms, opsPerS: p.ops_per_s[n] ?? 0 })))]),
  );
  return { points, fit };
}
